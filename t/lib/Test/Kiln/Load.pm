# Test/Kiln/Load.pm: a load generator for the integration tests: forked
# clients that GET one small file over and over until told to stop.
#
# Used to show that something done to a running kiln (200 reloads, a
# binary upgrade) loses no request. Each client is a forked Perl process
# (core modules only) bounded by a duration and a request count; it
# reports its totals through a file the parent reads, rewritten a few
# times a second so that progress can be watched while it runs.
#
#     my $l = Test::Kiln::Load->start(uri => '/index.html', body => "hi\n",
#         mode => 'keepalive', clients => 2);
#     $l->wait_requests(100);             # the load is really flowing
#     ... reload, upgrade ...
#     my $r = $l->stop;                   # { ok, failed, errors, ... }
#     is($r->{failed}, 0, 'no request failed') or diag($r->{summary});
#
# What counts as a failed request: the connect fails; the response is not
# a complete "200" with a Content-Length and exactly the expected body; the
# connection closes or resets before the complete response; no response
# within the timeout; bytes arrive that no request asked for.
#
# Keep-alive mode follows RFC 9112 9.3.1: a server may close an idle
# persistent connection at any time, so a close seen before the client has
# sent anything on the connection is no failure (the client reconnects and
# counts it in idle_closed). A request whose bytes were written and that
# got no complete response IS a failure: it is counted, never retried.

package Test::Kiln::Load;

use strict;
use warnings;

use Errno qw(EINTR EAGAIN EWOULDBLOCK ECONNRESET EPIPE);
use File::Temp ();
use IO::Select;
use IO::Socket::INET;
use POSIX qw(WNOHANG);
use Scalar::Util qw(weaken);
use Time::HiRes qw(time);

use Test::Kiln ();

my @LOADS;                      # weak refs: stopped at exit

my %DEFAULTS = (
    port        => 8080,        # port label, as Test::Kiln::port() takes
    uri         => '/index.html',
    host        => 'localhost',
    body        => undef,       # the exact expected body (required)
    mode        => 'keepalive', # or 'close': a new connection per request
    clients     => 2,
    per_conn    => 100,         # keepalive: requests before the client
                                # closes and reconnects (0: never)
    duration    => 60,          # seconds; a client stops by itself then
    max         => 1_000_000,   # requests per client at most
    timeout     => 10,          # seconds for one request
    max_errors  => 10,          # failure descriptions kept per client
);


# start(%opts): fork the clients and return at once. Options are those in
# %DEFAULTS; "dir" names where result files go (default: a temp dir).

sub start {
    my ($class, %o) = @_;
    my ($self, $pid);

    for my $k (keys %o) {
        die "Test::Kiln::Load: unknown option $k\n"
            unless exists $DEFAULTS{$k} || $k eq 'dir';
    }

    %o = (%DEFAULTS, %o);
    die "Test::Kiln::Load: body => is required\n" unless defined $o{body};
    die "Test::Kiln::Load: mode is keepalive or close\n"
        unless $o{mode} eq 'keepalive' || $o{mode} eq 'close';

    $self = bless { opts => \%o, pids => [], owner => $$ }, $class;

    if (!defined $o{dir}) {
        $self->{tmp} = File::Temp->newdir('kiln-load-XXXXXXXX',
            TMPDIR => 1);
        $o{dir} = $self->{tmp}->dirname;
    }

    $o{portnum} = Test::Kiln::port($o{port});

    for my $i (1 .. $o{clients}) {
        $pid = fork();
        die "fork: $!\n" unless defined $pid;

        if ($pid == 0) {
            _client(\%o, $i);
            POSIX::_exit(0);
        }

        push @{$self->{pids}}, $pid;
    }

    push @LOADS, $self;
    weaken($LOADS[-1]);

    return $self;
}


# totals(): the clients' totals so far, summed: { ok, failed, idle_closed,
# connections, errors => [...] }. While running, up to ~0.2 s stale.

sub totals {
    my ($self) = @_;
    my (%t, $fh);

    %t = (ok => 0, failed => 0, idle_closed => 0, connections => 0,
        errors => [], clients => 0);

    for my $pid (@{$self->{pids}}) {
        open($fh, '<', "$self->{opts}{dir}/load-$pid") or next;
        $t{clients}++;

        while (my $line = <$fh>) {
            chomp $line;
            if ($line =~ /^(ok|failed|idle_closed|connections) (\d+)$/) {
                $t{$1} += $2;
            } elsif ($line =~ /^error (.*)$/) {
                push @{$t{errors}}, $1;
            }
        }

        close $fh;
    }

    return \%t;
}


