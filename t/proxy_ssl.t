#!/usr/bin/perl
# proxy_ssl.t: proxy_pass https:// to TLS backends served by the same
# server (listen ... ssl, certificates of a test CA made here): the
# backend's view of the handshake ($ssl_server_name, $ssl_protocol,
# $ssl_cipher, $ssl_session_reused, $ssl_client_s_dn, $connection) for
# proxy_ssl_server_name and _name (SNI off by default, never for an IP
# address), _session_reuse (on by default: the next connection to the
# peer resumes; off: never), keep-alive connections to TLS peers,
# _protocols, _ciphers, _conf_command, a client certificate
# (_certificate, _certificate_key, _password_file) to a backend that
# requires one; _verify with _trusted_certificate, _verify_depth and
# _crl, and its failures (502, nginx's log lines); a pass with variables;
# 443 as the default port; a peer that does not speak TLS, one that never
# answers the handshake (504); and nginx's configuration errors.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use IO::Socket::INET;
use Test::More;
use Test::Kiln;
use Test::Kiln::Pki;

my $t = Test::Kiln->new->has('proxy', 'rewrite', 'ssl');
my $dir = $t->testdir;
my $nginx = Test::Kiln::binary() =~ m{nginx$};

my $pki = Test::Kiln::Pki->new($dir);
$pki->ca('root')->ca('other')->ca('inter', issuer => 'root');
$pki->cert('backend', 'root', dns => ['example.com']);
$pki->cert('gone', 'root', dns => ['example.com']);
$pki->cert('deep', 'inter', dns => ['example.com']);
$pki->cert('client', 'root', client => 1);
$pki->cert('client2', 'root', client => 1, cn => 'client two');
$pki->revoke('root', 'gone')->crl('root');
$pki->encrypt_key('client', 'client.enc', 'secret');
$t->write_file('deep.chain', $t->read_file('deep.crt')
    . $t->read_file('inter.crt'));
$t->write_file('password', "wrong\nsecret\n");

# 3 MiB that are not all the same: a read that stops mid-record shows.
my $big = join('', map { sprintf("%07d\n", $_) } 1 .. 393216);
$t->write_file('files/big.txt', $big);

# A name with variables is loaded by the worker (nobody when run as root).
chmod 0644, "$dir/client.key";
$t->write_file('swap.crt', $t->read_file('client.crt'));
$t->write_file('swap.key', $t->read_file('client.key'));

# A peer that takes the connection and never says a word: the handshake
# waits (the kernel's backlog accepts for it).
my $mute = IO::Socket::INET->new(LocalAddr => '127.0.0.1:' . port('mute'),
    Listen => 4, ReuseAddr => 1) or die "mute: $!\n";

# proxy_ssl_certificate_cache is nginx 1.27.4's: not given to 1.22.
my $conf = <<'EOF';
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes 1;

events {
    worker_connections 64;
}

