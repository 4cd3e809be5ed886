#!/usr/bin/perl
# ssl_stapling.t: OCSP stapling from a file. A CA signs the server's
# certificate, `openssl ocsp` (its -index responder logic, run on a request
# file) makes a signed "good" response, ssl_stapling_file staples it to
# every handshake that asks (s_client -status, verified against the CA),
# inherited from the http level, per server after SNI, and not to a server
# with ssl_stapling off; a file that is not an OCSP response is a config
# error naming the file and line.
#
# From a responder: a real `openssl ocsp -index ... -port PORT` started
# here (it listens on all addresses: openssl has no bind option; it is
# asked on loopback only, and killed by its pid). A certificate whose AIA
# names it is stapled once the worker fetched the response (the first
# handshake goes without, as in nginx; the test polls s_client, bounded),
# verified against ssl_trusted_certificate; a revoked certificate is
# logged in nginx's words and not stapled; ssl_stapling_responder pointing
# at a port where nothing listens: an error logged, no staple, and the
# handshake still works.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;
use Test::Kiln::TLS qw(make_ca make_cert openssl s_client);
use Test::Kiln::DNS;
use IO::Socket::INET;
use POSIX ();

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

# aia_cert(NAME, CN, URL): NAME.crt signed by the CA, with an AIA OCSP URL
# when URL is given; returns its serial.
sub aia_cert {
    my ($name, $cn, $url) = @_;
    openssl('req', '-new', '-newkey', 'ec', '-pkeyopt',
        'ec_paramgen_curve:P-256', '-nodes', '-subj', "/CN=$cn",
        '-keyout', "$d/$name.key", '-out', "$d/$name.csr");
    $t->write_file("$name.ext", "subjectAltName=DNS:$cn\n"
        . ($url ? "authorityInfoAccess=OCSP;URI:$url\n" : ''));
    openssl('x509', '-req', '-in', "$d/$name.csr", '-sha256', '-days', 30,
        '-CA', "$d/ca.crt", '-CAkey', "$d/ca.key", '-CAcreateserial',
        '-extfile', "$d/$name.ext", '-out', "$d/$name.crt");
    chmod 0644, "$d/$name.key";
    return (openssl('x509', '-in', "$d/$name.crt", '-noout', '-serial')
        =~ /serial=(\w+)/)[0];
}

my $rport = port(8450);
my $good = aia_cert('good', 'good.test', "http://127.0.0.1:$rport/");
my $revoked = aia_cert('revoked', 'revoked.test');
aia_cert('down', 'down.test');
my $named = aia_cert('named', 'named.test');
aia_cert('html', 'html.test');
$t->write_file('responder.txt',
    "V\t491231000000Z\t\t$good\tunknown\t/CN=good.test\n"
    . "R\t491231000000Z\t260101000000Z\t$revoked\tunknown\t/CN=revoked.test\n"
    . "V\t491231000000Z\t\t$named\tunknown\t/CN=named.test\n"
    . "V\t491231000000Z\t\t$serial\tunknown\t/CN=a.test\n");

# The responder by name, through the resolver. Its name must resolve at
# config time too (nginx ignores stapling for a name that does not):
# localhost, which the test's name server answers as well.
my $dns = Test::Kiln::DNS->new(port => 'dns', table => {
    'localhost' => { A => ['127.0.0.1'] },
});

# The responder: started here, killed by its pid at the end.
my $responder = fork() // die "fork: $!\n";
if ($responder == 0) {
    open(STDIN, '<', '/dev/null');
    open(STDOUT, '>>', "$d/responder.log");
    open(STDERR, '>>', "$d/responder.log");
    exec('openssl', 'ocsp', '-index', "$d/responder.txt", '-port', $rport,
        '-rsigner', "$d/ca.crt", '-rkey', "$d/ca.key", '-CA', "$d/ca.crt",
        '-ndays', '1', '-ignore_err') or POSIX::_exit(127);
}
END { local $?; kill('TERM', $responder) if $responder; waitpid($responder, 0) if $responder; }

# listening(PORT): the kernel lists a listening socket on PORT (asking
# the responder itself would cost it a request).
sub listening {
    my ($p) = @_;
    for my $f ('/proc/net/tcp', '/proc/net/tcp6') {
        open(my $fh, '<', $f) or next;
        while (<$fh>) {
            return 1 if /^\s*\d+: [0-9A-F]+:(\w+) \S+ 0A / && hex($1) == $p;
        }
    }
    return 0;
}
wait_for(sub { listening($rport) }, 10) or die "responder did not start\n";

# A responder that answers every request with a web page.
my $html = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
    LocalPort => port(8452), Listen => 8, ReuseAddr => 1)
    or die "listen: $!\n";
