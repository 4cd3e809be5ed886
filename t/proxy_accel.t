#!/usr/bin/perl
# proxy_accel.t: the X-Accel-* fields of a proxied response
# (X-Accel-Redirect to a URI with args or to a @named location, the
# method made GET but HEAD kept, the fields that go along, unsafe URIs;
# X-Accel-Buffering; X-Accel-Charset), proxy_ignore_headers turning
# them off, and their hiding; a relative Location that stays relative
# unless proxy_redirect rewrote it; an intercepted 401 keeps every
# WWW-Authenticate (nginx 1.22 kept the first: the one test that fails
# against it). The peer is a second server of the same kiln (add_header
# from the query), as in nginx's tests.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;

my $t = Test::Kiln->new->has('proxy', 'headers');

$t->write_file_expand('kiln.conf', <<'EOF');
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes 1;

events {
    worker_connections 64;
}

http {
    access_log off;
    log_format loc '$uri $sent_http_location';

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;
        access_log %%TESTDIR%%/access.log loc;

        location / {
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }

        location /ign/ {
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
            proxy_ignore_headers X-Accel-Redirect X-Accel-Charset;
        }

        location /pass/ {
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
            proxy_pass_header X-Accel-Redirect;
            proxy_ignore_headers X-Accel-Redirect;
        }

        location /rd/ {
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
            proxy_redirect /from/ /to/;
        }

        location /icpt/ {
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
            proxy_intercept_errors on;
            error_page 401 403 /our-page;
        }

        location = /our-page {
            return 200 "our page\n";
        }

        location /files/ {
            alias %%TESTDIR%%/files/;
        }

        location /dst {
            return 200 "dst $request_method $uri $args\n";
        }

        # nginx labels only with a charset its configuration names
        location /known-charset {
            charset utf-8;
        }

        location @named {
            return 200 "named $request_method $uri $args\n";
        }
    }

    server {
        listen 127.0.0.1:%%PORT_8081%%;

        location / {
            add_header X-Accel-Redirect $arg_xr;
            add_header X-Accel-Charset $arg_cs;
            add_header X-Accel-Expires $arg_xe;
            add_header X-Accel-Limit-Rate $arg_lr;
            add_header Location $arg_loc;
            add_header Set-Cookie "s=1";
            add_header Content-Disposition attachment;
            add_header X-Other 1;
            default_type application/x-app;
            return 200 "backend\n";
        }

        location /icpt/401 {
            add_header WWW-Authenticate 'Basic realm="a"' always;
            add_header WWW-Authenticate 'Bearer realm="b"' always;
            add_header X-Other 1 always;
            return 401 "no\n";
        }

        location /icpt/403 {
            add_header WWW-Authenticate 'Basic realm="a"' always;
            return 403 "no\n";
        }

        location /args {
            add_header X-Accel-Redirect "/dst?q=1&r=%41";
            add_header Set-Cookie "s=1";
            add_header Content-Disposition attachment;
            add_header X-Other 1;
            return 200 "backend\n";
        }
    }
}
EOF

$t->write_file('files/t.txt', "file body\n");

$t->plan(34);
$t->run;

my $r;

# --- X-Accel-Redirect -----------------------------------------------------

$r = parse_response(http_get('/args'));
is($r->{body}, "dst GET /dst q=1&r=%41\n", 'redirect: the URI and its args');
is($r->{headers}{'set-cookie'}, 's=1', 'redirect: Set-Cookie goes along');
is($r->{headers}{'content-disposition'}, 'attachment',
    'redirect: Content-Disposition goes along');
ok(!exists $r->{headers}{'x-other'}, 'redirect: other fields do not');
ok(!exists $r->{headers}{'x-accel-redirect'}, 'redirect: the field hidden');

$r = parse_response(http("POST /app?xr=/dst HTTP/1.0\r\nHost: localhost\r\n"
    . "Content-Length: 3\r\n\r\nabc"));
is($r->{body}, "dst GET /dst \n", 'redirect: POST becomes GET');

$r = parse_response(http_head('/app?xr=/dst'));
is($r->{status}, 200, 'redirect: HEAD stays HEAD');
is($r->{body}, '', 'redirect: HEAD has no body');

$r = parse_response(http_get('/app?xr=@named'));
is($r->{body}, "named GET /app xr=\@named\n", 'redirect: a named location');

