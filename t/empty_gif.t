#!/usr/bin/perl
# empty_gif.t: the 43-byte transparent GIF, byte for byte, image/gif with
# nginx's fixed Last-Modified; HEAD; If-Modified-Since (304) and
# If-Unmodified-Since (412); a method other than GET and HEAD (405); a
# request body is read and dropped on a keep-alive connection.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;

my $t = Test::Kiln->new->has('empty_gif');

$t->write_file_expand('kiln.conf', <<'EOF');
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

        location = /1.gif {
            empty_gif;
        }
    }
}
EOF

$t->plan(14);
$t->run;

# GIF89a, 1x1, two colours, colour 1 transparent (GIF89a specification).
my $gif = 'GIF89a' . pack('C*',
    0x01, 0x00, 0x01, 0x00, 0x80, 0x01, 0x00,
    0x00, 0x00, 0x00, 0xff, 0xff, 0xff,
    0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x01, 0x00,
    0x2c, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00,
    0x02, 0x02, 0x4c, 0x01, 0x00, 0x3b);
my $lm = http_date(23349600);

my $r = parse_response(http_get('/1.gif'));
is($r->{status}, 200, 'GET: 200');
is(length $r->{body}, 43, 'GET: 43 bytes');
ok($r->{body} eq $gif, 'GET: the transparent GIF, byte for byte');
is($r->{headers}{'content-type'}, 'image/gif', 'Content-Type image/gif');
is($r->{headers}{'content-length'}, 43, 'Content-Length 43');
is($r->{headers}{'last-modified'}, $lm, "Last-Modified $lm");

$r = parse_response(http_head('/1.gif'));
is($r->{status}, 200, 'HEAD: 200');
is($r->{body}, '', 'HEAD: no body');
is($r->{headers}{'content-length'}, 43, 'HEAD: Content-Length 43');

$r = parse_response(http("GET /1.gif HTTP/1.0\r\nHost: x\r\n"
    . "If-Modified-Since: $lm\r\n\r\n"));
is($r->{status}, 304, 'If-Modified-Since the date: 304');

$r = parse_response(http("GET /1.gif HTTP/1.0\r\nHost: x\r\n"
    . "If-Unmodified-Since: " . http_date(1000) . "\r\n\r\n"));
is($r->{status}, 412, 'If-Unmodified-Since before it: 412');

$r = parse_response(http("POST /1.gif HTTP/1.0\r\nHost: x\r\n"
    . "Content-Length: 3\r\n\r\nabc"));
is($r->{status}, 405, 'POST: 405');

# A body with a GET is read and dropped: the connection carries on.
my $s = http("GET /1.gif HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n"
    . "hello", start => 1);
my $r1 = parse_response(read_response($s));
my $r2 = parse_response(http("GET /1.gif HTTP/1.1\r\nHost: x\r\n"
    . "Connection: close\r\n\r\n", socket => $s));
is($r1->{status}, 200, 'GET with a body: 200');
ok($r2->{status} == 200 && $r2->{body} eq $gif,
    'the next request on the connection: the GIF again');
