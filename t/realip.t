#!/usr/bin/perl
# realip.t: set_real_ip_from (address, CIDR, unix:, a host name), real_ip_header
# X-Real-IP (with a port, IPv6), X-Forwarded-For (last item; recursive,
# over several fields), any field, proxy_protocol; $realip_remote_addr and
# _port; an untrusted or a missing source changes nothing; a keep-alive
# connection's next request starts from the socket's address; an internal
# redirect keeps it without running realip again; the access log and deny
# see the real address; config errors and warnings.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;
use IO::Socket::UNIX;

my $t = Test::Kiln->new->has('realip');
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
    log_format r '$remote_addr $realip_remote_addr $request_uri';

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        set_real_ip_from 127.0.0.1;
        access_log %%TESTDIR%%/access.log r;

        # return runs at rewrite, before preaccess: the locations that
        # set realip serve a file and show the address in a header.
        root %%TESTDIR%%/html;

        location / {
            return 200 "$remote_addr|$remote_port|$realip_remote_addr|$realip_remote_port";
        }

        location /xff {
            real_ip_header X-Forwarded-For;
            add_header X-Addr "$remote_addr|$remote_port";
        }

        location /xffr {
            set_real_ip_from 127.0.0.1;
            set_real_ip_from 10.0.0.0/8;
            set_real_ip_from 2001:db8::/32;
            real_ip_header X-Forwarded-For;
            real_ip_recursive on;
            add_header X-Addr $remote_addr;
        }

        location /hdr {
            real_ip_header X-Client;
            add_header X-Addr $remote_addr;
        }

        location /missing {
            set_real_ip_from 127.0.0.1;
            set_real_ip_from 192.0.2.0/24;
            real_ip_header X-Forwarded-For;
            error_page 404 = /show;
        }

        location = /show {
            set_real_ip_from 127.0.0.1;
            set_real_ip_from 192.0.2.0/24;
            real_ip_header X-Forwarded-For;
            add_header X-Addr "$remote_addr $realip_remote_addr";
        }

        location /deny {
            deny 192.0.2.1;
            add_header X-Addr $remote_addr;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_8081%%;

        location / {
            return 200 "$remote_addr|$realip_remote_addr";
        }
    }

    server {
        listen 127.0.0.1:%%PORT_8082%% proxy_protocol;
        set_real_ip_from 127.0.0.0/24;
        real_ip_header proxy_protocol;

        location / {
            return 200 "$remote_addr|$remote_port|$realip_remote_addr|$proxy_protocol_addr";
        }
    }

    server {
        listen 127.0.0.1:%%PORT_8083%%;
        set_real_ip_from 10.0.0.0/8;
        set_real_ip_from unix:;

        location / {
            return 200 "$remote_addr";
        }
    }

    server {
        listen unix:%%TESTDIR%%/s.sock;
        set_real_ip_from unix:;

        location / {
            return 200 "$remote_addr|$realip_remote_addr";
        }
    }

    server {
        listen 127.0.0.1:%%PORT_8084%%;
        set_real_ip_from localhost;

        location / {
            return 200 "$remote_addr";
        }
    }
}
EOF

$t->write_file("html/$_", "$_\n") for qw(xff xffr hdr deny show);

$t->plan(32);
$t->run;

