#!/usr/bin/perl
# access.t: allow and deny (address, CIDR, IPv6, unix:, all), the first
# matching rule wins, 403 with nginx's log line; rules inherited by a
# level without its own; satisfy all|any with auth_request; limit_except
# (GET implies HEAD) with deny inside; an IPv6 client on [::1], an IPv4
# one on a v4-mapped listener, and a client on a unix socket; bad rules
# refused at config time.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;
use IO::Socket::IP;
use IO::Socket::UNIX;

my $t = Test::Kiln->new->has('access', 'auth_request');

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
        listen 127.0.0.1:%%PORT_8080%%;
        listen [::1]:%%PORT_8080%%;
        listen unix:%%TESTDIR%%/unix.sock;
        server_name localhost;
        root %%TESTDIR%%/html;

        deny 127.0.0.2;

        location /inherit/ {
        }

        location /deny-all/ {
            deny all;
        }

        location /allow-local/ {
            allow 127.0.0.1;
            deny all;
        }

        location /first/ {
            deny 127.0.0.0/8;
            allow 127.0.0.1;
        }

        location /other-net/ {
            allow 10.0.0.0/8;
            allow 192.168.1.0/24;
            deny all;
        }

        location /v6-rules/ {
            allow ::1;
            deny ::/0;
        }

        location /v6-deny/ {
            deny ::1/128;
            allow all;
        }

        location /v6-net/ {
            allow 2001:db8::/32;
            deny all;
        }

        location /unix-deny/ {
            deny unix:;
            allow all;
        }

        location /unix-allow/ {
            allow unix:;
            deny all;
        }

        location /nested/ {
            deny all;

            location /nested/open/ {
                allow all;
            }
        }

        location /any-ok/ {
            satisfy any;
            deny all;
            auth_request /auth-204;
        }

        location /any-401/ {
            satisfy any;
            deny all;
            auth_request /auth-401;
        }

        location /any-allow/ {
            satisfy any;
            allow 127.0.0.1;
            deny all;
            auth_request /auth-401;
        }

        location /any-none/ {
            satisfy any;
            allow 10.0.0.1;
            auth_request /auth-204;
        }

        location /all-deny/ {
            deny all;
            auth_request /auth-204;
        }

        location /all-401/ {
            allow all;
            auth_request /auth-401;
        }

        location /lmt/ {
            limit_except GET {
                deny all;
            }
        }

        location /lmt-post/ {
            limit_except POST PUT {
                allow 10.0.0.1;
                deny all;
            }
        }

        location = /auth-204 {
            return 204;
        }

        location = /auth-401 {
            return 401;
        }
    }

    # IPv4 clients arrive as ::ffff:127.0.0.1 (loopback only)
    server {
        listen [::ffff:127.0.0.1]:%%PORT_8082%% ipv6only=off;
        server_name localhost;
        root %%TESTDIR%%/html;

        location /mapped-v4/ {
            deny 127.0.0.1;
            allow all;
        }

        location /mapped-v6/ {
            deny ::ffff:127.0.0.1;
        }

        location /mapped-both/ {
            deny ::ffff:127.0.0.1;
            allow all;
        }
    }
}
EOF

for my $d (qw(inherit deny-all allow-local first other-net v6-rules v6-deny
    v6-net unix-deny unix-allow nested nested/open any-ok any-401 any-allow
    any-none all-deny all-401 lmt lmt-post mapped-v4 mapped-v6 mapped-both))
{
    $t->write_file("html/$d/index.html", "$d\n");
}

$t->plan(34);
$t->run(wait_ports => [8080, 8082]);

sub get {
    my ($uri, $method) = @_;
    $method //= 'GET';
    return parse_response(http("$method $uri HTTP/1.0\r\nHost: localhost\r\n"
        . ($method eq 'POST' ? "Content-Length: 0\r\n" : '') . "\r\n"));
}

sub get_port {
    my ($port, $uri) = @_;
    return parse_response(http("GET $uri HTTP/1.0\r\nHost: localhost\r\n\r\n",
        port => $port));
}

sub get6 {
    my ($uri) = @_;
    my $s = IO::Socket::IP->new(PeerAddr => '::1', PeerPort => port(8080),
        Proto => 'tcp') or return { status => 'no connection' };
    return parse_response(http("GET $uri HTTP/1.0\r\nHost: localhost\r\n\r\n",
        socket => $s));
}

