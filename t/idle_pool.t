#!/usr/bin/perl
# idle_pool.t: a keep-alive connection gives its pool back while idle and
# makes a new one for the next request: large header buffers, pipelined
# requests, a request split across reads, the client address,
# $server_addr and odd connection_pool_size values across idle periods.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;

my $t = Test::Kiln->new;

$t->write_file_expand('kiln.conf', <<'EOF');
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes 1;

events {
    worker_connections 64;
}

http {
    client_header_buffer_size    1k;
    large_client_header_buffers  4 8k;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        location / {
            return 200 "$remote_addr $server_addr $http_x_big_length\n";
        }
    }

    server {
        listen                127.0.0.1:%%PORT_8081%%;
        server_name           localhost;
        connection_pool_size  8k;

        location / {
            return 200 "big pool\n";
        }
    }

    server {
        listen                127.0.0.1:%%PORT_8082%%;
        server_name           localhost;
        connection_pool_size  128;

        location / {
            return 200 "small pool\n";
        }
    }
}
EOF

$t->plan(16);
$t->run;

# A request with an X-Big field of N bytes (a large header buffer when N
# is above client_header_buffer_size), its length in X-Big-Length.

sub req {
    my ($big) = @_;
    my $h = "GET / HTTP/1.1\r\nHost: localhost\r\n";

    $h .= "X-Big: " . ('b' x $big) . "\r\nX-Big-Length: $big\r\n" if $big;
    return "$h\r\n";
}

sub one {
    my ($s) = @_;

    return parse_response(read_response($s)) // {};
}

my $s = http(req(0), start => 1);
my $r = one($s);
is($r->{status}, 200, 'first request');
is($r->{body}, "127.0.0.1 127.0.0.1 \n", 'client and server address');

# Idle in between (each response read before the next request): the
# large buffers of the last busy period went with its pool.
for my $n (1 .. 3) {
    http(req(3000), socket => $s, start => 1);
    $r = one($s);
    is($r->{body}, "127.0.0.1 127.0.0.1 3000\n",
        "large header after idle period $n");
}

http(req(0), socket => $s, start => 1);
$r = one($s);
is($r->{body}, "127.0.0.1 127.0.0.1 \n", 'small request after large ones');

# Pipelined: the connection stays busy from one request to the next.
http(req(0) . req(5000) . req(0) . req(2000), socket => $s, start => 1);
is(one($s)->{body}, "127.0.0.1 127.0.0.1 \n", 'pipelined 1');
is(one($s)->{body}, "127.0.0.1 127.0.0.1 5000\n", 'pipelined 2, large');
is(one($s)->{body}, "127.0.0.1 127.0.0.1 \n", 'pipelined 3');
is(one($s)->{body}, "127.0.0.1 127.0.0.1 2000\n", 'pipelined 4, large');

# A request split across reads: its first bytes end an idle period.
http("GET / HTTP/1.1\r\n", socket => $s, start => 1);
ok(!wait_closed($s, 0.2), 'half a request: the connection waits');
http("Host: localhost\r\n\r\n", socket => $s, start => 1);
is(one($s)->{body}, "127.0.0.1 127.0.0.1 \n", 'the rest of the request');

close $s;

for my $p ([8081, 'big pool'], [8082, 'small pool']) {
    my ($port, $body) = @$p;

    $s = http(req(0), port => $port, start => 1);
    is(one($s)->{body}, "$body\n", "connection_pool_size: $body");
    http(req(4000), socket => $s, start => 1);
    is(one($s)->{body}, "$body\n", "connection_pool_size: $body, again");
    close $s;
}
