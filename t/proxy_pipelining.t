#!/usr/bin/perl
# proxy_pipelining.t: a request pipelined while the one before it is still
# being proxied (its bytes arrive after the first head was read, so they wait
# in the socket, not in kiln's buffer) is answered as soon as the first
# response ends, not dropped when the keep-alive timeout passes.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;
use Test::Kiln::Backend;

my $t = Test::Kiln->new->has('proxy', 'static');

my $b = Test::Kiln::Backend->http(port => 'b1', name => 'one');

$t->write_file_expand('kiln.conf', <<'EOF2');
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes 1;

events {
    worker_connections 64;
}

http {
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        keepalive_timeout 2s;

        location /p/ { proxy_pass http://127.0.0.1:%%PORT_b1%%; }
        location / { root %%TESTDIR%%/html; }
    }
}
EOF2

$t->write_file('html/file', "the file\n");

$t->plan(8);
$t->run;

for my $second ('/file', '/p/two') {
    my ($s, $r1, $r2);

    # The backend holds its answer 700 ms; the second request is sent only
    # once the backend has the first, so it reaches kiln mid-proxy.
    my $seen = $b->stats->{requests};
    $s = http("GET /p/slow/700 HTTP/1.1\r\nHost: localhost\r\n\r\n",
        start => 1);
    $b->wait_requests($seen + 1, 5);
    http("GET $second HTTP/1.1\r\nHost: localhost\r\n\r\n", socket => $s,
        start => 1);

    $r1 = parse_response(read_response($s, timeout => 10));
    $r2 = parse_response(read_response($s, timeout => 10));

    is($r1->{status}, 200, "$second: the proxied response");
    like($r1->{body}, qr{^target: /p/slow/700$}m, "$second: its body");
    is($r2->{status}, 200, "$second: the pipelined one is answered");
    like($r2->{body}, $second eq '/file' ? qr/^the file$/
        : qr{^target: /p/two$}m, "$second: with its own body");
}

$t->done;
