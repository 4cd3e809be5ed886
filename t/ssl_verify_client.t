#!/usr/bin/perl
# ssl_verify_client.t: client certificates on a TLS server, with a test CA
# made here: ssl_verify_client on (a certificate of the CA: 200; none:
# 496, nginx's 400 page; revoked by ssl_crl, or of another CA: 495),
# optional and optional_no_ca, ssl_trusted_certificate instead of
# ssl_client_certificate, ssl_verify_depth with an intermediate CA,
# error_page for 495 and 496, every $ssl_client_* variable (compared with
# what openssl x509 says of the same certificate), nginx's log lines, and
# the configuration errors; clients are IO::Socket::SSL.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use IO::Socket::SSL;
use Test::More;
use Test::Kiln;
use Test::Kiln::Pki;

my $t = Test::Kiln->new->has('ssl', 'rewrite');
my $dir = $t->testdir;
my $nginx = Test::Kiln::binary() =~ m{nginx$};

my $pki = Test::Kiln::Pki->new($dir);
$pki->ca('root')->ca('other')->ca('inter', issuer => 'root');
$pki->cert('server', 'root', dns => ['localhost']);
$pki->cert('client', 'root', client => 1, cn => 'client one');
$pki->cert('revoked', 'root', client => 1);
$pki->cert('stranger', 'other', client => 1);
$pki->cert('deep', 'inter', client => 1);
$pki->revoke('root', 'revoked')->crl('root');
$t->write_file('deep.chain', $t->read_file('deep.crt')
    . $t->read_file('inter.crt'));

my $vars = 'verify=$ssl_client_verify s_dn=$ssl_client_s_dn '
    . 'i_dn=$ssl_client_i_dn s_legacy=$ssl_client_s_dn_legacy '
    . 'i_legacy=$ssl_client_i_dn_legacy serial=$ssl_client_serial '
    . 'fp=$ssl_client_fingerprint start=$ssl_client_v_start '
    . 'end=$ssl_client_v_end remain=$ssl_client_v_remain';

# nginx 1.22 wants ssl_client_certificate for ssl_verify_client even with
# ssl_trusted_certificate; current nginx docs and kiln take either alone.
my $needs_ca = $nginx ? "ssl_client_certificate %%TESTDIR%%/root.crt;" : '';

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

    ssl_certificate %%TESTDIR%%/server.crt;
    ssl_certificate_key %%TESTDIR%%/server.key;

    server {
        listen 127.0.0.1:%%PORT_8443%% ssl;
        server_name localhost;

        ssl_verify_client on;
        ssl_client_certificate %%TESTDIR%%/root.crt;
        ssl_crl %%TESTDIR%%/root.crl;

        location / {
            return 200 "$vars\\n";
        }

        location /raw {
            return 200 \$ssl_client_raw_cert;
        }

        location /escaped {
            return 200 \$ssl_client_escaped_cert;
        }

        location /tabbed {
            return 200 \$ssl_client_cert;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_8444%% ssl;
        ssl_verify_client optional;
        ssl_client_certificate %%TESTDIR%%/root.crt;

        location / {
            return 200 "verify=\$ssl_client_verify s_dn=\$ssl_client_s_dn\\n";
        }
    }

    server {
        listen 127.0.0.1:%%PORT_8445%% ssl;
        ssl_verify_client optional_no_ca;

        location / {
            return 200 "verify=\$ssl_client_verify s_dn=\$ssl_client_s_dn\\n";
        }
    }

    server {
        listen 127.0.0.1:%%PORT_8446%% ssl;
        ssl_verify_client on;
        ssl_trusted_certificate %%TESTDIR%%/root.crt;
        $needs_ca

        location / {
            return 200 "verify=\$ssl_client_verify\\n";
        }
    }

    server {
        listen 127.0.0.1:%%PORT_8447%% ssl;
        ssl_verify_client on;
        ssl_verify_depth 0;
        ssl_client_certificate %%TESTDIR%%/root.crt;

        location / {
            return 200 "verify=\$ssl_client_verify\\n";
        }
    }

    server {
        listen 127.0.0.1:%%PORT_8448%% ssl;
        ssl_verify_client on;
        ssl_client_certificate %%TESTDIR%%/root.crt;

        error_page 495 /bad-cert;
        error_page 496 =403 /no-cert;

        location / {
            return 200 "verify=\$ssl_client_verify\\n";
        }

        location = /bad-cert {
            return 200 "bad certificate: \$ssl_client_verify\\n";
        }

        location = /no-cert {
            return 403 "no certificate\\n";
        }
    }
}
EOF

