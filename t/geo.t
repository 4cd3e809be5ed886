#!/usr/bin/perl
# geo.t: the geo module: CIDR networks (IPv4, IPv6, the longest prefix,
# IPv4-mapped IPv6), default or none, delete, include, an address from a
# variable (255.255.255.255 when it is no address), ranges (nested ones
# cut the outer, default, delete), proxy with X-Forwarded-For, recursive
# or not, a client over IPv6, volatile, 3000 networks, configuration
# errors and warnings.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use IO::Socket::IP;
use Test::More;
use Test::Kiln;

my $t = Test::Kiln->new->has('geo', 'rewrite');
my $d = $t->testdir;

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

    geo $arg_ip $cidr {
        default              dflt;
        10.0.0.0/8           ten;
        10.1.0.0/16          ten-one;
        10.1.2.3             host;
        10.2.0.0/16          dup-old;
        10.2.0.0/16          dup-new;
        192.168.1.0/24       gone;
        delete 192.168.1.0/24;
        2001:db8::/32        v6doc;
        2001:db8::1/128      v6host;
        255.255.255.255      no-address;
        include              %%TESTDIR%%/geo-inc.conf;
    }

    geo $arg_ip $nodefault {
        10.0.0.0/8           ten;
    }

    geo $arg_ip $rng {
        ranges;
        default              rdflt;
        10.0.0.0-10.0.0.255  a;
        10.0.0.10-10.0.0.20  b;
        10.0.0.0-10.0.0.3    c;
        1.0.0.0-1.255.255.255  big;
        1.2.3.4-1.2.3.4      single;
        5.0.0.0-5.0.0.255    del;
        delete 5.0.0.0-5.0.0.255;
        8.0.0.0-8.0.255.255  dupr-old;
        8.0.0.0-8.0.255.255  dupr-new;
    }

    geo $client {
        proxy                127.0.0.1;
        default              other;
        127.0.0.1            direct;
        10.0.0.0/8           forwarded;
    }

    geo $rclient {
        proxy                127.0.0.0/8;
        proxy                10.0.0.0/8;
        proxy_recursive;
        default              other;
        127.0.0.1            direct;
        10.0.0.0/8           forwarded-ten;
        192.0.2.0/24         forwarded-doc;
    }

    geo $remote {
        default              other;
        127.0.0.0/8          loopback;
    }

    geo $arg_ip $vol {
        volatile;
        default              vd;
        10.0.0.0/8           vten;
    }

    geo $arg_ip $novol {
        default              nd;
        10.0.0.0/8           nten;
    }

    geo $arg_ip $big {
        default              none;
        include              %%TESTDIR%%/big.geo;
    }

    geo $v6client {
        default              other;
        127.0.0.1            v4-loopback;
        ::1                  v6-loopback;
    }

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        listen       [::1]:%%PORT_8081%%;
        server_name  localhost;

        location /v6 {
            return 200 "[$v6client]";
        }

        location /cidr {
            return 200 "[$cidr] [$nodefault]";
        }

        location /rng {
            return 200 "[$rng]";
        }

        location /client {
            return 200 "[$client] [$rclient] [$remote]";
        }

        location /vol {
            set $v1 $vol;
            set $n1 $novol;
            set $args ip=10.1.1.1;
            return 200 "[$v1 $vol] [$n1 $novol]";
        }

        location /big {
            return 200 "[$big]";
        }
    }
}
EOF

