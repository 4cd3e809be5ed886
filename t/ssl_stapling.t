#!/usr/bin/perl
# ssl_stapling.t: OCSP stapling from a file. A CA signs the server's
# certificate, `openssl ocsp` (its -index responder logic, run on a request
# file) makes a signed "good" response, ssl_stapling_file staples it to
# every handshake that asks (s_client -status, verified against the CA),
# inherited from the http level, per server after SNI, and not to a server
# with ssl_stapling off; a file that is not an OCSP response is a config
# error naming the file and line. kiln does not query OCSP responders yet:
# ssl_stapling_responder is refused and ssl_stapling without a file warns
# (those two checks run only against kiln; nginx queries the responder).

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;
use Test::Kiln::TLS qw(make_ca make_cert openssl s_client);

my $t = Test::Kiln->new->has('ssl');
my $d = $t->testdir;

make_ca($t, 'ca');
make_cert($t, 'leaf', type => 'ec', cn => 'a.test', ca => 'ca',
    san => ['a.test', 'b.test', 'c.test']);

# The CA's database: the leaf is valid ("V"), then a response for it.
my ($serial) = openssl('x509', '-in', "$d/leaf.crt", '-noout', '-serial')
    =~ /serial=(\w+)/;
$t->write_file('index.txt', "V\t491231000000Z\t\t$serial\tunknown\t/CN=a.test\n");
openssl('ocsp', '-issuer', "$d/ca.crt", '-cert', "$d/leaf.crt", '-no_nonce',
    '-reqout', "$d/req.der");
openssl('ocsp', '-index', "$d/index.txt", '-CA', "$d/ca.crt", '-rsigner',
    "$d/ca.crt", '-rkey', "$d/ca.key", '-reqin', "$d/req.der", '-respout',
    "$d/resp.der", '-ndays', '1');
chmod 0644, "$d/resp.der";
$t->write_file('bad.der', "not an OCSP response\n");

$t->write_file_expand('kiln.conf', <<'EOF');
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes 1;

events {
    worker_connections 64;
}

http {
    ssl_certificate      %%TESTDIR%%/leaf.crt;
    ssl_certificate_key  %%TESTDIR%%/leaf.key;
    ssl_stapling_file    %%TESTDIR%%/resp.der;

    server {
        listen        127.0.0.1:%%PORT_8443%% ssl;
        server_name   a.test;
        ssl_stapling  on;
        ssl_stapling_verify on;
        return 200 "a\n";
    }

    server {
        listen        127.0.0.1:%%PORT_8443%% ssl;
        server_name   b.test;
        return 200 "b\n";
    }

    server {
        listen        127.0.0.1:%%PORT_8444%% ssl;
        server_name   c.test;
        ssl_stapling  on;
        return 200 "c\n";
    }
}
EOF

$t->plan(12);
$t->run;

# status(PORT, NAME): s_client -status with SNI NAME, verifying the chain
# and the stapled response against the CA.
sub status {
    my ($port, $name) = @_;
    return s_client($t, port($port),
        input => "GET / HTTP/1.0\r\nHost: $name\r\n\r\n", '-servername', $name, '-status', '-CAfile', "$d/ca.crt");
}

my $out = status(8443, 'a.test');
like($out, qr/OCSP Response Status: successful/, 'stapled: a response');
like($out, qr/Cert Status: good/, 'stapled: the leaf is good');
like($out, qr/Serial Number: \Q$serial\E/i, 'stapled: for the leaf');
like($out, qr/OCSP Response Status: successful.*^a$/ms,
    'stapled: the request is served');

$out = status(8443, 'b.test');
like($out, qr/OCSP response: no response sent/,
    'SNI to a server with ssl_stapling off: nothing stapled');
like($out, qr/^b$/m, 'SNI: that server answers');

$out = status(8444, 'c.test');
like($out, qr/Cert Status: good/, 'the http-level file, another server');

$out = s_client($t, port(8443), input => "GET / HTTP/1.0\r\n\r\n",
    '-servername', 'a.test');
unlike($out, qr/OCSP Response Status/, 'no status_request: nothing stapled');

# Config errors, with -t on variants of the config.

sub variant {
    my ($from, $to) = @_;
    my $conf = $t->read_file('kiln.conf');
    $conf =~ s/\Q$from\E/$to/ or die "variant: no $from\n";
    $t->write_file('variant.conf', $conf);
    return $t->run_kiln('-p', "$d/", '-c', "$d/variant.conf", '-t');
}

my $r = variant('resp.der;', 'bad.der;');
isnt($r->{exit}, 0, 'a file that is not an OCSP response: refused');
like($r->{stderr}, qr/\[emerg\] .*d2i_OCSP_RESPONSE_bio\(.*bad\.der.*failed/,
    'it names the file and the call that failed');

SKIP: {
    skip 'kiln only: nginx queries OCSP responders', 2
        if $t->run_kiln('-v')->{stderr} !~ /^kiln/m;

    $r = variant('ssl_stapling_verify on;',
        'ssl_stapling_responder http://127.0.0.1:1/;');
    like($r->{stderr}, qr/\[emerg\] .*querying an OCSP responder is not supported .* in \S+variant\.conf:\d+/,
        'ssl_stapling_responder: refused, with the line');

    $r = variant("ssl_stapling_file    $d/resp.der;", '');
    like($r->{stderr}, qr/\[warn\] "ssl_stapling" ignored, querying an OCSP responder is not supported by kiln yet .* in \S+variant\.conf:\d+/,
        'ssl_stapling on without a file: a warning with the line');
}
