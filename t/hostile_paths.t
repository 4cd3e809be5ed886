#!/usr/bin/perl
# hostile_paths.t: getting a file from outside the root, as an attacker
# tries it: dot-dot in every encoding (%2e, %2f, %5c, double encoding,
# overlong UTF-8, %00, absolute-form), alias prefixes, names and paths too
# long, symlinks out of the root and in loops (disable_symlinks off and on),
# and Host values that would walk a "root .../$host" out of its folder. Each
# gets its exact status and never the secret; the worker survives with no
# file left open.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;

my $t = Test::Kiln->new->has('static', 'index');

$t->write_file_expand('kiln.conf', <<'EOF');
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes 1;

events {
    worker_connections 64;
}

http {
    default_type  text/plain;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;
        root         %%TESTDIR%%/html;

        location /i {
            alias %%TESTDIR%%/img/;
        }
    }

    server {
        listen            127.0.0.1:%%PORT_8081%%;
        server_name       localhost;
        root              %%TESTDIR%%/html;
        disable_symlinks  on;
    }

    server {
        listen       127.0.0.1:%%PORT_8082%%;
        server_name  a.test;
        root         %%TESTDIR%%/vhosts/$host;
    }
}
EOF

my $d = $t->testdir;

$t->write_file('secret.txt', "SECRET\n");
$t->write_file('vhosts/secret.txt', "SECRET vhosts\n");
$t->write_file('html/a.txt', "file a\n");
$t->write_file('html/dir/b.txt', "dir b\n");
$t->write_file('img/i.txt', "image\n");
$t->write_file('vhosts/a.test/v.txt', "vhost a\n");
symlink("$d/secret.txt", "$d/html/flink") or die "symlink: $!\n";
symlink($d, "$d/html/dlink") or die "symlink: $!\n";
symlink("$d/html/loop2", "$d/html/loop1") or die "symlink: $!\n";
symlink("$d/html/loop1", "$d/html/loop2") or die "symlink: $!\n";
symlink('a.txt', "$d/html/inlink") or die "symlink: $!\n";

$t->plan(338);
$t->run;

my %reason = (400 => 'Bad Request', 403 => 'Forbidden', 404 => 'Not Found',
    414 => 'Request-URI Too Large');

sub show {
    my ($s) = @_;

    $s = substr($s, 0, 50) . '...' if length $s > 50;
    $s =~ s/([^\x20-\x7e])/sprintf('\\x%02x', ord $1)/ge;
    return $s;
}

sub worker {
    my @w = $t->worker_pids;

    return @w == 1 ? $w[0] : undef;
}

sub nfds {
    return scalar keys %{$t->fds(worker())};
}

# try(NAME, RAW, STATUS, port => L): STATUS with its page, and no secret
# (3 tests).

