#!/usr/bin/perl
# auth_request.t: auth_request and auth_request_set: a subrequest's status
# allows (2xx from a backend and from return 204), denies (401 with every
# WWW-Authenticate of the backend, 403) or fails (another status: 500 and
# nginx's log line); auth_request_set from the subrequest's response
# fields; auth_request off in a nested location; the auth backend gets a
# GET with the original $request_uri and no body, while the content
# handler still gets the POST body; keep-alive and pipelined requests
# after auth; log_subrequest ($uri the subrequest's, $request_uri the
# main's).

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;
use Test::Kiln::Backend;

my $t = Test::Kiln->new->has('proxy');

my $app = Test::Kiln::Backend->http(port => 'app', name => 'app');
my $auth = Test::Kiln::Backend->http(port => 'auth', name => 'auth',
    record => 1);

$t->write_file_expand('kiln.conf', <<'EOF');
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes 1;

events {
    worker_connections 64;
}

http {
    log_format sub '$uri $request_uri $status';
    access_log %%TESTDIR%%/access.log sub;

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;

        location /ok/ {
            auth_request /auth-ok;
            auth_request_set $user $sent_http_x_user;
            add_header X-Auth-User $user;
            proxy_pass http://127.0.0.1:%%PORT_app%%;

            location /ok/open/ {
                auth_request off;
                proxy_pass http://127.0.0.1:%%PORT_app%%;
            }
        }

        location /r204/ {
            auth_request /auth-204;
            alias %%TESTDIR%%/html/;
        }

        location /d401/ {
            auth_request /auth-401;
            proxy_pass http://127.0.0.1:%%PORT_app%%;
        }

        location /d403/ {
            auth_request /auth-403;
            proxy_pass http://127.0.0.1:%%PORT_app%%;
        }

        location /odd/ {
            auth_request /auth-404;
            proxy_pass http://127.0.0.1:%%PORT_app%%;
        }

        location /logged/ {
            auth_request /auth-logged;
            alias %%TESTDIR%%/html/;
        }

        location /slow/ {
            auth_request /auth-slow;
            proxy_pass http://127.0.0.1:%%PORT_app%%;
        }

        location /slowstatic/ {
            auth_request /auth-slow;
            alias %%TESTDIR%%/html/;
        }

        location /down/ {
            auth_request /auth-down;
            proxy_pass http://127.0.0.1:%%PORT_app%%;
        }

        location = /auth-slow {
            internal;
            proxy_pass http://127.0.0.1:%%PORT_auth%%/slow/1000;
        }

        location = /auth-down {
            internal;
            proxy_pass http://127.0.0.1:%%PORT_closed%%;
        }

        location = /auth-ok {
            internal;
            proxy_pass http://127.0.0.1:%%PORT_auth%%/status/200?header=X-User:alice;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Original-URI $request_uri;
        }

        location = /auth-401 {
            internal;
            proxy_pass http://127.0.0.1:%%PORT_auth%%/status/401?header=WWW-Authenticate:Basic%20realm%3Done&header=WWW-Authenticate:Bearer%20realm%3Dtwo;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
        }

        location = /auth-204 {
            internal;
            return 204;
        }

        location = /auth-403 {
            internal;
            return 403;
        }

        location = /auth-404 {
            internal;
            return 404;
        }

        location = /auth-logged {
            internal;
            log_subrequest on;
            return 204;
        }
    }
}
EOF

$t->write_file('html/index.html', "r204 allowed\n");

$t->plan(42);
$t->run(wait_ports => [8080]);

my ($r, $e, $raw);

# Allowed by a backend's 200; its X-User goes to a response field.
$r = parse_response(http_get('/ok/x?a=1'));
is($r->{status}, 200, '2xx from the auth backend: allowed');
$e = parse_echo($r->{body});
is($e->{backend}, 'app', 'allowed: the content handler answers');
is($r->{headers}{'x-auth-user'}, 'alice',
    'auth_request_set of a subrequest response field, into add_header');

$raw = $auth->received(1);
like($raw, qr{^GET /status/200\?header=X-User:alice HTTP/1\.[01]\r\n},
    'the auth subrequest is a GET to the auth location\'s URI');
like($raw, qr{\r\nX-Original-URI: /ok/x\?a=1\r\n}i,
    '$request_uri in the subrequest is the main request\'s');

# Allowed by "return 204" in the auth location. (A "return" in the
# protected location itself would answer first: rewrite runs before access.)
$r = parse_response(http_get('/r204/'));
is($r->{status}, 200, 'return 204 in the auth location: allowed');
is($r->{body}, "r204 allowed\n", 'return 204: the content');

