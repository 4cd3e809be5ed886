#!/usr/bin/perl
# open_file_cache.t: cached fds serve the same bytes, a replaced file is
# served new and a deleted one 404s once open_file_cache_valid passes,
# cached errors, a worker's fds bounded by max, and the directive's checks.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;

my $t = Test::Kiln->new->has('static');
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
    default_type  text/plain;
    sendfile      on;

    open_file_cache          max=4 inactive=60s;
    open_file_cache_valid    3s;
    open_file_cache_errors   on;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        location / {
            root %%TESTDIR%%/html;
        }

        location /off/ {
            root %%TESTDIR%%/html;
            open_file_cache off;
        }

        location /noerr/ {
            root %%TESTDIR%%/html;
            open_file_cache_errors off;
        }
    }

    server {
        listen       127.0.0.1:%%PORT_8081%%;
        server_name  localhost;
        sendfile     off;
        open_file_cache_min_uses 2;

        location / {
            root %%TESTDIR%%/html;
        }
    }
}
EOF

# put(NAME, CONTENT): written aside and renamed over, as deployments do.

sub put {
    my ($name, $content) = @_;

    $t->write_file("html/$name.tmp", $content);
    rename("$d/html/$name.tmp", "$d/html/$name") or die "rename: $!\n";
}

put('a.txt', "version one\n");
put('gone.txt', "about to go\n");
put("many$_.txt", "file $_\n") for 1 .. 20;
put("off/many$_.txt", "off $_\n") for 1 .. 20;
put('dir/index.txt', "in dir\n");

$t->plan(27);
$t->run;

sub get {
    my ($uri, %o) = @_;

    return parse_response(http_get($uri, %o)) // {};
}

# Cached: the same bytes each time, with sendfile on (8080) and off (8081,
# where min_uses 2 keeps the fd from the second request on).

for my $p (8080, 8081) {
    my @b = map { get('/a.txt', port => $p)->{body} // '' } 1 .. 3;
    is_deeply(\@b, [("version one\n") x 3], "port $p: cached file, 3 GETs");
}

# A file replaced under the same name: the cached one until valid (3 s)
# passes, then the new one.

put('a.txt', "version two, longer\n");
my $r = get('/a.txt');
is($r->{body}, "version one\n", 'replaced file: old within valid');
is($r->{headers}{'content-length'}, 12, 'replaced file: old length');

sleep 4;

$r = get('/a.txt');
is($r->{status}, 200, 'replaced file: 200 after valid');
is($r->{body}, "version two, longer\n", 'replaced file: new after valid');
is($r->{headers}{'content-length'}, 20, 'replaced file: new length');

# A deleted file: still served from the open fd until valid, then 404.

is(get('/gone.txt')->{status}, 200, 'deleted file: cached');
unlink("$d/html/gone.txt") or die "unlink: $!\n";
$r = get('/gone.txt');
is($r->{body}, "about to go\n", 'deleted file: served within valid');

# Cached errors: created after a 404, still 404 until valid passes.

is(get('/late.txt')->{status}, 404, 'missing file: 404');
put('late.txt', "late\n");
is(get('/late.txt')->{status}, 404, 'created file: cached 404 within valid');

# open_file_cache_errors off: no cached 404.

is(get('/noerr/x.txt')->{status}, 404, 'errors off: 404');
put('noerr/x.txt', "x\n");
is(get('/noerr/x.txt')->{status}, 200, 'errors off: found at once');

sleep 4;

is(get('/gone.txt')->{status}, 404, 'deleted file: 404 after valid');
$r = get('/late.txt');
is($r->{status}, 200, 'created file: 200 after valid');
is($r->{body}, "late\n", 'created file: its body');

# Directory: still the redirect to the slash form.

$r = get('/dir');
is($r->{status}, 301, 'directory through the cache: 301');
is(get('/dir/index.txt')->{body}, "in dir\n", 'file in directory');

# A worker's open regular files stay within max (4) however many files are
# served; with open_file_cache off, none stays open.

my ($worker) = $t->worker_pids;

sub open_html {
    my $fds = $t->fds($worker);
    return scalar grep { m{/html/} } values %$fds;
}

my $ok = 0;
for my $i (1 .. 20) {
    $ok++ if (get("/many$i.txt")->{body} // '') eq "file $i\n";
}
is($ok, 20, '20 distinct files served through the cache');
my $n = open_html();
ok($n >= 1 && $n <= 4, "worker holds $n cached fds (max=4)");

$ok = 0;
for my $i (1 .. 20) {
    $ok++ if (get("/off/many$i.txt")->{body} // '') eq "off $i\n";
}
is($ok, 20, 'open_file_cache off: 20 files served');
is(open_html(), $n, 'open_file_cache off: no fd left open');

# Ranges of a cached small file (sent from memory), when the range filter
# is built in (it then advertises Accept-Ranges).

put('r.txt', "0123456789\n");
get('/r.txt');
$r = get('/r.txt');

SKIP: {
    skip 'no range filter', 2 unless $r->{headers}{'accept-ranges'};

    $r = parse_response(http("GET /r.txt HTTP/1.0\r\nHost: localhost\r\n"
        . "Range: bytes=2-5\r\n\r\n")) // {};
    is($r->{status}, 206, 'range of a file kept in memory: 206');
    is($r->{body}, '2345', 'range of a file kept in memory: bytes');
}

# Directive checks.

my @bad = (
    ['open_file_cache max=0;', qr/invalid "open_file_cache" parameter/],
    ['open_file_cache inactive=10s;', qr/must have the "max" parameter/],
    ['open_file_cache max=3 size=2;',
        qr/invalid "open_file_cache" parameter "size=2"/],
);

for my $b (@bad) {
    my ($line, $re) = @$b;

    $t->write_file_expand('bad.conf', <<"EOF");
events { }
http {
    $line
    server { listen 127.0.0.1:%%PORT_8082%%; }
}
EOF
    my $res = $t->run_kiln('-p', "$d/", '-c', "$d/bad.conf", '-t');
    like($res->{stderr}, $re, "-t rejects: $line");
}

$t->done;
