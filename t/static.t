#!/usr/bin/perl
# static.t: serving files: GET/HEAD, headers, types, index, redirects for
# directories, error statuses, URI decoding and confinement to root, large
# and empty files with sendfile on and off.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use IO::Select;
use Test::More;
use Test::Kiln;

my $t = Test::Kiln->new->has('static', 'index');
my $d = $t->testdir;

$t->write_file_expand('kiln.conf', <<'EOF');
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes 1;

events {
    worker_connections 64;
}

http {
    types {
        text/html   html;
        text/plain  txt;
        text/css    css;
    }
    default_type  application/x-kiln-default;
    sendfile      on;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        location / {
            root %%TESTDIR%%/html;
        }

        location /multi/ {
            root  %%TESTDIR%%/html;
            index a.html b.html;
        }
    }

    server {
        listen       127.0.0.1:%%PORT_8081%%;
        server_name  localhost;
        sendfile     off;

        include %%TESTDIR%%/mime.types;

        location / {
            root %%TESTDIR%%/html;
        }
    }
}
EOF

$t->write_file('mime.types', <<'EOF');
types {
    text/html   html;
    image/png   png;
    text/css    css;
}
EOF

my $mtime = 1700000000;    # 2023-11-14 22:13:20 GMT

sub file {
    my ($name, $content) = @_;
    my $path = $t->write_file("html/$name", $content);

    utime($mtime, $mtime, $path) or die "utime($path): $!\n";
    return $path;
}

my $index = "<html><body>index</body></html>\n";
file('index.html', $index);
file('plain.txt', "plain text\n");
file('style.css', "body { color: red }\n");
file('image.png', "\x89PNG\r\n\x1a\n\0\0\0\0binary");
file('noext', "no extension\n");
file('data.xyz', "unknown extension\n");
file('empty.txt', '');
file('with space.txt', "space\n");
file('a+b.txt', "plus\n");
file("caf\xc3\xa9.txt", "utf-8 name\n");
file('dir/index.html', "dir index\n");
file('noindex/file.txt', "in noindex\n");
file('multi/b.html', "b wins\n");
file('secret.txt', "unreadable\n");
chmod 0000, "$d/html/secret.txt";
$t->write_file('outside.txt', "OUTSIDE-ROOT\n");

my $big = '';
$big .= sprintf("%07d:%s\n", $_, 'x' x 55) for 0 .. 5 * 1024 * 1024 / 64 - 1;
file('big.bin', $big);

$t->plan(123);
$t->run;

my $port = port(8080);

# get(URI, %opts): a parsed HTTP/1.0 GET.

sub get {
    my ($uri, %o) = @_;

    return parse_response(http_get($uri, %o)) // {};
}


sub req {
    my ($raw, %o) = @_;

    return parse_response(http($raw, %o)) // {};
}

# GET of a file: status, exact body, and the headers nginx sends.

my $r = get('/index.html');
is($r->{status}, 200, 'GET file: 200');
is($r->{body}, $index, 'GET file: body');
is($r->{headers}{'content-length'}, length $index, 'GET file: Content-Length');
is($r->{headers}{'content-type'}, 'text/html', 'GET file: Content-Type');
is($r->{headers}{'last-modified'}, http_date($mtime),
    'Last-Modified is the mtime');
is($r->{headers}{etag}, sprintf('"%x-%x"', $mtime, length $index),
    'ETag is "mtime-size" in hex');
my $day = qr/Mon|Tue|Wed|Thu|Fri|Sat|Sun/;
my $mon = qr/Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec/;
like($r->{headers}{date}, qr/^$day, \d\d $mon \d{4} \d\d:\d\d:\d\d GMT$/,
    'Date is an IMF-fixdate');
ok(abs(date_epoch($r->{headers}{date}) - time()) < 60, 'Date is now');
like($r->{headers}{server}, qr/^kiln\/\d+\.\d+\.\d+$/, 'Server: kiln/x.y.z');
is($r->{version}, 'HTTP/1.1', 'responds HTTP/1.1');
is($r->{count}{'content-length'}, 1, 'one Content-Length');
is($r->{count}{date}, 1, 'one Date');

