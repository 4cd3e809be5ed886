#!/usr/bin/perl
# return.t: the return directive (status, text with variables, redirects,
# 444), at server and location level; regex captures ($1, named) in it.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;

my $t = Test::Kiln->new->has('rewrite');

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

        location /text {
            return 200 "uri=$uri a=$arg_a\n";
        }

        location /moved {
            return 301 /new$uri;
        }

        location /see {
            return 303 http://example.com/other;
        }

        location /url {
            return http://example.com/x;
        }

        location /close {
            return 444;
        }

        location /forbidden {
            return 403;
        }

        location /empty {
            return 204;
        }

        location ~ ^/users/(?<user>\w+)/(\d+)$ {
            return 200 "user=$user id=$2\n";
        }
    }

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  ~^(?<sub>\w+)\.example\.com$;

        return 418 "server $sub\n";
    }
}
EOF

$t->plan(20);
$t->run;

my $r = parse_response(http_get('/text?a=1'));
is($r->{status}, 200, 'return 200 text');
is($r->{body}, "uri=/text a=1\n", 'text with variables');
is($r->{headers}{'content-type'}, 'text/plain', 'default_type');
is($r->{headers}{'content-length'}, 14, 'Content-Length of the text');

$r = parse_response(http_head('/text?a=1'));
is($r->{body}, '', 'HEAD: no body');

$r = parse_response(http_get('/moved'));
is($r->{status}, 301, 'return 301');
is($r->{headers}{location}, 'http://localhost:' . port(8080) . '/new/moved',
    'relative redirect made absolute');
like($r->{body}, qr{<title>301 Moved Permanently</title>}, '301 page');

$r = parse_response(http_get('/see'));
is($r->{status}, 303, 'return 303 URL');
is($r->{headers}{location}, 'http://example.com/other', 'absolute URL kept');

$r = parse_response(http_get('/url'));
is($r->{status}, 302, 'return URL: 302');
like($r->{body}, qr{<title>302 Found</title>}, '302 page says Found, as nginx');

is(http_get('/close'), '', 'return 444: closed without a response');

$r = parse_response(http_get('/forbidden'));
is($r->{status}, 403, 'return 403: the error page');
like($r->{body}, qr{403 Forbidden}, '403 page');

$r = parse_response(http_get('/empty'));
is($r->{status}, 204, 'return 204');
ok(!exists $r->{headers}{'content-length'}, '204 has no Content-Length');

is(parse_response(http_get('/users/bob/42'))->{body}, "user=bob id=42\n",
    'named and numbered regex captures');

$r = parse_response(http_get('/', host => 'abc.example.com'));
is($r->{status}, 418, 'server-level return');
is($r->{body}, "server abc\n", 'server_name named capture');

$t->stop;
