#!/usr/bin/perl
# http_parser.t: the request parser seen from the outside: every rejection
# rule gets the bad bytes and the right status (and a closed connection for
# framing errors); what must be accepted is served; Host normalisation,
# absolute-form, URI normalisation and header buffer sizes.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;

my $t = Test::Kiln->new->has('static', 'index');

# The access log shows which header fields were taken ($http_x_a_b); the
# cases that read it are skipped when kiln is built without it.
my $log = $t->has_module('log');
my $log_conf = $log ? <<'EOF' : '';
    log_format  hdr  '$server_port $http_x_a_b|$http_x_c';
    access_log  %%TESTDIR%%/hdr.log hdr;
EOF

my $conf = <<'EOF';
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes 1;

events {
    worker_connections 64;
}

http {
LOG_CONF

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        location / {
            root %%TESTDIR%%/html;
        }

        location /dir/ {
            root %%TESTDIR%%/html;
        }
    }

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  example.com;

        location / {
            root %%TESTDIR%%/example;
        }
    }

    server {
        listen                  127.0.0.1:%%PORT_8081%%;
        server_name             localhost;
        underscores_in_headers  on;

        location / {
            root %%TESTDIR%%/html;
        }
    }

    server {
        listen                  127.0.0.1:%%PORT_8082%%;
        server_name             localhost;
        ignore_invalid_headers  off;
        merge_slashes           off;

        location / {
            root %%TESTDIR%%/other;
        }

        location /dir/ {
            root %%TESTDIR%%/html;
        }
    }

    server {
        listen                       127.0.0.1:%%PORT_8083%%;
        server_name                  localhost;
        client_header_buffer_size    64;
        large_client_header_buffers  4 512;

        location / {
            root %%TESTDIR%%/html;
        }
    }
}
EOF

$conf =~ s/^LOG_CONF\n/$log_conf/m;
$t->write_file_expand('kiln.conf', $conf);

$t->write_file('html/a.txt', "file a\n");
$t->write_file('html/dir/b.txt', "dir b\n");
$t->write_file('html/index.html', "index\n");
$t->write_file('example/a.txt', "example a\n");
$t->write_file('other/dir/b.txt', "other dir b\n");
$t->write_file('outside.txt', "OUTSIDE-ROOT\n");

$t->plan(367);
$t->run;

# show(BYTES): printable, for test names.

sub show {
    my ($s) = @_;

    $s = substr($s, 0, 60) . '...' if length $s > 60;
    $s =~ s/([^\x20-\x7e])/sprintf('\\x%02x', ord $1)/ge;
    return $s;
}

my %reason = (400 => 'Bad Request', 404 => 'Not Found',
    405 => 'Not Allowed', 414 => 'Request-URI Too Large',
    431 => 'Request Header Fields Too Large', 501 => 'Not Implemented',
    505 => 'HTTP Version Not Supported');

# bad(NAME, RAW, STATUS, port => L, open => 1): send RAW on a new
# connection; expect STATUS with its error page, then the server closing
# (3 tests); with open => 1 the framing is intact and the connection must
# stay open instead; with any => 1 that is not checked (2 tests).

sub bad {
    my ($name, $raw, $status, %o) = @_;
    my ($s, $r);

    $s = http($raw, start => 1, port => $o{port});
    $r = parse_response(read_response($s)) // {};

    is($r->{status}, $status, "$name: $status");
    like($r->{body} // '', qr{<title>$status \Q$reason{$status}\E</title>},
        "$name: $status page");

    if ($o{any}) {
        return $r;
    } elsif ($o{open}) {
        ok(!wait_closed($s, 0.3), "$name: connection stays open");
    } else {
        ok(wait_closed($s, 2), "$name: connection closed");
    }

    return $r;
}

# good(NAME, RAW, BODY, port => L): a request that must be served: 200 and
# BODY (2 tests).

sub good {
    my ($name, $raw, $body, %o) = @_;
    my $r;

    $r = parse_response(http($raw, port => $o{port})) // {};
    is($r->{status}, 200, "$name: 200");
    is($r->{body}, $body, "$name: body");

    return $r;
}

