#!/usr/bin/perl
# limits.t: request header limits and RFC 9112 framing rules: each bad
# request gets its 4xx/5xx and the connection is closed, since its framing
# can no longer be trusted.

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
    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        location / {
            root %%TESTDIR%%/html;
        }
    }

    server {
        listen       127.0.0.1:%%PORT_8081%%;
        server_name  localhost;

        client_header_buffer_size    256;
        large_client_header_buffers  2 1k;

        location / {
            root %%TESTDIR%%/html;
        }
    }
}
EOF

$t->write_file('html/index.html', "index\n");

$t->plan(56);
$t->run;

# bad(NAME, HEADERS, STATUS, PORT): send an HTTP/1.1 keep-alive GET with
# HEADERS (and BODY, if any); expect STATUS, then the server closing.

sub bad {
    my ($name, $headers, $status, %o) = @_;
    my ($s, $r);

    $s = http("GET / HTTP/1.1\r\nHost: localhost\r\n$headers\r\n"
        . ($o{body} // ''), start => 1, port => $o{port});
    $r = parse_response(read_response($s)) // {};

    is($r->{status}, $status, "$name: $status");
    ok(wait_closed($s), "$name: connection closed");

    return $r;
}

# The baseline: a good keep-alive request is answered and kept open.

my $s = http("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n", start => 1);
my $r = parse_response(read_response($s)) // {};
is($r->{status}, 200, 'good request: 200');
ok(!wait_closed($s, 0.3), 'good request: connection stays open');
close $s;

# Header size. One line longer than a large buffer (8k by default): 431
# (RFC 6585; nginx answers 400 "Request Header Or Cookie Too Large").

$r = bad('8k+ header line', 'X-Big: ' . ('a' x 9000) . "\r\n", 431);
like($r->{body}, qr/431 Request Header Fields Too Large/, '431 body names it');

# Logged as nginx logs it: the line's start, cut short of the 2k limit of
# an error line. The line is written before the answer goes out.
my ($logged) = ($t->read_file('error.log') // '')
    =~ /client sent too long header line: "(X-Big: a+)\.\.\."/;
ok(defined $logged, 'the too long line is logged with its start');
ok(defined $logged && length($logged) <= 2048 - 300,
    'and cut to leave room for the rest of the error line');

bad('headers over 4 x 8k in total',
    join('', map { "X-H$_: " . ('b' x 7000) . "\r\n" } 1 .. 5), 431);

bad('header just under 8k is fine on 8080',
    'X-Fits: ' . ('c' x 7000) . "\r\nConnection: close\r\n", 200);

# Smaller buffers on 8081: 2 x 1k.

bad('1k+ header line on 8081', 'X-Big: ' . ('d' x 1100) . "\r\n", 431,
    port => 8081);

$r = parse_response(http("GET / HTTP/1.1\r\nHost: localhost\r\nX-Fits: "
    . ('e' x 900) . "\r\nConnection: close\r\n\r\n", port => 8081)) // {};
is($r->{status}, 200,
    '900-byte header fits 1k buffers on 8081');

$r = parse_response(http('GET /' . ('f' x 1100)
    . " HTTP/1.0\r\nHost: localhost\r\n\r\n", port => 8081)) // {};
is($r->{status}, 414, '1k+ URI on 8081: 414');

# Header syntax (RFC 9112 5, RFC 9110 5.5).

bad('whitespace before colon', "Host : localhost\r\n", 400);
bad('tab before colon', "X-Foo\t: bar\r\n", 400);
bad('obs-fold', "X-Foo: a\r\n b\r\n", 400);
bad('obs-fold with tab', "X-Foo: a\r\n\tb\r\n", 400);
bad('NUL in a header value', "X-Foo: a\x00b\r\n", 400);
bad('bare CR in a header value', "X-Foo: a\rb\r\n", 400);
bad('control byte in a header name', "X-F\x01oo: bar\r\n", 400);
bad('header line without a colon', "X-Foo bar\r\n", 400);
bad('empty header name', ": bar\r\n", 400);

# Framing (RFC 9112 6.1, 6.3).

bad('Content-Length and Transfer-Encoding',
    "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", 400,
    body => "0\r\n\r\n");
bad('Transfer-Encoding and Content-Length',
    "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", 400,
    body => "0\r\n\r\n");

$r = bad('unknown Transfer-Encoding', "Transfer-Encoding: gzip\r\n", 501);
like($r->{body}, qr/501 Not Implemented/, '501 body names it');

bad('Transfer-Encoding: identity', "Transfer-Encoding: identity\r\n", 501);

bad('two different Content-Length',
    "Content-Length: 1\r\nContent-Length: 2\r\n", 400, body => 'ab');
bad('Content-Length list with different values',
    "Content-Length: 1, 2\r\n", 400, body => 'ab');
bad('Content-Length not a number', "Content-Length: abc\r\n", 400);
bad('negative Content-Length', "Content-Length: -1\r\n", 400);
bad('Content-Length overflow',
    "Content-Length: 99999999999999999999999999\r\n", 400);

# Transfer-Encoding in HTTP/1.0 is not trusted for framing (RFC 9112 6.1).

$s = http("POST / HTTP/1.0\r\nHost: localhost\r\n"
    . "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", start => 1);
$r = parse_response(read_response($s)) // {};
is($r->{status}, 400, 'Transfer-Encoding in HTTP/1.0: 400');
ok(wait_closed($s), 'Transfer-Encoding in HTTP/1.0: connection closed');

# The server survived all of it.

$r = parse_response(http_get('/')) // {};
is($r->{status}, 200, 'still serving');
is($r->{body}, "index\n", 'still serving the file');

$t->stop;
