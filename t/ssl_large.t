#!/usr/bin/perl
# ssl_large.t: bodies larger than a TLS record and than an output buffer
# over TLS, with sendfile on and off (without kTLS the file is read into
# memory and written record by record): each arrives whole and exact,
# fetched several times on new connections and twice on one keep-alive
# connection, within a short send_timeout so that a stalled write fails
# instead of waiting. A regression test for writes that stopped after
# the first 32 KiB (a one-record SSL_write taken for a full socket).

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use IO::Select;
use IO::Socket::SSL;
use Test::More;
use Test::Kiln;
use Test::Kiln::TLS qw(make_cert);

my $t = Test::Kiln->new->has('ssl', 'static');

make_cert($t, 'ec', type => 'ec', cn => 'localhost');

$t->write_file_expand('kiln.conf', <<'EOF');
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes 1;

events {
    worker_connections 64;
}

http {
    root                 %%TESTDIR%%/html;
    ssl_certificate      %%TESTDIR%%/ec.crt;
    ssl_certificate_key  %%TESTDIR%%/ec.key;
    send_timeout         3s;
    tcp_nopush           on;

    server {
        listen    127.0.0.1:%%PORT_8443%% ssl;
        sendfile  on;
    }

    server {
        listen    127.0.0.1:%%PORT_8444%% ssl;
        sendfile  off;
    }
}
EOF

# Fixed pseudo-random bytes: no run of a record's size repeats.
my %file;
for my $size (40000, 1 << 20, 5 * (1 << 20) + 3) {
    my $data = join '', map { pack 'N', ($_ * 2654435761) & 0xffffffff }
        0 .. int($size / 4);
    $file{$size} = substr($data, 0, $size);
    $t->write_file("html/$size.bin", $file{$size});
}

$t->plan(2 * 3 * 2 + 2 * 2);
$t->run;

# get(SOCK, PATH, CLOSE): one request on SOCK, its body (undef on a
# timeout or a bad head).
sub get {
    my ($s, $path, $close) = @_;
    my ($raw, $buf, $n, $len, $sel, $end);

    print $s "GET $path HTTP/1.1\r\nHost: localhost\r\n"
        . ($close ? "Connection: close\r\n" : '') . "\r\n";

    $sel = IO::Select->new($s);
    $raw = '';
    for (;;) {
        if ($raw =~ /\r\n\r\n/ && !defined $len) {
            ($len) = $raw =~ /^Content-Length: (\d+)/mi;
            return undef unless defined $len && $raw =~ m{^HTTP/1\.1 200 };
            $end = index($raw, "\r\n\r\n") + 4;
        }
        return substr($raw, $end, $len)
            if defined $len && length($raw) >= $end + $len;
        # IO::Socket::SSL may hold decrypted bytes select() cannot see.
        next if $s->pending && ($n = sysread($s, $buf, 65536))
            && ($raw .= $buf);
        return undef unless $sel->can_read(10);
        $n = sysread($s, $buf, 65536);
        return undef unless $n;
        $raw .= $buf;
    }
}

sub conn {
    my ($port) = @_;
    return IO::Socket::SSL->new(PeerAddr => '127.0.0.1',
        PeerPort => port($port), SSL_verify_mode => SSL_VERIFY_NONE,
        Timeout => 10) or die "TLS connect: $SSL_ERROR\n";
}

for my $port (8443, 8444) {
    my $what = $port == 8443 ? 'sendfile on' : 'sendfile off';

    for my $size (sort { $a <=> $b } keys %file) {
        my $ok = 0;

        for (1 .. 3) {
            my $s = conn($port);
            my $body = get($s, "/$size.bin", 1);
            $ok++ if defined $body && $body eq $file{$size};
            close $s;
        }

        is($ok, 3, "$what: $size bytes, 3 connections: whole and exact");
        ok(!grep({ /client timed out .* sending response/ }
            split /\n/, $t->read_file('error.log')),
            "$what: $size bytes: no send timeout");
    }

    my $s = conn($port);
    my $a = get($s, '/1048576.bin', 0);
    my $b = get($s, '/40000.bin', 1);
    ok(defined $a && $a eq $file{1 << 20}, "$what: keep-alive: 1 MiB first");
    ok(defined $b && $b eq $file{40000}, "$what: keep-alive: then 40000 bytes");
    close $s;
}