sub get {
    my ($uri, $hdrs, %o) = @_;
    my $r = parse_response(http("GET $uri HTTP/1.0\r\nHost: x\r\n$hdrs\r\n",
        %o));
    return ($r->{status} // 0) . ' '
        . ($r->{headers}{'x-addr'} // $r->{body} // '');
}

# X-Real-IP: the socket's port is $realip_remote_port, the new one has none.
{
    my $s = http_connect();
    my $port = $s->sockport;
    is(get('/', "X-Real-IP: 192.0.2.1\r\n", socket => $s),
        "200 192.0.2.1||127.0.0.1|$port",
        'X-Real-IP: $remote_addr replaced, $realip_remote_ kept');
}

like(get('/', "X-Real-IP: 192.0.2.1:8080\r\n"), qr/^200 192\.0\.2\.1\|8080\|127\.0\.0\.1\|\d+$/,
    'X-Real-IP with a port: $remote_port');
like(get('/', "X-Real-IP: [2001:db8::7]:443\r\n"),
    qr/^200 2001:db8::7\|443\|127\.0\.0\.1\|\d+$/, 'X-Real-IP: [IPv6]:port');
like(get('/', "X-Real-IP: 2001:db8::8\r\n"),
    qr/^200 2001:db8::8\|\|127\.0\.0\.1\|\d+$/, 'X-Real-IP: bare IPv6');
like(get('/', "X-Real-IP: not-an-address\r\n"),
    qr/^200 127\.0\.0\.1\|\d+\|127\.0\.0\.1\|\d+$/,
    'X-Real-IP unreadable: unchanged');
like(get('/', "X-Real-IP: 192.0.2.1, 192.0.2.2\r\n"),
    qr/^200 192\.0\.2\.2\|/, 'X-Real-IP with a list: its last item');
like(get('/', ''), qr/^200 127\.0\.0\.1\|\d+\|127\.0\.0\.1\|\d+$/,
    'no field: unchanged');
like(get('/', "X-Real-IP: 192.0.2.3\r\nX-Real-IP: 192.0.2.4\r\n"),
    qr/^200 192\.0\.2\.3\|/, 'two X-Real-IP: the first');

# X-Forwarded-For, set at location level (preaccess).
is(get('/xff', "X-Forwarded-For: 198.51.100.1, 198.51.100.2\r\n"),
    '200 198.51.100.2|', 'X-Forwarded-For: the last item');
is(get('/xff', "X-Forwarded-For: 198.51.100.1\r\n"
    . "X-Forwarded-For: 198.51.100.3 , \r\n"),
    '200 198.51.100.3|', 'X-Forwarded-For in two fields: the last one\'s');
is(get('/xff', "X-Real-IP: 192.0.2.9\r\n"
    . "X-Forwarded-For: 198.51.100.1\r\n"),
    '200 192.0.2.9|', 'X-Real-IP at server level wins: realip runs once');

is(get('/xffr', "X-Forwarded-For: 198.51.100.1, 10.0.0.5, 10.1.1.1\r\n"),
    '200 198.51.100.1', 'recursive: the first untrusted from the right');
is(get('/xffr', "X-Forwarded-For: 198.51.100.1, 198.51.100.2, 10.0.0.5\r\n"),
    '200 198.51.100.2', 'recursive: stops at the first untrusted');
is(get('/xffr', "X-Forwarded-For: 10.0.0.1, 10.0.0.2\r\n"),
    '200 10.0.0.1', 'recursive: all trusted, the leftmost');
is(get('/xffr', "X-Forwarded-For: 198.51.100.7\r\n"
    . "X-Forwarded-For: 10.0.0.1, 10.0.0.2\r\n"),
    '200 198.51.100.7', 'recursive: on into the field before');
is(get('/xffr', "X-Forwarded-For: 198.51.100.7, 2001:db8::1\r\n"),
    '200 198.51.100.7', 'recursive: an IPv6 proxy in the CIDR');
is(get('/xffr', "X-Forwarded-For: junk, 10.0.0.3\r\n"),
    '200 10.0.0.3', 'recursive: an unreadable item stops the walk');

is(get('/hdr', "X-Client: 203.0.113.9\r\n"), '200 203.0.113.9',
    'any field');

# Not trusted, or no set_real_ip_from: nothing changes.
is(get('/', "X-Real-IP: 192.0.2.1\r\n", port => 8081),
    '200 127.0.0.1|127.0.0.1', 'no set_real_ip_from: ignored');
is(get('/', "X-Real-IP: 192.0.2.1\r\n", port => 8083), '200 127.0.0.1',
    'untrusted source: ignored');
is(get('/', "X-Real-IP: 192.0.2.1\r\n", port => 8084), '200 192.0.2.1',
    'set_real_ip_from a host name (localhost)');

# An internal redirect keeps the address; realip does not run again.
is(get('/missing', "X-Forwarded-For: 10.9.9.9, 192.0.2.1\r\n"),
    '200 192.0.2.1 127.0.0.1',
    'after an internal redirect: the same address, the socket\'s kept');

# A unix socket client, trusted with "unix:".
{
    my $s = IO::Socket::UNIX->new(Peer => "$d/s.sock");
    my $r = parse_response(http("GET / HTTP/1.0\r\nHost: x\r\n"
        . "X-Real-IP: 192.0.2.6\r\n\r\n", socket => $s));
    is($r->{body}, '192.0.2.6|unix:', 'set_real_ip_from unix:');
}

# proxy_protocol.
is(parse_response(http("PROXY TCP4 203.0.113.5 127.0.0.1 5555 80\r\n"
    . "GET / HTTP/1.0\r\n\r\n", port => 8082))->{body},
    '203.0.113.5|5555|127.0.0.1|203.0.113.5',
    'real_ip_header proxy_protocol: address and port');

# Keep-alive: the next request starts from the socket's address.
{
    my $s = http("GET / HTTP/1.1\r\nHost: x\r\nX-Real-IP: 192.0.2.5\r\n\r\n",
        start => 1);
    my $r1 = parse_response(read_response($s));
    my $r2 = parse_response(http("GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        socket => $s, one => 1));
    like($r1->{body}, qr/^192\.0\.2\.5\|/, 'keep-alive: first request');
    like($r2->{body}, qr/^127\.0\.0\.1\|\d+\|127\.0\.0\.1/,
        'keep-alive: the next request has the socket\'s address');
}

# deny and the logs see the real address.
like(get('/deny', "X-Real-IP: 192.0.2.1\r\n"), qr/^403 /,
    'deny sees the real address');
is(get('/deny', "X-Real-IP: 192.0.2.2\r\n"), '200 192.0.2.2',
    'another real address is allowed');

ok(wait_for(sub {
    my $log = $t->read_file('access.log');
    $log =~ m{^192\.0\.2\.1 127\.0\.0\.1 /$}m
        && $log =~ m{^192\.0\.2\.1 127\.0\.0\.1 /deny$}m;
}, 5), 'access log: $remote_addr is the real one');
ok(wait_for(sub {
    $t->read_file('error.log')
        =~ /access forbidden by rule, client: 192\.0\.2\.1,/;
}, 5), 'error log: the real client');

# Configuration: a name that does not resolve, low bits.
$t->write_file('bad.conf', "events { }\nhttp { set_real_ip_from "
    . "no-such-host.invalid; }\n");
my $r = $t->run_kiln('-p', "$d/", '-c', "$d/bad.conf", '-e', "$d/t.log",
    '-t');
like($r->{stderr},
    qr/\[emerg\] host not found in set_real_ip_from "no-such-host\.invalid" in \Q$d\E\/bad\.conf:2/,
    'set_real_ip_from: an unknown host fails with file and line');

$t->write_file('low.conf', "events { }\nhttp { set_real_ip_from "
    . "10.0.0.1/8; }\n");
$r = $t->run_kiln('-p', "$d/", '-c', "$d/low.conf", '-e', "$d/t.log", '-t');
like($r->{stderr}, qr/\[warn\] low address bits of 10\.0\.0\.1\/8 are meaningless/,
    'set_real_ip_from: low address bits warned');
