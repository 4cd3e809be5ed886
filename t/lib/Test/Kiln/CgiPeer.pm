# Test/Kiln/CgiPeer.pm: a small SCGI or uwsgi server for uwsgi.t and scgi.t:
# it reads one request a connection (the SCGI netstring, or the uwsgi
# packet's header and vars, then CONTENT_LENGTH bytes of body), calls the
# test's handler with what it read, writes what the handler returns, and
# closes (both protocols end a response so).
#
#     my $p = Test::Kiln::CgiPeer->start(port => 's1', proto => 'scgi',
#         handler => sub { my ($req) = @_; "Status: 200 OK\r\n\r\nhi" });
#
# $req: { vars => { NAME => VALUE }, order => [ NAME... ] as sent,
# body => BYTES, head => the raw netstring length or uwsgi header bytes,
# modifier1, modifier2, datasize (uwsgi), from => the client's port (0 on
# a unix socket), addr => its address ('' on a unix socket) }. A handler may sleep (a slow
# peer): every connection has a process of its own. The server is one
# forked process on 127.0.0.1:port(LABEL), or on a unix socket (unix =>
# PATH, mode 0777 for workers running as nobody), listening before
# start() returns, killed (by its pid) when the object goes away.

package Test::Kiln::CgiPeer;

use strict;
use warnings;

use IO::Socket::INET;
use IO::Socket::UNIX;
use POSIX qw(:sys_wait_h);

use Test::Kiln;

sub start {
    my ($class, %o) = @_;
    my ($self, $ls, $pid);

    $self = bless { %o }, $class;
    if ($o{unix}) {
        unlink $o{unix};
        $ls = IO::Socket::UNIX->new(Local => $o{unix}, Listen => 64)
            or die "CgiPeer: listen on $o{unix}: $!\n";
        chmod 0777, $o{unix};

    } else {
        $ls = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
            LocalPort => port($o{port}), Listen => 64, ReuseAddr => 1)
            or die "CgiPeer: listen on $o{port}: $!\n";
    }

    $pid = fork();
    die "CgiPeer: fork: $!\n" unless defined $pid;

    if ($pid == 0) {
        _serve($self, $ls);
        POSIX::_exit(0);
    }

    close $ls;
    $self->{pid} = $pid;
    return $self;
}

sub _serve {
    my ($self, $ls) = @_;
    my ($c, $pid, %kids, $k);

    # A connection's process ends with the server (a slow handler too).
    $SIG{CHLD} = sub { delete $kids{$k} while ($k = waitpid(-1, WNOHANG)) > 0 };
    # (only a live child of ours: waitpid says 0, not -1 for a reaped one)
    $SIG{TERM} = sub {
        kill 'KILL', grep { waitpid($_, WNOHANG) == 0 } keys %kids;
        POSIX::_exit(0);
    };

    for (;;) {
        $c = $ls->accept or next;
        $pid = fork();

        if (defined $pid && $pid == 0) {
            $SIG{TERM} = 'DEFAULT';
            close $ls;
            _connection($self, $c);
            POSIX::_exit(0);
        }

        $kids{$pid} = 1 if $pid;

        close $c;
    }
}

# Read exactly n bytes (undef at an early close).
sub _read_n {
    my ($c, $n) = @_;
    my ($buf, $got) = ('', 0);

    while (length($buf) < $n) {
        $got = sysread($c, $buf, $n - length($buf), length($buf));
        return undef unless $got;
    }

    return $buf;
}

sub _connection {
    my ($self, $c) = @_;
    my ($req, $out, $n, $ch, $len, $data);

    $req = { vars => {}, order => [], from => eval { $c->peerport } // 0,
        addr => eval { $c->peerhost } // '' };

    if ($self->{proto} eq 'scgi') {
        $len = '';

        for (;;) {
            $ch = _read_n($c, 1);
            return unless defined $ch;
            last if $ch eq ':';
            $len .= $ch;
        }

        $req->{head} = $len;
        $data = _read_n($c, $len + 1);
        return unless defined $data;
        chop $data;    # the netstring's ','

        my @f = split(/\0/, $data, -1);
        pop @f;        # after the last NUL

        while (@f) {
            my ($k, $v) = splice(@f, 0, 2);
            push @{$req->{order}}, $k;
            $req->{vars}{$k} = $v;
        }

    } else {
        $data = _read_n($c, 4);
        return unless defined $data;
        $req->{head} = $data;
        @$req{qw(modifier1 datasize modifier2)} = unpack('C v C', $data);
        $data = $req->{datasize} ? _read_n($c, $req->{datasize}) : '';
        return unless defined $data;

        while (length $data) {
            my $k = substr($data, 2, unpack('v', $data));
            $data = substr($data, 2 + length $k);
            my $v = substr($data, 2, unpack('v', $data));
            $data = substr($data, 2 + length $v);
            push @{$req->{order}}, $k;
            $req->{vars}{$k} = $v;
        }
    }

    $n = $req->{vars}{CONTENT_LENGTH} || 0;
    $req->{body} = $n ? _read_n($c, $n) : '';
    return unless defined $req->{body};

    $out = $self->{handler}->($req);
    $out = '' unless defined $out;

    while (length $out) {
        $n = syswrite($c, $out);
        last unless $n;
        substr($out, 0, $n) = '';
    }

    close $c;
}

sub stop {
    my ($self) = @_;

    return unless $self->{pid};
    kill 'TERM', $self->{pid};
    waitpid($self->{pid}, 0);
    delete $self->{pid};
}

sub DESTROY {
    $_[0]->stop;
}

1;
