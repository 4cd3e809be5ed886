#!/usr/bin/perl
# try_files.t: files, directories ("name/"), the last parameter as a URI
# (with args), a named location or =code; variables in names; try_files
# under alias and regex alias; server-level try_files; config errors.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;

my $t = Test::Kiln->new->has('static', 'index', 'rewrite');
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
    default_type text/plain;
    root %%TESTDIR%%/html;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        location / {
            try_files $uri $uri/ /fallback.txt;
        }

        location /code/ {
            try_files $uri =403;
        }

        location /named/ {
            try_files $uri @back;
        }

        location @back {
            return 200 "named $uri";
        }

        location /args/ {
            try_files $uri /show?from=try&$args;
        }

        location = /show {
            return 200 "show $uri $args";
        }

        location /var/ {
            try_files /files/$arg_f.txt =404;
        }

        location /plain/ {
            try_files /files/a.txt /none;
        }

        location /al/ {
            alias %%TESTDIR%%/data/;
            try_files $uri $uri.txt =404;
        }

        location ~ ^/ra/(.*)$ {
            alias %%TESTDIR%%/data/$1;
            try_files $uri =404;
        }

        location ~ ^/rx/(.*)$ {
            alias %%TESTDIR%%/data/$1;
            try_files "" =404;
        }

        location /loop/ {
            try_files $uri /loop/again;
        }
    }

    server {
        listen       127.0.0.1:%%PORT_8081%%;
        server_name  localhost;

        try_files /always.txt =404;

        location /loc/ {
        }
    }
}
EOF

$t->write_file('html/fallback.txt', "fallback\n");
$t->write_file('html/a.txt', "a\n");
$t->write_file('html/dir/index.html', "dir index\n");
$t->write_file('html/noindex/x.txt', "x\n");
$t->write_file('html/code/a.txt', "code a\n");
$t->write_file('html/named/a.txt', "named a\n");
$t->write_file('html/files/a.txt', "files a\n");
$t->write_file('html/always.txt', "always\n");
$t->write_file('html/loc/a.txt', "loc a\n");
$t->write_file('data/foo.txt', "data foo\n");
$t->write_file('data/bar', "data bar\n");
$t->write_file('secret.txt', "SECRET\n");

$t->plan(28);
$t->run;

sub get {
    my ($uri, $port) = @_;

    return parse_response(http_get($uri, port => $port // 8080)) // {};
}

is(get('/a.txt')->{body}, "a\n", 'a file that exists');
is(get('/none')->{body}, "fallback\n", 'the last parameter: internal redirect');
is(get('/dir/')->{body}, "dir index\n", '$uri/ for a directory: index');

my $r = get('/dir');
is($r->{status}, 301, '$uri/ for a directory without "/": redirect');
like($r->{headers}{location} // '', qr{/dir/$}, 'redirect Location');

is(get('/noindex/')->{status}, 403, 'a directory without index: 403');

is(get('/code/a.txt')->{body}, "code a\n", '=code: a file that exists');
is(get('/code/none')->{status}, 403, '=code when nothing exists');
is(get('/code/')->{status}, 403, '=code: a directory is not a file');

is(get('/named/a.txt')->{body}, "named a\n", '@named: a file');
is(get('/named/none')->{body}, 'named /named/none',
    '@named: the named location keeps the URI');

is(get('/args/none?q=1')->{body}, 'show /show from=try&q=1',
    'the last parameter: URI and args');

is(get('/var/x?f=a')->{body}, "files a\n", 'a name with a variable');
is(get('/var/x?f=none')->{status}, 404, 'a name with a variable: none');

# A variable may hold "..": nginx follows it out of root, kiln skips it.
$r = get('/var/x?f=../../secret');
if (Test::Kiln::binary() =~ m{/nginx$}) {
    is($r->{body}, "SECRET\n", 'nginx: a name with ".." climbs out');
} else {
    is($r->{status}, 404, 'a name with ".." is skipped');
}

is(get('/plain/whatever')->{body}, "files a\n",
    'a plain name: r->uri becomes it');

is(get('/al/foo.txt')->{body}, "data foo\n", 'alias: $uri');
is(get('/al/foo')->{body}, "data foo\n", 'alias: $uri.txt');
is(get('/al/bar')->{body}, "data bar\n", 'alias: a file without extension');
is(get('/al/none')->{status}, 404, 'alias: =404');

# A regex alias is a whole path: nginx appends the name to it.
is(get('/ra/foo.txt')->{status}, 404, 'regex alias: the name is appended');

is(get('/rx/foo.txt')->{body}, "data foo\n",
    'regex alias, try_files "": the alias is the file');
is(get('/rx/none')->{status}, 404, 'regex alias, try_files "": none');

$r = get('/loop/none');
is($r->{status}, 500, 'a redirection cycle: 500');

is(get('/anything', 8081)->{body}, "always\n",
    'server-level try_files: no location matched');
is(get('/loc/a.txt', 8081)->{body}, "loc a\n",
    'server-level try_files: not inherited by locations');

# Configuration errors, in nginx's words.

sub bad {
    my ($body) = @_;

    $t->write_file('bad.conf', <<"EOF");
events { }
http {
    server {
        listen 127.0.0.1:1;
        $body
    }
}
EOF

    return $t->run_kiln('-p', "$d/", '-c', "$d/bad.conf", '-e',
        "$d/bad.log", '-t')->{stderr};
}

like(bad('location / { try_files $uri =abc; }'), qr/invalid code "=abc"/,
    'invalid code');
like(bad('location / { try_files $uri =404; try_files $uri =404; }'),
    qr/"try_files" directive is duplicate/, 'try_files twice');
