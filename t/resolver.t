#!/usr/bin/perl
# resolver.t: resolver and resolver_timeout: proxy_pass with a variable
# host resolved at run time through a name server of the test
# (Test::Kiln::DNS): A and AAAA, CNAME chains, NXDOMAIN and timeouts as a
# 502 with nginx's lines, the answer cache (TTL, valid=), TCP when the UDP
# answer is truncated, the next server when one does not answer, and the
# directives' config errors.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;
use Test::Kiln::Backend;
use Test::Kiln::DNS;

my $t = Test::Kiln->new->has('proxy');

my $b1 = Test::Kiln::Backend->http(port => 'b1', name => 'one');

my $dns = Test::Kiln::DNS->new(port => 'dns', table => {
    'a.test'     => { A => ['127.0.0.1'], ttl => 3600 },
    'v6.test'    => { AAAA => ['::1'] },
    'alias.test' => { CNAME => 'mid.test', ttl => 3600 },
    'mid.test'   => { CNAME => 'real.test', ttl => 3600 },
    'real.test'  => { A => ['127.0.0.1'], ttl => 3600 },
    'short.test' => { A => ['127.0.0.1'], ttl => 1 },
    'long.test'  => { A => ['127.0.0.1'], ttl => 3600 },
    'fail.test'  => { rcode => 2 },
    'slow.test'  => { drop => 1 },
    'big.test'   => { A => ['127.0.0.1'], tc => 1 },
    'two.test'   => { A => ['127.0.0.1'] },
});

# A second name server that never answers, listed first in /rr/.
my $mute = Test::Kiln::DNS->new(port => 'mute', table => {
    'two.test' => { drop => 1 },
});

# Debian's nginx 1.22 has no ipv4= (1.23.1): there, /v6/ asks A too.
my $nginx = Test::Kiln::binary() =~ m{/nginx$};

my $conf = <<'EOF';
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

    resolver 127.0.0.1:%%PORT_dns%%;

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;

        location /p/ {
            proxy_pass http://$arg_h:%%PORT_b1%%;
        }

        location /v4/ {
            resolver 127.0.0.1:%%PORT_dns%% ipv6=off;
            proxy_pass http://$arg_h:%%PORT_b1%%;
        }

        location /v6/ {
            resolver 127.0.0.1:%%PORT_dns%% IPV4OFF;
            proxy_pass http://$arg_h:%%PORT_v6%%;
        }

        location /valid/ {
            resolver 127.0.0.1:%%PORT_dns%% valid=1s;
            proxy_pass http://$arg_h:%%PORT_b1%%;
        }

        location /timeout/ {
            resolver_timeout 1s;
            proxy_pass http://$arg_h:%%PORT_b1%%;
        }

        location /rr/ {
            resolver 127.0.0.1:%%PORT_mute%% 127.0.0.1:%%PORT_dns%%;
            resolver_timeout 15s;
            proxy_pass http://$arg_h:%%PORT_b1%%;
        }
    }

    server {
        listen [::1]:%%PORT_v6%%;

        location / {
            return 200 "over v6\n";
        }
    }
}
EOF

$conf =~ s/ IPV4OFF/$nginx ? '' : ' ipv4=off'/e;
$t->write_file_expand('kiln.conf', $conf);

$t->plan(34);
$t->run(wait_ports => [8080]);

my $pb = port('b1');
my ($r, $e);

# --- A (and AAAA asked too, by default) -------------------------------------

$r = parse_response(http_get('/p/x?h=a.test'));
is($r->{status}, 200, 'a name: resolved, proxied');
$e = parse_echo($r->{body});
is($e->{backend}, 'one', 'a name: the backend at its address');
is($dns->count('a.test', 'A'), 1, 'a name: one A query');
is($dns->count('a.test', 'AAAA'), 1, 'a name: one AAAA query (ipv6=on)');
ok(wait_for(sub { $t->read_file('access.log')
        =~ m{^/p/x 127\.0\.0\.1:$pb 200$}m }, 5),
    'a name: $upstream_addr is the address');

# --- the cache ----------------------------------------------------------------

$r = parse_response(http_get('/p/y?h=A.Test'));
is($r->{status}, 200, 'cached: 200');
is($dns->count('a.test', 'A'), 1, 'cached: no second query (any case)');

