# Test/Kiln/TLS.pm: TLS helpers for the t/ssl*.t tests (and tlsup's, tlsops'):
# certificates made with `openssl req` in the test's directory, an HTTPS
# exchange through IO::Socket::SSL that says what was negotiated, and
# `openssl s_client` for what Perl cannot ask (-sess_out/-sess_in,
# -tls1_1, curves).
#
#     use Test::Kiln::TLS qw(make_ca make_cert https s_client);
#
#     make_ca($t, 'ca');                          # ca.crt, ca.key
#     make_cert($t, 'rsa', cn => 'localhost');    # rsa.crt, rsa.key, self-signed
#     make_cert($t, 'ec', type => 'ec', cn => 'b.test', ca => 'ca');
#     make_cert($t, 'enc', pass => 'secret');     # an encrypted key
#
#     my $r = https(port('8443'), "GET / HTTP/1.0\r\n\r\n", sni => 'a.test');
#     # $r->{response}, {version} (TLSv1.3), {cipher}, {alpn}, {cn} (the
#     # server certificate's CN), {key} (RSA/EC), {reused}, {session}
#     # (pass it back as session => to resume), {error} when it failed.
#
#     my $out = s_client($t, port('8443'), '-servername', 'a.test');
#
#     # sessions (IO::Socket::SSL keeps none between objects here):
#     my $r = s_session($t, port('8443'), $request, out => 'sess',
#         args => ['-tls1_2']);              # a session saved to file sess
#     $r = s_session($t, port('8443'), $request, in => 'sess');
#     # $r->{reused} (1: "Reused"), {protocol}, {response}, {output}
#
# Every certificate is valid for 30 days from now, SHA-256, RSA 2048 or
# EC P-256; files are written mode 0644 so workers running as nobody can
# read them (they are test keys, never secrets).

package Test::Kiln::TLS;

use strict;
use warnings;

use Exporter qw(import);
use IO::Socket::SSL;
use Test::Kiln;

our @EXPORT_OK = qw(make_ca make_cert https s_client s_session openssl
    ticket_key);


# openssl(ARGS...): run the openssl command, its output (both streams) or
# die with it when it fails.

sub openssl {
    my (@args) = @_;
    my ($pid, $out, $fh);

    $pid = open($fh, '-|') // die "fork: $!\n";

    if ($pid == 0) {
        open(STDERR, '>&', \*STDOUT);
        open(STDIN, '<', '/dev/null');
        exec('openssl', @args) or exit 127;
    }

    local $/;
    $out = <$fh> // '';
    close($fh);

    die "openssl @args: $out\n" if $?;
    return $out;
}


