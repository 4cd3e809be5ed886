#!/usr/bin/perl
# alias.t: alias in prefix and regex locations (captures, named captures),
# root with variables, $document_root, $request_filename and $realpath_root
# under alias, confinement to the alias, and the alias/root conflicts.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;

my $t = Test::Kiln->new->has('static', 'index', 'rewrite')
    ->expect_errors(qr/has "\.\."/);
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

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        location / {
            root %%TESTDIR%%/html;
        }

        location /i/ {
            alias %%TESTDIR%%/data/images/;
        }

        location /j {
            alias %%TESTDIR%%/data/images;
        }

        location /k {
            alias %%TESTDIR%%/data/images/;
        }

        location ~ ^/r/(.+\.txt)$ {
            alias %%TESTDIR%%/data/images/$1;
        }

        location ~ ^/n/(?<file>[a-z]+)\.txt$ {
            alias %%TESTDIR%%/data/images/$file.txt;
        }

        location ~ ^/whole/ {
            alias %%TESTDIR%%/data/images/a.txt;
        }

        location ~ ^/c(.+)$ {
            alias %%TESTDIR%%/data/images/$1;
        }

        location /v/ {
            alias %%TESTDIR%%/data/images/;
            return 200 "$document_root|$request_filename|$realpath_root";
        }

        location /rv/ {
            root %%TESTDIR%%/$arg_d;
            return 200 "$document_root|$request_filename";
        }

        location /rf/ {
            root %%TESTDIR%%/$arg_d;
        }

        location /nest/ {
            alias %%TESTDIR%%/data/images/;

            location /nest/sub/ {
            }
        }
    }
}
EOF

$t->write_file('html/a.txt', "root a\n");
$t->write_file('data/images/a.txt', "images a\n");
$t->write_file('data/images/b.txt', "images b\n");
$t->write_file('data/images/sub/index.html', "sub index\n");
$t->write_file('data/images/sub/c.txt', "images sub c\n");
$t->write_file('data/images../x.txt', "sibling dir\n");
$t->write_file('data/secret.txt', "SECRET\n");
$t->write_file('other/a.txt', "other a\n");
$t->write_file('other/rf/a.txt', "other rf a\n");

$t->plan(30);
$t->run;

sub get {
    return parse_response(http_get($_[0])) // {};
}

my $r = get('/i/a.txt');
is($r->{status}, 200, 'prefix alias: 200');
is($r->{body}, "images a\n", 'prefix alias: the file under the alias');

is(get('/i/sub/c.txt')->{body}, "images sub c\n", 'prefix alias: subdir');
is(get('/i/sub/')->{body}, "sub index\n", 'prefix alias: index file');

$r = get('/i/sub');
is($r->{status}, 301, 'prefix alias: directory redirect');
like($r->{headers}{location} // '', qr{/i/sub/$}, 'prefix alias: Location');

is(get('/i/none.txt')->{status}, 404, 'prefix alias: missing file 404');

is(get('/j/a.txt')->{body}, "images a\n", 'alias without slash: /j/a.txt');
is(get('/j../x.txt')->{body}, "sibling dir\n",
    'alias without slash: /j../x.txt is data/images../x.txt');

# nginx opens data/images/../secret.txt here (its known pitfall); kiln
# stays under the alias, mapping it as the alias without its slash would:
# data/images../secret.txt. Run against nginx, the tests show the pitfall.
my $nginx = Test::Kiln::binary() =~ m{/nginx$};

$r = get('/k../secret.txt');
if ($nginx) {
    is($r->{status}, 200, 'nginx: alias /k with "/": /k../ climbs out');
    is($r->{body}, "SECRET\n", 'nginx: the file outside the alias');
    is(get('/k../x.txt')->{status}, 404, 'nginx: /k../x.txt is data/x.txt');
} else {
    is($r->{status}, 404, 'alias /k with "/": /k../ does not climb out');
    unlike($r->{body}, qr/SECRET/, 'alias /k with "/": no file outside');
    is(get('/k../x.txt')->{body}, "sibling dir\n",
        'alias /k with "/": /k../x.txt is data/images../x.txt');
}
# The same through a capture: "/c../secret.txt" makes images/../secret.txt.
$r = get('/c../secret.txt');
if ($nginx) {
    is($r->{body}, "SECRET\n", 'nginx: a capture with ".." climbs out');
} else {
    is($r->{status}, 500, 'a capture with ".." in a regex alias: refused');
}

is(get('/k/a.txt')->{body}, "images a\n", 'alias /k with "/": /k/a.txt');

is(get('/r/b.txt')->{body}, "images b\n", 'regex alias with $1');
is(get('/r/sub/c.txt')->{body}, "images sub c\n", 'regex alias: $1 path');
is(get('/r/none.txt')->{status}, 404, 'regex alias: missing 404');
is(get('/n/b.txt')->{body}, "images b\n", 'regex alias: named capture');
is(get('/whole/anything')->{body}, "images a\n",
    'regex alias without captures: the whole path');

$r = get('/v/sub/c.txt');
is($r->{body},
    "$d/data/images/|$d/data/images/sub/c.txt|$d/data/images",
    '$document_root, $request_filename, $realpath_root under alias');

$r = get('/rv/a.txt?d=other');
is($r->{body}, "$d/other|$d/other/rv/a.txt",
    'root with a variable: $document_root, $request_filename');

is(get('/rf/a.txt?d=other')->{body}, "other rf a\n",
    'root with a variable: the file');
is(get('/rf/a.txt?d=html')->{status}, 404, 'root with a variable: other dir');

is(get('/nest/sub/c.txt')->{body}, "images sub c\n",
    'nested location inherits the alias of its parent');

is(get('/a.txt')->{body}, "root a\n", 'root still maps');

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

like(bad('location / { root /a; alias /b; }'),
    qr/"alias" directive is duplicate, "root" directive was specified earlier/,
    'alias after root');
like(bad('location / { alias /b; root /a; }'),
    qr/"root" directive is duplicate, "alias" directive was specified earlier/,
    'root after alias');
like(bad('alias /b;'), qr/"alias" directive is not allowed here/,
    'alias at server level');
like(bad('location @n { alias /b; }'),
    qr/the "alias" directive cannot be used inside the named location/,
    'alias in a named location');
like(bad('location / { alias /b; alias /c; }'),
    qr/"alias" directive is duplicate/, 'alias twice');