$t->plan(38);
$t->run;

# A request over TLS with the client certificate $cert (name of a .crt and
# .key pair, or the chain file and key); the raw response.
sub https_get {
    my ($port, $uri, $cert, $key) = @_;
    my $s = IO::Socket::SSL->new(
        PeerAddr => '127.0.0.1:' . port($port),
        SSL_verify_mode => SSL_VERIFY_NONE,
        SSL_hostname => 'localhost',
        Timeout => 5,
        ($cert ? (SSL_cert_file => "$dir/$cert",
            SSL_key_file => "$dir/" . ($key // ($cert =~ s/\.\w+$//r) . '.key'))
            : ()),
    ) or return "connect: $SSL_ERROR";
    print $s "GET $uri HTTP/1.0\r\nHost: localhost\r\n\r\n";
    local $/;
    my $r = <$s>;
    close $s;
    return $r // '';
}

sub get {
    return parse_response(https_get(@_));
}

sub log_has {
    my ($re) = @_;
    return wait_for(sub { $t->read_file('error.log') =~ $re }, 5);
}

# What openssl says of client.crt, to compare with the variables.
sub x509 {
    my ($crt, @args) = @_;
    open(my $fh, '-|', 'openssl', 'x509', '-in', "$dir/$crt", '-noout',
        @args) or die "openssl: $!\n";
    local $/;
    my $out = <$fh>;
    close $fh;
    return $out =~ s/\s+\z//r;
}

my $serial = x509('client.crt', '-serial') =~ s/^serial=//r;
my $fp = lc(x509('client.crt', '-fingerprint', '-sha1') =~ s/^.*=//r =~ s/://gr);
my $start = x509('client.crt', '-startdate') =~ s/^notBefore=//r;
my $end = x509('client.crt', '-enddate') =~ s/^notAfter=//r;
my $pem = $t->read_file('client.crt');

# on (ssl_crl with CRL_CHECK_ALL: only chains of the root, whose CRL it is)
my $r = get(8443, '/', 'client.crt');
is($r->{status}, 200, 'on, a certificate of the CA: 200');
like($r->{body}, qr/^verify=SUCCESS s_dn=CN=client one i_dn=CN=root /,
    'on: $ssl_client_verify, _s_dn, _i_dn (RFC 2253)');
like($r->{body}, qr{ s_legacy=/CN=client one i_legacy=/CN=root },
    'on: $ssl_client_s_dn_legacy, _i_dn_legacy');
like($r->{body}, qr/ serial=\Q$serial\E /, '$ssl_client_serial');
like($r->{body}, qr/ fp=\Q$fp\E /, '$ssl_client_fingerprint: SHA-1');
like($r->{body}, qr/ start=\Q$start\E end=\Q$end\E /,
    '$ssl_client_v_start, _v_end');
like($r->{body}, qr/ remain=[23]$/m,
    '$ssl_client_v_remain: whole days left (3-day certificate)');

is(get(8443, '/raw', 'client.crt')->{body}, $pem, '$ssl_client_raw_cert');
my $tabbed = $pem =~ s/\n$//r =~ s/\n/\n\t/gr;
is(get(8443, '/tabbed', 'client.crt')->{body}, $tabbed,
    '$ssl_client_cert: a tab after each line break, the last one dropped');
my $escaped = $pem =~ s/([^A-Za-z0-9\-._~])/sprintf('%%%02X', ord $1)/ger;
is(get(8443, '/escaped', 'client.crt')->{body}, $escaped,
    '$ssl_client_escaped_cert: URL-encoded');

$r = get(8443, '/');
is($r->{status}, 400, 'on, no certificate: 400');
like($r->{body}, qr{<title>400 No required SSL certificate was sent</title>},
    'on, no certificate: nginx\'s page');
ok(log_has(qr/\[info\] .*client sent no required SSL certificate while reading client request headers/),
    'on, no certificate: logged');

$r = get(8443, '/', 'revoked.crt');
is($r->{status}, 400, 'on, a revoked certificate: 400');
like($r->{body}, qr{<title>400 The SSL certificate error</title>},
    'on, a revoked certificate: nginx\'s page');
ok(log_has(qr/\[info\] .*client SSL certificate verify error: \(23:certificate revoked\) while reading client request headers/),
    'on, revoked: logged');

$r = get(8443, '/', 'stranger.crt');
is($r->{status}, 400, 'on, a certificate of another CA: 400');
ok(log_has(qr/client SSL certificate verify error: \(21:unable to verify the first certificate\) while reading client request headers/),
    'on, another CA: logged');

# optional
like(get(8444, '/')->{body}, qr/^verify=NONE s_dn=$/m,
    'optional, no certificate: NONE');
like(get(8444, '/', 'client.crt')->{body},
    qr/^verify=SUCCESS s_dn=CN=client one$/m,
    'optional, a certificate: SUCCESS');
is(get(8444, '/', 'stranger.crt')->{status}, 400,
    'optional, a certificate of another CA: 400');

# optional_no_ca
like(get(8445, '/')->{body}, qr/^verify=NONE /,
    'optional_no_ca, no certificate: NONE');
$r = get(8445, '/', 'stranger.crt');
is($r->{status}, 200, 'optional_no_ca, an unknown CA: 200');
like($r->{body},
    qr/^verify=FAILED:unable to verify the first certificate s_dn=CN=stranger$/m,
    'optional_no_ca: FAILED:reason, the subject known');

# ssl_trusted_certificate verifies as well
like(get(8446, '/', 'client.crt')->{body}, qr/^verify=SUCCESS$/m,
    'ssl_trusted_certificate: SUCCESS');
is(get(8446, '/', 'stranger.crt')->{status}, 400,
    'ssl_trusted_certificate, another CA: 400');

# an intermediate CA: depth 1 (the default) passes, 0 does not
like(get(8444, '/', 'deep.chain', 'deep.key')->{body},
    qr/^verify=SUCCESS s_dn=CN=deep$/m,
    'an intermediate CA, ssl_verify_depth 1: SUCCESS');
is(get(8447, '/', 'deep.chain', 'deep.key')->{status}, 400,
    'an intermediate CA, ssl_verify_depth 0: 400');
like(get(8447, '/', 'client.crt')->{body}, qr/^verify=SUCCESS$/m,
    'ssl_verify_depth 0: signed by the root itself: SUCCESS');

# error_page
$r = get(8448, '/', 'stranger.crt');
is($r->{status}, 400, 'error_page 495: answered 400, as nginx');
is($r->{body},
    "bad certificate: FAILED:unable to verify the first certificate\n",
    'error_page 495: its page');
$r = get(8448, '/');
is($r->{status}, 403, 'error_page 496 =403');
is($r->{body}, "no certificate\n", 'error_page 496: its page');

# Configuration errors.
sub conf_test {
    my ($srv) = @_;
    $t->write_file('bad.conf', "error_log $dir/bad.log;\n"
        . "pid $dir/bad.pid;\nevents { }\nhttp {\n server {\n"
        . "  listen 127.0.0.1:" . port(8449) . " ssl;\n"
        . "  ssl_certificate $dir/server.crt;\n"
        . "  ssl_certificate_key $dir/server.key;\n  $srv\n }\n}\n");

    return $t->run_kiln('-t', '-p', "$dir/", '-c', "$dir/bad.conf", '-e',
        "$dir/bad.log")->{stderr};
}

like(conf_test('ssl_verify_client on;'),
    qr/no ssl_client_certificate for ssl_verify_client/,
    'on without a CA: refused');
like(conf_test('ssl_verify_client optional_no_ca;'),
    qr/test is successful/, 'optional_no_ca needs no CA');
like(conf_test('ssl_verify_client maybe;'),
    qr/invalid value "maybe"/, 'an unknown mode: refused');
like(conf_test('ssl_ocsp off;'), qr/test is successful/, 'ssl_ocsp off');

SKIP: {
    skip 'kiln refuses ssl_ocsp on', 1 if $nginx;

    like(conf_test('ssl_verify_client on; ssl_client_certificate '
        . "$dir/root.crt; ssl_ocsp on;"),
        qr/"ssl_ocsp" directive is refused: OCSP checks of client certificates are not supported by kiln yet/,
        'ssl_ocsp on: refused, saying why');
}
