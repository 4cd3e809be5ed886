#!/usr/bin/perl
# testssl.t: testssl.sh (Debian's testssl.sh) scans a server that sets only
# its certificate, i.e. the default TLS settings, on loopback: no SSLv2,
# SSLv3, TLS 1.0 or 1.1, TLS 1.2 and 1.3 offered, no NULL, anonymous,
# export, LOW (DES, RC2, RC4) or 3DES/IDEA cipher, no client-initiated
# renegotiation, no TLS compression (CRIME). The scan is limited to those
# checks (-p -s -R -C: about 10 s) and read from its JSON file.
#
# Against nginx 1.22 one check fails on purpose: its default ssl_protocols
# lacks TLSv1.3, which nginx 1.23.4 added and kiln follows.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use JSON::PP;
use Test::More;
use Test::Kiln;

my $testssl = (grep { -x "$_/testssl" } split /:/, $ENV{PATH})[0];
plan(skip_all => 'testssl.sh is not installed (auto/deps test installs it)')
    unless $testssl;

my $t = Test::Kiln->new->has('ssl');
my $d = $t->testdir;

system('openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt',
    'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=localhost',
    '-days', '30', '-keyout', "$d/ec.key", '-out', "$d/ec.crt") == 0
    or die "openssl req failed\n";
chmod 0644, "$d/ec.key";

$t->write_file_expand('kiln.conf', <<'EOF');
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes 1;

events {
    worker_connections 256;
}

http {
    access_log off;

    server {
        listen               127.0.0.1:%%PORT_8443%% ssl;
        ssl_certificate      %%TESTDIR%%/ec.crt;
        ssl_certificate_key  %%TESTDIR%%/ec.key;

        location / {
            return 200 "ok\n";
        }
    }
}
EOF

$t->plan(17);
$t->run;

# testssl.sh writes to $HOME when it has one it cannot use; keep it in the
# prefix. --warnings off: it never waits for a terminal.
my $json = "$d/testssl.json";
my $out = `HOME=$d $testssl/testssl --quiet --color 0 --warnings off -p -s -R -C --jsonfile $json 127.0.0.1:@{[port(8443)]} 2>&1`;
is($? >> 8, 0, 'testssl.sh ran to the end') or diag($out);

my %f;
if (open(my $fh, '<', $json)) {
    local $/;
    my $list = eval { decode_json(<$fh>) } // [];
    $f{$_->{id}} = $_->{finding} for @$list;
}

is($f{SSLv2}, 'not offered', 'SSLv2 not offered');
is($f{SSLv3}, 'not offered', 'SSLv3 not offered');
is($f{TLS1}, 'not offered', 'TLS 1.0 not offered');
is($f{TLS1_1}, 'not offered', 'TLS 1.1 not offered');
is($f{TLS1_2}, 'offered', 'TLS 1.2 offered');
like($f{TLS1_3} // '', qr/^offered/, 'TLS 1.3 offered');

is($f{cipherlist_NULL}, 'not offered', 'no NULL cipher');
is($f{cipherlist_aNULL}, 'not offered', 'no anonymous cipher');
is($f{cipherlist_EXPORT}, 'not offered', 'no export cipher');
is($f{cipherlist_LOW}, 'not offered', 'no LOW cipher (DES, RC2, RC4)');
is($f{cipherlist_3DES_IDEA}, 'not offered', 'no 3DES or IDEA cipher');
is($f{cipherlist_STRONG}, 'offered', 'AEAD ciphers offered');

is($f{secure_client_renego}, 'not vulnerable',
    'no client-initiated renegotiation');
like($f{secure_renego} // '', qr/^supported/,
    'secure renegotiation (RFC 5746) for TLS 1.2');
is($f{CRIME_TLS}, 'not vulnerable', 'no TLS compression (CRIME)');

ok(!grep({ !defined $f{$_} } qw(SSLv2 TLS1_3 CRIME_TLS)),
    'the JSON file has every finding');
