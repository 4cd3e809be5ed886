#!/usr/bin/perl
# proxy_websocket.t: WebSocket through proxy_pass with proxy_http_version
# 1.1 and the Upgrade/Connection fields: the 101 head, frames both ways
# (small, large, ping, close), frames sent with the request, the idle
# connection closed at proxy_read_timeout, 101 in the access log, and no
# upgrade when the fields are not passed.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;
use Test::Kiln::Backend;

my $t = Test::Kiln->new->has('proxy');

my $b = Test::Kiln::Backend->http(port => 'b1', name => 'ws');

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
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection "upgrade";
            proxy_read_timeout 1s;
            proxy_pass http://127.0.0.1:%%PORT_b1%%;
        }

        location /plain/ {
            proxy_pass http://127.0.0.1:%%PORT_b1%%/upgrade;
        }
    }
}
EOF

$t->plan(17);
$t->run(wait_ports => [8080]);

my $s = http_connect();
my $r = ws_handshake($s, path => '/upgrade');
is($r->{status}, 101, '101 Switching Protocols');
ok($r->{accept_ok}, 'Sec-WebSocket-Accept passed');
is(lc($r->{headers}{upgrade} // ''), 'websocket', 'Upgrade passed');
is(lc($r->{headers}{connection} // ''), 'upgrade', 'Connection: upgrade');
is($r->{headers}{'x-backend'}, 'ws', 'the peer fields passed');

syswrite($s, ws_frame('text', 'hello'));
my $f = ws_read_frame($s, 5);
is($f && $f->{payload}, 'hello', 'a text frame echoed');
is($f && $f->{opcode}, 1, 'as text');

my $big = 'z' x 300000;
syswrite($s, ws_frame('binary', $big));
$f = ws_read_frame($s, 10);
ok($f && $f->{payload} eq $big, 'a 300 KB binary frame echoed');

syswrite($s, ws_frame('ping', 'p1'));
$f = ws_read_frame($s, 5);
is($f && $f->{opcode}, 10, 'ping: pong');

syswrite($s, ws_frame('close', "\x03\xe8"));
$f = ws_read_frame($s, 5);
is($f && $f->{opcode}, 8, 'close echoed');
ok(wait_closed($s, 5), 'then the connection ends');

# Frames in the same write as the request go through too.
$s = http_connect();
syswrite($s, "GET /upgrade HTTP/1.1\r\nHost: localhost\r\n"
    . "Upgrade: websocket\r\nConnection: Upgrade\r\n"
    . "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    . "Sec-WebSocket-Version: 13\r\n\r\n" . ws_frame('text', 'early'));
$r = parse_response(read_response($s, head => 1));
is($r->{status}, 101, 'early frame: 101');
$f = ws_read_frame($s, 5);
is($f && $f->{payload}, 'early', 'early frame: echoed');

ok(wait_closed($s, 5), 'idle for proxy_read_timeout: closed');

ok(wait_for(sub { $t->read_file('access.log') =~ m{^/upgrade 101$}m }, 5),
    '101 logged');

$r = parse_response(http("GET /plain/ HTTP/1.1\r\nHost: localhost\r\n"
    . "Upgrade: websocket\r\nConnection: Upgrade, close\r\n"
    . "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    . "Sec-WebSocket-Version: 13\r\n\r\n"));
is($r->{status}, 426, 'Upgrade not passed: the peer says 426');
is(lc($r->{headers}{upgrade} // ''), 'websocket',
    'with its Upgrade field (RFC 9110 15.5.22)');