$r = parse_response(http_get('/app?xr=/files/t.txt'));
is($r->{body}, "file body\n", 'redirect: a file');
is($r->{headers}{'content-type'}, 'application/x-app',
    'redirect: the file keeps the application\'s Content-Type');

$r = parse_response(http_get('/app?xr=/d%73t%3Fx'));
is($r->{body}, "dst GET /dst?x \n", 'redirect: the URI is %-decoded');

is(parse_response(http_get('/app?xr=/files/../t.txt'))->{status}, 404,
    'redirect: "/.." is unsafe: 404');
is(parse_response(http_get('/app?xr=/files/%252e%252e/t.txt'))->{status}, 404,
    'redirect: an encoded "/.." too');
is(parse_response(http_get('/app?xr=dst'))->{status}, 404,
    'redirect: not starting with "/": 404');

$r = parse_response(http_get('/ign/?xr=/dst'));
is($r->{body}, "backend\n", 'proxy_ignore_headers X-Accel-Redirect');
ok(!exists $r->{headers}{'x-accel-redirect'}, 'ignored, still hidden');

$r = parse_response(http_get('/pass/?xr=/dst'));
is($r->{headers}{'x-accel-redirect'}, '/dst',
    'proxy_pass_header X-Accel-Redirect: passed');

# The client connection goes on after a redirect: keep-alive, pipelined.
my $s = http("GET /app?xr=/dst HTTP/1.1\r\nHost: localhost\r\n\r\n"
    . "GET /app?xr=\@named HTTP/1.1\r\nHost: localhost\r\n\r\n"
    . "GET /dst HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    start => 1);
is(join('', map { parse_response(read_response($s))->{body} } 1 .. 3),
    "dst GET /dst \nnamed GET /app xr=\@named\ndst GET /dst \n",
    'redirects on a kept-alive connection, pipelined');

# --- the other X-Accel fields ---------------------------------------------

$r = parse_response(http_get('/app?xe=10&lr=10000000'));
ok(!exists $r->{headers}{'x-accel-expires'}, 'X-Accel-Expires hidden');
ok(!exists $r->{headers}{'x-accel-limit-rate'}, 'X-Accel-Limit-Rate hidden');

$r = parse_response(http_get('/app?cs=utf-8'));
is($r->{headers}{'content-type'}, 'application/x-app; charset=utf-8',
    'X-Accel-Charset: the charset the response is in');
ok(!exists $r->{headers}{'x-accel-charset'}, 'X-Accel-Charset hidden');

$r = parse_response(http_get('/ign/?cs=utf-8'));
is($r->{headers}{'content-type'}, 'application/x-app',
    'X-Accel-Charset ignored');

# --- Location -------------------------------------------------------------

$r = parse_response(http_get('/app?loc=/x/y'));
is($r->{headers}{location}, '/x/y', 'a relative Location stays relative');

$r = parse_response(http_get('/app?loc=x/y'));
is($r->{headers}{location}, 'x/y', 'a relative path too');
ok(wait_for(sub { $t->read_file('access.log') =~ m{^/app x/y$}m }, 5),
    '$sent_http_location: the Location sent');

$r = parse_response(http_get('/rd/?loc=/from/a'));
is($r->{headers}{location}, 'http://localhost:' . port(8080) . '/to/a',
    'rewritten by proxy_redirect: made absolute, as nginx');

$r = parse_response(http_get('/rd/?loc=/other'));
is($r->{headers}{location}, '/other', 'not rewritten: as sent');

# --- proxy_intercept_errors and WWW-Authenticate ---------------------------

$r = parse_response(http_get('/icpt/401'));
is($r->{status}, 401, 'an intercepted 401 stays 401');
is($r->{body}, "our page\n", 'with our page');
is(join(' | ', $r->{raw} =~ /^WWW-Authenticate: ([^\r\n]*)/mgi),
    'Basic realm="a" | Bearer realm="b"',
    'every challenge kept (nginx 1.23+; 1.22 kept the first)');
ok(!exists $r->{headers}{'x-other'}, 'other fields are not');

$r = parse_response(http_get('/icpt/403'));
ok(!exists $r->{headers}{'www-authenticate'}, 'an intercepted 403: none kept');
