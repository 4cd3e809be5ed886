#!/usr/bin/perl
# ssl.t: listen ... ssl with real clients (IO::Socket::SSL, openssl
# s_client): the handshake and a response, ssl_protocols, ssl_ciphers and
# ssl_prefer_server_ciphers, SNI choosing the server (exact, wildcard,
# regex names) and its certificate, ALPN, an RSA and an ECDSA certificate
# on one server, data: values, ssl_password_file, ssl_reject_handshake,
# plain HTTP on the TLS port (497, and error_page 497), and the
# configuration errors. Certificates are made by the test (openssl req).

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;
use Test::Kiln::TLS qw(make_cert https s_client);

my $t = Test::Kiln->new->has('ssl');
my $nginx = Test::Kiln::binary() =~ /nginx/;

make_cert($t, 'rsa', cn => 'localhost');
make_cert($t, 'ec', cn => 'localhost', type => 'ec');
make_cert($t, 'exact', cn => 'exact.test');
make_cert($t, 'wild', cn => 'wild.test', san => ['*.wild.test']);
make_cert($t, 'regex', cn => 'regex.test', type => 'ec');
make_cert($t, 'enc', cn => 'enc.test', pass => 'right');
make_cert($t, 'v1.test', cn => 'v1.test');
make_cert($t, 'v2.test', cn => 'v2.test', type => 'ec');
$t->write_file('passwords', "wrong\nright\n");

my $pem = $t->read_file('exact.crt');
my $key = $t->read_file('exact.key');

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

    server {
        listen 127.0.0.1:%%PORT_8443%% ssl;
        server_name localhost;

        ssl_certificate %%TESTDIR%%/rsa.crt;
        ssl_certificate_key %%TESTDIR%%/rsa.key;
        ssl_certificate %%TESTDIR%%/ec.crt;
        ssl_certificate_key %%TESTDIR%%/ec.key;

        location / {
            return 200 "default \$scheme \$https \$ssl_protocol \$ssl_server_name \$ssl_alpn_protocol\\n";
        }
    }

    server {
        listen 127.0.0.1:%%PORT_8443%% ssl;
        server_name exact.test;

        ssl_certificate "data:$pem";
        ssl_certificate_key "data:$key";

        location / {
            return 200 "exact \$ssl_server_name\\n";
        }
    }

    server {
        listen 127.0.0.1:%%PORT_8443%% ssl;
        server_name *.wild.test;

        ssl_certificate %%TESTDIR%%/wild.crt;
        ssl_certificate_key %%TESTDIR%%/wild.key;

        location / {
            return 200 "wild \$ssl_server_name\\n";
        }
    }

    server {
        listen 127.0.0.1:%%PORT_8443%% ssl;
        server_name ~^re[0-9]+\\.test\$;

        ssl_certificate %%TESTDIR%%/regex.crt;
        ssl_certificate_key %%TESTDIR%%/regex.key;

        location / {
            return 200 "regex \$ssl_server_name\\n";
        }
    }

    server {
        listen 127.0.0.1:%%PORT_8443%% ssl;
        server_name enc.test;

        ssl_certificate %%TESTDIR%%/enc.crt;
        ssl_certificate_key %%TESTDIR%%/enc.key;
        ssl_password_file %%TESTDIR%%/passwords;

        location / {
            return 200 "enc\\n";
        }
    }

    # certificates named by SNI, loaded per handshake
    server {
        listen 127.0.0.1:%%PORT_8449%% ssl;
        ssl_certificate %%TESTDIR%%/\$ssl_server_name.crt;
        ssl_certificate_key %%TESTDIR%%/\$ssl_server_name.key;

        location / {
            return 200 "var \$ssl_server_name\\n";
        }
    }

    # TLS 1.2 only, the server's cipher order
    server {
        listen 127.0.0.1:%%PORT_8444%% ssl;
        ssl_protocols TLSv1.2;
        ssl_ciphers ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384;
        ssl_prefer_server_ciphers on;
        ssl_certificate %%TESTDIR%%/rsa.crt;
        ssl_certificate_key %%TESTDIR%%/rsa.key;

        location / {
            return 200 "tls12 \$ssl_cipher\\n";
        }
    }

    # the client's cipher order
    server {
        listen 127.0.0.1:%%PORT_8445%% ssl;
        ssl_protocols TLSv1.2;
        ssl_ciphers ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384;
        ssl_certificate %%TESTDIR%%/rsa.crt;
        ssl_certificate_key %%TESTDIR%%/rsa.key;

        location / {
            return 200 "client-order \$ssl_cipher\\n";
        }
    }

    # TLS 1.3 only
    server {
        listen 127.0.0.1:%%PORT_8446%% ssl;
        ssl_protocols TLSv1.3;
        ssl_certificate %%TESTDIR%%/rsa.crt;
        ssl_certificate_key %%TESTDIR%%/rsa.key;
        error_page 497 =301 https://localhost:%%PORT_8446%%/tls;

        location / {
            return 200 "tls13\\n";
        }
    }

    # the default server rejects handshakes; a named one serves
    server {
        listen 127.0.0.1:%%PORT_8447%% ssl;
        ssl_reject_handshake on;
    }

    server {
        listen 127.0.0.1:%%PORT_8447%% ssl;
        server_name exact.test;
        ssl_certificate %%TESTDIR%%/exact.crt;
        ssl_certificate_key %%TESTDIR%%/exact.key;

        location / {
            return 200 "named\\n";
        }
    }
}
EOF

