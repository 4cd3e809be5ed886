#!/usr/bin/perl
# index.t: the index directive: several names, the first that exists wins,
# names with variables, an absolute last index as an internal redirect,
# and variable values that would leave the directory skipped.

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
    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;
        root         %%TESTDIR%%/html;

        location /two/ {
            index a.html b.html;
        }

        location /var/ {
            index index.$arg_l.html index.html;
        }

        location /abs/ {
            index missing.html /fallback.html;
        }
    }
}
EOF

$t->write_file('html/two/b.html', "b\n");
$t->write_file('html/var/index.en.html', "en\n");
$t->write_file('html/var/index.html', "default\n");
$t->write_file('html/fallback.html', "fallback\n");
$t->write_file('html/abs/other.txt', "other\n");
$t->write_file('html/secret.html', "secret\n");

$t->plan(8);
$t->run;

sub body { return parse_response(http_get($_[0]))->{body} }

is(body('/two/'), "b\n", 'the first index that exists');
is(body('/var/?l=en'), "en\n", 'index name from a variable');
is(body('/var/'), "default\n", 'empty variable: the next name');
is(body('/var/?l=/../../secret'), "default\n",
    'a value with / or .. is skipped, never leaves the directory');
like($t->read_file('error.log'), qr/from variables is not a file name/,
    'the skipped value is logged');
is(body('/abs/'), "fallback\n", 'absolute last index: internal redirect');
is(parse_response(http_get('/abs/sub/'))->{status}, 404,
    'missing directory: 404 before the absolute index');
is(parse_response(http_get('/nothing/'))->{status}, 404,
    'missing directory: 404');

$t->stop;
