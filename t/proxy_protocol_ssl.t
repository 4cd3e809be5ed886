#!/usr/bin/perl
# proxy_protocol_ssl.t: "listen ... ssl proxy_protocol": the PROXY header
# (v1 and v2) comes before the ClientHello, is read without taking any TLS
# byte, and its addresses show in $proxy_protocol_addr over HTTPS; a
# missing header closes the connection with nginx's log line.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;
use Test::Kiln::TLS qw(make_cert);
use IO::Socket::INET;
use IO::Socket::SSL;

my $t = Test::Kiln->new->has('ssl');

make_cert($t, 'rsa', cn => 'localhost');
$t->expect_errors(qr/broken header/);

$t->write_file_expand('kiln.conf', <<'EOF');
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes 1;

events {
    worker_connections 64;
}

http {
    access_log off;
    ssl_certificate %%TESTDIR%%/rsa.crt;
    ssl_certificate_key %%TESTDIR%%/rsa.key;

    server {
        listen 127.0.0.1:%%PORT_8443%% ssl proxy_protocol;
        server_name localhost;

        location = /pp {
            return 200 "$proxy_protocol_addr:$proxy_protocol_port $https\n";
        }
    }
}
EOF

$t->plan(4)->run;

my $port = port(8443);

# Sends the header, then speaks TLS on the same socket.
sub get_over {
    my ($header) = @_;

    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
        Timeout => 5) or return '';
    print $s $header;
    IO::Socket::SSL->start_SSL($s, SSL_verify_mode => SSL_VERIFY_NONE,
        Timeout => 5) or return 'handshake failed';
    print $s "GET /pp HTTP/1.0\r\nHost: localhost\r\n\r\n";
    local $/;
    my $r = <$s> // '';
    close $s;
    return $r;
}

like(get_over("PROXY TCP4 192.0.2.1 192.0.2.2 4321 443\r\n"),
    qr/\r\n\r\n192\.0\.2\.1:4321 on\n\z/, 'v1 header, then TLS');

my $v2 = "\r\n\r\n\0\r\nQUIT\n" . "\x21\x11" . pack('n', 12)
    . pack('C4C4nn', 198, 51, 100, 7, 198, 51, 100, 8, 5555, 443);
like(get_over($v2), qr/\r\n\r\n198\.51\.100\.7:5555 on\n\z/,
    'v2 header, then TLS');

is(get_over(''), 'handshake failed', 'no header: no handshake');
ok(wait_for(sub { $t->read_file('error.log') =~ /broken header: "/ }, 5),
    'no header: logged as a broken header');
