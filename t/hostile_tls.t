#!/usr/bin/perl
# hostile_tls.t: hostile TLS clients against one worker, each closed with
# nginx's log line while a normal HTTPS client is served: plain HTTP and
# bytes that are not TLS (400), a record with a message that is not a
# ClientHello, a bad record version, a truncated record, an oversized
# ClientHello and an oversized record, 2000 connections that stall
# mid-handshake (closed at client_header_timeout), and a flood of
# handshakes closed before any request.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Errno qw(EAGAIN EWOULDBLOCK EINTR);
use IO::Select;
use IO::Socket::INET;
use IO::Socket::SSL;
use POSIX qw(_exit WNOHANG);
use Test::More;
use Test::Kiln;

my $t = Test::Kiln->new->has('ssl', 'static');
my $d = $t->testdir;

my $STALL = 2000;           # connections stalled mid-handshake
my $HEADER_TIMEOUT = 4;     # client_header_timeout: bounds the handshake
my $FLOOD = 2;              # flooding processes
my $FLOOD_EACH = 200;       # handshakes each

system('openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt',
    'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=localhost',
    '-days', '30', '-keyout', "$d/ec.key", '-out', "$d/ec.crt") == 0
    or die "openssl req failed\n";
chmod 0644, "$d/ec.key";

$t->write_file_expand('kiln.conf', <<"EOF");
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes 1;
worker_rlimit_nofile 8192;

events {
    worker_connections 4096;
}

http {
    root        %%TESTDIR%%/html;
    access_log  off;

    server {
        listen                 127.0.0.1:%%PORT_8443%% ssl backlog=4096;
        server_name            localhost;
        ssl_certificate        %%TESTDIR%%/ec.crt;
        ssl_certificate_key    %%TESTDIR%%/ec.key;
        client_header_timeout  ${HEADER_TIMEOUT}s;
    }
}
EOF

$t->write_file('html/index.html', "normal client\n");

$SIG{PIPE} = 'IGNORE';

$t->plan(28);
$t->run;

# normal(): one HTTPS GET on a new connection; true if the exact 200 came.