my $htmlpid = fork() // die "fork: $!\n";
if ($htmlpid == 0) {
    while (my $c = $html->accept) {
        my $buf = '';
        while ($buf !~ /\r\n\r\n/) {
            last unless sysread($c, $buf, 4096, length $buf);
        }
        print $c "HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n<p>\n";
        close $c;
    }
    POSIX::_exit(0);    # not the parent's END blocks
}
close $html;
END { local $?; kill('TERM', $htmlpid) if $htmlpid; waitpid($htmlpid, 0) if $htmlpid; }

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

    # from the responder in the certificate's AIA, verified
    server {
        listen        127.0.0.1:%%PORT_8445%% ssl;
        ssl_certificate      %%TESTDIR%%/good.crt;
        ssl_certificate_key  %%TESTDIR%%/good.key;
        ssl_trusted_certificate %%TESTDIR%%/ca.crt;
        ssl_stapling_file    "";
        ssl_stapling  on;
        ssl_stapling_verify on;
        return 200 "good\n";
    }

    server {
        listen        127.0.0.1:%%PORT_8446%% ssl;
        ssl_certificate      %%TESTDIR%%/revoked.crt;
        ssl_certificate_key  %%TESTDIR%%/revoked.key;
        ssl_trusted_certificate %%TESTDIR%%/ca.crt;
        ssl_stapling_file    "";
        ssl_stapling  on;
        ssl_stapling_responder http://127.0.0.1:%%PORT_8450%%/;
        return 200 "revoked\n";
    }

    server {
        listen        127.0.0.1:%%PORT_8447%% ssl;
        ssl_certificate      %%TESTDIR%%/down.crt;
        ssl_certificate_key  %%TESTDIR%%/down.key;
        ssl_trusted_certificate %%TESTDIR%%/ca.crt;
        ssl_stapling_file    "";
        ssl_stapling  on;
        ssl_stapling_responder http://127.0.0.1:%%PORT_8451%%/ocsp;
        return 200 "down\n";
    }

    server {
        listen        127.0.0.1:%%PORT_8448%% ssl;
        ssl_certificate      %%TESTDIR%%/named.crt;
        ssl_certificate_key  %%TESTDIR%%/named.key;
        ssl_trusted_certificate %%TESTDIR%%/ca.crt;
        ssl_stapling_file    "";
        ssl_stapling  on;
        ssl_stapling_responder http://localhost:%%PORT_8450%%/;
        resolver      127.0.0.1:%%PORT_dns%% ipv6=off;
        return 200 "named\n";
    }

    server {
        listen        127.0.0.1:%%PORT_8449%% ssl;
        ssl_certificate      %%TESTDIR%%/html.crt;
        ssl_certificate_key  %%TESTDIR%%/html.key;
        ssl_trusted_certificate %%TESTDIR%%/ca.crt;
        ssl_stapling_file    "";
        ssl_stapling  on;
        ssl_stapling_responder http://127.0.0.1:%%PORT_8452%%/;
        return 200 "html\n";
    }
}
EOF

$t->plan(23);
$t->run(wait_ports => [8443 .. 8449]);

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

# From the responder. The first client that asks starts the fetch and
# goes without a staple; later ones get it.

$out = status(8445, 'good.test');
like($out, qr/OCSP response: no response sent/,
    'responder: the first handshake goes without a staple');
like($out, qr/^good$/m, 'responder: that request is served');

my $ok = wait_for(sub { status(8445, 'good.test') =~ /Cert Status: good/ }, 20, 0.2);
ok($ok, 'responder: the staple appears once fetched');
$out = status(8445, 'good.test');
like($out, qr/OCSP Response Status: successful/, 'responder: successful');
like($out, qr/Serial Number: \Q$good\E/i, 'responder: for that certificate');

# Revoked: logged, never stapled.
status(8446, 'revoked.test');
$ok = wait_for(sub { $t->read_file('error.log')
    =~ /certificate status "revoked" in the OCSP response/ }, 20, 0.2);
ok($ok, 'revoked: logged in nginx\'s words');
like(status(8446, 'revoked.test'), qr/OCSP response: no response sent/,
    'revoked: nothing stapled');

# Responder down: an error, no staple, the handshake works.
status(8447, 'down.test');
$ok = wait_for(sub { $t->read_file('error.log')
    =~ /\(\) failed \(111: Connection refused\) while requesting certificate status, responder: 127\.0\.0\.1/ }, 20, 0.2);
ok($ok, 'responder down: the error is logged');
$out = status(8447, 'down.test');
like($out, qr/OCSP response: no response sent.*^down$/ms,
    'responder down: no staple, the request is served');

# The responder's name resolved by the resolver at the fetch.
status(8448, 'named.test');
$ok = wait_for(sub { status(8448, 'named.test') =~ /Cert Status: good/ }, 20, 0.2);
ok($ok, 'by name: stapled');
ok($dns->count('localhost', 'A') >= 1, 'by name: asked of the resolver');

# A web page for an answer: refused in nginx's words, nothing stapled.
status(8449, 'html.test');
$ok = wait_for(sub { $t->read_file('error.log')
    =~ /OCSP responder sent invalid "Content-Type" header: "text\/html" while requesting certificate status/ }, 20, 0.2);
ok($ok, 'a web page: the Content-Type is refused');
like(status(8449, 'html.test'), qr/OCSP response: no response sent.*^html$/ms,
    'a web page: no staple, the request is served');
