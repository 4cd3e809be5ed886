#!/usr/bin/perl
# upstream.t: upstream groups as kiln -t reads them: the upstream block,
# server lines and their parameters, least_conn, ip_hash, hash, keepalive;
# each error and warning worded as nginx words it, with FILE:LINE. How the
# balancers choose is in t/unit/test_upstream_balancers.c.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;

my $t = Test::Kiln->new->has('upstream_least_conn', 'upstream_ip_hash',
    'upstream_hash', 'upstream_keepalive');
my $d = $t->testdir;
my $conf = "$d/kiln.conf";
my @targs = ('-p', "$d/", '-c', $conf, '-e', "$d/test.log");

$t->plan(54);

# The http block with TEXT in it, TEXT starting at line 4.
sub http_conf {
    my ($text) = @_;

    return "error_log $d/test.log;\n"
        . "events { }\n"
        . "http {\n"
        . $text
        . "    server { listen 127.0.0.1:" . port(8080) . "; }\n"
        . "}\n";
}

sub bad_config {
    my ($name, $text, $line, $re) = @_;
    my $where = "$conf:$line";

    $t->write_file('kiln.conf', http_conf($text));
    my $r = $t->run_kiln(@targs, '-t');

    is($r->{exit}, 1, "$name: exit 1");
    like($r->{stderr}, qr/\[emerg\] $re in \Q$where\E$/m,
        "$name: message and $where");
}

sub good_config {
    my ($name, $text) = @_;

    $t->write_file('kiln.conf', http_conf($text));
    my $r = $t->run_kiln(@targs, '-t');

    is($r->{exit}, 0, "$name: -t exits 0");
    return $r->{stderr};
}

# Every parameter and address form.

my $err = good_config('all parameters', <<'CONF');
    upstream backend {
        server 127.0.0.1:8081 weight=3 max_fails=2 fail_timeout=5s;
        server localhost:8082 max_conns=10;
        server [::1]:8083 down;
        server unix:/tmp/kiln-upstream.sock backup;
        server 127.0.0.2;
    }
CONF
unlike($err, qr/\[emerg\]|\[warn\]/, 'all parameters: no complaint');

good_config('balancers and keepalive', <<'CONF');
    upstream a { least_conn; server 127.0.0.1:1 backup; server 127.0.0.2:1;
                 keepalive 8; keepalive_requests 100; keepalive_timeout 5s; }
    upstream b { ip_hash; server 127.0.0.1:1 weight=2 down; server 127.0.0.2:1; }
    upstream c { hash $request_uri; server 127.0.0.1:1; server 127.0.0.2:1; }
    upstream d { hash $remote_addr$uri consistent; server 127.0.0.1:1; }
CONF

# nginx reads a server's parameters before the balancer that refuses them.
good_config('backup before ip_hash', <<'CONF');
    upstream b { server 127.0.0.1:1; server 127.0.0.2:1 backup; ip_hash; }
CONF

# Errors.

bad_config('duplicate upstream', <<'CONF', 5, qr/duplicate upstream "B"/);
    upstream b { server 127.0.0.1:1; }
    upstream B { server 127.0.0.1:2; }
CONF

bad_config('empty upstream', <<'CONF', 6, qr/no servers are inside upstream/);
    upstream b {

    }
CONF

bad_config('only backups', <<'CONF', 4, qr/no servers in upstream "b"/);
    upstream b { server 127.0.0.1:1 backup; }
CONF

bad_config('weight=0', <<'CONF', 5, qr/invalid parameter "weight=0"/);
    upstream b {
        server 127.0.0.1 weight=0;
    }
CONF

# ("resolve" is a parameter now: t/resolver.t)
for my $p ('weight=x', 'max_fails=x', 'fail_timeout=x', 'max_conns=-1',
    'bogus')
{
    bad_config("parameter $p", <<"CONF", 4, qr/invalid parameter "\Q$p\E"/);
    upstream b { server 127.0.0.1 $p; }
CONF
}