# Denied: 401 with both WWW-Authenticate fields; 403.
$r = parse_response(http_get('/d401/'));
is($r->{status}, 401, '401 from the auth backend passed through');
# nginx passes every one since 1.23.0; Debian's 1.22 only the first.
my @www = ('Basic realm=one', 'Bearer realm=two');
splice(@www, 1) if ($ENV{KILN_BINARY} // '') =~ /nginx/;
is($r->{count}{'www-authenticate'}, scalar @www,
    'every WWW-Authenticate field (nginx 1.22: the first)');
is_deeply([map { $_->[1] } grep { lc $_->[0] eq 'www-authenticate' }
        @{$r->{header_list}}],
    \@www, 'WWW-Authenticate values, in order');
unlike($r->{body}, qr/backend: app/, '401: the content is not sent');

$r = parse_response(http_get('/d403/'));
is($r->{status}, 403, '403 from the auth location passed through');
ok(!exists $r->{headers}{'www-authenticate'}, '403: no WWW-Authenticate');

# Any other status: 500, logged.
$r = parse_response(http_get('/odd/'));
is($r->{status}, 500, '404 from the auth location: 500');
ok(wait_for(sub {
            $t->read_file('error.log')
                =~ /\[error\].*auth request unexpected status: 404/
        }, 5), 'the unexpected status is logged');

# auth_request off in a nested location: no subrequest.
my $before = $auth->stats->{requests};
$r = parse_response(http_get('/ok/open/y'));
is($r->{status}, 200, 'auth_request off in a nested location: allowed');
is($auth->stats->{requests}, $before, 'auth_request off: no auth request');
ok(!exists $r->{headers}{'x-auth-user'}, 'auth_request off: no X-Auth-User');

# POST with a body: the auth backend gets none, the content handler all.
my $body = 'x' x 3000;
$before = $auth->stats->{connections};
$r = parse_response(http("POST /ok/post HTTP/1.0\r\nHost: localhost\r\n"
        . "Content-Length: 3000\r\n\r\n$body"));
is($r->{status}, 200, 'POST to a protected location: allowed');
$e = parse_echo($r->{body});
is($e->{method}, 'POST', 'POST: the content handler gets a POST');
is($e->{body_length}, 3000, 'POST: the content handler gets the whole body');
$raw = $auth->received($before + 1);
like($raw, qr{^GET }, 'POST: the auth subrequest is a GET');
unlike($raw, qr/xxxx/, 'POST: the auth backend gets no body');

# Keep-alive: two requests on one connection, then two pipelined.
my $s = http_connect();
$r = parse_response(http("GET /ok/k1 HTTP/1.1\r\nHost: localhost\r\n\r\n",
        socket => $s, one => 1));
is($r->{status}, 200, 'keep-alive: first request allowed');
$r = parse_response(http("GET /r204/ HTTP/1.1\r\nHost: localhost\r\n"
        . "Connection: close\r\n\r\n", socket => $s, one => 1));
is($r->{status}, 200, 'keep-alive: second request on the connection');

$raw = http("GET /ok/p1 HTTP/1.1\r\nHost: localhost\r\n\r\n"
    . "GET /d403/ HTTP/1.1\r\nHost: localhost\r\n\r\n"
    . "GET /r204/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
my @st = $raw =~ m{^HTTP/1\.1 (\d{3})}mg;
is("@st", '200 403 200', 'pipelined: three answers in order');
like($raw, qr/r204 allowed\n\z/, 'pipelined: the last body is whole');

# log_subrequest: off by default; on logs the subrequest with its $uri.
$r = parse_response(http_get('/logged/?q=1'));
is($r->{status}, 200, 'log_subrequest on: allowed');
my $log = '';
wait_for(sub { ($log = $t->read_file('access.log')) =~ m{^/logged/} }, 5);
like($log, qr{^/auth-logged /logged/\?q=1 204$}m,
    'log_subrequest on: the subrequest is logged with its $uri and the '
    . 'main $request_uri');
unlike($log, qr{^/auth-(ok|204|401|403|404) }m,
    'log_subrequest off: the other subrequests are not logged');

# The auth backend cannot be reached: its 502 is not 2xx, 401 or 403.
$r = parse_response(http_get('/down/'));
is($r->{status}, 500, 'auth backend down: 500');
ok(wait_for(sub {
            $t->read_file('error.log')
                =~ /auth request unexpected status: 502/
        }, 5), 'auth backend down: the 502 is logged');

# The client goes away while the auth subrequest waits for its backend.
$before = $auth->stats->{requests};
$s = http_connect();
print $s "GET /slow/ HTTP/1.1\r\nHost: localhost\r\n\r\n";
$auth->wait_requests($before + 1, 5);
close $s;
$r = parse_response(http_get('/r204/'));
is($r->{status}, 200, 'client gone during the auth subrequest: the next '
    . 'request is served');
ok(wait_for(sub {
            $t->read_file('error.log')
                =~ /client prematurely closed connection.*GET \/slow\//
        }, 5), 'client gone during the auth subrequest: seen and logged');

# A pipelined request that comes while the auth subrequest waits.
$before = $auth->stats->{requests};
$s = http_connect();
print $s "GET /slowstatic/ HTTP/1.1\r\nHost: localhost\r\n\r\n";
$auth->wait_requests($before + 1, 5);
print $s "GET /r204/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
$raw = http('', socket => $s);
@st = $raw =~ m{^HTTP/1\.1 (\d{3})}mg;
is("@st", '200 200', 'pipelined during the auth subrequest: both answered');
like($raw, qr/r204 allowed\n\z/, 'pipelined during the auth subrequest: '
    . 'the second body is whole');

# Configuration errors, in nginx's words, with the file and line.
for my $bad (['auth_request /a; auth_request /b;',
        qr/"auth_request" directive is duplicate in .*bad\.conf:3/],
    ['auth_request_set user $uri;',
        qr/invalid variable name "user" in .*bad\.conf:3/],
    ['auth_request_set $uri x;',
        qr/the duplicate "uri" variable in .*bad\.conf:3/])
{
    my $d = $t->testdir;
    $t->write_file('bad.conf', "events { }\nhttp { server {\n"
        . "location / { $bad->[0] } } }\n");
    my $res = $t->run_kiln('-t', '-p', "$d/", '-c', "$d/bad.conf", '-e',
        "$d/check.log");
    isnt($res->{exit}, 0, "refused: $bad->[0]");
    like($res->{stderr}, $bad->[1], "refused: $bad->[0]: the message");
}
