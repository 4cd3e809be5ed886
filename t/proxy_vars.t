#!/usr/bin/perl
# proxy_vars.t: proxy_pass with variables: the peer named per request (an
# address literal, an upstream block, an implicit group of another
# proxy_pass; any other name is a 502 with nginx's "no resolver" line),
# the URI part sent as is, $proxy_host, errors in the evaluated URL (500,
# logged), and the config checks that go with variables; proxy_redirect
# with regular expressions (~, ~*, captures) and variables.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;
use Test::Kiln::Backend;

my $t = Test::Kiln->new->has('proxy');

my $b1 = Test::Kiln::Backend->http(port => 'b1', name => 'one');
my $b2 = Test::Kiln::Backend->http(port => 'b2', name => 'two');

$t->write_file_expand('kiln.conf', <<'EOF');
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes 1;

events {
    worker_connections 64;
}

http {
    log_format up '$uri $upstream_addr $upstream_status';
    access_log %%TESTDIR%%/access.log up;

    upstream grp {
        server 127.0.0.1:%%PORT_b2%%;
    }

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;

        set $b1 127.0.0.1:%%PORT_b1%%;

        location /lit/ {
            proxy_pass http://$b1;
        }

        location /uri/ {
            proxy_pass http://$b1/fixed$uri;
        }

        location /q/ {
            proxy_pass http://$b1?k=v;
        }

        location /slash/ {
            proxy_pass http://$b1/;
        }

        location /name/ {
            proxy_pass http://$arg_to;
        }

        location /url/ {
            proxy_pass $arg_url;
        }

        location ~ ^/re/(.*)$ {
            proxy_pass http://$b1/got/$1;
        }

        location /host/ {
            proxy_set_header X-PH $proxy_host;
            proxy_set_header X-PP $proxy_port;
            proxy_pass http://$arg_to;
        }

        location /implicit/ {
            proxy_pass http://localhost:%%PORT_b1%%;
        }

        location /rx/ {
            proxy_redirect ~^http://[^/]+/(a)/(.*)$ /got-$1/$2;
            proxy_redirect ~*^HTTP://127\.0\.0\.1:\d+/b(/.*)?$ http://$host/caseless$1;
            proxy_redirect ~/nomatch/ /never;
            proxy_redirect http://127.0.0.1:%%PORT_b1%%/ /plain/;
            proxy_pass http://127.0.0.1:%%PORT_b1%%;
        }

        location /rxcase/ {
            proxy_redirect ~^HTTP://127 /wrong;
            proxy_pass http://127.0.0.1:%%PORT_b1%%;
        }

        location /red/ {
            proxy_redirect http://127.0.0.1:%%PORT_b1%%/ /via/$b1/;
            proxy_pass http://$b1;
        }
    }
}
EOF

$t->plan(36);
$t->run(wait_ports => [8080]);

my ($r, $e);
my $p1 = port('b1');
my $p2 = port('b2');

# --- an address literal -------------------------------------------------

$r = parse_response(http_get('/lit/a%20b?x=1'));
$e = parse_echo($r->{body});
is($r->{status}, 200, 'literal: 200');
is($r->{headers}{'x-backend'}, 'one', 'literal: the addressed backend');
is($e->{target}, '/lit/a%20b?x=1',
    'no URI part: the target as the client sent it');
is($e->{header}{host}, "127.0.0.1:$p1", 'Host: $proxy_host, with the port');

$e = parse_echo(parse_response(http_get('/uri/x?y=2'))->{body});
is($e->{target}, '/fixed/uri/x', 'URI part: sent as is, without the args');

$e = parse_echo(parse_response(http_get('/q/x'))->{body});
is($e->{target}, '/?k=v', 'URI part starting with "?": "/" before it');

$e = parse_echo(parse_response(http_get('/slash/x?y=1'))->{body});
is($e->{target}, '/', 'URI part "/": sent as is');

$e = parse_echo(parse_response(http_get('/re/z'))->{body});
is($e->{target}, '/got/z', 'regex location: captures in the URL');

ok(wait_for(sub { $t->read_file('access.log') =~ m{^/lit/a b 127\.0\.0\.1:$p1 200$}m }, 5),
    'literal: $upstream_addr is the address');

# --- groups -------------------------------------------------------------

$r = parse_response(http_get('/name/x?to=grp'));
is($r->{status}, 200, 'upstream block by name: 200');
is($r->{headers}{'x-backend'}, 'two', 'upstream block by name: its server');

$r = parse_response(http_get('/name/x?to=GRP'));
is($r->{headers}{'x-backend'}, 'two', 'group names: case-insensitive');

$r = parse_response(http_get("/name/x?to=localhost:$p1"));
is($r->{headers}{'x-backend'}, 'one',
    'implicit group of another proxy_pass: by host and port');