bad_config('ip_hash refuses backup', <<'CONF', 4,
    upstream b { ip_hash; server 127.0.0.1 backup; }
CONF
    qr/balancing method does not support parameter "backup"/);

bad_config('hash refuses backup', <<'CONF', 5,
    upstream b { hash $uri;
                 server 127.0.0.1 backup; }
CONF
    qr/balancing method does not support parameter "backup"/);

bad_config('host not found', <<'CONF', 4,
    upstream b { server no-such-host.invalid:8080; }
CONF
    qr/host not found in upstream "no-such-host.invalid:8080"/);

bad_config('invalid port', <<'CONF', 4,
    upstream b { server 127.0.0.1:99999; }
CONF
    qr/invalid port in upstream "127.0.0.1:99999"/);

bad_config('hash: bad parameter', <<'CONF', 4,
    upstream b { hash $uri ketama; server 127.0.0.1; }
CONF
    qr/invalid parameter "ketama"/);

bad_config('keepalive 0', <<'CONF', 4,
    upstream b { server 127.0.0.1; keepalive 0; }
CONF
    qr/invalid value "0" in "keepalive" directive/);

bad_config('keepalive twice', <<'CONF', 4,
    upstream b { server 127.0.0.1; keepalive 1; keepalive 2; }
CONF
    qr/"keepalive" directive is duplicate/);

bad_config('least_conn outside upstream', <<'CONF', 4,
    least_conn;
CONF
    qr/"least_conn" directive is not allowed here/);

bad_config('upstream in server', <<'CONF', 4,
    server { upstream b { server 127.0.0.1; } }
CONF
    qr/"upstream" directive is not allowed here/);

bad_config('server without address', <<'CONF', 4,
    upstream b { server; }
CONF
    qr/invalid number of arguments in "server" directive/);

# Warnings: a second balancer replaces the first (and keepalive before it).

$err = good_config('balancer redefined', <<'CONF');
    upstream b { server 127.0.0.1; least_conn;
                 ip_hash; }
CONF
like($err, qr/\[warn\] load balancing method redefined in \Q$conf\E:5$/m,
    'balancer redefined: warning at its line');

$err = good_config('keepalive before balancer', <<'CONF');
    upstream b { server 127.0.0.1; keepalive 2;
                 hash $uri; }
CONF
like($err, qr/\[warn\] load balancing method redefined in \Q$conf\E:5$/m,
    'keepalive before hash: warning');

# proxy_pass names groups: the block's, or an implicit one per host:port.

SKIP: {
    skip 'proxy module configured out', 8 unless $t->has_module('proxy');

    good_config('proxy_pass to a block defined later', <<'CONF');
    server { listen 127.0.0.1:1; location / { proxy_pass http://B; } }
    upstream b { server 127.0.0.1:1; }
CONF

    good_config('implicit groups', <<'CONF');
    server { listen 127.0.0.1:1;
             location /a { proxy_pass http://127.0.0.1:1; }
             location /b { proxy_pass http://localhost:1/x; }
             location /c { proxy_pass http://[::1]:1; } }
CONF

    bad_config('proxy_pass with a port to a block', <<'CONF', 5,
    upstream b { server 127.0.0.1:1; }
    server { listen 127.0.0.1:1; location / { proxy_pass http://b:8080; } }
CONF
        qr/upstream "b" may not have port 8080/);

    # the message names the proxy_pass line, not the block
    bad_config('block after proxy_pass with a port', <<'CONF', 4,
    server { listen 127.0.0.1:1; location / { proxy_pass http://b:80; } }
    upstream b {
        server 127.0.0.1:1; }
CONF
        qr/upstream "b" may not have port 80/);

    bad_config('implicit group: host not found', <<'CONF', 5,
    server { listen 127.0.0.1:1;
             location / { proxy_pass http://no-such-host.invalid:81; } }
CONF
        qr/host not found in upstream "no-such-host.invalid"/);
}
