#!/usr/bin/perl
# disable_symlinks.t: off, on and if_not_owner, links to files and to
# directories, from=$document_root for a root that is itself a link, with
# and without open_file_cache, try_files, "if (-f ...)" and index (a
# refused link is not there), and the directive's checks.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;

my $t = Test::Kiln->new->has('static', 'rewrite');
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
    log_not_found off;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;
        root         %%TESTDIR%%/html;
    }

    server {
        listen       127.0.0.1:%%PORT_8081%%;
        server_name  localhost;
        root         %%TESTDIR%%/html;
        disable_symlinks on;

        location /cached/ {
            open_file_cache max=10;
        }

        location /lnk/ {
            root %%TESTDIR%%/htmllink;
        }

        location /tf/ {
            alias      %%TESTDIR%%/html/;
            try_files  $uri $uri/ =418;
        }

        location /iff/ {
            alias %%TESTDIR%%/html/;
            if (-f $request_filename) {
                return 200 "file\n";
            }
            return 200 "none\n";
        }

        location /ifd/ {
            alias %%TESTDIR%%/html/;
            if (-d $request_filename) {
                return 200 "dir\n";
            }
            return 200 "none\n";
        }

        location /tfoff/ {
            alias             %%TESTDIR%%/html/;
            disable_symlinks  off;
            try_files         $uri =418;
        }
    }

    server {
        listen       127.0.0.1:%%PORT_8082%%;
        server_name  localhost;
        root         %%TESTDIR%%/html;
        disable_symlinks if_not_owner;
    }

    server {
        listen       127.0.0.1:%%PORT_8083%%;
        server_name  localhost;
        root         %%TESTDIR%%/htmllink;
        disable_symlinks on from=$document_root;
        open_file_cache max=10;
    }
}
EOF

$t->write_file('html/real.txt', "real\n");
$t->write_file('html/dir/f.txt', "in dir\n");
$t->write_file('html/cached/real.txt', "cached real\n");
$t->write_file('html/lnk/real.txt', "under link\n");
symlink('real.txt', "$d/html/link.txt") or die "symlink: $!\n";
symlink('real.txt', "$d/html/cached/link.txt") or die "symlink: $!\n";
symlink('dir', "$d/html/linkdir") or die "symlink: $!\n";
symlink('html', "$d/htmllink") or die "symlink: $!\n";
$t->write_file('html/idx/index.html', "index\n");
$t->write_file('html/ilink/real.html', "index\n");
symlink('real.html', "$d/html/ilink/index.html") or die "symlink: $!\n";

# if_not_owner: a root-owned link to a file owned by someone else.
my $root = $> == 0;
if ($root) {
    $t->write_file('html/nobody.txt', "nobody's\n");
    my $uid = getpwnam('nobody') // 65534;
    chown($uid, -1, "$d/html/nobody.txt") or die "chown: $!\n";
    symlink('nobody.txt', "$d/html/foreign.txt") or die "symlink: $!\n";
}

$t->plan(34);
$t->run;

sub status {
    my ($uri, $port) = @_;
    my $r = parse_response(http_get($uri, port => $port)) // {};

    return $r->{status} // 0;
}

# off (8080): links are followed.

is(status('/link.txt', 8080), 200, 'off: link to a file');
is(status('/linkdir/f.txt', 8080), 200, 'off: link to a directory');

# on (8081): any link in the path is refused, not only the last: 403 for
# the file itself; a link in place of a directory fails as "not a
# directory" (404), as in nginx.

is(status('/real.txt', 8081), 200, 'on: plain file');
is(status('/dir/f.txt', 8081), 200, 'on: file in a directory');
is(status('/link.txt', 8081), 403, 'on: link to a file');
is(status('/linkdir/f.txt', 8081), 404, 'on: link to a directory');
is(status('/missing.txt', 8081), 404, 'on: missing file still 404');
is(status('/dir', 8081), 301, 'on: directory redirect');
is(status('/lnk/real.txt', 8081), 404, 'on: root that is a link');

# on with open_file_cache: twice each, the cache must keep the rule.

for my $n (1, 2) {
    is(status('/cached/real.txt', 8081), 200, "on, cached: plain file ($n)");
    is(status('/cached/link.txt', 8081), 403, "on, cached: link ($n)");
}

# try_files under "on": a link is not there, as in nginx: the next try.

is(status('/tf/real.txt', 8081), 200, 'on, try_files: plain file');
is(status('/tf/link.txt', 8081), 418, 'on, try_files: link to a file skipped');
is(status('/tf/linkdir/f.txt', 8081), 418,
    'on, try_files: a link in the path skipped');
is(status('/tf/linkdir', 8081), 418, 'on, try_files: link to a directory');
is(status('/tfoff/link.txt', 8081), 200, 'off, try_files: link followed');

# if -f and -d under "on": a refused link is not there either.

sub body {
    my ($uri, $port) = @_;
    my $r = parse_response(http_get($uri, port => $port)) // {};

    return $r->{body} // '';
}

is(body('/iff/real.txt', 8081), "file\n", 'on, if -f: plain file');
is(body('/iff/link.txt', 8081), "none\n", 'on, if -f: link to a file');
is(body('/iff/linkdir/f.txt', 8081), "none\n", 'on, if -f: link in the path');
is(body('/ifd/dir', 8081), "dir\n", 'on, if -d: plain directory');
is(body('/ifd/linkdir', 8081), "none\n", 'on, if -d: link to a directory');

# index under "on": a directory reached through a link is not found; an
# index file that is a link is refused; a plain one is served.

is(status('/linkdir/', 8081), 404, 'on, index: directory through a link');
is(status('/ilink/', 8081), 403, 'on, index: the index file is a link');
is(status('/dir/', 8081), 403, 'on, index: no index file: 403');
is(status('/idx/', 8081), 200, 'on, index: a plain index file');

# from=$document_root (8083): the root is a link, but only what follows
# it is checked.

is(status('/real.txt', 8083), 200, 'from=$document_root: root link allowed');
is(status('/link.txt', 8083), 403, 'from=$document_root: link below root');
is(status('/linkdir/f.txt', 8083), 404,
    'from=$document_root: directory link below root');

# if_not_owner (8082): a link owned by the file's owner is followed.

is(status('/link.txt', 8082), 200, 'if_not_owner: same owner');

SKIP: {
    skip 'not root: cannot make a file of another owner', 1 unless $root;
    is(status('/foreign.txt', 8082), 403, 'if_not_owner: other owner');
}

# Directive checks.

my @bad = (
    ['disable_symlinks maybe;', qr/invalid parameter "maybe"/],
    ['disable_symlinks off from=/x;',
        qr/"from=" cannot be used with "off" parameter/],
);

for my $b (@bad) {
    my ($line, $re) = @$b;

    $t->write_file_expand('bad.conf', <<"EOF");
events { }
http {
    $line
    server { listen 127.0.0.1:%%PORT_8084%%; }
}
EOF
    my $res = $t->run_kiln('-p', "$d/", '-c', "$d/bad.conf", '-t');
    like($res->{stderr}, $re, "-t rejects: $line");
}

$t->done;