$r = parse_response(http_get('/v4/x?h=long.test'));
is($r->{status}, 200, 'ipv6=off: 200');
is($dns->count('long.test', 'AAAA'), 0, 'ipv6=off: no AAAA query');

# --- AAAA -------------------------------------------------------------------

$r = parse_response(http_get('/v6/x?h=v6.test'));
is($r->{status}, 200, 'AAAA: ::1 reached');
is($r->{body}, "over v6\n", 'AAAA: the body of the ::1 server');
SKIP: {
    skip 'nginx 1.22: no ipv4=', 1 if $nginx;
    is($dns->count('v6.test', 'A'), 0, 'ipv4=off: no A query');
}

# --- CNAME chain ------------------------------------------------------------

$r = parse_response(http_get('/p/x?h=alias.test'));
is($r->{status}, 200, 'CNAME chain: resolved');
is(parse_echo($r->{body})->{backend}, 'one', 'CNAME chain: the backend');

# --- NXDOMAIN and failures --------------------------------------------------

$r = parse_response(http_get('/p/x?h=none.test'));
is($r->{status}, 502, 'NXDOMAIN: 502');
ok(wait_for(sub { $t->read_file('error.log')
        =~ /\[error\] .*none\.test could not be resolved \(3: Host not found\), client: 127\.0\.0\.1/ }, 5),
    'NXDOMAIN: nginx\'s line');

$r = parse_response(http_get('/p/x?h=none.test'));
is($r->{status}, 502, 'NXDOMAIN again: 502');
SKIP: {
    # RFC 2308 negative caching; nginx asks again each time.
    skip 'nginx keeps no negative answer', 1 if $nginx;
    is($dns->count('none.test', 'A'), 1, 'NXDOMAIN: kept (negative cache)');
}

$r = parse_response(http_get('/p/x?h=fail.test'));
is($r->{status}, 502, 'SERVFAIL: 502');
ok(wait_for(sub { $t->read_file('error.log')
        =~ /fail\.test could not be resolved \(2: Server failure\)/ }, 5),
    'SERVFAIL: nginx\'s line');

# --- timeout ----------------------------------------------------------------

my $start = time();
$r = parse_response(http_get('/timeout/x?h=slow.test'));
is($r->{status}, 502, 'no answer: 502');
ok(time() - $start >= 0.9, 'no answer: after resolver_timeout');
ok(wait_for(sub { $t->read_file('error.log')
        =~ /slow\.test could not be resolved \(110: Operation timed out\)/ }, 5),
    'no answer: nginx\'s line');

# --- TCP when truncated -----------------------------------------------------

$r = parse_response(http_get('/v4/x?h=big.test'));
is($r->{status}, 200, 'truncated: resolved over TCP');
is($dns->count('big.test', 'A', 'udp'), 1, 'truncated: asked over UDP');
is($dns->count('big.test', 'A', 'tcp'), 1, 'truncated: then over TCP');

# --- TTL and valid= ---------------------------------------------------------

$r = parse_response(http_get('/p/x?h=short.test'));
is($r->{status}, 200, 'TTL 1: 200');
# The pause is what is tested: the answer's TTL runs out.
select(undef, undef, undef, 2.1);
$r = parse_response(http_get('/p/x?h=short.test'));
ok($dns->count('short.test', 'A') >= 2, 'TTL 1: asked again after it');

$r = parse_response(http_get('/valid/x?h=long.test'));
is($dns->count('long.test', 'A'), 2, 'valid=: a resolver of its own asks');
select(undef, undef, undef, 2.1);
$r = parse_response(http_get('/valid/x?h=long.test'));
is($r->{status}, 200, 'valid=1s: 200');
is($dns->count('long.test', 'A'), 3, 'valid=1s: asked again (TTL 3600)');

# --- the next server --------------------------------------------------------

$r = parse_response(http_get('/rr/x?h=two.test', timeout => 15));
is($r->{status}, 200, 'a server that does not answer: the next one does');
is($mute->count('two.test', 'A') + $dns->count('two.test', 'A') >= 2, 1,
    'a server that does not answer: asked, then the other');

# --- no resolver -------------------------------------------------------------

# (proxy_vars.t checks "no resolver defined to resolve" without one.)
ok($dns->count('a.test', 'A') == 1, 'cache still holds a.test');
