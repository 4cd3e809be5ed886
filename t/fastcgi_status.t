#!/usr/bin/perl
# fastcgi_status.t: a FastCGI application's CGI head (RFC 3875 6.3) sets
# the response status as nginx reads it: a Status field with its reason
# kept, 200 without one, and 502 for a malformed Status or a second
# Content-Length that disagrees with the first. Against nginx 1.22 tests
# 7 to 9 fail, by design (docs/directives.md, uwsgi and scgi: nginx reads
# the first three characters of Status and keeps the last Content-Length).

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;
use Test::Kiln::Backend;

my $t = Test::Kiln->new->has('fastcgi');

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
        server_name localhost;

        fastcgi_param QUERY_STRING $query_string;

        location / {
            fastcgi_pass 127.0.0.1:%%PORT_f1%%;
        }
    }
}
EOF2

$t->expect_errors(qr/upstream sent invalid status|upstream sent invalid "Content-Length"/);
$t->plan(9);
$t->run;

my $r;

$r = http("GET /x?header=Status:299%20Odd%20One HTTP/1.0\r\n\r\n");
like($r, qr{^HTTP/1\.1 299 Odd One\r\n}, 'Status with a reason: kept');

$r = parse_response(http_get('/x?header=Status:'));
is($r->{status}, 200, 'no Status field: 200');
like($r->{body}, qr/^backend: fc$/m, 'and the body');

$r = parse_response(http_get('/x?header=Status:404'));
is($r->{status}, 404, 'Status without a reason');

for my $bad ('abc', '99', '2000', '404x') {
    $r = parse_response(http_get("/x?header=Status:$bad"));
    is($r->{status}, 502, "Status: $bad is invalid: 502");
}

$r = parse_response(http_get('/x?header=Content-Length:5'
    . '&header=Content-Length:6'));
is($r->{status}, 502, 'two Content-Length values: 502');

$t->done;