sub get_unix {
    my ($uri) = @_;
    my $s = IO::Socket::UNIX->new(Peer => $t->testdir . '/unix.sock')
        or return { status => 'no connection' };
    return parse_response(http("GET $uri HTTP/1.0\r\nHost: localhost\r\n\r\n",
        socket => $s));
}

is(get('/inherit/')->{status}, 200, 'server rule for another address: 200');
is(get('/deny-all/')->{status}, 403, 'deny all: 403');
ok(wait_for(sub { $t->read_file('error.log')
    =~ /access forbidden by rule, client: 127\.0\.0\.1, server: localhost, request: "GET \/deny-all\/ HTTP\/1\.0"/ }, 5),
    'deny: nginx\'s log line');
is(get('/allow-local/')->{status}, 200, 'allow 127.0.0.1 first: 200');
is(get('/first/')->{status}, 403, 'first match wins: deny /8 before allow');
is(get('/other-net/')->{status}, 403, 'no network matches: deny all');
is(get('/v6-rules/')->{status}, 200, 'IPv4 client, IPv6 rules only: 200');
is(get('/nested/')->{status}, 403, 'outer location: 403');
is(get('/nested/open/')->{status}, 200, 'nested rules replace: 200');

is(get6('/v6-rules/')->{status}, 200, 'IPv6 client: allow ::1');
is(get6('/v6-deny/')->{status}, 403, 'IPv6 client: deny ::1/128');
is(get6('/v6-net/')->{status}, 403, 'IPv6 client: other net, deny all');
is(get6('/first/')->{status}, 200, 'IPv6 client, IPv4 rules only: 200');
is(get6('/deny-all/')->{status}, 403, 'IPv6 client: deny all');

is(get_unix('/unix-deny/')->{status}, 403, 'unix client: deny unix:');
is(get_unix('/unix-allow/')->{status}, 200, 'unix client: allow unix:');
is(get_unix('/allow-local/')->{status}, 403, 'unix client: deny all');
is(get_unix('/first/')->{status}, 200, 'unix client, IPv4 rules only: 200');

# A v4-mapped client: the IPv4 rules when there are any, as nginx.
is(get_port(8082, '/mapped-v4/')->{status}, 403,
    'v4-mapped client: IPv4 rule matches');
is(get_port(8082, '/mapped-v6/')->{status}, 403,
    'v4-mapped client, IPv6 rules only: the IPv6 rule matches');
is(get_port(8082, '/mapped-both/')->{status}, 200,
    'v4-mapped client, IPv4 rules exist (all): IPv6 rule not read');

is(get('/any-ok/')->{status}, 200, 'satisfy any: denied, auth_request 204');
my $r = get('/any-401/');
is($r->{status}, 401, 'satisfy any: denied and 401: 401 wins');
is(get('/any-allow/')->{status}, 200, 'satisfy any: allowed, auth 401');
is(get('/any-none/')->{status}, 200, 'satisfy any: no rule matches, auth ok');
is(get('/all-deny/')->{status}, 403, 'satisfy all: denied, auth ok: 403');
is(get('/all-401/')->{status}, 401, 'satisfy all: allowed, auth 401');

is(get('/lmt/')->{status}, 200, 'limit_except GET: GET 200');
is(get('/lmt/', 'HEAD')->{status}, 200, 'limit_except GET: HEAD 200');
is(get('/lmt/', 'POST')->{status}, 403, 'limit_except GET: POST 403');
is(get('/lmt-post/', 'POST')->{status}, 405,
    'limit_except POST: POST is not limited (static: 405)');
is(get('/lmt-post/', 'DELETE')->{status}, 403,
    'limit_except POST PUT: DELETE 403');
is(get('/lmt-post/', 'HEAD')->{status}, 403,
    'limit_except POST PUT: HEAD 403');

$t->stop;

# Bad rules are refused with file and line.
my $bad = '';
for my $rule ('allow 300.1.1.1;', 'deny 10.0.0.0/33;', 'allow ::1/129;',
    'deny foo;', 'allow unix:/x;')
{
    $t->write_file_expand('bad.conf', <<"EOF");
events { }
http { server { listen 127.0.0.1:%%PORT_8081%%; location / { $rule } } }
EOF
    my $res = $t->run_kiln('-t', '-p', $t->testdir . '/', '-c',
        $t->testdir . '/bad.conf');
    $bad .= "$rule: $res->{stderr}"
        unless $res->{exit} != 0
        && $res->{stderr} =~ /invalid parameter .* in \S+bad\.conf:2/;
}
is($bad, '', 'bad rules: invalid parameter, file and line');