http {
    access_log off;

    upstream backend.test {
        server 127.0.0.1:%%PORT_8081%%;
    }

    # Sessions are kept per peer of a group (as nginx): each location that
    # looks at a handshake has a group of its own, so that none resumes
    # another's session (a resumed session keeps its client certificate,
    # its name and its verify result).
    upstream u_sni {
        server 127.0.0.1:%%PORT_8081%%;
    }

    upstream u_tls12 {
        server 127.0.0.1:%%PORT_8082%%;
    }

    upstream u_cipher {
        server 127.0.0.1:%%PORT_8082%%;
    }

    upstream u_command {
        server 127.0.0.1:%%PORT_8083%%;
    }

    upstream u_cert {
        server 127.0.0.1:%%PORT_8084%%;
    }

    upstream u_certpw {
        server 127.0.0.1:%%PORT_8084%%;
    }

    upstream u_nocert {
        server 127.0.0.1:%%PORT_8084%%;
    }

    upstream u_verify {
        server 127.0.0.1:%%PORT_8081%%;
    }

    upstream u_vname {
        server 127.0.0.1:%%PORT_8081%%;
    }

    upstream u_vuntrusted {
        server 127.0.0.1:%%PORT_8081%%;
    }

    upstream u_crlok {
        server 127.0.0.1:%%PORT_8081%%;
    }

    upstream u_crl {
        server 127.0.0.1:%%PORT_8085%%;
    }

    upstream u_revoked {
        server 127.0.0.1:%%PORT_8085%%;
    }

    upstream u_depth0 {
        server 127.0.0.1:%%PORT_8086%%;
    }

    upstream u_depth1 {
        server 127.0.0.1:%%PORT_8086%%;
    }

    upstream u_certvar {
        server 127.0.0.1:%%PORT_8084%%;
    }

    upstream u_certvar2 {
        server 127.0.0.1:%%PORT_8084%%;
    }

    upstream u_certcached {
        server 127.0.0.1:%%PORT_8084%%;
    }

    upstream u_certuncached {
        server 127.0.0.1:%%PORT_8084%%;
    }

    upstream reuse {
        server 127.0.0.1:%%PORT_8081%%;
    }

    upstream noreuse {
        server 127.0.0.1:%%PORT_8081%%;
    }

    upstream ka {
        server 127.0.0.1:%%PORT_8081%%;
        keepalive 4;
    }

    # The TLS backends: each says what it saw of the handshake.
    server {
        listen 127.0.0.1:%%PORT_8081%% ssl;
        listen 127.0.0.1:%%PORT_8082%% ssl;
        listen 127.0.0.1:%%PORT_8083%% ssl;
        server_name example.com;

        # the second request of a connection closes it (keep-alive test)
        keepalive_requests 2;

        ssl_certificate %%TESTDIR%%/backend.crt;
        ssl_certificate_key %%TESTDIR%%/backend.key;

        location /files/ {
            alias %%TESTDIR%%/files/;
        }

        location / {
            return 200 "sni=$ssl_server_name reused=$ssl_session_reused proto=$ssl_protocol cipher=$ssl_cipher client=$ssl_client_s_dn conn=$connection uri=$request_uri\n";
        }
    }

    server {
        listen 127.0.0.1:%%PORT_8084%% ssl;
        server_name example.com;

        ssl_certificate %%TESTDIR%%/backend.crt;
        ssl_certificate_key %%TESTDIR%%/backend.key;
        ssl_verify_client on;
        ssl_client_certificate %%TESTDIR%%/root.crt;

        location / {
            return 200 "client=$ssl_client_s_dn verify=$ssl_client_verify\n";
        }
    }

    server {
        listen 127.0.0.1:%%PORT_8085%% ssl;
        ssl_certificate %%TESTDIR%%/gone.crt;
        ssl_certificate_key %%TESTDIR%%/gone.key;
        return 200 "gone\n";
    }

    server {
        listen 127.0.0.1:%%PORT_8086%% ssl;
        ssl_certificate %%TESTDIR%%/deep.chain;
        ssl_certificate_key %%TESTDIR%%/deep.key;
        return 200 "deep\n";
    }

    server {
        listen 127.0.0.1:%%PORT_8080%%;

        proxy_ssl_name example.com;

        location /plain/ {
            proxy_pass https://127.0.0.1:%%PORT_8081%%/;
        }

        location /sni/ {
            proxy_ssl_server_name on;
            proxy_pass https://u_sni/;
        }

        location /sni-group/ {
            proxy_ssl_server_name on;
            proxy_ssl_name $proxy_host;
            proxy_pass https://backend.test/;
        }

        location /sni-ip/ {
            proxy_ssl_server_name on;
            proxy_ssl_name 127.0.0.1:%%PORT_8081%%;
            proxy_pass https://127.0.0.1:%%PORT_8081%%/;
        }

        location /reuse/ {
            proxy_pass https://reuse/;
        }

        location /noreuse/ {
            proxy_ssl_session_reuse off;
            proxy_pass https://noreuse/;
        }

        location /ka/ {
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass https://ka/;
        }

        location /tls12/ {
            proxy_ssl_protocols TLSv1.2;
            proxy_pass https://u_tls12/;
        }

        location /cipher/ {
            proxy_ssl_protocols TLSv1.2;
            proxy_ssl_ciphers ECDHE-ECDSA-AES256-GCM-SHA384;
            proxy_pass https://u_cipher/;
        }

        location /command/ {
            proxy_ssl_conf_command MaxProtocol TLSv1.2;
            proxy_pass https://u_command/;
        }

        location /cert/ {
            proxy_ssl_certificate %%TESTDIR%%/client.crt;
            proxy_ssl_certificate_key %%TESTDIR%%/client.key;
            proxy_pass https://u_cert/;
        }

        location /cert-password/ {
            proxy_ssl_certificate %%TESTDIR%%/client.crt;
            proxy_ssl_certificate_key %%TESTDIR%%/client.enc;
            proxy_ssl_password_file %%TESTDIR%%/password;
            proxy_pass https://u_certpw/;
        }

        location /cert-var/ {
            set $name client;
            proxy_ssl_certificate %%TESTDIR%%/$name.crt;
            proxy_ssl_certificate_key %%TESTDIR%%/$name.key;
            proxy_pass https://u_certvar/;
        }

        location /cert-var-missing/ {
            set $name nosuch;
            proxy_ssl_certificate %%TESTDIR%%/$name.crt;
            proxy_ssl_certificate_key %%TESTDIR%%/$name.key;
            proxy_pass https://u_certvar2/;
        }

        location /cert-cached/ {
            # a resumed session would carry the first certificate
            proxy_ssl_session_reuse off;
            set $name swap;
            proxy_ssl_certificate %%TESTDIR%%/$name.crt;
            proxy_ssl_certificate_key %%TESTDIR%%/$name.key;
            #CACHE#
            proxy_pass https://u_certcached/;
        }

        location /cert-uncached/ {
            # a resumed session would carry the first certificate
            proxy_ssl_session_reuse off;
            set $name swap;
            proxy_ssl_certificate %%TESTDIR%%/$name.crt;
            proxy_ssl_certificate_key %%TESTDIR%%/$name.key;
            proxy_pass https://u_certuncached/;
        }

        location /nocert/ {
            proxy_pass https://u_nocert/;
        }

        location /verify/ {
            proxy_ssl_verify on;
            proxy_ssl_trusted_certificate %%TESTDIR%%/root.crt;
            proxy_pass https://u_verify/;
        }

        location /verify-name/ {
            proxy_ssl_verify on;
            proxy_ssl_trusted_certificate %%TESTDIR%%/root.crt;
            proxy_ssl_name other.example;
            proxy_pass https://u_vname/;
        }

        location /verify-untrusted/ {
            proxy_ssl_verify on;
            proxy_ssl_trusted_certificate %%TESTDIR%%/other.crt;
            proxy_pass https://u_vuntrusted/;
        }

        location /verify-crl-ok/ {
            proxy_ssl_verify on;
            proxy_ssl_trusted_certificate %%TESTDIR%%/root.crt;
            proxy_ssl_crl %%TESTDIR%%/root.crl;
            proxy_pass https://u_crlok/;
        }

        location /verify-crl/ {
            proxy_ssl_verify on;
            proxy_ssl_trusted_certificate %%TESTDIR%%/root.crt;
            proxy_ssl_crl %%TESTDIR%%/root.crl;
            proxy_pass https://u_crl/;
        }

        location /revoked-unchecked/ {
            proxy_ssl_verify on;
            proxy_ssl_trusted_certificate %%TESTDIR%%/root.crt;
            proxy_pass https://u_revoked/;
        }

        location /depth0/ {
            proxy_ssl_verify on;
            proxy_ssl_verify_depth 0;
            proxy_ssl_trusted_certificate %%TESTDIR%%/root.crt;
            proxy_pass https://u_depth0/;
        }

        location /depth1/ {
            proxy_ssl_verify on;
            proxy_ssl_trusted_certificate %%TESTDIR%%/root.crt;
            proxy_pass https://u_depth1/;
        }

        location /big/ {
            proxy_buffers 4 4k;
            proxy_pass https://127.0.0.1:%%PORT_8081%%/files/;
        }

        location /big-unbuffered/ {
            proxy_buffering off;
            proxy_buffer_size 4k;
            proxy_pass https://127.0.0.1:%%PORT_8081%%/files/;
        }

        location /var/ {
            set $peer 127.0.0.1:%%PORT_8081%%;
            proxy_pass https://$peer/var/;
        }

        location /default-port/ {
            proxy_pass https://127.0.0.1/;
        }

        location /not-tls/ {
            proxy_pass https://127.0.0.1:%%PORT_8080%%/;
        }

        location /mute/ {
            proxy_connect_timeout 1s;
            proxy_pass https://127.0.0.1:%%PORT_mute%%/;
        }

        location / {
            return 200 "plain\n";
        }
    }
}
EOF

