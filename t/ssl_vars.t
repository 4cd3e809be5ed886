#!/usr/bin/perl
# ssl_vars.t: the TLS variables on a TLS connection and on a plain one:
# $https, $scheme, $ssl_protocol, $ssl_cipher, $ssl_ciphers, $ssl_curve,
# $ssl_curves, $ssl_session_id, $ssl_session_reused, $ssl_server_name,
# $ssl_alpn_protocol, $ssl_early_data; and an https:// Location for a
# directory redirect. Values are checked against what the client asked
# for (openssl s_client), never against kiln's own output.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;
use Test::Kiln::TLS qw(make_cert s_client);

my $t = Test::Kiln->new->has('ssl');

make_cert($t, 'rsa', cn => 'localhost');
$t->write_file('html/dir/index.html', "x\n");

my $vars = join ' ', map { "$_=[\$$_]" } qw(https scheme ssl_protocol
    ssl_cipher ssl_ciphers ssl_curve ssl_curves ssl_session_id
    ssl_session_reused ssl_server_name ssl_alpn_protocol ssl_early_data);

$t->write_file_expand('kiln.conf', <<"EOF");
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes 1;

events {
    worker_connections 64;
}

http {
    access_log off;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_certificate %%TESTDIR%%/rsa.crt;
    ssl_certificate_key %%TESTDIR%%/rsa.key;

    server {
        listen 127.0.0.1:%%PORT_8443%% ssl;
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;
        root %%TESTDIR%%/html;

        location = /v {
            return 200 "$vars\\n";
        }
    }
}
EOF

$t->plan(16)->run;

sub var {
    my ($out, $name) = @_;

    return $out =~ /\b$name=\[([^\]]*)\]/ ? $1 : undef;
}

my $req = "GET /v HTTP/1.0\r\nHost: localhost\r\n\r\n";

my $out = s_client($t, port('8443'), input => $req, '-tls1_2',
    '-cipher', 'ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384',
    '-curves', 'prime256v1:X25519', '-servername', 'localhost',
    '-alpn', 'http/1.1', '-no_ticket');

is(var($out, 'https'), 'on', '$https on');
is(var($out, 'scheme'), 'https', '$scheme https');
is(var($out, 'ssl_protocol'), 'TLSv1.2', '$ssl_protocol');
like(var($out, 'ssl_cipher'), qr/^ECDHE-RSA-AES(128|256)-GCM-SHA(256|384)$/,
    '$ssl_cipher: one the client offered');
like(var($out, 'ssl_ciphers'),
    qr/^ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384(:|$)/,
    '$ssl_ciphers: the client\'s list, in its order');
is(var($out, 'ssl_curve'), 'prime256v1', '$ssl_curve: the first curve offered');
is(var($out, 'ssl_curves'), 'prime256v1:X25519', '$ssl_curves: the client\'s');
like(var($out, 'ssl_session_id'), qr/^[0-9a-f]{64}$/,
    '$ssl_session_id: 32 bytes in hex');
is(var($out, 'ssl_session_reused'), '.', '$ssl_session_reused: a new session');
is(var($out, 'ssl_server_name'), 'localhost', '$ssl_server_name');
is(var($out, 'ssl_alpn_protocol'), 'http/1.1', '$ssl_alpn_protocol');
is(var($out, 'ssl_early_data'), '', '$ssl_early_data: none');

$out = http("GET /v HTTP/1.0\r\nHost: localhost\r\n\r\n", port => '8080');
is(var($out, 'https'), '', 'plain: $https empty');
is(var($out, 'scheme'), 'http', 'plain: $scheme http');
is(var($out, 'ssl_protocol'), '', 'plain: $ssl_protocol empty');

$out = s_client($t, port('8443'), input => "GET /dir HTTP/1.0\r\nHost: localhost\r\n\r\n");
like($out, qr/Location: https:\/\/localhost:\d+\/dir\/\r/,
    'a directory redirect says https://');