# HEAD: the same headers, no body.

my $raw = http_head('/index.html');
$r = parse_response($raw) // {};
is($r->{status}, 200, 'HEAD: 200');
is($r->{headers}{'content-length'}, length $index,
    'HEAD: Content-Length of the file');
is($r->{headers}{'content-type'}, 'text/html', 'HEAD: Content-Type');
is($r->{headers}{etag}, sprintf('"%x-%x"', $mtime, length $index),
    'HEAD: ETag');
like($raw, qr/\r\n\r\n\z/, 'HEAD: nothing after the headers');

# Content-Type: from the http-level types {}, default_type for the rest;
# the second server includes another types file.

is(get('/plain.txt')->{headers}{'content-type'}, 'text/plain', 'type: txt');
is(get('/style.css')->{headers}{'content-type'}, 'text/css', 'type: css');
is(get('/image.png')->{headers}{'content-type'}, 'application/x-kiln-default',
    'type: png is not in this types {}: default_type');
is(get('/noext')->{headers}{'content-type'}, 'application/x-kiln-default',
    'type: no extension: default_type');
is(get('/data.xyz')->{headers}{'content-type'}, 'application/x-kiln-default',
    'type: unknown extension: default_type');
is(get('/image.png', port => 8081)->{headers}{'content-type'}, 'image/png',
    'type from an included types file');
is(get('/plain.txt', port => 8081)->{headers}{'content-type'},
    'application/x-kiln-default',
    'included types {} replaces the inherited one, default_type inherited');

$r = get('/image.png');
is($r->{body}, "\x89PNG\r\n\x1a\n\0\0\0\0binary", 'binary body exact');

# Index files.

$r = get('/');
is($r->{status}, 200, 'GET /: 200');
is($r->{body}, $index, 'GET /: index.html');

$r = get('/dir/');
is($r->{body}, "dir index\n", 'GET /dir/: its index.html');

$r = get('/multi/');
is($r->{status}, 200, 'index a.html b.html, only b exists: 200');
is($r->{body}, "b wins\n", 'index a.html b.html: b.html when a is missing');

$t->write_file('html/multi/a.html', "a now\n");
is(get('/multi/')->{body}, "a now\n", 'index a.html b.html: a.html first');

# A directory without its slash: 301 to the same path with a slash, an
# absolute URL built from the Host (without its port) and the listen port.

