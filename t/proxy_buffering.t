#!/usr/bin/perl
# proxy_buffering.t: response bodies through proxy_buffers (small buffers,
# many reuses), proxy_buffering off, a slow client reading a fast peer and
# a fast client waiting on a slow peer, and clients that go away (before
# the response head and in the middle of the body): the connection to the
# peer is closed and 499 logged.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use IO::Select;
use Test::More;
use Test::Kiln;
use Test::Kiln::Backend;

my $t = Test::Kiln->new->has('proxy');

my $b = Test::Kiln::Backend->http(port => 'b1');

$t->write_file_expand('kiln.conf', <<'EOF');
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes 1;

events {
    worker_connections 64;
}

http {
    log_format st '$uri $status';
    access_log %%TESTDIR%%/access.log st;

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;

        location / {
            proxy_buffer_size 1k;
            proxy_buffers 2 1k;
            proxy_busy_buffers_size 1k;
            proxy_pass http://127.0.0.1:%%PORT_b1%%;
        }

        location /off/ {
            proxy_buffering off;
            proxy_buffer_size 512;
            proxy_pass http://127.0.0.1:%%PORT_b1%%;
        }

        location /big/ {
            proxy_buffers 4 64k;
            proxy_pass http://127.0.0.1:%%PORT_b1%%;
        }
    }
}
EOF

$t->plan(14);
$t->run(wait_ports => [8080]);

my $r;

# --- buffers reused many times ---------------------------------------------

$r = parse_response(http_get('/length/1000000'));
ok($r->{body} eq backend_body(1000000),
    'two 1k buffers: a 1 MB Content-Length body intact');

$r = parse_response(http("GET /chunked/300000 HTTP/1.1\r\nHost: localhost\r\n"
    . "Connection: close\r\n\r\n"));
ok(dechunk($r->{body}) eq backend_body(300000),
    'two 1k buffers: a chunked body intact');

$r = parse_response(http_get('/off/close/200000'));
ok($r->{body} eq backend_body(200000),
    'proxy_buffering off: a close-delimited body intact');

$r = parse_response(http_get('/off/chunked/100000?chunk=3'));
ok($r->{body} eq backend_body(100000),
    'proxy_buffering off: 3-byte chunks intact');

# --- slow and fast ends -----------------------------------------------------

my $s = http("GET /big/length/4000000 HTTP/1.0\r\nHost: localhost\r\n\r\n",
    start => 1);
my $raw = '';
my $sel = IO::Select->new($s);
my $reads = 0;

# A slow reader: small reads with pauses, bounded by the read count.
while ($reads < 100000 && $sel->can_read(5)) {
    my $n = sysread($s, $raw, 4096, length $raw);
    last unless $n;
    $reads++;
    select(undef, undef, undef, 0.001) if $reads % 50 == 0;
}

$r = parse_response($raw);
is($r->{status}, 200, 'slow client: 200');
ok($r->{body} eq backend_body(4000000), 'slow client: 4 MB intact');

$r = parse_response(http_get('/slowbody/300'));
is($r->{status}, 200, 'slow peer: 200');
like($r->{body}, qr{^target: /slowbody/300$}m, 'slow peer: the late body');

# --- clients that go away -----------------------------------------------------

my $seen = $b->stats->{requests};
$s = http("GET /sleep HTTP/1.0\r\nHost: localhost\r\n\r\n", start => 1);
ok($b->wait_requests($seen + 1, 5), 'the peer got the request');
close $s;
ok(wait_for(sub { $b->stats->{open} == 0 }, 5),
    'client gone before the head: the peer connection closed');
ok(wait_for(sub { $t->read_file('access.log') =~ m{^/sleep 499$}m }, 5),
    '499 logged');

$s = http("GET /big/length/50000000 HTTP/1.0\r\nHost: localhost\r\n\r\n",
    start => 1);
$raw = '';
sysread($s, $raw, 65536) for 1 .. 3;
ok(length $raw > 0, 'a large body started');
close $s;
ok(wait_for(sub { $b->stats->{open} == 0 }, 5),
    'client gone mid-body: the peer connection closed');

$r = parse_response(http_get('/length/10'));
is($r->{body}, backend_body(10), 'serving goes on');