sub normal {
    my ($s, $raw, $n, $buf, $r);

    $s = IO::Socket::SSL->new(PeerAddr => '127.0.0.1',
        PeerPort => port(8443), SSL_verify_mode => SSL_VERIFY_NONE,
        Timeout => 10) or return 0;
    print $s "GET /index.html HTTP/1.0\r\nHost: localhost\r\n\r\n";
    $raw = '';
    $raw .= $buf while ($n = sysread($s, $buf, 4096));
    close $s;

    $r = parse_response($raw) // {};
    return ($r->{status} // 0) == 200
        && ($r->{body} // '') eq "normal client\n";
}

# raw(BYTES, %o): a TCP connection sending BYTES (then a half-close with
# `shut`); everything the server sends until it closes, or undef if it
# does not close within the bounded wait.

sub raw {
    my ($bytes, %o) = @_;
    my $s = http_connect(port => 8443) or die "connect: $!\n";
    my ($out, $buf, $n, $sel);

    syswrite($s, $bytes) == length $bytes or die "write: $!\n";
    shutdown($s, 1) if $o{shut};

    $sel = IO::Select->new($s);
    $out = '';
    while ($sel->can_read(10)) {
        $n = sysread($s, $buf, 65536);
        return $out if !$n;
        $out .= $buf;
    }
    return undef;
}

# logged(RE, N): how many error log lines match RE, once there are N
# (bounded wait).

sub count_log {
    my ($re) = @_;
    return scalar grep { /$re/ } split /\n/, $t->read_file('error.log');
}

sub logged {
    my ($re, $n) = @_;
    wait_for(sub { count_log($re) >= ($n // 1) }, 10);
    return count_log($re);
}

my $hs = qr/ while SSL handshaking, client: 127\.0\.0\.1, server: \S+$/;
my $alert = "\x15\x03\x03\x00\x02";

ok(normal(), 'a normal HTTPS client is served');

# --- bytes that are not a ClientHello ----------------------------------------

# nginx peeks at the first byte: neither a handshake record (0x16) nor an
# SSLv2 hello (0x80) means plain HTTP, answered 400 in clear.

my $r = parse_response(raw("GET / HTTP/1.0\r\n\r\n"));
is($r->{status}, 400, 'plain HTTP to the TLS port: 400');
like($r->{body}, qr/The plain HTTP request was sent to HTTPS port/,
    'plain HTTP: the page says so');
is(logged(qr/\[info\] .* client sent plain HTTP request to HTTPS port while reading client request headers/),
    1, 'plain HTTP: logged at info');

$r = parse_response(raw("\x00\x01\x02\x03 not-tls\r\n"));
is($r->{status}, 400, 'bytes that are not TLS: 400');
# kiln words every bad request line "invalid request" (nginx: "invalid
# method" here), on TLS and plain ports alike.
is(logged(qr/\[info\] .* client sent invalid (?:method|request) while reading client request line/),
    1, 'bytes that are not TLS: invalid method, at info');

# A handshake record whose message is a ServerHello.

my $sh = "\x02\x00\x00\x26\x03\x03" . ('C' x 32) . "\x00\x13\x01\x00";
my $out = raw("\x16\x03\x03" . pack('n', length $sh) . $sh);
is(substr($out // '', 0, 5), $alert,
    'not a ClientHello: a TLS alert, then the close');
is(logged(qr/\[info\] .*SSL_do_handshake\(\) failed \(SSL: .*unexpected message\)$hs/),
    1, 'not a ClientHello: unexpected message, at info');

$out = raw("\x16\x7f\x7f\x00\x10" . ('D' x 16));
ok(defined $out, 'bad record version: closed');
is(logged(qr/\[info\] .*SSL_do_handshake\(\) failed \(SSL: .*wrong version number\)$hs/),
    1, 'bad record version: wrong version number, at info');

# --- truncated and oversized -------------------------------------------------

# The record header promises 512 bytes, 51 come, then the client's FIN.

$out = raw("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" . ('A' x 40),
    shut => 1);
ok(defined $out, 'truncated record: closed');
is(logged(qr/\[info\] .*peer closed connection in SSL handshake$hs/), 1,
    'truncated record: peer closed connection in SSL handshake, at info');

# A ClientHello announcing 192 KiB, beyond what a server accepts.

my $big = "\x01\x03\x00\x00\x03\x03" . ('B' x 16000);
$out = raw("\x16\x03\x01" . pack('n', length $big) . $big);
is(substr($out // '', 0, 5), $alert,
    'oversized ClientHello: a TLS alert, then the close');
is(logged(qr/\[info\] .*SSL_do_handshake\(\) failed \(SSL: .*excessive message size\)$hs/),
    1, 'oversized ClientHello: excessive message size, at info');

# A record longer than TLS allows (20 KiB of plaintext). nginx 1.22 logs
# it at crit, later nginx at info: either is accepted.

$big = "\x01\x00\x50\x00\x03\x03" . ('B' x 20474);
$out = raw("\x16\x03\x01" . pack('n', length $big) . $big);
is(substr($out // '', 0, 5), $alert,
    'oversized record: a TLS alert, then the close');
is(logged(qr/\[(?:info|crit)\] .*SSL_do_handshake\(\) failed \(SSL: .*packet length too long\)$hs/),
    1, 'oversized record: packet length too long');

ok(normal(), 'the normal client is still served');

# --- stalled handshakes ------------------------------------------------------

# Each sends the first 8 bytes of a ClientHello and nothing more.

my (@socks, $n, $buf, $served);

for my $i (1 .. $STALL) {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
        PeerPort => port(8443), Proto => 'tcp', Timeout => 5)
        or die "stalled connection $i: $!\n";
    syswrite($s, "\x16\x03\x01\x02\x00\x01\x00\x01") == 8
        or die "write: $!\n";
    $s->blocking(0);
    push @socks, $s;
}

$served = 0;
for (1 .. 5) {
    $served++ if normal();
}
is($served, 5, "$STALL stalled handshakes: the normal client is served");

# open_count(): the stalled connections the server has not closed yet.

sub open_count {
    for my $i (0 .. $#socks) {
        next unless $socks[$i];
        $n = sysread($socks[$i], $buf, 4096);
        next if !defined $n && ($! == EAGAIN || $! == EWOULDBLOCK
            || $! == EINTR);
        next if $n;
        close $socks[$i];
        $socks[$i] = undef;
    }
    return scalar grep { defined } @socks;
}

ok(wait_for(sub { open_count() == 0 }, $HEADER_TIMEOUT + 30),
    'stalled handshakes: all closed at client_header_timeout');
is(logged(qr/\[info\] .*client timed out \(110: Connection timed out\)$hs/,
    $STALL), $STALL, 'stalled handshakes: each logged as timed out, at info');

ok(normal(), 'after the stall: the normal client is served');

# --- a flood of handshakes ---------------------------------------------------

# FLOOD processes each complete FLOOD_EACH handshakes and close without a
# request, while the parent keeps fetching as the normal client.

my %kids;
for my $k (1 .. $FLOOD) {
    my $pid = fork();
    die "fork: $!\n" unless defined $pid;
    if ($pid == 0) {
        my $ok = 0;
        for (1 .. $FLOOD_EACH) {
            my $s = IO::Socket::SSL->new(PeerAddr => '127.0.0.1',
                PeerPort => port(8443), SSL_verify_mode => SSL_VERIFY_NONE,
                Timeout => 10);
            next unless $s;
            $ok++;
            close $s;
        }
        _exit($ok == $FLOOD_EACH ? 0 : 1);
    }
    $kids{$pid} = undef;
}

my ($tries, $failed) = (0, 0);
while (grep { !defined $kids{$_} } keys %kids) {
    $tries++;
    $failed++ unless normal();
    for my $pid (keys %kids) {
        $kids{$pid} = $? if !defined $kids{$pid}
            && waitpid($pid, WNOHANG) == $pid;
    }
}

is_deeply([ values %kids ], [ (0) x $FLOOD ],
    'flood: every handshake of every flooding process completed');
ok($tries > 0, "flood: the normal client fetched during it ($tries times)");
is($failed, 0, 'flood: the normal client was always served');
is(logged(qr/\[info\] .*client closed connection while waiting for request, client: 127\.0\.0\.1/,
    $FLOOD * $FLOOD_EACH), $FLOOD * $FLOOD_EACH,
    'flood: each close before a request logged at info');

# --- the worker survived it all ----------------------------------------------

my @w = $t->worker_pids;
is(scalar @w, 1, 'one worker');
unlike($t->read_file('error.log'),
    qr/exited on signal|\[crit\] (?!.*packet length too long)/,
    'no worker crash, no crit line but the oversized record');
ok(normal(), 'at the end: the normal client is served');
