#!/usr/bin/perl
# random_index.t: "random_index on" picks a file of the directory for a
# URI ending in '/': the only file; dot files, subdirectories and dangling
# links skipped, a link to a file taken; only dot files or nothing: the
# next handler (index: 403); a missing directory: 404; off: index; and
# with two files, both show up within a bounded number of requests.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;

my $t = Test::Kiln->new->has('random_index');
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
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        root %%TESTDIR%%/html;

        location / {
            random_index on;
        }

        location /off/ {
            random_index off;
        }
    }
}
EOF

$t->write_file('html/one/a.html', "a\n");
$t->write_file('html/dots/.hidden', "hidden\n");
$t->write_file('html/dots/b.html', "b\n");
$t->write_file('html/onlydots/.x', "x\n");
$t->write_file('html/onlydots/.y', "y\n");
$t->write_file('html/sub/d/inner.html', "inner\n");
$t->write_file('html/sub/c.html', "c\n");
$t->write_file('html/two/x.html', "x\n");
$t->write_file('html/two/y.html', "y\n");
$t->write_file('html/off/index.html', "index\n");
$t->write_file('html/off/z.html', "z\n");
$t->write_file('html/links/.keep', '');
mkdir "$d/html/empty";
symlink("$d/html/one/a.html", "$d/html/links/good");
symlink("$d/html/nowhere", "$d/html/links/dead");

$t->plan(11);
$t->run;

sub get {
    my $r = parse_response(http_get($_[0]));
    return ($r->{status} // 0) . ' ' . ($r->{body} // '');
}

is(get('/one/'), "200 a\n", 'the only file');
is(get('/dots/'), "200 b\n", 'dot files skipped');
is(get('/sub/'), "200 c\n", 'a subdirectory skipped');
is(get('/links/'), "200 a\n", 'a link to a file taken, a dangling one skipped');
like(get('/onlydots/'), qr/^403 /, 'only dot files: index has none, 403');
like(get('/empty/'), qr/^403 /, 'an empty directory: 403');
like(get('/nodir/'), qr/^404 /, 'no such directory: 404');
is(get('/off/'), "200 index\n", 'random_index off: index');
is(get('/one/a.html'), "200 a\n", 'a URI not ending in /: the file');

my $r = parse_response(http_head('/one/'));
ok($r->{status} == 200 && $r->{headers}{'content-length'} == 2,
    'HEAD: the file\'s head');

# Two files: 1 in 2^100 that one of them never shows up in 100 tries.
my %seen;
for (1 .. 100) {
    $seen{get('/two/')}++;
    last if keys %seen == 2;
}
is_deeply([sort keys %seen], ["200 x\n", "200 y\n"],
    'two files: both are picked');