sub _keyargs {
    my ($type) = @_;

    return ('-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256')
        if ($type // 'rsa') eq 'ec';
    return ('-newkey', 'rsa:2048');
}


# make_ca(T, NAME): NAME.crt and NAME.key, a self-signed CA.

sub make_ca {
    my ($t, $name, %o) = @_;
    my $d = $t->testdir;

    openssl('req', '-x509', _keyargs($o{type}), '-nodes', '-sha256',
        '-days', 30, '-subj', "/CN=" . ($o{cn} // "$name CA"),
        '-addext', 'basicConstraints=critical,CA:TRUE',
        '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
        '-keyout', "$d/$name.key", '-out', "$d/$name.crt");
    chmod 0644, "$d/$name.key";

    return "$d/$name.crt";
}


# make_cert(T, NAME, cn => CN, type => rsa|ec, ca => CANAME, san => [DNS...],
# pass => PASSWORD): NAME.crt and NAME.key (encrypted with PASSWORD when
# given); signed by CANAME (made with make_ca) or self-signed.

sub make_cert {
    my ($t, $name, %o) = @_;
    my ($d, $cn, @san, @enc);

    $d = $t->testdir;
    $cn = $o{cn} // 'localhost';
    @san = map { "DNS:$_" } @{$o{san} // [$cn]};
    @enc = $o{pass} ? ('-passout', "pass:$o{pass}") : ('-nodes');

    if ($o{ca}) {
        openssl('req', '-new', _keyargs($o{type}), @enc, '-sha256',
            '-subj', "/CN=$cn", '-keyout', "$d/$name.key",
            '-out', "$d/$name.csr");
        $t->write_file("$name.ext",
            "subjectAltName=" . join(',', @san) . "\n");
        openssl('x509', '-req', '-in', "$d/$name.csr", '-sha256',
            '-days', 30, '-CA', "$d/$o{ca}.crt", '-CAkey', "$d/$o{ca}.key",
            '-CAcreateserial', '-extfile', "$d/$name.ext",
            '-out', "$d/$name.crt");
    } else {
        openssl('req', '-x509', _keyargs($o{type}), @enc, '-sha256',
            '-days', 30, '-subj', "/CN=$cn",
            '-addext', 'subjectAltName=' . join(',', @san),
            '-keyout', "$d/$name.key", '-out', "$d/$name.crt");
    }

    chmod 0644, "$d/$name.key";

    return "$d/$name.crt";
}


# ticket_key(T, NAME, SIZE): NAME, SIZE (48 or 80) random bytes, for
# ssl_session_ticket_key.

sub ticket_key {
    my ($t, $name, $size) = @_;

    openssl('rand', '-out', $t->testdir . "/$name", $size // 80);
    chmod 0644, $t->testdir . "/$name";

    return $t->testdir . "/$name";
}


# https(PORT, REQUEST, sni => NAME, alpn => [PROTOS], version => 'TLSv1_2',
# cipher => LIST, session => FROM, timeout => S): one TLS connection, REQUEST
# written, read to the server's close. Never verifies the server.

sub https {
    my ($port, $request, %o) = @_;
    my ($s, %r, $buf, $n, $cache, $deadline, $cert);

    $cache = $o{session} ? $o{session}{cache}
        : IO::Socket::SSL::Session_Cache->new(4);

    $s = IO::Socket::SSL->new(
        PeerAddr => '127.0.0.1',
        PeerPort => $port,
        Timeout => $o{timeout} // 5,
        SSL_verify_mode => SSL_VERIFY_NONE,
        SSL_hostname => $o{sni} // '',
        SSL_session_cache => $cache,
        SSL_session_key => 'kiln',
        $o{alpn} ? (SSL_alpn_protocols => $o{alpn}) : (),
        $o{version} ? (SSL_version => $o{version}) : (),
        $o{cipher} ? (SSL_cipher_list => $o{cipher}) : (),
        $o{curves} ? (SSL_ecdh_curve => $o{curves}) : (),
    );

    if (!$s) {
        return { error => $SSL_ERROR || $!, session => { cache => $cache } };
    }

    %r = (
        version => $s->get_sslversion,
        cipher => $s->get_cipher,
        alpn => $s->alpn_selected // '',
        reused => $s->get_session_reused ? 1 : 0,
        session => { cache => $cache },
    );

    $cert = $s->peer_certificate;
    if ($cert) {
        $r{cn} = $s->peer_certificate('cn');
        $r{key} = Net::SSLeay::OBJ_nid2sn(Net::SSLeay::EVP_PKEY_id(
            Net::SSLeay::X509_get_pubkey($cert))) =~ /^id-ec/ ? 'EC' : 'RSA';
    }

    syswrite($s, $request) if defined $request && length $request;

    $r{response} = '';
    $deadline = time() + ($o{timeout} // 5);

    while (time() < $deadline) {
        $n = sysread($s, $buf, 65536);
        if (!defined $n) {
            next if $! && $!{EAGAIN};
            last;
        }
        last if $n == 0;
        $r{response} .= $buf;
    }

    # A session that TLS 1.3 sends after the handshake is read with the
    # response; closing now stores it in $cache.
    $s->close(SSL_fast_shutdown => 1);

    return \%r;
}


# s_client(T, PORT, ARGS...): `openssl s_client -connect 127.0.0.1:PORT ARGS`
# with an empty stdin (it leaves after the handshake), or with input =>
# BYTES as the first two args (-ign_eof: it reads to the server's close, so
# send a request that closes); its output.

sub s_client {
    my ($t, $port, @args) = @_;
    my ($input, $pid, $fh, $out, $in);

    if (@args && $args[0] eq 'input') {
        (undef, $input, @args) = @args;
    }

    $in = $t->write_file('s_client.in', $input // '');

    $pid = open($fh, '-|') // die "fork: $!\n";

    if ($pid == 0) {
        open(STDERR, '>&', \*STDOUT);
        open(STDIN, '<', $in);
        exec('openssl', 's_client', '-connect', "127.0.0.1:$port",
            defined $input ? ('-ign_eof') : (), @args) or exit 127;
    }

    local $/;
    $out = <$fh> // '';
    close($fh);

    return $out;
}

# s_session(T, PORT, REQUEST, in => FILE, out => FILE, args => [...]):
# s_client with -sess_in/-sess_out (files in the test directory), REQUEST
# sent (it must end with the server's close: HTTP/1.0); what it says.

sub s_session {
    my ($t, $port, $request, %o) = @_;
    my ($out, %r);

    $out = s_client($t, $port, input => $request,
        $o{in} ? ('-sess_in', $t->testdir . "/$o{in}") : (),
        $o{out} ? ('-sess_out', $t->testdir . "/$o{out}") : (),
        @{$o{args} // []});

    %r = (output => $out, reused => 0, protocol => '');

    if ($out =~ /^(New|Reused), (\S+), Cipher is/m) {
        $r{reused} = $1 eq 'Reused' ? 1 : 0;
        $r{protocol} = $2;
    }

    $r{response} = $out =~ /(HTTP\/1\.\d \d\d\d.*)/s ? $1 : '';

    return \%r;
}

1;
