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
my $fc = Test::Kiln::Backend->fastcgi(port => 'fc', name => 'fcgi');
my $fu = Test::Kiln::Backend->fastcgi(unix => $t->testdir . '/f.sock',
    name => 'unix');

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
    'slow2.test' => { drop => 1 },
    'big.test'   => { A => ['127.0.0.1'], tc => 1 },
    'two.test'   => { A => ['127.0.0.1'] },
    'multi.test' => { A => ['127.0.0.3', '127.0.0.1'] },
    'late.test'  => { A => ['127.0.0.1'], delay => 1, ttl => 0 },
    'dyn.test'   => { A => ['127.0.0.1'], ttl => 1 },
    'srvb.test'  => { A => ['127.0.0.2'] },
    '_http._tcp.svc.test' => { SRV => [[10, 5, port('b1'), 'a.test'],
                                       [20, 5, port('b1'), 'srvb.test']] },
    '_x._tcp.svc2.test'   => { SRV => [[10, 5, port('b1'), 'srvb.test']] },
});

# The same table over IPv6, for "resolver [::1]:PORT".
my $dns6 = Test::Kiln::DNS->new(port => 'dns6', host => '::1', table => {
    'six.test' => { A => ['127.0.0.1'] },
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

RESOLVE_UPSTREAMS
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

        location /ns6/ {
            resolver [::1]:%%PORT_dns6%% ipv6=off;
            proxy_pass http://$arg_h:%%PORT_b1%%;
        }

        location /timeout/ {
            resolver_timeout 1s;
            proxy_pass http://$arg_h:%%PORT_b1%%;
        }

RESOLVE_LOCATIONS
        location /fcgi/ {
            fastcgi_pass $arg_h;
        }

        location /rr/ {
            resolver 127.0.0.1:%%PORT_mute%% 127.0.0.1:%%PORT_dns%%;
            resolver_timeout 15s;
            proxy_pass http://$arg_h:%%PORT_b1%%;
        }
    }

    server {
        listen 127.0.0.2:%%PORT_b1%%;

        location / {
            return 200 "at 127.0.0.2\n";
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

# server ... resolve (nginx >= 1.27.3 in open source): not for 1.22.
my $resolve_upstreams = $nginx ? '' : <<'EOF';
    upstream dyn {
        server dyn.test:%%PORT_b1%% resolve;
        keepalive 2;
    }

    upstream srv {
        server svc.test service=http resolve;
    }

    upstream srv2 {
        resolver 127.0.0.1:%%PORT_dns%% ipv6=off;
        resolver_timeout 5s;
        server svc2.test service=_x._tcp resolve;
        server 127.0.0.1:%%PORT_b1%% backup;
    }
EOF

my $resolve_locations = $nginx ? '' : <<'EOF';
        location /dyn/ {
            proxy_pass http://dyn;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }

        location /srv/ {
            proxy_pass http://srv;
        }

        location /srv2/ {
            proxy_pass http://srv2;
        }
EOF

$conf =~ s/ IPV4OFF/$nginx ? '' : ' ipv4=off'/e;
$conf =~ s/RESOLVE_UPSTREAMS\n/$resolve_upstreams/;
$conf =~ s/RESOLVE_LOCATIONS\n/$resolve_locations/;
$t->write_file_expand('kiln.conf', $conf);

$t->plan(68);
$t->run(wait_ports => [8080]);

my $pb = port('b1');
diag("dns " . port("dns") . " mute " . port("mute")) if $ENV{TEST_KILN_CATLOG};
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

# --- a name server over IPv6 -------------------------------------------------

$r = parse_response(http_get('/ns6/x?h=six.test'));
is($r->{status}, 200, 'resolver [::1]:PORT: resolved');
is($dns6->count('six.test', 'A'), 1, 'resolver [::1]:PORT: asked over IPv6');

# --- AAAA -------------------------------------------------------------------

$r = parse_response(http_get('/v6/x?h=v6.test'));
is($r->{status}, 200, 'AAAA: ::1 reached');
is($r->{body}, "over v6\n", 'AAAA: the body of the ::1 server');
SKIP: {
    skip 'nginx 1.22: no ipv4=', 1 if $nginx;
    is($dns->count('v6.test', 'A'), 0, 'ipv4=off: no A query');
}

# --- one query for the requests waiting on a name ---------------------------

my @w = map { http("GET /v4/w$_?h=late.test HTTP/1.0\r\nHost: localhost\r\n\r\n",
    start => 1) } 1 .. 3;
ok($dns->wait_count(1, 'late.test', 'A', 5), 'in flight: asked');
is(scalar(grep { (parse_response(http_read($_))->{status} // 0) == 200 } @w),
    3, 'in flight: three requests wait for the late answer, all 200');
# TTL 0: nothing is kept, so one query means the three shared it
is($dns->count('late.test', 'A'), 1, 'in flight: one query for the three');

# --- several addresses: tried in turn ----------------------------------------

$r = parse_response(http_get('/v4/m?h=multi.test'));
is($r->{status}, 200, 'two addresses, the first refuses: the second answers');
ok(wait_for(sub { $t->read_file('access.log')
        =~ m{^/v4/m 127\.0\.0\.3:$pb, 127\.0\.0\.1:$pb 502, 200$}m }, 5),
    'two addresses: both in $upstream_addr, in order');

# --- fastcgi_pass with variables --------------------------------------------

my $pf = port('fc');
$r = parse_response(http_get("/fcgi/x?h=a.test:$pf"));
is($r->{status}, 200, 'fastcgi_pass NAME:PORT in a variable: resolved');
is(parse_echo($r->{body})->{backend}, 'fcgi', 'fastcgi_pass: the responder');

$r = parse_response(http_get('/fcgi/x?h=unix:' . $t->testdir . '/f.sock'));
is(parse_echo($r->{body})->{backend}, 'unix', 'fastcgi_pass unix:PATH in a variable');

$r = parse_response(http_get('/fcgi/x?h=a.test'));
is($r->{status}, 500, 'fastcgi_pass without a port: 500');
ok(wait_for(sub { $t->read_file('error.log')
        =~ /\[error\] .*no port in upstream "a\.test"/ }, 5),
    'fastcgi_pass without a port: nginx\'s line');

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

# --- server ... resolve (not in nginx 1.22) ---------------------------------

SKIP: {
    skip 'nginx 1.22: no "resolve" in open source', 9 if $nginx;

    # Resolved at worker start; wait for the answer before asking.
    ok($dns->wait_count(1, 'dyn.test', 'A', 5), 'resolve: asked at start');
    ok(wait_for(sub {
            (parse_response(http_get('/dyn/x'))->{body} // '') =~ /^backend: one$/m
        }, 5), 'resolve: the group has the name\'s address');

    # keepalive under a resolved group: the connection is reused
    my $e1 = parse_echo(parse_response(http_get('/dyn/y'))->{body});
    my $e2 = parse_echo(parse_response(http_get('/dyn/z'))->{body});
    is($e2->{conn}, $e1->{conn}, 'resolve + keepalive: the connection kept');

    $dns->set('dyn.test' => { A => ['127.0.0.2'], ttl => 1 });
    ok(wait_for(sub {
            (parse_response(http_get('/dyn/x'))->{body} // '') eq "at 127.0.0.2\n"
        }, 10), 'resolve: the group follows a changed address (TTL 1)');

    # SRV: the best priority is the primary, the target resolved.
    ok(wait_for(sub {
            (parse_response(http_get('/srv/x'))->{body} // '') =~ /^backend: one$/m
        }, 5), 'SRV: the primary record\'s target and port');
    ok($dns->count('_http._tcp.svc.test', 'SRV') >= 1,
        'SRV: _http._tcp.svc.test asked');
    ok($dns->count('srvb.test', 'A') >= 1, 'SRV: the backup\'s target asked');

    # service= with a dot, the group's own resolver (ipv6=off).
    ok(wait_for(sub {
            (parse_response(http_get('/srv2/x'))->{body} // '') eq "at 127.0.0.2\n"
        }, 5), 'SRV: service=_x._tcp, the upstream\'s own resolver');
    is($dns->count('_x._tcp.svc2.test', 'AAAA'), 0,
        'SRV: the upstream\'s resolver has ipv6=off');
}

# --- config errors --------------------------------------------------------

my $d = $t->testdir;

sub bad_config {
    my ($name, $http, $re) = @_;
    my $r;

    $t->write_file('bad.conf', "events {}\nhttp {\n$http\n}\n");
    $r = $t->run_kiln('-p', "$d/", '-c', "$d/bad.conf", '-e', "$d/bad.log",
        '-t');
    like($r->{stderr}, qr/\[emerg\] $re/, $name);
}

SKIP: {
    skip 'nginx 1.22: no "resolve" in open source', 3 if $nginx;

    bad_config('resolve without a resolver',
        "upstream u { server x.test resolve; }",
        qr/no resolver defined to resolve names at run time in upstream "u" in \S+bad\.conf:3$/m);
    bad_config('resolve under least_conn',
        "resolver 127.0.0.1; upstream u { least_conn; server x.test resolve; }",
        qr/load balancing method does not support resolving names at run time in upstream "u" in \S+bad\.conf:3$/m);
    bad_config('service= without resolve',
        "resolver 127.0.0.1; upstream u { server x.test service=http; }",
        qr/service upstream "x\.test" requires "resolve" parameter in \S+:3$/m);
}

SKIP: {
    skip 'nginx 1.22: no ipv4=', 1 if $nginx;

    bad_config('ipv4=off and ipv6=off',
        "resolver 127.0.0.1 ipv4=off ipv6=off;",
        qr/"ipv4" and "ipv6" cannot both be "off" in \S+:3$/m);
}

bad_config('resolver with a bad valid=',
    "resolver 127.0.0.1 valid=xx;",
    qr/invalid parameter: valid=xx in \S+:3$/m);
bad_config('resolver twice',
    "resolver 127.0.0.1; resolver 127.0.0.2;",
    qr/"resolver" directive is duplicate in \S+:3$/m);
bad_config('resolver without an address',
    "resolver;",
    qr/invalid number of arguments in "resolver" directive in \S+:3$/m);

SKIP: {
    skip 'kiln only: nginx 1.22 takes status_zone= as a host', 1 if $nginx;

    bad_config('status_zone= refused',
        "resolver 127.0.0.1 status_zone=z;",
        qr/"status_zone" is not supported: kiln keeps no resolver statistics in \S+:3$/m);
}

# --- reload: the new workers resolve with the new configuration's resolvers --

my @old = $t->worker_pids;
$t->signal('HUP');
ok(wait_for(sub {
        my @now = $t->worker_pids;
        @now && !grep { my $o = $_; grep { $_ == $o } @now } @old
    }, 10), 'HUP: new workers');
$r = parse_response(http_get('/p/x?h=alias.test'));
is($r->{status}, 200, 'HUP: a name resolved by the new workers');

# --- graceful exit while a name is being resolved ---------------------------

# The dyn group's next question goes unanswered: a quitting worker does not
# wait for it (it would until resolver_timeout, 30 s).
SKIP: {
    skip 'nginx 1.22: no "resolve" in open source', 1 if $nginx;

    my $n = $dns->count('dyn.test', 'A');
    $dns->set('dyn.test' => { drop => 1 });
    ok($dns->wait_count($n + 1, 'dyn.test', 'A', 5),
        'QUIT: a group\'s question in flight, unanswered');
}

my $s = http("GET /timeout/q?h=slow2.test HTTP/1.0\r\nHost: localhost\r\n\r\n",
    start => 1);
ok($dns->wait_count(1, 'slow2.test', 'A', 5), 'QUIT: a query in flight');
$t->signal('QUIT');
$r = parse_response(http_read($s));
is($r->{status}, 502, 'QUIT: the waiting request ends (resolver_timeout)');
ok($t->wait_exit(10), 'QUIT: then kiln exits (resolver sockets closed)');
