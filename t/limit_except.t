#!/usr/bin/perl
# limit_except.t: limit_except METHOD ... { }: its allow/deny apply to the
# methods it does not list, GET implies HEAD, an unknown method is
# limited too; method names in any case; proxy_pass and access_log inside
# it (the limited methods go to the backend and to their own log); a
# nested location does not inherit it; config errors: an invalid method,
# a duplicate block, a directive not allowed inside, proxy_pass with a
# URI inside.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;
use Test::Kiln::Backend;

my $t = Test::Kiln->new->has('access', 'proxy');

my $b = Test::Kiln::Backend->http(port => 'app', name => 'app');

$t->write_file_expand('kiln.conf', <<'EOF');
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes 1;

events {
    worker_connections 64;
}

http {
    access_log %%TESTDIR%%/access.log;

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;
        root %%TESTDIR%%/html;

        location /ro/ {
            limit_except GET {
                deny all;
            }

            location /ro/inner/ {
            }
        }

        location /lower/ {
            limit_except get options {
                deny all;
            }
        }

        location /allowed/ {
            limit_except GET {
                allow 127.0.0.1;
                deny all;
            }
        }

        location /write/ {
            limit_except GET {
                proxy_pass http://127.0.0.1:%%PORT_app%%;
                access_log %%TESTDIR%%/write.log;
            }
        }
    }
}
EOF

for my $d (qw(ro ro/inner lower allowed write)) {
    $t->write_file("html/$d/index.html", "$d\n");
}

$t->plan(16);
$t->run;

sub req {
    my ($method, $uri) = @_;
    return parse_response(http("$method $uri HTTP/1.0\r\nHost: localhost\r\n"
        . ($method =~ /^(POST|PUT)$/ ? "Content-Length: 0\r\n" : '')
        . "\r\n"));
}

is(req('GET', '/ro/')->{status}, 200, 'GET listed: 200');
is(req('HEAD', '/ro/')->{status}, 200, 'GET implies HEAD: 200');
is(req('POST', '/ro/')->{status}, 403, 'POST not listed: 403');
is(req('DELETE', '/ro/')->{status}, 403, 'DELETE not listed: 403');
# kiln refuses an unknown method before any location (501, RFC 9110
# 15.6.2, a documented difference); nginx lets limit_except refuse it.
like(req('FOO', '/ro/')->{status}, qr/^(403|501)$/,
    'an unknown method never passes: 501 (kiln) or 403 (nginx)');
is(req('POST', '/ro/inner/')->{status}, 405,
    'nested location does not inherit limit_except (static: 405)');
is(req('OPTIONS', '/lower/')->{status}, 405,
    'lowercase names: OPTIONS listed, not limited (static: 405)');
is(req('PUT', '/lower/')->{status}, 403, 'lowercase names: PUT 403');
is(req('POST', '/allowed/')->{status}, 405,
    'allow inside: POST allowed (static: 405)');

my $r = req('GET', '/write/');
is($r->{body}, "write\n", 'GET: served from root');
$r = req('POST', '/write/');
is($r->{headers}{'x-backend'}, 'app', 'POST: proxy_pass inside limit_except');
ok(wait_for(sub { $t->read_file('write.log') =~ m{"POST /write/ } }, 5),
    'POST: logged by the access_log inside');
ok($t->read_file('write.log') !~ m{"GET /write/ }, 'GET: not in that log');

$t->stop;

sub conf_error {
    my ($inside) = @_;
    $t->write_file_expand('bad.conf', <<"EOF");
events { }
http { server { listen 127.0.0.1:%%PORT_8081%%;
location /x/ { $inside } } }
EOF
    my $res = $t->run_kiln('-t', '-p', $t->testdir . '/', '-c',
        $t->testdir . '/bad.conf');
    return $res->{exit} ? $res->{stderr} : '';
}

like(conf_error('limit_except GET TRACE { }'),
    qr/invalid method "TRACE" in \S+bad\.conf:3/, 'invalid method');
like(conf_error('limit_except GET { root /tmp; }'),
    qr/"root" directive is not allowed here in \S+bad\.conf:3/,
    'root is not allowed inside');
like(conf_error('limit_except GET { proxy_pass http://127.0.0.1:1/u; }'),
    qr/"proxy_pass" cannot have URI part/, 'proxy_pass with a URI inside');
