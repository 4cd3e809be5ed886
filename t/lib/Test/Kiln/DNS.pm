# Test/Kiln/DNS.pm: a small name server for the resolver tests, on
# loopback, UDP and TCP on one port, answering from a table the test gives
# (and may change while kiln runs), counting every query it gets.
#
# One forked Perl process (core modules only) with IO::Select. It listens
# on 127.0.0.1:port(LABEL) (host => '::1' for [::1]), the allocator of
# %%PORT_<label>%% in a config, bound before the constructor returns. The table and the query log are
# files in its own temp directory: the table is read again at each query,
# so set() takes effect for the next one.
#
#     use Test::Kiln::DNS;
#
#     my $dns = Test::Kiln::DNS->new(port => 'dns', table => {
#         'a.test'     => { A => ['127.0.0.1'], ttl => 60 },
#         'v6.test'    => { AAAA => ['::1'] },
#         'alias.test' => { CNAME => 'a.test' },
#         'none.test'  => { rcode => 3 },
#         'slow.test'  => { drop => 1 },          # never answered
#         'late.test'  => { A => ['127.0.0.1'], delay => 1 },   # after 1 s
#         'big.test'   => { A => ['127.0.0.1'], tc => 1 },
#         '_http._tcp.svc.test' => { SRV => [[10, 5, 8080, 'a.test']] },
#     });
#     # config: resolver 127.0.0.1:%%PORT_dns%%;
#     $dns->set('a.test' => { A => ['127.0.0.2'] });
#     is($dns->count('a.test', 'A'), 1);          # UDP and TCP
#     is($dns->count('big.test', 'A', 'tcp'), 1);
#
# A name's entry: A => [v4...], AAAA => [v6...], CNAME => name (the answer
# follows the chain through the table, as a recursive server does),
# SRV => [[priority, weight, port, target]...], ttl => seconds (default
# 3600), rcode => N (answer with that code, nothing else), drop => 1 (no
# answer at all: a timeout), delay => SECS (over UDP: the answer leaves
# that late; other queries are answered meanwhile), tc => 1 (over UDP: TC
# set and no records;
# over TCP: the whole answer). A name not in the table gets NXDOMAIN; a
# name with no record of the type asked, NOERROR and no records.
#
#   $dns->queries      [ { proto => 'udp'|'tcp', type => 'A', name }, ... ]
#   $dns->count(NAME, TYPE, PROTO)   how many such queries (PROTO: any)
#   $dns->wait_count(N, NAME, TYPE, SECS)   bounded wait for count >= N
#   $dns->stop         TERM and reap (also DESTROY and at exit)

package Test::Kiln::DNS;

use strict;
use warnings;

use IO::Socket::IP;
use IO::Select;
use Socket qw(inet_aton inet_pton AF_INET6 SOCK_DGRAM SOCK_STREAM);
use POSIX qw(WNOHANG);
use File::Temp ();
use Data::Dumper ();
use Scalar::Util qw(weaken);
use Time::HiRes ();

use Test::Kiln ();

my @SERVERS;

my %TYPES = (A => 1, CNAME => 5, AAAA => 28, SRV => 33);
my %NAMES = reverse %TYPES;