$e = parse_echo(parse_response(http_get('/host/x?to=grp'))->{body});
is($e->{header}{'x-ph'}, 'grp', '$proxy_host: the name without port 80');
is($e->{header}{'x-pp'}, '80', '$proxy_port: 80 when none is given');
is($e->{header}{host}, 'grp', 'Host: the group name');

$e = parse_echo(parse_response(http_get("/host/x?to=127.0.0.1:$p2"))->{body});
is($e->{header}{'x-ph'}, "127.0.0.1:$p2", '$proxy_host: host:port');
is($e->{header}{'x-pp'}, $p2, '$proxy_port: the port given');

# --- no resolver ----------------------------------------------------------

$r = parse_response(http_get('/name/x?to=nosuch.example'));
is($r->{status}, 502, 'a name that is neither group nor literal: 502');
ok(wait_for(sub { $t->read_file('error.log') =~ /\[error\] .*no resolver defined to resolve nosuch\.example, client: 127\.0\.0\.1, server: localhost, request: "GET \/name\/x\?to=nosuch\.example HTTP\/1\.0"/ }, 5),
    'no resolver: nginx\'s line');

$r = parse_response(http_get('/name/x?to=grp:81'));
is($r->{status}, 502, 'a block with a port: not the block (a block has none)');
ok(wait_for(sub { $t->read_file('error.log') =~ /no resolver defined to resolve grp,/ }, 5),
    'a block with a port: no resolver for its name');

# --- errors in the evaluated URL -----------------------------------------

$r = parse_response(http_get('/url/x?url=ftp://127.0.0.1'));
is($r->{status}, 500, 'evaluated URL with another scheme: 500');
ok(wait_for(sub { $t->read_file('error.log') =~ /\[error\] .*invalid URL prefix in "ftp:\/\/127\.0\.0\.1"/ }, 5),
    'invalid URL prefix: logged');

$r = parse_response(http_get('/name/x?to=127.0.0.1:99999'));
is($r->{status}, 500, 'evaluated URL with a bad port: 500');
ok(wait_for(sub { $t->read_file('error.log') =~ /\[error\] .*invalid port in upstream "127\.0\.0\.1:99999\/?"/ }, 5),
    'invalid port: logged');

# --- proxy_redirect with variables ---------------------------------------

$r = parse_response(http_get('/red/redirect'));
like($r->{headers}{location}, qr{^http://localhost:\d+/via/127\.0\.0\.1:$p1/x$},
    'proxy_redirect: variables in the replacement');

$r = parse_response(http_get('/rx/redirect/a/b/c'));
like($r->{headers}{location}, qr{^http://localhost:\d+/got-a/b/c$},
    'proxy_redirect ~: the whole URL replaced, with captures');

$r = parse_response(http_get('/rx/redirect/b/z'));
is($r->{headers}{location}, 'http://localhost/caseless/z',
    'proxy_redirect ~*: without case, captures and variables');

$r = parse_response(http_get('/rx/redirect/c'));
like($r->{headers}{location}, qr{^http://localhost:\d+/plain/c$},
    'no regex matches: the next prefix applies');

$r = parse_response(http_get('/rx/redirect/x?header=Refresh:5;%20url=http://127.0.0.1:' . $p1 . '/a/r'));
like($r->{headers}{refresh}, qr{^5; url=/got-a/r$},
    'proxy_redirect ~ in Refresh: after "url="');

$r = parse_response(http_get('/rxcase/redirect/q'));
is($r->{headers}{location}, "http://127.0.0.1:$p1/q",
    'proxy_redirect ~: case-sensitive');

# --- config checks --------------------------------------------------------

sub check {
    my ($body) = @_;
    my $d = $t->testdir;

    $t->write_file('bad.conf', "events { }\nhttp { server { $body } }\n");
    return $t->run_kiln('-t', '-p', "$d/", '-c', "$d/bad.conf", '-e',
        "$d/check.log");
}

my $res = check('location / { proxy_pass http://$host; '
    . 'proxy_redirect default; }');
like($res->{stderr}, qr/"proxy_redirect default" cannot be used with "proxy_pass" directive with variables/,
    'proxy_redirect default with variables: refused');

$res = check('location / { proxy_pass http://$host; proxy_pass http://$host; }');
like($res->{stderr}, qr/"proxy_pass" directive is duplicate/,
    'two proxy_pass with variables: duplicate');

$res = check('location / { proxy_pass http://127.0.0.1:1; proxy_redirect ~( /x; }');
like($res->{stderr}, qr/pcre2_compile\(\) failed: missing closing parenthesis in "\(" in /,
    'proxy_redirect ~ with a bad regex: refused with its reason');

$res = check('location / { proxy_pass $host; }');
is($res->{exit}, 0, 'a prefix from a variable: checked per request');
