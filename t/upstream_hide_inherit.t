#!/usr/bin/perl
# upstream_hide_inherit.t: X_hide_header and X_pass_header lists are
# inherited from the enclosing level by a location without its own, and a
# location's own list replaces the inherited one (nginx's rule), for proxy
# and FastCGI alike (kl_http_upstream_hide_headers merges them for all).

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;
use Test::Kiln::Backend;

my $t = Test::Kiln->new->has('proxy', 'fastcgi');

my $b = Test::Kiln::Backend->http(port => 'b1', name => 'one');
my $f = Test::Kiln::Backend->fastcgi(port => 'f1', name => 'fc');

$t->write_file_expand('kiln.conf', <<'EOF2');
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

        proxy_hide_header X-Secret;
        proxy_pass_header X-Accel-Expires;
        fastcgi_hide_header X-Backend-Conn;

        location /inherit/ {
            proxy_pass http://127.0.0.1:%%PORT_b1%%;
        }

        location /own/ {
            proxy_hide_header X-Open;
            proxy_pass http://127.0.0.1:%%PORT_b1%%;
        }

        location /fcgi/ {
            fastcgi_param QUERY_STRING $query_string;
            fastcgi_pass 127.0.0.1:%%PORT_f1%%;
        }

        location /fcgi-own/ {
            fastcgi_hide_header X-Backend-Request;
            fastcgi_pass 127.0.0.1:%%PORT_f1%%;
        }
    }
}
EOF2

$t->plan(8);
$t->run;

my $q = '?header=X-Secret:1&header=X-Open:2&header=X-Accel-Expires:10';
my $r;

$r = parse_response(http_get("/inherit/x$q"));
ok(!exists $r->{headers}{'x-secret'}, 'proxy: the server\'s hide list');
is($r->{headers}{'x-open'}, 2, 'proxy: what it does not name passes');
is($r->{headers}{'x-accel-expires'}, 10, 'proxy: the server\'s pass list');

$r = parse_response(http_get("/own/x$q"));
is($r->{headers}{'x-secret'}, 1, 'proxy: an own list replaces the server\'s');
ok(!exists $r->{headers}{'x-open'}, 'proxy: and hides what it names');

$r = parse_response(http_get('/fcgi/x'));
ok(!exists $r->{headers}{'x-backend-conn'}, 'fastcgi: the server\'s list');

$r = parse_response(http_get('/fcgi-own/x'));
ok(exists $r->{headers}{'x-backend-conn'}, 'fastcgi: an own list replaces it');
ok(!exists $r->{headers}{'x-backend-request'}, 'fastcgi: and hides its own');

$t->done;