$t->plan(33)->run;

my $get = "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n";
my $r;

sub get { "GET / HTTP/1.0\r\nHost: $_[0]\r\n\r\n" }

# the handshake and a response

$r = https(port('8443'), $get, sni => 'localhost', alpn => ['http/1.1']);
like($r->{response}, qr/^HTTP\/1\.1 200 .*\r\n\r\ndefault https on TLSv1\.3 localhost http\/1\.1$/ms,
    'GET over TLS 1.3: $scheme, $https, $ssl_protocol, SNI, ALPN');
is($r->{version}, 'TLSv1_3', 'TLS 1.3 by default');
is($r->{alpn}, 'http/1.1', 'ALPN: http/1.1 chosen');

$r = https(port('8443'), $get, version => 'TLSv1_2', sni => 'localhost');
like($r->{response}, qr/default https on TLSv1\.2 /, 'TLS 1.2');

# an RSA and an ECDSA certificate: each client gets the one it can use

$r = https(port('8443'), $get, version => 'TLSv1_2',
    cipher => 'ECDHE-ECDSA-AES128-GCM-SHA256');
is($r->{key}, 'EC', 'ECDSA certificate for an ECDSA suite');
$r = https(port('8443'), $get, version => 'TLSv1_2',
    cipher => 'ECDHE-RSA-AES128-GCM-SHA256');
is($r->{key}, 'RSA', 'RSA certificate for an RSA suite');

# SNI picks the server and its certificate

$r = https(port('8443'), get('exact.test'), sni => 'exact.test');
is($r->{cn}, 'exact.test', 'SNI exact: its certificate (data: value)');
like($r->{response}, qr/exact exact\.test$/, 'SNI exact: its server');

$r = https(port('8443'), get('a.wild.test'), sni => 'a.wild.test');
is($r->{cn}, 'wild.test', 'SNI wildcard: its certificate');
like($r->{response}, qr/wild a\.wild\.test$/, 'SNI wildcard: its server');

$r = https(port('8443'), $get, sni => 're42.test');
is($r->{cn}, 'regex.test', 'SNI regex: its certificate');

$r = https(port('8443'), $get, sni => 'nowhere.test');
is($r->{cn}, 'localhost', 'unknown SNI: the default server');

$r = https(port('8443'), get('nowhere.test'), sni => 'exact.test');
like($r->{response}, qr/^default .* exact\.test $/m,
    'a Host no server has: the default server, whatever SNI said');

$r = https(port('8443'), "GET / HTTP/1.0\r\n\r\n", sni => 'exact.test');
like($r->{response}, qr/^default .* exact\.test $/m,
    'a request without Host: the default server, $ssl_server_name kept');

# certificates named with variables, loaded at each handshake