sub try {
    my ($name, $raw, $status, %o) = @_;
    my $r;

    $r = parse_response(http($raw, port => $o{port})) // {};
    is($r->{status}, $status, "$name: $status");
    like($r->{body} // '', qr{<title>$status \Q$reason{$status}\E</title>},
        "$name: $status page");
    unlike($r->{raw} // '', qr/SECRET/, "$name: no secret");
}

# get(URI, STATUS, port => L): try() with an HTTP/1.0 GET of URI.

sub get {
    my ($uri, $status, %o) = @_;

    try('GET ' . show($uri), "GET $uri HTTP/1.0\r\nHost: localhost\r\n\r\n",
        $status, %o);
}

# served(NAME, RAW, BODY, port => L): 200 and BODY (2 tests).

sub served {
    my ($name, $raw, $body, %o) = @_;
    my $r;

    $r = parse_response(http($raw, port => $o{port})) // {};
    is($r->{status}, 200, "$name: 200");
    is($r->{body}, $body, "$name: body");
}

my $w0 = wait_for(sub { worker() });
ok($w0, 'one worker');
served('baseline', "GET /a.txt HTTP/1.0\r\n\r\n", "file a\n");
my $fd0 = nfds();

# --- dot-dot, plain and percent-encoded --------------------------------------

# Above the root after normalisation: 400, as nginx.
for my $uri ('/../secret.txt', '/../../../../../../etc/passwd',
    '/dir/../../secret.txt', '/./../secret.txt', '/dir/./.././../secret.txt',
    '//../secret.txt', '/..', '/dir/../..',
    '/%2e%2e/secret.txt', '/%2E%2E/secret.txt', '/%2e./secret.txt',
    '/.%2e/secret.txt', '/%2e%2E/%2e%2e/secret.txt',
    '/..%2fsecret.txt', '/..%2Fsecret.txt', '/%2e%2e%2fsecret.txt',
    '/dir/..%2f..%2fsecret.txt', '/dir%2f..%2f..%2fsecret.txt',
    '/' . ('a/' x 500) . ('../' x 501) . 'secret.txt')
{
    get($uri, 400);
}

# Inside the root after normalisation: served.
served('500 segments up and down', 'GET /' . ('a/' x 500) . ('../' x 500)
    . "a.txt HTTP/1.0\r\n\r\n", "file a\n");
served('dot-dot inside the root', "GET /dir/%2e%2e/a.txt HTTP/1.0\r\n\r\n",
    "file a\n");

# A backslash is a name byte on Unix, not a separator: no such file.
for my $uri ('/..%5csecret.txt', '/..%5C..%5Csecret.txt',
    '/dir/..%5c..%5csecret.txt', '/%2e%2e%5csecret.txt')
{
    get($uri, 404);
}

# A raw backslash is let through (as nginx; of the bytes RFC 3986 leaves
# out, kiln refuses only "#", controls and 0x80 and above): a name byte.
get('/..\\secret.txt', 404);
get('/..\\..\\secret.txt', 404);

# Decoded once: "%2e%2e" after decoding is a name, not a dot-dot.
for my $uri ('/%252e%252e/secret.txt', '/%252e%252e%252fsecret.txt',
    '/..%252fsecret.txt', '/%25%32%65%25%32%65/secret.txt',
    '/%%32%65%%32%65/secret.txt')
{
    get($uri, $uri =~ /%%/ ? 400 : 404);
}

# Overlong UTF-8 forms of "." "/" "\" are bytes of a name, not separators.
for my $uri ('/%c0%ae%c0%ae/secret.txt', '/..%c0%afsecret.txt',
    '/%c0%ae%c0%ae%c0%afsecret.txt', '/%e0%80%ae%e0%80%ae/secret.txt',
    '/..%c1%9csecret.txt', '/%f0%80%80%ae%f0%80%80%ae/secret.txt',
    '/..%c0%2fsecret.txt')
{
    get($uri, 404);
}

# %00 never cuts a path (C strings), wherever it is.
for my $uri ('/secret.txt%00.txt', '/a.txt%00', '/a.txt%00.html',
    '/%00/../secret.txt', '/dir%00/b.txt', '/..%00/secret.txt')
{
    get($uri, 400);
}

# IIS-style %u escapes and other bad escapes.
for my $uri ('/%u002e%u002e/secret.txt', '/%2e%2g/secret.txt', '/%/x',
    '/%2')
{
    get($uri, 400);
}

# Names that only look like dot-dot.
for my $uri ('/..;/secret.txt', '/.../secret.txt', '/.. /secret.txt',
    '/%20../secret.txt', '/..%09/secret.txt')
{
    get($uri, $uri =~ / / ? 400 : 404);
}

# Absolute-form carries the path too.
try('absolute-form with dot-dot', "GET http://localhost/../secret.txt "
    . "HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", 400);
try('absolute-form with %2e%2e', "GET http://localhost/%2e%2e/secret.txt "
    . "HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", 400);
try('absolute-form with dot-dot in the authority',
    "GET http://../secret.txt HTTP/1.1\r\nHost: localhost\r\n"
    . "Connection: close\r\n\r\n", 400);

# --- alias prefixes ---------------------------------------------------------

# "location /i { alias img/; }": "/i../secret.txt" is img/../secret.txt to
# nginx, which serves it; kiln looks for the folder "img../"
# (docs/directives.md, alias).
get('/i../secret.txt', 404);
get('/i..%2fsecret.txt', 404);
get('/i/../secret.txt', 404);
get('/i/%2e%2e/secret.txt', 404);
served('alias serves inside itself', "GET /i/i.txt HTTP/1.0\r\n\r\n",
    "image\n");

# --- long names and paths -----------------------------------------------------

get('/' . ('x' x 300), 404);                     # ENAMETOOLONG, a name
get('/' . join('/', ('x' x 200) x 25), 404);     # ENAMETOOLONG, a path
get('/a.txt/', 404);                             # ENOTDIR
get('/a.txt/x', 404);
get('/' . ('x' x 9000), 414);

# --- symlinks ------------------------------------------------------------------

# disable_symlinks off (8080): links are followed, wherever they lead, as
# nginx does; that is the operator's choice.
served('link to a file out of root, off', "GET /flink HTTP/1.0\r\n\r\n",
    "SECRET\n");
served('link to a folder out of root, off',
    "GET /dlink/secret.txt HTTP/1.0\r\n\r\n", "SECRET\n");
get('/loop1', 403);                              # ELOOP, as nginx
get('/loop1/x', 403);

# The URI is normalised before the file system sees it: "dlink/.." is "/".
get('/dlink/../secret.txt', 404);
get('/dlink/%2e%2e/secret.txt', 404);

# disable_symlinks on (8081): no link anywhere in the path.
get('/flink', 403, port => 8081);
get('/dlink/secret.txt', 404, port => 8081);
get('/dlink/html/a.txt', 404, port => 8081);
get('/inlink', 403, port => 8081);
get('/loop1', 403, port => 8081);
get('/%66link', 403, port => 8081);
served('disable_symlinks on: a plain file', "GET /a.txt HTTP/1.0\r\n\r\n",
    "file a\n", port => 8081);

# --- Host against "root vhosts/$host" (8082) ---------------------------------

served('Host a.test', "GET /v.txt HTTP/1.1\r\nHost: a.test\r\n"
    . "Connection: close\r\n\r\n", "vhost a\n", port => 8082);
served('Host A.TEST.:80 normalised', "GET /v.txt HTTP/1.1\r\n"
    . "Host: A.TEST.:80\r\nConnection: close\r\n\r\n", "vhost a\n",
    port => 8082);
served('HTTP/1.0 without Host: the server name', "GET /v.txt HTTP/1.0\r\n\r\n",
    "vhost a\n", port => 8082);

for my $host ('..', '.', '../..', '../secret.txt', 'a.test/..', 'a.test/../..',
    '..:80', '.a.test', 'a..test', '%2e%2e', 'a.test%2f..', 'a.test\\..',
    "a.test\x00..", '..%00', 'a.test:80/..', 'a.test:8x', 'user@a.test',
    'a.test:80:80', '[..]', '[...]', '[::1]..', '[::1].x', '[::1]x',
    'a.test, ..', "a.test\t..")
{
    try('Host "' . show($host) . '"', "GET /secret.txt HTTP/1.1\r\n"
        . "Host: $host\r\nConnection: close\r\n\r\n", 400, port => 8082);
}

try('absolute-form host ".."', "GET http://../secret.txt HTTP/1.1\r\n"
    . "Host: a.test\r\nConnection: close\r\n\r\n", 400, port => 8082);
try('absolute-form host "a.test/.."', "GET http://a.test/../secret.txt "
    . "HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n", 400,
    port => 8082);
try('two Host headers, the second ".."', "GET /v.txt HTTP/1.1\r\n"
    . "Host: a.test\r\nHost: ..\r\nConnection: close\r\n\r\n", 400,
    port => 8082);

# A Host that is valid but names no folder: 404, never another folder.
try('Host of another name', "GET /secret.txt HTTP/1.1\r\nHost: b.test\r\n"
    . "Connection: close\r\n\r\n", 404, port => 8082);
try('Host of 1000 letters', "GET /v.txt HTTP/1.1\r\nHost: " . ('h' x 1000)
    . "\r\nConnection: close\r\n\r\n", 404, port => 8082);

# --- the worker survived, and holds no file open ------------------------------

served('still serving', "GET /dir/b.txt HTTP/1.0\r\n\r\n", "dir b\n");
is_deeply([$t->worker_pids], [$w0], 'the same worker');
is(wait_for(sub { nfds() == $fd0 }, 5) ? nfds() : nfds(), $fd0,
    'worker descriptors back to the baseline');

$t->stop;
unlike($t->read_file('error.log'), qr/exited on signal/, 'no worker crash');