# nginx 1.22 has no "volatile" in geo (kiln takes it, as map does):
# against it the block goes without, and its test is skipped.
my $nginx = ($ENV{KILN_BINARY} // '') =~ /nginx/;
if ($nginx) {
    my $conf = $t->read_file('kiln.conf');
    $conf =~ s/^\s*volatile;\n//m;
    $t->write_file('kiln.conf', $conf);
}

$t->write_file('geo-inc.conf', "172.16.0.0/12 included;\n");
my $big = '';
for my $i (0 .. 2999) {
    $big .= sprintf("10.%d.%d.0/24 n%d;\n", $i >> 8, $i & 255, $i);
}
$t->write_file('big.geo', $big);

$t->plan(50);
$t->run(wait_ports => ['8080']);

sub body {
    my ($uri, %o) = @_;
    my $r = parse_response(http_get($uri, %o));
    return ($r->{status} // 0) == 200 ? $r->{body} : "status $r->{status}";
}

sub xff {
    my ($uri, @xff) = @_;
    my $h = join '', map { "X-Forwarded-For: $_\r\n" } @xff;
    my $r = parse_response(http("GET $uri HTTP/1.0\r\nHost: x\r\n$h\r\n"));
    return ($r->{status} // 0) == 200 ? $r->{body} : 'failed';
}

# CIDR: the longest prefix wins.
is(body('/cidr?ip=10.9.9.9'), '[ten] [ten]', '/8');
is(body('/cidr?ip=10.1.200.1'), '[ten-one] [ten]', '/16 inside /8');
is(body('/cidr?ip=10.1.2.3'), '[host] [ten]', 'host inside /16');
is(body('/cidr?ip=10.1.2.4'), '[ten-one] [ten]', 'next to the host');
is(body('/cidr?ip=11.0.0.1'), '[dflt] []', 'default; none: empty');
is(body('/cidr?ip=10.2.0.1'), '[dup-new] [ten]', 'duplicate: the later');
is(body('/cidr?ip=192.168.1.7'), '[dflt] []', 'deleted network');
is(body('/cidr?ip=172.20.1.1'), '[included] []', 'include');
is(body('/cidr?ip=2001:db8::5'), '[v6doc] []', 'IPv6 network');
is(body('/cidr?ip=2001:db8::1'), '[v6host] []', 'IPv6 host');
is(body('/cidr?ip=2001:db9::1'), '[dflt] []', 'IPv6: the default');
is(body('/cidr?ip=::ffff:10.1.2.3'), '[host] [ten]',
    'IPv4-mapped IPv6: the IPv4 tree');
is(body('/cidr?ip=junk'), '[no-address] []',
    'not an address: 255.255.255.255');
is(body('/cidr'), '[no-address] []', 'empty: 255.255.255.255');

# Ranges.
is(body('/rng?ip=10.0.0.5'), '[a]', 'range');
is(body('/rng?ip=10.0.0.15'), '[b]', 'nested range');
is(body('/rng?ip=10.0.0.21'), '[a]', 'after the nested range');
is(body('/rng?ip=10.0.0.9'), '[a]', 'before the nested range');
is(body('/rng?ip=10.0.0.2'), '[c]', 'nested at the start');
is(body('/rng?ip=10.0.0.255'), '[a]', 'last address');
is(body('/rng?ip=10.0.1.0'), '[rdflt]', 'past the range: default');
is(body('/rng?ip=1.2.3.4'), '[single]', 'one-address range');
is(body('/rng?ip=1.2.3.5'), '[big]', 'range over many /16 blocks');
is(body('/rng?ip=1.255.255.255'), '[big]', 'end of a wide range');
is(body('/rng?ip=5.0.0.1'), '[rdflt]', 'deleted range');
is(body('/rng?ip=8.0.7.7'), '[dupr-new]', 'duplicate range: the later');
is(body('/rng?ip=2001:db8::1'), '[rdflt]', 'IPv6 in ranges: the default');

# The client address, and X-Forwarded-For from a trusted proxy.
is(xff('/client'), '[direct] [direct] [loopback]', 'client address');
is(xff('/client', '10.1.1.1'), '[forwarded] [forwarded-ten] [loopback]',
    'X-Forwarded-For from a proxy');
is(xff('/client', '192.0.2.1, 10.1.1.1'),
    '[forwarded] [forwarded-doc] [loopback]',
    'recursive: past the trusted 10/8');
is(xff('/client', '10.5.5.5, 127.0.0.1'), '[direct] [forwarded-ten] [loopback]',
    'not recursive: the last address only');
is(xff('/client', '192.0.2.1', '10.1.1.1:8080'),
    '[forwarded] [forwarded-doc] [loopback]',
    'two fields, an address with a port');
is(xff('/client', 'junk'), '[direct] [direct] [loopback]',
    'not an address: the client');

# A client over IPv6 is looked up in the IPv6 tree.
is(xff('/v6'), '[v4-loopback]', 'IPv4 client');
my $s6;
for (1 .. 50) {
    $s6 = IO::Socket::IP->new(PeerHost => '::1', PeerPort => port(8081),
        Proto => 'tcp') and last;
    select(undef, undef, undef, 0.1);
}
my $r6 = $s6 ? parse_response(http("GET /v6 HTTP/1.0\r\nHost: x\r\n\r\n",
    socket => $s6)) : undef;
is($r6 ? $r6->{body} : 'no connection', '[v6-loopback]', 'IPv6 client');

# volatile, and many networks.
SKIP: {
    skip 'nginx 1.22 has no volatile in geo', 1 if $nginx;
    is(body('/vol?ip=1.1.1.1'), '[vd vten] [nd nd]',
        'volatile: computed again; otherwise kept');
}
is(body('/big?ip=10.0.0.1'), '[n0]', '3000 networks: the first');
is(body('/big?ip=10.5.200.77'), '[n1480]', '3000 networks: one inside');
is(body('/big?ip=10.11.183.1'), '[n2999]', '3000 networks: the last');
is(body('/big?ip=10.11.184.1'), '[none]', '3000 networks: past them');

# Configuration errors and warnings, in nginx's words and places.

sub conf_error {
    my ($http) = @_;

    $t->write_file('bad.conf', "events { }\nhttp {\n$http\n"
        . "server { listen 127.0.0.1:1; } }\n");
    unlink "$d/bad.log";
    my $res = $t->run_kiln('-p', "$d/", '-e', "$d/bad.log", '-c',
        "$d/bad.conf", '-t');
    return ($res->{exit}, $res->{stderr} . $t->read_file('bad.log'));
}

my ($rc, $err) = conf_error("geo \$g {\n 10.0.0.0/33 x;\n}");
ok($rc && $err =~ /\[emerg\].* invalid network "10.0.0.0\/33" in \S+bad.conf:4/,
    'invalid network') or diag($err);

($rc, $err) = conf_error("geo \$g {\n 255.255.255.255/32 x;\n}");
ok($rc && $err =~ /invalid network "255.255.255.255\/32" in \S+bad.conf:4/,
    '255.255.255.255 only alone') or diag($err);

($rc, $err) = conf_error("geo \$g {\n 10.0.0.0/8 a;\n ranges;\n}");
ok($rc && $err =~ /the "ranges" directive must be the first directive inside "geo" block in \S+bad.conf:5/,
    'ranges after a network') or diag($err);

($rc, $err) = conf_error("geo \$g {\n ranges;\n 10.0.0.5-10.0.0.20 a;\n"
    . " 10.0.0.0-10.0.0.10 b;\n}");
ok($rc && $err =~ /range "10.0.0.0-10.0.0.10" overlaps "10.0.0.5-10.0.0.20" in \S+bad.conf:6/,
    'overlapping ranges') or diag($err);

($rc, $err) = conf_error("geo \$g {\n ranges;\n 10.0.0.9-10.0.0.1 a;\n}");
ok($rc && $err =~ /invalid range "10.0.0.9-10.0.0.1" in \S+bad.conf:5/,
    'range backwards') or diag($err);

($rc, $err) = conf_error("geo \$g {\n ranges;\n 10.0.0.0/8 a;\n}");
ok($rc && $err =~ /invalid range "10.0.0.0\/8" in \S+bad.conf:5/,
    'network in ranges') or diag($err);

($rc, $err) = conf_error("geo \$g {\n a b c;\n}");
ok($rc && $err =~ /invalid number of the geo parameters in \S+bad.conf:4/,
    'three words') or diag($err);

($rc, $err) = conf_error("geo g {\n}");
ok($rc && $err =~ /invalid variable name "g" in \S+bad.conf:3/,
    'variable without $') or diag($err);

($rc, $err) = conf_error("geo \$g {\n 10.0.0.1/8 a;\n delete 11.0.0.0/8;\n}");
ok(!$rc && $err =~ /\[warn\].* low address bits of 10.0.0.1\/8 are meaningless in \S+bad.conf:4/
    && $err =~ /\[warn\].* no network "11.0.0.0\/8" to delete in \S+bad.conf:5/,
    'warnings: host bits, nothing to delete') or diag($err);

($rc, $err) = conf_error("geo \$g {\n ranges;\n delete 1.0.0.0-1.0.0.5;\n}");
ok(!$rc && $err =~ /\[warn\].* no address range "1.0.0.0-1.0.0.5" to delete in \S+bad.conf:5/,
    'warning: no range to delete') or diag($err);