$r = https(port('8449'), get('v1.test'), sni => 'v1.test');
is($r->{cn}, 'v1.test', '$ssl_server_name in ssl_certificate: v1.test');
$r = https(port('8449'), get('v2.test'), sni => 'v2.test');
is($r->{cn}, 'v2.test', '$ssl_server_name in ssl_certificate: v2.test');
is($r->{key}, 'EC', '... with its own key type');
$r = https(port('8449'), get('none.test'), sni => 'none.test');
ok($r->{error}, 'a name with no files: the handshake fails');

# an encrypted key, the second password of the file

$r = https(port('8443'), $get, sni => 'enc.test');
is($r->{cn}, 'enc.test', 'ssl_password_file: encrypted key loaded');

# protocols and ciphers

$r = https(port('8444'), $get, version => 'TLSv1_3');
ok($r->{error}, 'TLS 1.2-only server refuses TLS 1.3');

$r = https(port('8444'), $get,
    cipher => 'ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256');
like($r->{response}, qr/tls12 ECDHE-RSA-AES128-GCM-SHA256$/,
    'ssl_prefer_server_ciphers on: the server\'s order');

$r = https(port('8445'), $get,
    cipher => 'ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256');
like($r->{response}, qr/client-order ECDHE-RSA-AES256-GCM-SHA384$/,
    'ssl_prefer_server_ciphers off: the client\'s order');

$r = https(port('8446'), $get, version => 'TLSv1_2');
ok($r->{error}, 'TLS 1.3-only server refuses TLS 1.2');

my $out = s_client($t, port('8443'), '-tls1_1');
unlike($out, qr/Cipher is (?!\(NONE\))/, 'TLS 1.1 refused');

# ssl_reject_handshake

$r = https(port('8447'), $get);
ok($r->{error}, 'ssl_reject_handshake: no SNI refused');
$r = https(port('8447'), $get, sni => 'other.test');
ok($r->{error}, 'ssl_reject_handshake: unknown SNI refused');
$r = https(port('8447'), get('exact.test'), sni => 'exact.test');
like($r->{response}, qr/named$/, 'ssl_reject_handshake: a named server serves');

# plain HTTP sent to the TLS port

$r = http("GET /x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    port => '8443');
like($r, qr{^HTTP/1\.1 400 .*<title>400 The plain HTTP request was sent to HTTPS port</title>.*<center>The plain HTTP request was sent to HTTPS port</center>}s,
    'plain HTTP on the TLS port: 400 with nginx\'s page');

$r = http("GET /y?a=1 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    port => '8446');
like($r, qr{^HTTP/1\.1 301 .*Location: https://localhost:\d+/tls\r}s,
    'error_page 497 redirects to https');

ok(wait_for(sub { $t->read_file('error.log')
        =~ /\[info\].*client sent plain HTTP request to HTTPS port while reading client request headers/ }),
    'the 497 is logged at info');

# a bad ClientHello: logged at info, as nginx

$r = http("\x16\x03\x01\x00\x05hello", port => '8443');
ok(wait_for(sub { $t->read_file('error.log')
        =~ /\[info\].*SSL_do_handshake\(\) failed \(SSL: error:\S+.*\) while SSL handshaking/ }),
    'a broken handshake is logged at info with the OpenSSL reason');

# configuration errors

SKIP: {
    skip 'kiln\'s own messages', 2 if $nginx;

    $t->write_file_expand('bad1.conf', <<'EOF');
events { }
http {
    server {
        listen 127.0.0.1:%%PORT_8448%% ssl;
    }
}
EOF
    my $c = $t->run_kiln('-t', '-c', $t->testdir . '/bad1.conf');
    like($c->{stderr}, qr/no "ssl_certificate" is defined for the "listen \.\.\. ssl" directive in \S+bad1\.conf:3/,
        'listen ssl without a certificate: nginx\'s error');

    $t->write_file('early.conf', "events { }\nhttp {\n    ssl_early_data on;\n}\n");
    $c = $t->run_kiln('-t', '-c', $t->testdir . '/early.conf');
    ok($c->{exit} == 0 && $c->{stderr} =~ /\[warn\] "ssl_early_data" is not supported by kiln yet, ignored.* in \S+early\.conf:3/,
        'ssl_early_data on: accepted with a warning');
}
