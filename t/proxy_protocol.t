#!/usr/bin/perl
# proxy_protocol.t: "listen ... proxy_protocol": v1 (TCP4, TCP6, UNKNOWN)
# and v2 (IPv4, IPv6, LOCAL, TLVs) headers, the $proxy_protocol_
# variables, kept across keep-alive requests; a header and the request in
# one segment; a header arriving a byte at a time (kiln waits for it;
# nginx 1.22 calls it broken); malformed, missing and too large headers
# close the connection with nginx's log line. $proxy_protocol_tlv_ (nginx 1.23.2)
# is tested only where the binary has it.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;
use Time::HiRes qw(sleep);

my $t = Test::Kiln->new;

my $is_nginx = ($ENV{KILN_BINARY} // '') =~ /nginx/;
my $has_tlv = 1;

if ($is_nginx && `$ENV{KILN_BINARY} -v 2>&1` =~ m{nginx/1\.(\d+)\.(\d+)}) {
    $has_tlv = $1 > 23 || ($1 == 23 && $2 >= 2);
}

my $tlv_location = $has_tlv ? <<'EOF' : '';
        location /tlv {
            return 200 "[$proxy_protocol_tlv_alpn][$proxy_protocol_tlv_authority][$proxy_protocol_tlv_0xe0][$proxy_protocol_tlv_ssl_version][$proxy_protocol_tlv_ssl_0x21][$proxy_protocol_tlv_ssl_verify][$proxy_protocol_tlv_unique_id]";
        }
EOF

$t->write_file_expand('kiln.conf', <<"EOF");
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes 1;

events {
    worker_connections 64;
}

http {
    log_format pp '\$remote_addr \$proxy_protocol_addr \$request_uri';

    server {
        listen 127.0.0.1:%%PORT_8080%% proxy_protocol;
        access_log %%TESTDIR%%/access.log pp;

        location / {
            return 200 "[\$proxy_protocol_addr][\$proxy_protocol_port][\$proxy_protocol_server_addr][\$proxy_protocol_server_port][\$remote_addr]";
        }

$tlv_location
    }

    server {
        listen 127.0.0.1:%%PORT_8081%%;

        location / {
            return 200 "[\$proxy_protocol_addr]";
        }
    }
}
EOF

$t->plan(24);
$t->run;

my $req = "GET / HTTP/1.0\r\nHost: x\r\n\r\n";

sub body {
    my $r = parse_response($_[0] // '');
    return ($r->{status} // 0) . ' ' . ($r->{body} // '');
}

sub v2 {
    my ($cmd, $fam, $addrs, $tlvs) = @_;
    $tlvs //= '';
    return "\r\n\r\n\0\r\nQUIT\n" . pack('CCn', $cmd, $fam,
        length($addrs) + length($tlvs)) . $addrs . $tlvs;
}

sub tlv { my ($type, $v) = @_; return pack('Cn', $type, length $v) . $v; }

# v1, in the same segment as the request.
is(body(http("PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n$req")),
    '200 [192.0.2.1][56324][198.51.100.2][443][127.0.0.1]',
    'v1 TCP4: the four variables; $remote_addr is the socket\'s');

is(body(http("PROXY TCP6 2001:db8::1 ::1 65535 8080\r\n$req")),
    '200 [2001:db8::1][65535][::1][8080][127.0.0.1]', 'v1 TCP6');

is(body(http("PROXY UNKNOWN\r\n$req")), '200 [][][][][127.0.0.1]',
    'v1 UNKNOWN: no address, the request served');

is(body(http("PROXY UNKNOWN 1.2.3.4 5.6.7.8 1 2\r\n$req")),
    '200 [][][][][127.0.0.1]', 'v1 UNKNOWN with addresses: ignored');

is(body(http("PROXY TCP4 192.0.2.1 198.51.100.2 0 1\r\n$req")),
    '200 [192.0.2.1][][198.51.100.2][1][127.0.0.1]',
    'v1: port 0 is an empty value');

# v2.
my $a4 = pack('C4C4nn', 192, 0, 2, 7, 10, 1, 2, 3, 40000, 8443);
is(body(http(v2(0x21, 0x11, $a4) . $req)),
    '200 [192.0.2.7][40000][10.1.2.3][8443][127.0.0.1]', 'v2 IPv4');

my $a6 = pack('n8n8nn', 0x2001, 0xdb8, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0,
    1, 1234, 80);
is(body(http(v2(0x21, 0x21, $a6) . $req)),
    '200 [2001:db8::5][1234][::1][80][127.0.0.1]', 'v2 IPv6');

is(body(http(v2(0x20, 0x00, '') . $req)), '200 [][][][][127.0.0.1]',
    'v2 LOCAL: no address');

is(body(http(v2(0x21, 0x12, $a4) . $req)), '200 [][][][][127.0.0.1]',
    'v2 UDP: skipped, no address');

# Header in one segment, the request in another.
{
    my $s = http(v2(0x21, 0x11, $a4), start => 1);
    is(body(http($req, socket => $s)), '200 [192.0.2.7][40000][10.1.2.3][8443][127.0.0.1]',
        'v2 header, then the request in another write');
}

# Keep-alive: the header is the connection's, every request sees it.
{
    my $ka = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    my $s = http("PROXY TCP4 192.0.2.9 198.51.100.2 1111 80\r\n$ka",
        start => 1);
    my $r1 = read_response($s);
    my $r2 = http($ka, socket => $s, one => 1);
    is(body($r1), '200 [192.0.2.9][1111][198.51.100.2][80][127.0.0.1]',
        'keep-alive: first request');
    is(body($r2), '200 [192.0.2.9][1111][198.51.100.2][80][127.0.0.1]',
        'keep-alive: second request, after the connection was idle');
}

SKIP: {
    skip 'nginx before 1.23.2 has no $proxy_protocol_tlv_', 3 unless $has_tlv;

    my $ssl = tlv(0x20, pack('CN', 7, 5) . tlv(0x21, 'TLSv1.3')
        . tlv(0x22, 'cn'));
    my $tlvs = tlv(0x01, 'h2') . tlv(0x02, 'example.com') . tlv(0xe0, 'x')
        . $ssl;
    is(body(http(v2(0x21, 0x11, $a4, $tlvs)
        . "GET /tlv HTTP/1.0\r\n\r\n")),
        '200 [h2][example.com][x][TLSv1.3][TLSv1.3][5][]',
        'v2 TLVs by name, by number, inside the SSL TLV; absent: empty');

    is(body(http(v2(0x21, 0x11, $a4, tlv(0x01, 'h2') . "\x02\x00\xff")
        . "GET /tlv HTTP/1.0\r\n\r\n")), '200 [h2][][][][][][]',
        'v2 broken TLV: the lookups that reach it are empty');
    ok(wait_for(sub {
        $t->read_file('error.log') =~ /\[error\].* broken PROXY protocol TLV/;
    }, 5), 'v2 broken TLV: logged');
}

# Broken and missing headers: closed, nothing sent, nginx's log line.
is(http("PROXY TCP4 192.0.2.x 198.51.100.2 1 2\r\n$req"), '',
    'v1 broken address: closed without a response');
is(http($req), '', 'no header: closed without a response');
is(http(v2(0x11, 0x11, $a4) . $req), '', 'v2 version 1: closed');
is(http(v2(0x21, 0x11, $a4, tlv(0xe0, 'x' x 2000)) . $req), '',
    'v2 longer than client_header_buffer_size: closed');

# nginx 1.22 logs the whole segment, CRLFs included; later nginx, as
# kiln, the header up to its first CR or LF.
my $end = $is_nginx ? '\r' : '" while reading PROXY protocol, client: 127\.0\.0\.1';
ok(wait_for(sub {
    my $log = $t->read_file('error.log');
    $log =~ /broken header: "PROXY TCP4 192\.0\.2\.x 198\.51\.100\.2 1 2$end/
        && $log =~ /broken header: "GET \/ HTTP\/1\.0$end/
        && $log =~ /unknown PROXY protocol version: 1 while reading PROXY protocol/
        && $log =~ /header is too large while reading PROXY protocol/;
}, 5), 'error log: nginx\'s lines for each');

# A byte at a time: kiln waits for the header; nginx reads it from the
# first segment alone and calls a cut one broken.
{
    my $h = "PROXY TCP4 192.0.2.3 198.51.100.2 4444 80\r\n";
    my $s = http_connect();
    $s->setsockopt(6, 1, 1);    # TCP_NODELAY: one segment a write

    for my $ch (split //, $h) {
        syswrite($s, $ch);
        sleep(0.01);            # the pause is what is tested
    }

    my $r = http($req, socket => $s);

    if ($is_nginx) {
        is($r, '', 'a byte at a time: nginx 1.22 closes (broken header)');
    } else {
        is(body($r), '200 [192.0.2.3][4444][198.51.100.2][80][127.0.0.1]',
            'a byte at a time: the header is waited for');
    }
}

# No proxy_protocol on the listener: not found.
is(body(http($req, port => 8081)), '200 []',
    'a listener without proxy_protocol: $proxy_protocol_addr empty');

ok(wait_for(sub {
    $t->read_file('access.log') =~ /^127\.0\.0\.1 192\.0\.2\.1 \/$/m;
}, 5), 'access log: $remote_addr and $proxy_protocol_addr');

is(http("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n$req"), '',
    'v1 without CR: closed');
