package Test::Kiln::Pki;

# Pki.pm: test certificates made with the openssl command line in a test's
# own directory: a CA, certificates it signs (server names as
# subjectAltName, client certificates), self-signed ones, revocation and
# CRLs (openssl ca with a minimal config). EC P-256 keys: fast to make.

use strict;
use warnings;

use Carp qw(croak);
use POSIX ();

sub new {
    my ($class, $dir) = @_;
    my $self = bless { dir => $dir, serial => 1 }, $class;
    return $self;
}

sub _run {
    my ($self, @cmd) = @_;
    my $log = "$self->{dir}/openssl.log";
    my $pid = fork();
    croak "fork: $!" unless defined $pid;
    if ($pid == 0) {
        open(STDOUT, '>>', $log);
        open(STDERR, '>&', \*STDOUT);
        { exec('openssl', @cmd) };
        POSIX::_exit(127);
    }
    waitpid($pid, 0);
    croak "openssl @cmd failed: see $log" if $?;
}

sub _write {
    my ($self, $name, $text) = @_;
    open(my $fh, '>', "$self->{dir}/$name") or croak "$name: $!";
    print $fh $text;
    close $fh;
}

# A CA named $name: $name.crt, $name.key, and the files openssl ca keeps
# ($name.db, $name.cnf) for revoking and CRLs.
sub ca {
    my ($self, $name, %o) = @_;
    my $d = $self->{dir};
    $self->_write("$name.db", '');
    $self->_write("$name.cnf", <<"EOF");
[ ca ]
default_ca = ca_$name

[ ca_$name ]
database = $d/$name.db
certificate = $d/$name.crt
private_key = $d/$name.key
new_certs_dir = $d
serial = $d/$name.srl
default_md = sha256
default_days = 3
default_crl_days = 3
policy = any
unique_subject = no

[ any ]
commonName = supplied

[ req ]
distinguished_name = dn
[ dn ]
[ v3_ca ]
basicConstraints = critical,CA:true
keyUsage = keyCertSign,cRLSign
subjectKeyIdentifier = hash
EOF
    $self->_write("$name.srl", sprintf("%04X\n", 0x1000 + $self->{serial}++));

    if ($o{issuer}) {
        $self->_key($name);
        $self->_run('req', '-new', '-key', "$d/$name.key", '-subj',
            "/CN=$name", '-out', "$d/$name.csr");
        $self->_sign($o{issuer}, $name, 'v3_ca', "$d/$name.cnf");
    } else {
        $self->_key($name);
        $self->_run('req', '-x509', '-new', '-key', "$d/$name.key", '-subj',
            "/CN=$name", '-days', '3', '-config', "$d/$name.cnf",
            '-extensions', 'v3_ca', '-out', "$d/$name.crt");
    }
    return $self;
}

sub _key {
    my ($self, $name) = @_;
    $self->_run('genpkey', '-algorithm', 'EC', '-pkeyopt',
        'ec_paramgen_curve:P-256', '-out', "$self->{dir}/$name.key");
}

sub _sign {
    my ($self, $ca, $name, $section, $extfile) = @_;
    my $d = $self->{dir};
    $self->_run('ca', '-batch', '-notext', '-config', "$d/$ca.cnf",
        '-in', "$d/$name.csr", '-out', "$d/$name.crt",
        '-extfile', $extfile, '-extensions', $section);
}

# A certificate $name.crt/.key signed by CA $ca (or self-signed when $ca is
# undef): subject CN $o{cn} (default $name), subjectAltName DNS names
# $o{dns} (array) and IP addresses $o{ip}; $o{client}: for TLS clients.
sub cert {
    my ($self, $name, $ca, %o) = @_;
    my $d = $self->{dir};
    my $cn = $o{cn} // $name;
    my @san = ((map { "DNS:$_" } @{ $o{dns} // [] }),
        (map { "IP:$_" } @{ $o{ip} // [] }));
    my $ext = "[ leaf ]\nbasicConstraints = CA:false\n"
        . "extendedKeyUsage = " . ($o{client} ? 'clientAuth' : 'serverAuth')
        . "\n" . (@san ? 'subjectAltName = ' . join(',', @san) . "\n" : '')
        . "[ req ]\ndistinguished_name = dn\n[ dn ]\n";
    $self->_write("$name.ext", $ext);
    $self->_key($name);

    if (defined $ca) {
        $self->_run('req', '-new', '-key', "$d/$name.key", '-subj',
            "/CN=$cn", '-out', "$d/$name.csr", '-config', "$d/$name.ext");
        $self->_sign($ca, $name, 'leaf', "$d/$name.ext");
    } else {
        $self->_run('req', '-x509', '-new', '-key', "$d/$name.key", '-subj',
            "/CN=$cn", '-days', '3', '-config', "$d/$name.ext",
            '-extensions', 'leaf', '-out', "$d/$name.crt");
    }
    return $self;
}

# Revoke $name.crt in CA $ca's database.
sub revoke {
    my ($self, $ca, $name) = @_;
    my $d = $self->{dir};
    $self->_run('ca', '-config', "$d/$ca.cnf", '-revoke', "$d/$name.crt");
    return $self;
}

# CA $ca's CRL as $ca.crl (PEM).
sub crl {
    my ($self, $ca) = @_;
    my $d = $self->{dir};
    $self->_run('ca', '-gencrl', '-config', "$d/$ca.cnf", '-out',
        "$d/$ca.crl");
    return $self;
}

# $name.key encrypted with $password as $out.
sub encrypt_key {
    my ($self, $name, $out, $password) = @_;
    my $d = $self->{dir};
    $self->_run('pkey', '-in', "$d/$name.key", '-aes256', '-passout',
        "pass:$password", '-out', "$d/$out");
    return $self;
}

1;