# wait_requests(N, TIMEOUT): wait until N more requests than at the call
# (default) have succeeded; true if they did. Use it to be sure the load is
# flowing before acting, and that requests were served meanwhile.

sub wait_requests {
    my ($self, $n, $timeout) = @_;
    my $base = $self->totals->{ok};

    return Test::Kiln::wait_for(sub { $self->totals->{ok} >= $base + $n },
        $timeout // 10);
}


# stop(TIMEOUT): tell the clients to finish their current request and exit;
# wait for them (bounded: KILL after TIMEOUT, reported in the summary).
# Returns the totals plus { summary => "one line", killed => N }.

sub stop {
    my ($self, $timeout) = @_;
    my ($deadline, %left, $t, @e);

    return $self->{result} if $self->{result};

    %left = map { $_ => 1 } @{$self->{pids}};
    kill 'TERM', keys %left;

    $deadline = time() + ($timeout // $self->{opts}{timeout} + 5);

    while (%left && time() < $deadline) {
        for my $pid (keys %left) {
            delete $left{$pid} if waitpid($pid, WNOHANG) != 0;
        }
        select(undef, undef, undef, 0.02) if %left;
    }

    for my $pid (keys %left) {
        kill 'KILL', $pid;
        waitpid($pid, 0);
    }

    $t = $self->totals;
    $t->{killed} = scalar keys %left;

    @e = @{$t->{errors}};
    $t->{summary} = sprintf('%s load, %d clients: ok %d, failed %d, '
        . 'idle closes %d, connections %d%s%s', $self->{opts}{mode},
        scalar @{$self->{pids}}, $t->{ok}, $t->{failed}, $t->{idle_closed},
        $t->{connections},
        $t->{killed} ? ", $t->{killed} clients did not stop" : '',
        @e ? "\nfailures:\n  " . join("\n  ", @e[0 .. ($#e > 9 ? 9 : $#e)])
           : '');

    $self->{result} = $t;
    return $t;
}


sub DESTROY {
    my ($self) = @_;

    local ($?, $@, $!);
    $self->stop(2) if $self->{owner} == $$ && !$self->{result};
}


END {
    local $?;

    for my $l (grep { defined } @LOADS) {
        $l->stop(2) if $l->{owner} == $$ && !$l->{result};
    }
}


# --- the client (a forked child) ----------------------------------------------

my $STOP = 0;


sub _client {
    my ($o, $n) = @_;
    my ($st, $deadline, $parent, $last_report, $req, $term);

    $STOP = 0;
    $SIG{TERM} = sub { $STOP = 1; };
    $SIG{INT} = $SIG{HUP} = 'DEFAULT';
    $SIG{PIPE} = 'IGNORE';

    _close_inherited();

    $parent = getppid();
    $deadline = time() + $o->{duration};
    $last_report = 0;

    $st = { ok => 0, failed => 0, idle_closed => 0, connections => 0,
        errors => [], o => $o, n => $n, sock => undef, on_conn => 0 };

    $req = "GET $o->{uri} HTTP/1.1\r\nHost: $o->{host}\r\n"
        . ($o->{mode} eq 'close' ? "Connection: close\r\n" : '') . "\r\n";

    # TERM is blocked while a request is in progress: it must not cut a
    # connect or a wait short (a failure that the server did not cause);
    # it is taken between requests.
    $term = POSIX::SigSet->new(POSIX::SIGTERM());

    while (!$STOP && time() < $deadline
        && $st->{ok} + $st->{failed} < $o->{max})
    {
        last if getppid() != $parent;

        POSIX::sigprocmask(POSIX::SIG_BLOCK(), $term);

        if ($o->{mode} eq 'close') {
            _one_close($st, $req);
        } else {
            _one_keepalive($st, $req);
        }

        POSIX::sigprocmask(POSIX::SIG_UNBLOCK(), $term);

        if (time() - $last_report >= 0.2) {
            _report($st);
            $last_report = time();
        }
    }

    close $st->{sock} if $st->{sock};
    _report($st);
}


# A forked client must not hold the parent's sockets (a test waiting for
# the server to close one would wait on this copy) nor other descriptors.

sub _close_inherited {
    my $dh;

    opendir($dh, '/proc/self/fd') or return;
    my @fds = grep { /^\d+$/ && $_ > 2 } readdir $dh;
    closedir $dh;

    POSIX::close($_) for @fds;
}


sub _report {
    my ($st) = @_;
    my ($dir, $tmp, $fh);

    $dir = $st->{o}{dir};
    $tmp = "$dir/.load-$$.tmp";

    open($fh, '>', $tmp) or return;
    print $fh "$_ $st->{$_}\n" for qw(ok failed idle_closed connections);
    print $fh "error $_\n" for @{$st->{errors}};
    close $fh;

    rename $tmp, "$dir/load-$$";
}


sub _fail {
    my ($st, $why) = @_;

    $st->{failed}++;

    if (@{$st->{errors}} < $st->{o}{max_errors}) {
        $why =~ s/[\r\n]+/ /g;
        push @{$st->{errors}}, sprintf('%.3f client %d (%s, conn req %d): %s',
            time(), $st->{n}, $st->{o}{mode}, $st->{on_conn}, $why);
    }

    # A connection where something went wrong is not reused.
    if ($st->{sock}) {
        close $st->{sock};
        $st->{sock} = undef;
    }
}


sub _connect {
    my ($st) = @_;
    my $s;

    $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
        PeerPort => $st->{o}{portnum}, Proto => 'tcp',
        Timeout => $st->{o}{timeout});

    if (!$s) {
        my $err = "$!";
        _fail($st, "connect: $err");

        # Do not spin on a refused port.
        select(undef, undef, undef, 0.01);
        return undef;
    }

    $st->{connections}++;
    $st->{on_conn} = 0;
    return $s;
}


# _idle_closed(SOCK): before reusing a keep-alive connection: 1 if the
# server has closed it (EOF or reset), 0 if it is open and silent, or a
# description if unsolicited bytes arrived.

sub _idle_closed {
    my ($s) = @_;
    my ($buf, $n);

    return 0 unless IO::Select->new($s)->can_read(0);

    $n = sysread($s, $buf, 4096);

    return 1 if defined $n && $n == 0;
    return 1 if !defined $n && $! == ECONNRESET;
    return 0 if !defined $n && ($! == EINTR || $! == EAGAIN);
    return "read on an idle connection: $!" unless defined $n;
    return "unsolicited bytes on an idle connection: "
        . _show(substr($buf, 0, 80));
}


sub _one_keepalive {
    my ($st, $req) = @_;
    my ($s, $idle, $w, $r);

    if ($st->{sock}) {
        $idle = _idle_closed($st->{sock});

        if ($idle) {
            if ($idle eq '1') {
                $st->{idle_closed}++;
                close $st->{sock};
                $st->{sock} = undef;
            } else {
                _fail($st, $idle);
            }
        }
    }

    $st->{sock} //= _connect($st);
    $s = $st->{sock};
    return unless $s;

    $st->{on_conn}++;

    $w = _write($s, $req, $st->{o}{timeout});

    if ($w == 0) {
        # Not one byte of the request left: the server had closed the
        # connection (a reset seen by the write); nothing was sent.
        $st->{idle_closed}++;
        close $s;
        $st->{sock} = undef;
        return;
    }

    if ($w < 0) {
        _fail($st, "request partly written: $!");
        return;
    }

    $r = _read_response($s, $st->{o});

    if (!ref $r) {
        _fail($st, $r);
        return;
    }

    $st->{ok}++;

    if ($r->{close} || ($st->{o}{per_conn}
        && $st->{on_conn} >= $st->{o}{per_conn}))
    {
        close $s;
        $st->{sock} = undef;
    }
}


sub _one_close {
    my ($st, $req) = @_;
    my ($s, $w, $r, $buf, $n);

    $s = _connect($st);
    return unless $s;

    $st->{sock} = $s;
    $st->{on_conn} = 1;

    $w = _write($s, $req, $st->{o}{timeout});

    if ($w <= 0) {
        _fail($st, "request not written: $!");
        return;
    }

    $r = _read_response($s, $st->{o});

    if (!ref $r) {
        _fail($st, $r);
        return;
    }

    # "Connection: close" asked for: nothing more, then the close.
    $n = _read_eof($s, $st->{o}{timeout}, \$buf);

    if (!defined $n) {
        _fail($st, 'no close after the response to "Connection: close"');
        return;
    }

    if (length $buf) {
        _fail($st, 'bytes after the response: ' . _show(substr($buf, 0, 80)));
        return;
    }

    $st->{ok}++;
    close $s;
    $st->{sock} = undef;
}


# _write(SOCK, DATA, TIMEOUT): 1 if all written, 0 if nothing could be
# written (reset or broken pipe at once), -1 if it failed part way.

sub _write {
    my ($s, $data, $timeout) = @_;
    my ($deadline, $n, $done);

    $deadline = time() + $timeout;
    $done = 0;

    while ($done < length $data) {
        return $done ? -1 : 0
            unless IO::Select->new($s)->can_write(_left($deadline));

        $n = syswrite($s, $data, length($data) - $done, $done);

        if (!defined $n) {
            next if $! == EINTR || $! == EAGAIN || $! == EWOULDBLOCK;
            return $done ? -1 : 0 if $! == EPIPE || $! == ECONNRESET;
            return -1;
        }

        $done += $n;
    }

    return 1;
}


sub _left {
    my ($deadline) = @_;
    my $left = $deadline - time();

    return $left > 0 ? $left : 0;
}


# _read_response(SOCK, OPTS): one complete response, checked; a hashref
# { close } if it is the expected 200, or a description of what was wrong.

sub _read_response {
    my ($s, $o) = @_;
    my ($deadline, $buf, $n, $end, $head, $len, $body);

    $deadline = time() + $o->{timeout};
    $buf = '';

    for (;;) {
        $end = index($buf, "\r\n\r\n");

        if ($end >= 0) {
            $head = substr($buf, 0, $end + 4);

            if ($head !~ m{^HTTP/1\.[01] 200 }) {
                return 'status line: ' . _show(substr($head, 0, 60));
            }

            if ($head !~ /^content-length:[ \t]*(\d+)[ \t]*\r$/mi) {
                return 'no Content-Length: ' . _show($head);
            }

            $len = $1;

            if (length($buf) >= $end + 4 + $len) {
                last;
            }
        }

        $n = _read_some($s, $deadline, \$buf);

        if (!defined $n) {
            return 'timeout after ' . length($buf) . ' bytes of the response';
        }

        if ($n == 0) {
            return ($! && $! == ECONNRESET ? 'reset' : 'close') . ' after '
                . length($buf) . ' bytes of the response';
        }
    }

    $body = substr($buf, $end + 4, $len);

    if ($body ne $o->{body}) {
        return 'body differs: got ' . _show(substr($body, 0, 60));
    }

    if (length($buf) > $end + 4 + $len) {
        return 'bytes after the response: '
            . _show(substr($buf, $end + 4 + $len, 60));
    }

    return { close => $head =~ /^connection:[ \t]*close[ \t]*\r$/mi ? 1 : 0 };
}


# _read_some(SOCK, DEADLINE, \BUF): append what arrives; bytes read, 0 on
# EOF or reset ($! says which), undef on timeout.

sub _read_some {
    my ($s, $deadline, $buf) = @_;
    my ($n, $chunk);

    for (;;) {
        return undef
            unless IO::Select->new($s)->can_read(_left($deadline));

        $! = 0;
        $n = sysread($s, $chunk, 65536);

        if (!defined $n) {
            next if $! == EINTR || $! == EAGAIN || $! == EWOULDBLOCK;
            return 0;
        }

        $! = 0 if $n == 0;
        $$buf .= $chunk;
        return $n;
    }
}


sub _read_eof {
    my ($s, $timeout, $buf) = @_;
    my ($deadline, $n);

    $deadline = time() + $timeout;
    $$buf = '';

    for (;;) {
        $n = _read_some($s, $deadline, $buf);
        return undef unless defined $n;
        return 1 if $n == 0;
    }
}


sub _show {
    my ($s) = @_;

    $s =~ s/([^\x20-\x7e])/sprintf('\\x%02x', ord $1)/ge;
    return "\"$s\"";
}


1;