$conf =~ s/#CACHE#/$nginx ? '' : 'proxy_ssl_certificate_cache max=4 valid=1h;'/e;
$t->write_file_expand('kiln.conf', $conf);

$t->plan(55);
$t->run(wait_ports => [8080, 8081, 8082, 8083, 8084, 8085, 8086]);

sub get {
    my ($uri) = @_;
    return parse_response(http_get($uri));
}

sub log_has {
    my ($re) = @_;
    return wait_for(sub { $t->read_file('error.log') =~ $re }, 5);
}

# The default protocols are nginx's since 1.23.4, TLSv1.2 TLSv1.3; 1.22
# has TLSv1 TLSv1.1 TLSv1.2, so the backend sees TLS 1.2 there.
my $tls = $nginx ? 'TLSv1\.2' : 'TLSv1\.3';

my $r = get('/plain/x?a=1');
is($r->{status}, 200, 'https:// to a TLS backend: 200');
like($r->{body}, qr/^sni= reused=\. proto=$tls /,
    'no SNI by default, TLS 1.3 (the default), a full handshake');
like($r->{body}, qr{uri=/x\?a=1$}, 'the URI as with http://');

like(get('/sni/')->{body}, qr/^sni=example\.com /,
    'proxy_ssl_server_name on: proxy_ssl_name is sent');