sub new {
    my ($class, %o) = @_;
    my ($self, $u, $l, $pid);

    die "Test::Kiln::DNS needs port => LABEL\n" unless defined $o{port};

    $self = bless {
        port  => Test::Kiln::port($o{port}),
        dir   => File::Temp::tempdir('kiln-dns-XXXXXX', TMPDIR => 1,
                     CLEANUP => 1),
        owner => $$,
    }, $class;

    $self->_write_table($o{table} // {});
    open(my $fh, '>', "$self->{dir}/log") or die "dns log: $!\n";
    close $fh;

    $u = IO::Socket::IP->new(LocalHost => $o{host} // '127.0.0.1',
        LocalService => $self->{port}, Proto => 'udp')
        or die "dns: udp $self->{port}: $@\n";
    $l = IO::Socket::IP->new(LocalHost => $o{host} // '127.0.0.1',
        LocalService => $self->{port}, Proto => 'tcp', Listen => 16,
        ReuseAddr => 1)
        or die "dns: tcp $self->{port}: $@\n";

    $pid = fork();
    die "dns fork: $!\n" unless defined $pid;

    if ($pid == 0) {
        $SIG{INT} = $SIG{TERM} = 'DEFAULT';
        $SIG{PIPE} = 'IGNORE';
        open(STDOUT, '>', '/dev/null');
        eval { $self->_serve($u, $l) };
        print STDERR "# dns: $@" if $@;
        POSIX::_exit($@ ? 1 : 0);
    }

    close $u;
    close $l;
    $self->{pid} = $pid;

    @SERVERS = grep { defined } @SERVERS;
    push @SERVERS, $self;
    weaken($_) for @SERVERS;

    return $self;
}


sub port { $_[0]{port} }


sub set {
    my ($self, %entries) = @_;
    my $table = $self->_read_table;

    @$table{keys %entries} = values %entries;
    $self->_write_table($table);
}


sub queries {
    my ($self) = @_;
    my ($fh, @q);

    open($fh, '<', "$self->{dir}/log") or return [];
    while (my $line = <$fh>) {
        chomp $line;
        my ($proto, $type, $name) = split /\t/, $line;
        push @q, { proto => $proto, type => $type, name => $name };
    }
    close $fh;

    return \@q;
}


sub count {
    my ($self, $name, $type, $proto) = @_;

    return scalar grep {
        $_->{name} eq lc $name && $_->{type} eq $type
            && (!defined $proto || $_->{proto} eq $proto)
    } @{$self->queries};
}


sub wait_count {
    my ($self, $n, $name, $type, $secs) = @_;
    return Test::Kiln::wait_for(sub { $self->count($name, $type) >= $n },
        $secs);
}


sub stop {
    my ($self) = @_;
    my $pid = $self->{pid};

    return unless $pid && $self->{owner} == $$;

    kill 'TERM', $pid;
    if (!Test::Kiln::wait_for(sub { waitpid($pid, WNOHANG) != 0 }, 5)) {
        kill 'KILL', $pid;
        waitpid($pid, 0);
    }
    $self->{pid} = undef;
}


sub DESTROY {
    my ($self) = @_;
    local ($?, $@, $!);
    $self->stop;
}


END {
    local $?;
    $_->stop for grep { defined } @SERVERS;
}


sub _write_table {
    my ($self, $table) = @_;
    my $fh;
    my %lc = map { lc($_) => $table->{$_} } keys %$table;

    open($fh, '>', "$self->{dir}/table.tmp") or die "dns table: $!\n";
    print $fh Data::Dumper->new([\%lc], ['table'])->Indent(1)->Dump;
    close $fh or die "dns table: $!\n";
    rename("$self->{dir}/table.tmp", "$self->{dir}/table")
        or die "dns table: $!\n";
}


sub _read_table {
    my ($self) = @_;
    my $table;

    open(my $fh, '<', "$self->{dir}/table") or return {};
    local $/;
    my $code = <$fh>;
    close $fh;
    eval $code;    ## no critic: our own Data::Dumper output
    return $table // {};
}


# --- the server (child side) -------------------------------------------------

sub _serve {
    my ($self, $u, $l) = @_;
    my ($sel, $buf, $peer, $wait, @late);

    open($self->{logfh}, '>>', "$self->{dir}/log") or die "dns log: $!\n";
    $self->{logfh}->autoflush(1);
    $sel = IO::Select->new($u, $l);

    for (;;) {
        # answers held back by delay =>, in the order they are due
        while (@late && $late[0][0] <= Time::HiRes::time()) {
            my $d = shift @late;
            $u->send($d->[1], 0, $d->[2]);
        }
        $wait = @late ? $late[0][0] - Time::HiRes::time() : undef;
        $wait = 0 if defined $wait && $wait < 0;

        for my $s ($sel->can_read($wait)) {
            if ($s == $u) {
                $peer = $u->recv($buf, 65535);
                next unless defined $peer;
                my ($resp, $delay) = $self->_answer($buf, 'udp');
                next unless defined $resp;
                if ($delay) {
                    push @late, [Time::HiRes::time() + $delay, $resp, $peer];
                    @late = sort { $a->[0] <=> $b->[0] } @late;
                    next;
                }
                $u->send($resp, 0, $peer);
                next;
            }

            my $c = $l->accept or next;
            $self->_serve_tcp($c);
            close $c;
        }
    }
}


# One TCP client: messages with a 2-byte length, answered in turn, until
# it closes (bounded: a silent client is dropped after 5 s).

sub _serve_tcp {
    my ($self, $c) = @_;
    my ($sel, $buf, $n, $len);

    $sel = IO::Select->new($c);
    $buf = '';

    for (;;) {
        return unless $sel->can_read(5);
        $n = sysread($c, $buf, 65537, length $buf);
        return unless $n;

        while (length $buf >= 2) {
            $len = unpack('n', $buf);
            last if length $buf < 2 + $len;
            my $resp = $self->_answer(substr($buf, 2, $len), 'tcp');
            substr($buf, 0, 2 + $len) = '';
            next unless defined $resp;
            syswrite($c, pack('n', length $resp) . $resp);
        }
    }
}


sub _answer {
    my ($self, $q, $proto) = @_;
    my ($id, $flags, $qd, $off, $name, $type, $class, $table, $e, @rrs,
        $rcode, $tc, $cur, $hops, $delay, $resp);

    return undef if length $q < 12;
    ($id, $flags, $qd) = unpack('n n n', $q);
    return undef if $qd != 1;

    ($name, $off) = _read_name($q, 12);
    return undef unless defined $name;
    ($type, $class) = unpack('n n', substr($q, $off, 4));
    $name = lc $name;

    syswrite($self->{logfh},
        "$proto\t" . ($NAMES{$type} // $type) . "\t$name\n");

    $table = $self->_read_table;
    $e = $table->{$name};
    $rcode = 0;
    $delay = $e ? $e->{delay} : undef;

    if (!$e) {
        $rcode = 3;
    } elsif ($e->{drop}) {
        return undef;
    } elsif (defined $e->{rcode}) {
        $rcode = $e->{rcode};
    } elsif ($e->{tc} && $proto eq 'udp') {
        $tc = 1;
    } else {
        # the CNAME chain through the table, then the records asked for
        $cur = $name;
        $hops = 0;
        while ($e && $e->{CNAME} && $type != 5 && $hops++ < 20) {
            push @rrs, _rr($cur, 5, $e->{ttl}, _name($e->{CNAME}));
            $cur = lc $e->{CNAME};
            $e = $table->{$cur};
        }
        push @rrs, _records($cur, $type, $e) if $e;
    }

    $resp = pack('n n n n n n', $id, 0x8180 | ($tc ? 0x0200 : 0) | $rcode,
            1, scalar @rrs, 0, 0)
        . substr($q, 12, $off + 4 - 12) . join('', @rrs);

    return wantarray ? ($resp, $proto eq 'udp' ? $delay : 0) : $resp;
}


sub _records {
    my ($name, $type, $e) = @_;
    my @rrs;

    if ($type == 1) {
        push @rrs, _rr($name, 1, $e->{ttl}, inet_aton($_))
            for @{$e->{A} // []};
    } elsif ($type == 28) {
        push @rrs, _rr($name, 28, $e->{ttl}, inet_pton(AF_INET6, $_))
            for @{$e->{AAAA} // []};
    } elsif ($type == 33) {
        push @rrs, _rr($name, 33, $e->{ttl},
                pack('n n n', @$_[0 .. 2]) . _name($_->[3]))
            for @{$e->{SRV} // []};
    }

    return @rrs;
}


sub _rr {
    my ($name, $type, $ttl, $rdata) = @_;
    return _name($name) . pack('n n N n', $type, 1, $ttl // 3600,
        length $rdata) . $rdata;
}


sub _name {
    my ($name) = @_;
    return join('', map { chr(length $_) . $_ } split /\./, $name) . "\0";
}


# A name in a query: labels only (queries are not compressed).
sub _read_name {
    my ($m, $off) = @_;
    my (@labels, $n);

    for (;;) {
        return undef if $off >= length $m;
        $n = ord substr($m, $off, 1);
        return undef if $n & 0xc0;
        $off++;
        last if $n == 0;
        push @labels, substr($m, $off, $n);
        $off += $n;
    }

    return (join('.', @labels), $off);
}

1;