$r = req("GET /dir HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
is($r->{status}, 301, 'directory without slash: 301');
is($r->{headers}{location}, "http://127.0.0.1:$port/dir/",
    'directory without slash: Location');
like($r->{body}, qr/301 Moved Permanently/, '301 body names the status');
is($r->{headers}{'content-type'}, 'text/html', '301 body is text/html');

$r = req("GET /dir HTTP/1.1\r\nHost: 127.0.0.1:$port\r\n"
    . "Connection: close\r\n\r\n");
is($r->{headers}{location}, "http://127.0.0.1:$port/dir/",
    'Location from a Host with a port');

$r = req("GET /dir?a=1&b=2 HTTP/1.0\r\nHost: localhost\r\n\r\n");
is($r->{status}, 301, 'directory without slash, with args: 301');
is($r->{headers}{location}, "http://localhost:$port/dir/?a=1&b=2",
    'Location keeps the query string');

# 404, 403.

$r = get('/missing.html');
is($r->{status}, 404, 'missing file: 404');
like($r->{body}, qr/<title>404 Not Found<\/title>/, '404 body names it');
is($r->{headers}{'content-type'}, 'text/html', '404 is text/html');
is($r->{headers}{'content-length'}, length $r->{body},
    '404 Content-Length is its body');
like($r->{headers}{server}, qr/^kiln\//, '404 has Server');

is(get('/missing/dir/')->{status}, 404, 'missing directory: 404');
is(get('/index.html/x')->{status}, 404, 'file used as a directory: 404');

$r = get('/noindex/');
is($r->{status}, 403, 'directory with no index file: 403');
like($r->{body}, qr/<title>403 Forbidden<\/title>/, '403 body names it');

SKIP: {
    skip 'the test user can read a mode 000 file', 2
        if $> != 0 && -r "$d/html/secret.txt";

    $r = get('/secret.txt');
    is($r->{status}, 403, 'unreadable file: 403');
    unlike($r->{body}, qr/unreadable/, 'unreadable file: not sent');
}

# Methods: a static file answers GET and HEAD; others get 405 with Allow
# (RFC 9110 15.5.6 requires it, nginx omits it).

$r = req("POST /index.html HTTP/1.0\r\nHost: localhost\r\n"
    . "Content-Length: 3\r\n\r\nabc");
is($r->{status}, 405, 'POST to a file: 405');
like($r->{body}, qr/405 Not Allowed/, '405 body names it');
like($r->{headers}{allow} // '', qr/\bGET\b/, '405 has Allow with GET');
like($r->{headers}{allow} // '', qr/\bHEAD\b/, '405 has Allow with HEAD');

for my $m (qw(PUT DELETE PATCH)) {
    $r = req("$m /index.html HTTP/1.0\r\nHost: localhost\r\n"
        . "Content-Length: 0\r\n\r\n");
    is($r->{status}, 405, "$m to a file: 405");
}

is(get('/index.html')->{body}, $index, 'the file is still there after DELETE');

# Percent-decoding maps the URI to the file name.

is(get('/with%20space.txt')->{body}, "space\n", '%20 is a space');
is(get('/%69ndex.html')->{body}, $index, '%69 is "i"');
is(get('/a%2Bb.txt')->{body}, "plus\n", '%2B is "+"');
is(get('/a+b.txt')->{body}, "plus\n", '"+" is itself in the path');
is(get('/caf%C3%A9.txt')->{body}, "utf-8 name\n", 'UTF-8 escapes');
is(get('/dir/%69ndex.html')->{body}, "dir index\n", 'escape in a subdir');
is(get('/with%2')->{status}, 400, 'truncated escape: 400');
is(get('/with%zz.txt')->{status}, 400, 'bad hex escape: 400');

# Dot segments and traversal never leave the root.

is(get('/dir/../index.html')->{body}, $index, '/dir/../ resolves inside');
is(get('/dir/./index.html')->{body}, "dir index\n", '/./ is removed');
is(get('/dir//index.html')->{body}, "dir index\n", '// is merged');

for my $uri ('/../outside.txt', '/../../outside.txt', '/dir/../../outside.txt',
    '/%2e%2e/outside.txt', '/%2E%2E/outside.txt', '/..%2foutside.txt',
    '/%2e%2e%2foutside.txt', '/dir/..%2f..%2foutside.txt',
    '/dir/%2e%2e/%2e%2e/outside.txt', '/..\\outside.txt')
{
    $r = get($uri);
    ok(defined $r->{status} && ($r->{status} == 400 || $r->{status} == 404),
        "traversal $uri: 400 or 404 (got " . ($r->{status} // 'none') . ')');
    unlike($r->{body} // '', qr/OUTSIDE-ROOT/, "traversal $uri: not served");
}

# Bad request lines and headers.

$r = req('GET /' . ('a' x 10240) . " HTTP/1.0\r\nHost: localhost\r\n\r\n");
is($r->{status}, 414, '10 KiB URI: 414');
like($r->{body}, qr/414 Request-URI Too Large/, '414 body names it');

for my $line ("GARBAGE\r\n", "GET\r\n",
    "GET / HTTP/1.1 extra\r\nHost: x\r\n", "GET / FTP/1.0\r\n",
    "GET index.html HTTP/1.0\r\n", "G\x01T / HTTP/1.0\r\n",
    "GET / HTTP/1.\r\n", "GET / HTTP/1.0\x00\r\n", "GET /\x00 HTTP/1.0\r\n")
{
    (my $show = $line) =~ s/([\x00-\x1f])/sprintf('\\x%02x', ord $1)/ge;
    $r = req("$line\r\n");
    is($r->{status}, 400, "bad request line \"$show\": 400");
}

$r = req("GET / HTTP/2.0\r\nHost: localhost\r\n\r\n");
is($r->{status}, 505, 'HTTP/2.0 in a request line: 505');
$r = req("GET / HTTP/3.1\r\nHost: localhost\r\n\r\n");
is($r->{status}, 505, 'HTTP/3.1: 505');

$r = req("GET / HTTP/1.1\r\nConnection: close\r\n\r\n");
is($r->{status}, 400, 'HTTP/1.1 without Host: 400');

$r = req("GET / HTTP/1.0\r\n\r\n");
is($r->{status}, 200, 'HTTP/1.0 without Host: 200');

$r = req("GET / HTTP/1.1\r\nHost: localhost\r\nHost: localhost\r\n"
    . "Connection: close\r\n\r\n");
is($r->{status}, 400, 'two Host headers: 400');

$r = req("GET / HTTP/1.1\r\nHost: local/host\r\nConnection: close\r\n\r\n");
is($r->{status}, 400, 'Host with a slash: 400');

# Absolute-form target: the path is served, Host from the URI.

$r = req("GET http://localhost/plain.txt HTTP/1.1\r\nHost: other\r\n"
    . "Connection: close\r\n\r\n");
is($r->{status}, 200, 'absolute-form request target: 200');
is($r->{body}, "plain text\n", 'absolute-form request target: the file');

# Empty and large files; sendfile on (8080) and off (8081).

$r = get('/empty.txt');
is($r->{status}, 200, 'empty file: 200');
is($r->{headers}{'content-length'}, 0, 'empty file: Content-Length 0');
is($r->{body}, '', 'empty file: no body');
is($r->{headers}{etag}, sprintf('"%x-0"', $mtime), 'empty file: ETag');

for my $p (8080, 8081) {
    my $what = $p == 8080 ? 'sendfile on' : 'sendfile off';

    $raw = http_get('/big.bin', port => $p, timeout => 30);
    $r = parse_response($raw) // {};
    is($r->{status}, 200, "5 MiB file, $what: 200");
    is($r->{headers}{'content-length'}, length $big,
        "5 MiB file, $what: Content-Length");
    is(length $r->{body}, length $big, "5 MiB file, $what: body length");
    ok($r->{body} eq $big, "5 MiB file, $what: body identical");
}

# A slow reader still gets the whole large file.

my $s = http("GET /big.bin HTTP/1.0\r\nHost: localhost\r\n\r\n", start => 1);
my $got = '';
my $buf;
for (1 .. 20) {
    last unless wait_for(sub { IO::Select->new($s)->can_read(0) }, 2);
    last unless sysread($s, $buf, 4096);
    $got .= $buf;
}
$got .= http_read($s, timeout => 30);
$r = parse_response($got) // {};
ok(defined $r->{body} && $r->{body} eq $big, 'slow reader: body identical');

# Request line split over several writes still parses.

$s = http("GE", start => 1);
for my $part ("T /plain", ".txt HT", "TP/1.0\r", "\nHost: local",
    "host\r\n", "\r\n")
{
    select(undef, undef, undef, 0.02);
    http($part, socket => $s, start => 1);
}
$r = parse_response(http_read($s)) // {};
is($r->{body}, "plain text\n", 'request split over writes: served');

# The error log names the failures the way nginx does.

my $missing = qq{"$d/html/missing.html" failed (2: No such file or directory)};
like($t->read_file('error.log'), qr/\[error\].*\Q$missing\E/,
    'error log: open() of a missing file');
like($t->read_file('error.log'),
    qr/\[error\].*directory index of "\Q$d\E\/html\/noindex\/" is forbidden/,
    'error log: directory index is forbidden');

$t->stop;


sub date_epoch {
    my ($date) = @_;
    my %mon = (Jan => 0, Feb => 1, Mar => 2, Apr => 3, May => 4, Jun => 5,
        Jul => 6, Aug => 7, Sep => 8, Oct => 9, Nov => 10, Dec => 11);

    return 0 unless $date
        && $date =~ /^\w{3}, (\d\d) (\w{3}) (\d{4}) (\d\d):(\d\d):(\d\d) GMT$/;

    require Time::Local;
    return Time::Local::timegm($6, $5, $4, $1, $mon{$2}, $3);
}