like(get('/sni-group/')->{body}, qr/^sni=backend\.test /,
    'the name is the group\'s, from $proxy_host, without a port');
like(get('/sni-ip/')->{body}, qr/^sni= /,
    'no SNI for an IP address, its port cut off');

# Session reuse: the next connection to the same peer resumes.
like(get('/reuse/')->{body}, qr/reused=\./, 'reuse: the first is full');
like(get('/reuse/')->{body}, qr/reused=r/, 'reuse: the second resumes');
like(get('/noreuse/')->{body}, qr/reused=\./,
    'proxy_ssl_session_reuse off: full');
like(get('/noreuse/')->{body}, qr/reused=\./,
    'proxy_ssl_session_reuse off: full again');

# Keep-alive: the second request goes on the first one's TLS connection.
my ($c1) = get('/ka/')->{body} =~ /conn=(\d+)/;
my ($c2) = get('/ka/')->{body} =~ /conn=(\d+)/;
ok($c1, 'keepalive: a connection');
is($c2, $c1, 'keepalive: the TLS connection is used again');
like(get('/ka/')->{body}, qr/^sni= reused=r .*conn=(?!$c1 )\d+ /,
    'keepalive: once the peer closed it, a new connection resumes');

like(get('/tls12/')->{body}, qr/proto=TLSv1\.2 /,
    'proxy_ssl_protocols TLSv1.2');
like(get('/cipher/')->{body}, qr/cipher=ECDHE-ECDSA-AES256-GCM-SHA384 /,
    'proxy_ssl_ciphers');
like(get('/command/')->{body}, qr/proto=TLSv1\.2 /,
    'proxy_ssl_conf_command MaxProtocol TLSv1.2');

$r = get('/cert/');
is($r->{status}, 200, 'client certificate: 200');
is($r->{body}, "client=CN=client verify=SUCCESS\n",
    'client certificate: the backend verified it');
is(get('/cert-password/')->{body}, "client=CN=client verify=SUCCESS\n",
    'encrypted key: the second password of the file opens it');
is(get('/cert-var/')->{body}, "client=CN=client verify=SUCCESS\n",
    'a certificate named with variables, loaded for the connection');
is(get('/cert-var-missing/')->{status}, 500,
    'a certificate named with variables that does not load: 500');
ok(log_has(qr/\[error\] .*cannot load certificate "[^"]+\/nosuch\.crt": BIO_new_file\(\) failed/),
    'a certificate that does not load: logged');
# The files change under the name: the cache keeps what it loaded.
is(get('/cert-cached/')->{body}, "client=CN=client verify=SUCCESS\n",
    'certificate cache: loaded');
is(get('/cert-uncached/')->{body}, "client=CN=client verify=SUCCESS\n",
    'no certificate cache: loaded');
$t->write_file('swap.crt', $t->read_file('client2.crt'));
$t->write_file('swap.key', $t->read_file('client2.key'));
is(get('/cert-uncached/')->{body}, "client=CN=client two verify=SUCCESS\n",
    'no certificate cache: the new files, at the next connection');

SKIP: {
    skip 'nginx 1.22 has no proxy_ssl_certificate_cache', 1 if $nginx;

    is(get('/cert-cached/')->{body}, "client=CN=client verify=SUCCESS\n",
        'proxy_ssl_certificate_cache: the pair loaded first, still');
}

$r = get('/nocert/');
is($r->{status}, 400, 'no client certificate: the backend\'s 400');
like($r->{body}, qr/No required SSL certificate was sent/,
    'no client certificate: its page');