sub req11 {
    my ($line, $headers) = @_;

    return "$line\r\nHost: localhost\r\n" . ($headers // '') . "\r\n";
}

# --- methods -----------------------------------------------------------------

# Methods are case-sensitive tokens: "get" is a method kiln does not know,
# 501 as RFC 9110 15.6.2 says, where nginx answers 400
# (docs/directives.md, "Where kiln differs"). Whether the connection stays
# open after it is not asserted.
bad('lowercase method', req11('get /a.txt HTTP/1.1'), 501, any => 1);
bad('mixed-case method', req11('Get /a.txt HTTP/1.1'), 501, any => 1);
bad('unknown method', req11('FOO /a.txt HTTP/1.1'), 501, any => 1);
bad('control byte in method', req11("G\x01T /a.txt HTTP/1.1"), 400);
bad('NUL in method', req11("GE\x00 /a.txt HTTP/1.1"), 400);
bad('empty method', req11(' /a.txt HTTP/1.1'), 400);

# --- request-target ----------------------------------------------------------

bad('space inside the target', req11('GET /a b.txt HTTP/1.1'), 400);
bad('NUL in the target', req11("GET /a\x00.txt HTTP/1.1"), 400);
bad('byte 0x80 in the target', req11("GET /a\x80.txt HTTP/1.1"), 400);
bad('byte 0xff in the target', req11("GET /a\xff.txt HTTP/1.1"), 400);
bad('control byte in the target', req11("GET /a\x01.txt HTTP/1.1"), 400);
bad('DEL in the target', req11("GET /a\x7f.txt HTTP/1.1"), 400);
bad('"#" in the target', req11('GET /a.txt#frag HTTP/1.1'), 400);
bad('target without leading "/"', req11('GET a.txt HTTP/1.1'), 400);
bad('"*" with GET', req11('GET * HTTP/1.1'), 400);
bad('%00 in the path', req11('GET /a%00.txt HTTP/1.1'), 400);
bad('bad %-escape', req11('GET /a%zz.txt HTTP/1.1'), 400);
bad('truncated %-escape', req11('GET /a.txt% HTTP/1.1'), 400);

# --- versions ----------------------------------------------------------------

# HTTP/0.9 (no version): 400, where nginx answers with a bare body
# (docs/directives.md, "Where kiln differs").
bad('HTTP/0.9 request line', "GET /a.txt\r\n\r\n", 400);
bad('HTTP/2.0', req11('GET /a.txt HTTP/2.0'), 505);
bad('HTTP/3.0', req11('GET /a.txt HTTP/3.0'), 505);
bad('HTTP/1.10 (two-digit minor)', req11('GET /a.txt HTTP/1.10'), 400);
bad('HTTP/01.1', req11('GET /a.txt HTTP/01.1'), 400);
bad('lowercase http/1.1', req11('GET /a.txt http/1.1'), 400);
bad('version without minor', req11('GET /a.txt HTTP/1'), 400);

my $r = good('HTTP/1.2 is served as HTTP/1.1',
    req11('GET /a.txt HTTP/1.2', "Connection: close\r\n"), "file a\n");
is($r->{version}, 'HTTP/1.1', 'HTTP/1.2: answered as HTTP/1.1');

# HTTP/1.2 without Host is a 1.1 request without Host.
bad('HTTP/1.2 without Host', "GET /a.txt HTTP/1.2\r\n\r\n", 400);

# --- line ends ---------------------------------------------------------------

good('bare LF line ends', "GET /a.txt HTTP/1.1\nHost: localhost\n"
    . "Connection: close\n\n", "file a\n");
good('bare LF ending only the head', "GET /a.txt HTTP/1.1\r\n"
    . "Host: localhost\r\nConnection: close\r\n\n", "file a\n");
good('empty lines before the request line (RFC 9112 2.2)',
    "\r\n\r\n" . req11('GET /a.txt HTTP/1.1', "Connection: close\r\n"),
    "file a\n");

bad('bare CR ending the request line',
    "GET /a.txt HTTP/1.1\rHost: localhost\r\n\r\n", 400);
bad('bare CR in the target', req11("GET /a\r.txt HTTP/1.1"), 400);
bad('bare CR in a header value', req11('GET /a.txt HTTP/1.1',
    "X-A: b\rc\r\n"), 400);
bad('bare CR ending a header', req11('GET /a.txt HTTP/1.1',
    "X-A: b\rX-B: c\r\n"), 400);
bad('bare CR ending the head', "GET /a.txt HTTP/1.1\r\n"
    . "Host: localhost\r\n\rX", 400);

# --- header fields -----------------------------------------------------------

bad('obs-fold', req11('GET /a.txt HTTP/1.1', "X-A: a\r\n b\r\n"), 400);
bad('obs-fold with HTAB', req11('GET /a.txt HTTP/1.1', "X-A: a\r\n\tb\r\n"),
    400);
bad('first header line folded', "GET /a.txt HTTP/1.1\r\n Host: localhost\r\n"
    . "\r\n", 400);
bad('space before the colon', req11('GET /a.txt HTTP/1.1', "X-A : b\r\n"),
    400);
bad('space before the colon of Host',
    "GET /a.txt HTTP/1.1\r\nHost : localhost\r\n\r\n", 400);
bad('HTAB before the colon', req11('GET /a.txt HTTP/1.1', "X-A\t: b\r\n"),
    400);
bad('header line without a colon', req11('GET /a.txt HTTP/1.1', "X-A\r\n"),
    400);
bad('header line of words', req11('GET /a.txt HTTP/1.1', "X-A b c\r\n"), 400);
bad('empty header name', req11('GET /a.txt HTTP/1.1', ": b\r\n"), 400);
bad('NUL in a header value', req11('GET /a.txt HTTP/1.1', "X-A: a\x00b\r\n"),
    400);
bad('control byte in a header value',
    req11('GET /a.txt HTTP/1.1', "X-A: a\x01b\r\n"), 400);
bad('DEL in a header value', req11('GET /a.txt HTTP/1.1', "X-A: a\x7fb\r\n"),
    400);
bad('NUL in a header name', req11('GET /a.txt HTTP/1.1', "X-\x00A: b\r\n"),
    400);
bad('control byte in a header name',
    req11('GET /a.txt HTTP/1.1', "X-\x01A: b\r\n"), 400);

# Field names are tokens (RFC 9110 5.1): kiln answers 400 where nginx
# ignores the line (docs/directives.md, "Where kiln differs").
bad('"@" in a header name', req11('GET /a.txt HTTP/1.1', "X\@A: b\r\n"), 400);
bad('"(" in a header name', req11('GET /a.txt HTTP/1.1', "X(A: b\r\n"), 400);
bad('byte 0x80 in a header name',
    req11('GET /a.txt HTTP/1.1', "X\x80A: b\r\n"), 400);
bad('"@" in a header name, ignore_invalid_headers off',
    req11('GET /dir/b.txt HTTP/1.1', "X\@A: b\r\n"), 400, port => 8082);

# What the field grammar allows.

good('HTAB in a value', req11('GET /a.txt HTTP/1.1',
    "X-A: a\tb\r\nConnection: close\r\n"), "file a\n");
good('obs-text in a value', req11('GET /a.txt HTTP/1.1',
    "X-A: caf\xc3\xa9\r\nConnection: close\r\n"), "file a\n");
good('empty value', req11('GET /a.txt HTTP/1.1',
    "X-A:\r\nX-B: \r\nConnection: close\r\n"), "file a\n");
good('no space after the colon', "GET /a.txt HTTP/1.1\r\nHost:localhost\r\n"
    . "Connection:close\r\n\r\n", "file a\n");
good('header names are case-insensitive', "GET /a.txt HTTP/1.1\r\n"
    . "hOsT: localhost\r\nCONNECTION: close\r\n\r\n", "file a\n");
good('every tchar in a name', req11('GET /a.txt HTTP/1.1',
    "X!#\$%&'*+-.^`|~09az: b\r\nConnection: close\r\n"), "file a\n");

# --- underscores_in_headers, ignore_invalid_headers --------------------------

# Logged as "PORT $http_x_a_b|$http_x_c": an ignored header is "-".

good('underscore header, default: ignored', req11('GET /a.txt HTTP/1.1',
    "X_A_B: one\r\nX-C: 8080\r\nConnection: close\r\n"), "file a\n");
good('underscores_in_headers on: accepted', req11('GET /a.txt HTTP/1.1',
    "X_A_B: two\r\nX-C: 8081\r\nConnection: close\r\n"), "file a\n",
    port => 8081);
good('ignore_invalid_headers off: underscore accepted',
    req11('GET /dir/b.txt HTTP/1.1',
    "X_A_B: three\r\nX-C: 8082\r\nConnection: close\r\n"), "dir b\n",
    port => 8082);

my $p = port(8080);

SKIP: {
    skip 'kiln built without the access log', 4 unless $log;

    my $hdr_log = sub { $t->read_file('hdr.log') };

    ok(wait_for(sub { $hdr_log->() =~ /\|8082$/m }),
        'underscore requests logged');
    like($hdr_log->(), qr/^$p -\|8080$/m,
        'underscore header ignored by default ($http_x_a_b empty)');
    like($hdr_log->(), qr/^\d+ two\|8081$/m,
        'underscores_in_headers on: $http_x_a_b set');
    like($hdr_log->(), qr/^\d+ three\|8082$/m,
        'ignore_invalid_headers off: $http_x_a_b set');
}

# --- Host --------------------------------------------------------------------

bad('HTTP/1.1 without Host', "GET /a.txt HTTP/1.1\r\n\r\n", 400);
bad('HTTP/1.1 with an empty Host',
    "GET /a.txt HTTP/1.1\r\nHost:\r\n\r\n", 400);
bad('two Host headers', "GET /a.txt HTTP/1.1\r\nHost: localhost\r\n"
    . "Host: localhost\r\n\r\n", 400);
bad('two different Host headers', "GET /a.txt HTTP/1.1\r\n"
    . "Host: localhost\r\nHost: example.com\r\n\r\n", 400);

good('HTTP/1.0 without Host', "GET /a.txt HTTP/1.0\r\n\r\n", "file a\n");

for my $host ('local/host', 'local\\host', '..',
    'example..com', 'exa mple.com', 'ex@mple.com', 'example.com:8x',
    '[::1', 'a,b', "ex\x80ample.com")
{
    # RFC 3986 host with a numeric port (docs/directives.md).
    bad('invalid Host "' . show($host) . '"',
        "GET /a.txt HTTP/1.1\r\nHost: $host\r\n\r\n", 400);
}

# The Host selects the server: localhost ("file a") is the default,
# example.com serves "example a". Port, case and a trailing dot do not
# matter.

for my $host ('example.com', 'EXAMPLE.COM', 'Example.Com', 'example.com.',
    "example.com:$p", 'example.com:1', 'EXAMPLE.com.:80')
{
    good("Host \"$host\" selects example.com",
        "GET /a.txt HTTP/1.0\r\nHost: $host\r\n\r\n", "example a\n");
}

good('unknown Host: default server',
    "GET /a.txt HTTP/1.0\r\nHost: unknown.example\r\n\r\n", "file a\n");
good('Host "[::1]:80": default server',
    "GET /a.txt HTTP/1.0\r\nHost: [::1]:80\r\n\r\n", "file a\n");
good('Host "127.0.0.1": default server',
    "GET /a.txt HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", "file a\n");

# --- request-target forms ----------------------------------------------------

good('absolute-form: its host wins over Host',
    "GET http://example.com/a.txt HTTP/1.1\r\nHost: localhost\r\n"
    . "Connection: close\r\n\r\n", "example a\n");
# RFC 9112 3.2: an HTTP/1.1 request without Host is 400, whatever its form.
bad('absolute-form in HTTP/1.1 without Host',
    "GET http://example.com/a.txt HTTP/1.1\r\n\r\n", 400);
good('absolute-form host normalised',
    "GET http://EXAMPLE.COM.:$p/a.txt HTTP/1.1\r\nHost: localhost\r\n"
    . "Connection: close\r\n\r\n", "example a\n");
good('absolute-form to the default server',
    "GET http://localhost/a.txt HTTP/1.1\r\nHost: example.com\r\n"
    . "Connection: close\r\n\r\n", "file a\n");
good('absolute-form with a query',
    "GET http://example.com/a.txt?x=1 HTTP/1.0\r\n\r\n", "example a\n");
good('absolute-form, https scheme',
    "GET https://example.com/a.txt HTTP/1.0\r\n\r\n", "example a\n");
bad('absolute-form with a bad host',
    "GET http://exa\@mple.com/a.txt HTTP/1.1\r\nHost: localhost\r\n\r\n",
    400);

# OPTIONS * is parsed (RFC 9112 3.2.4) and goes to the static handler,
# which allows only GET and HEAD: 405 as for OPTIONS on a path, and the
# connection is kept.
$r = bad('OPTIONS *', req11('OPTIONS * HTTP/1.1'), 405, open => 1);
$r = bad('OPTIONS on a path', req11('OPTIONS /a.txt HTTP/1.1'), 405,
    open => 1);

# --- methods kiln refuses ----------------------------------------------------

bad('CONNECT', "CONNECT localhost:80 HTTP/1.1\r\nHost: localhost\r\n\r\n",
    405);
bad('TRACE', req11('TRACE /a.txt HTTP/1.1'), 405);

# --- framing -----------------------------------------------------------------

bad('Content-Length with Transfer-Encoding', req11('POST /a.txt HTTP/1.1',
    "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n") . "0\r\n\r\n",
    400);
bad('Transfer-Encoding with Content-Length', req11('POST /a.txt HTTP/1.1',
    "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n") . "0\r\n\r\n",
    400);
bad('two different Content-Length', req11('GET /a.txt HTTP/1.1',
    "Content-Length: 1\r\nContent-Length: 2\r\n") . 'ab', 400);

# Identical repeats are one value (RFC 9112 6.3, docs/directives.md).
good('two identical Content-Length', req11('GET /a.txt HTTP/1.1',
    "Content-Length: 3\r\nContent-Length: 3\r\nConnection: close\r\n")
    . 'abc', "file a\n");

for my $cl ('-1', '+3', 'abc', '3x', '0x10', '', '1 2',
    '99999999999999999999', '9223372036854775808')
{
    bad("Content-Length \"$cl\"", req11('GET /a.txt HTTP/1.1',
        "Content-Length: $cl\r\n"), 400);
}

$r = bad('Transfer-Encoding: gzip', req11('POST /a.txt HTTP/1.1',
    "Transfer-Encoding: gzip\r\n"), 501);
bad('Transfer-Encoding: gzip, chunked', req11('POST /a.txt HTTP/1.1',
    "Transfer-Encoding: gzip, chunked\r\n") . "0\r\n\r\n", 501);
bad('Transfer-Encoding in HTTP/1.0', "POST /a.txt HTTP/1.0\r\n"
    . "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400);

# --- URI normalisation -------------------------------------------------------

good('dot-dot segment', req11('GET /dir/../a.txt HTTP/1.0'), "file a\n");
good('dot segment', req11('GET /./dir/./b.txt HTTP/1.0'), "dir b\n");
good('%2e%2e segment', req11('GET /dir/%2e%2e/a.txt HTTP/1.0'), "file a\n");
good('%2E. segment', req11('GET /dir/%2E./a.txt HTTP/1.0'), "file a\n");
good('%2f is a slash', req11('GET /dir%2fb.txt HTTP/1.0'), "dir b\n");
good('escaped letters', req11('GET /%61.%74xt HTTP/1.0'), "file a\n");
good('dot-dot at the end', req11('GET /dir/x/../.. HTTP/1.0'), "index\n");
good('query is not normalised',
    req11('GET /a.txt?x=/../../y%00 HTTP/1.0'), "file a\n");

for my $uri ('/../outside.txt', '/dir/../../outside.txt',
    '/%2e%2e/outside.txt', '/dir/%2e%2e/%2E%2E/outside.txt',
    '/..%2foutside.txt', '/dir/..%2F..%2Foutside.txt', '/..')
{
    my $rr = parse_response(http(req11("GET $uri HTTP/1.0"))) // {};

    is($rr->{status}, 400, "traversal $uri: 400");
    unlike($rr->{body} // '', qr/OUTSIDE-ROOT/, "traversal $uri: not served");
}

# merge_slashes: on (8080) "//dir/" is the /dir/ location; off (8082) it is
# "/", whose root is "other".

good('merge_slashes on: "//dir//b.txt"',
    req11('GET //dir//b.txt HTTP/1.0'), "dir b\n");
good('merge_slashes on: "%2f%2fdir/b.txt"',
    req11('GET /%2fdir/b.txt HTTP/1.0'), "dir b\n");
good('merge_slashes off: "//dir/b.txt" is not /dir/',
    req11('GET //dir/b.txt HTTP/1.0'), "other dir b\n", port => 8082);
good('merge_slashes off: "/dir/b.txt" still /dir/',
    req11('GET /dir/b.txt HTTP/1.0'), "dir b\n", port => 8082);

# --- header buffers (8083: client_header_buffer_size 64, 4 x 512) ------------

good('request past client_header_buffer_size 64: large buffers',
    'GET /a.txt?' . ('q' x 150) . " HTTP/1.1\r\nHost: localhost\r\n"
    . 'X-Long: ' . ('h' x 400) . "\r\nConnection: close\r\n\r\n", "file a\n",
    port => 8083);
good('several headers across large buffers',
    req11('GET /a.txt HTTP/1.1', join('', map { "X-H$_: " . ('v' x 300)
    . "\r\n" } 1 .. 4) . "Connection: close\r\n"), "file a\n", port => 8083);

bad('request line over one large buffer: 414',
    'GET /a.txt?' . ('q' x 600) . " HTTP/1.1\r\nHost: localhost\r\n\r\n",
    414, port => 8083);

# 431 (RFC 6585) where nginx answers 400 (docs/directives.md).
bad('header line over one large buffer: 431', req11('GET /a.txt HTTP/1.1',
    'X-Long: ' . ('h' x 600) . "\r\n"), 431, port => 8083);
bad('headers filling all four large buffers: 431',
    req11('GET /a.txt HTTP/1.1', join('', map { "X-H$_: " . ('v' x 400)
    . "\r\n" } 1 .. 6)), 431, port => 8083);

# --- still serving -----------------------------------------------------------

good('still serving', req11('GET /a.txt HTTP/1.0'), "file a\n");

$t->stop;