$r = get('/verify/');
is($r->{status}, 200, 'verify: 200');
like($r->{body}, qr/^sni= /, 'verify: still no SNI unless asked for');

is(get('/verify-name/')->{status}, 502, 'verify, wrong name: 502');
ok(log_has(qr/\[error\] .*upstream SSL certificate does not match "other\.example" while SSL handshaking to upstream, client: 127\.0\.0\.1, server: , request: "GET \/verify-name\/ HTTP\/1\.0", upstream: "https:\/\/127\.0\.0\.1:\d+\/"/),
    'verify, wrong name: logged');

is(get('/verify-untrusted/')->{status}, 502, 'verify, unknown CA: 502');
ok(log_has(qr/\[error\] .*upstream SSL certificate verify error: \(21:unable to verify the first certificate\) while SSL handshaking to upstream/),
    'verify, unknown CA: logged');

is(get('/verify-crl-ok/')->{status}, 200, 'crl, certificate not revoked: 200');
is(get('/revoked-unchecked/')->{status}, 200,
    'revoked, no proxy_ssl_crl: 200');
is(get('/verify-crl/')->{status}, 502, 'crl, revoked certificate: 502');
ok(log_has(qr/upstream SSL certificate verify error: \(23:certificate revoked\)/),
    'crl: logged');

is(get('/depth0/')->{status}, 502, 'an intermediate CA, depth 0: 502');
ok(log_has(qr/upstream SSL certificate verify error: \(20:unable to get local issuer certificate\) while SSL handshaking to upstream, .*request: "GET \/depth0\//),
    'depth 0: logged');
is(get('/depth1/')->{body}, "deep\n",
    'an intermediate CA, proxy_ssl_verify_depth 1 (the default): 200');

# A large body through TLS records, buffered (spilled to a temp file)
# and not: every byte, in order.
$r = get('/big/big.txt');
is(length($r->{body}), length($big), 'large body, buffered: its length');
ok($r->{body} eq $big, 'large body, buffered: its bytes');
$r = get('/big-unbuffered/big.txt');
ok($r->{body} eq $big, 'large body, unbuffered: its bytes');

$r = get('/var/q');
is($r->{status}, 200, 'a pass with variables: 200');
like($r->{body}, qr{^sni= reused=. proto=$tls .*uri=/var/$},
    'a pass with variables: TLS');

is(get('/default-port/')->{status}, 502, 'https:// without a port: 502');
ok(log_has(qr/connect\(\) failed \(111: Connection refused\) while connecting to upstream, .*upstream: "https:\/\/127\.0\.0\.1:443\/"/),
    'https:// without a port: 443');

is(get('/not-tls/')->{status}, 502, 'a peer that is not TLS: 502');
ok(log_has(qr/\[error\] .*SSL_do_handshake\(\) failed \(SSL: error:\S+:SSL routines::(wrong version number|packet length too long|record layer failure)[^)]*\) while SSL handshaking to upstream/),
    'a peer that is not TLS: logged');

is(get('/mute/')->{status}, 504, 'a handshake never answered: 504');
ok(log_has(qr/upstream timed out \(110: Connection timed out\) while SSL handshaking to upstream/),
    'handshake timeout: logged');

# Configuration errors, as nginx words them.
sub conf_test {
    my ($loc) = @_;
    my $d = $dir;
    $t->write_file('bad.conf', "error_log $d/bad.log;\n"
        . "pid $d/bad.pid;\nevents { }\nhttp {\n server {\n"
        . "  listen 127.0.0.1:" . port(8087) . ";\n  $loc\n }\n}\n");

    return $t->run_kiln('-t', '-p', "$d/", '-c', "$d/bad.conf", '-e',
        "$d/bad.log")->{stderr};
}

like(conf_test('location / { proxy_ssl_verify on; '
    . 'proxy_pass https://127.0.0.1:1; }'),
    qr/no proxy_ssl_trusted_certificate for proxy_ssl_verify/,
    'proxy_ssl_verify without trusted certificates: refused');
like(conf_test('location / { proxy_ssl_certificate ' . "$dir/client.crt; "
    . 'proxy_pass https://127.0.0.1:1; }'),
    qr/no "proxy_ssl_certificate_key" is defined for certificate "\S+client\.crt"/,
    'a certificate without its key: refused');
like(conf_test('location / { proxy_ssl_protocols TLSv1.2 TLSv9; }'),
    qr/invalid value "TLSv9" in \S+bad\.conf:7/,
    'an unknown protocol: refused');
