#!/usr/bin/perl
# slowloris.t: slow clients against one worker: 2000 slowloris connections
# trickling a header byte a second do not keep a normal client waiting
# (each of its requests answered long before client_header_timeout; the
# latencies are printed), and each is closed unanswered at
# client_header_timeout, not before; then 50 clients that read a large
# file a few bytes at a time and stop are closed at send_timeout while a
# normal client is served. Both end with the worker holding no connection.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Errno qw(EAGAIN EWOULDBLOCK EINTR);
use IO::Socket::INET;
use Socket qw(SOL_SOCKET SO_RCVBUF pack_sockaddr_in inet_aton);
use Test::More;
use Test::Kiln;
use Time::HiRes qw(time);

my $t = Test::Kiln->new->has('static');

my $SLOW = 2000;            # slowloris connections
my $HEADER_TIMEOUT = 8;     # client_header_timeout, seconds
my $NORMAL = 20;            # normal requests meanwhile
my $READERS = 50;           # slow readers
my $SEND_TIMEOUT = 2;       # send_timeout, seconds

# One worker: all the slow connections and the normal client share one
# event loop, the case where one could starve the other.
$t->write_file_expand('kiln.conf', <<"EOF");
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes 1;
worker_rlimit_nofile 8192;

events {
    worker_connections 4096;
}

http {
    root %%TESTDIR%%/html;

    server {
        listen                 127.0.0.1:%%PORT_8080%% backlog=4096;
        server_name            localhost;
        client_header_timeout  ${HEADER_TIMEOUT}s;
    }

    server {
        listen         127.0.0.1:%%PORT_8081%% sndbuf=16k;
        server_name    localhost;
        send_timeout   ${SEND_TIMEOUT}s;
    }
}
EOF

$t->write_file('html/index.html', "normal client\n");

my $big_size = 8 * 1024 * 1024;
$t->write_file('html/big.bin', 'b' x $big_size);

$SIG{PIPE} = 'IGNORE';

$t->plan(21);
$t->run;

my $worker;
wait_for(sub { ($worker) = $t->worker_pids }, 5);

# conns(): the worker's TCP connections: its sockets that are in
# /proc/net/tcp and not listening.

sub conns {
    my %inode = map { /^socket:\[(\d+)\]/ ? ($1 => 1) : () }
        values %{$t->fds($worker)};
    my ($fh, $n);

    open($fh, '<', '/proc/net/tcp') or die "/proc/net/tcp: $!\n";
    $n = 0;
    while (my $line = <$fh>) {
        my @f = split ' ', $line;
        $n++ if @f > 9 && $inode{$f[9]} && $f[3] ne '0A';
    }
    close $fh;

    return $n;
}

ok(wait_for(sub { conns() == 0 }, 5), 'the worker starts with no connection');

# normal(PORT): one GET /index.html on a new connection; (ok, seconds).

sub normal {
    my ($port) = @_;
    my $t0 = time();
    my $raw = http("GET /index.html HTTP/1.1\r\nHost: localhost\r\n"
        . "Connection: close\r\n\r\n", port => $port, timeout => 5);
    my $took = time() - $t0;
    my $r = parse_response($raw) // {};

    return (($r->{status} // 0) == 200
            && ($r->{body} // '') eq "normal client\n", $took);
}

# --- slowloris ---------------------------------------------------------------

# Each connection sends its request line and Host, then a header line
# that never ends, a byte a second; a closed connection is seen on a
# non-blocking read (EOF or reset) or a failed write.

my $line = "GET /index.html HTTP/1.1\r\nHost: localhost\r\n";
my $head = 'X-Slow: ' . ('s' x 64);
my (@socks, @opened, @closed, @got, $buf, $n);

my $t_connect = time();

for my $i (0 .. $SLOW - 1) {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
        PeerPort => port(8080), Proto => 'tcp', Timeout => 5)
        or die "slowloris connection $i: $!\n";
    syswrite($s, $line) == length($line) or die "write: $!\n";
    $s->blocking(0);
    push @socks, $s;
    push @opened, time();
    push @got, '';
}

diag(sprintf('%d slowloris connections opened in %.2f s', $SLOW,
    time() - $t_connect));

# poll(NOW): note the connections the server has closed since last time.

sub poll_closed {
    my ($now) = @_;

    for my $i (0 .. $#socks) {
        next if defined $closed[$i];

        $n = sysread($socks[$i], $buf, 4096);
        if (defined $n && $n > 0) {
            $got[$i] .= $buf;
            next;
        }
        next if !defined $n && ($! == EAGAIN || $! == EWOULDBLOCK
            || $! == EINTR);

        $closed[$i] = $now;     # EOF or reset
        close $socks[$i];
    }
}

my ($sent, @latency, $served, $next_byte, $next_normal, $deadline, $now);

$sent = 0;
$served = 0;
$next_byte = time();
$next_normal = time() + 0.2;
$deadline = $opened[-1] + $HEADER_TIMEOUT + 6;

while (($now = time()) < $deadline) {
    if ($now >= $next_byte) {
        my $c = substr($head, $sent % length($head), 1);

        for my $i (0 .. $#socks) {
            next if defined $closed[$i];
            $n = syswrite($socks[$i], $c);
            if (!defined $n && $! != EAGAIN && $! != EWOULDBLOCK
                && $! != EINTR)
            {
                $closed[$i] = $now;
                close $socks[$i];
            }
        }

        $sent++;
        $next_byte += 1;
        next;
    }

    if (@latency < $NORMAL && $now >= $next_normal) {
        my ($ok, $took) = normal(8080);
        push @latency, $took;
        $served++ if $ok && $took < 2;
        $next_normal = time() + 0.25;
        next;
    }

    poll_closed($now);
    last if @latency == $NORMAL && !grep { !defined } @closed[0 .. $#socks];
    select(undef, undef, undef, 0.1);
}

poll_closed(time());

is(scalar @latency, $NORMAL, "$NORMAL normal requests made meanwhile");
is($served, $NORMAL,
    "each normal request answered 200 within 2 s (header timeout "
    . "${HEADER_TIMEOUT} s)");

my @sorted = sort { $a <=> $b } @latency;
diag(sprintf('normal client with %d slowloris connections: median %.1f ms, '
    . 'max %.1f ms over %d requests', $SLOW,
    1000 * ($sorted[$#sorted / 2] // 0), 1000 * ($sorted[-1] // 0),
    scalar @sorted));

ok($sent >= $HEADER_TIMEOUT - 1,
    "slowloris: the clients kept sending ($sent bytes each)");

my $open = grep { !defined } @closed;
is($open, 0, "slowloris: all $SLOW connections closed");

my @life = map { defined $closed[$_] ? $closed[$_] - $opened[$_] : 1e9 }
    0 .. $#socks;
my @sl = sort { $a <=> $b } @life;
my $early = grep { $_ < $HEADER_TIMEOUT - 0.5 } @life;
my $late = grep { $_ > $HEADER_TIMEOUT + 4 } @life;
is($early, 0, 'slowloris: none closed before client_header_timeout '
    . sprintf('(first after %.2f s)', $sl[0]));
is($late, 0, 'slowloris: all closed within 4 s of client_header_timeout '
    . sprintf('(last after %.2f s)', $sl[-1]));
is(scalar(grep { length } @got), 0, 'slowloris: no response sent');

my $log = $t->read_file('error.log');
my $header_re = qr{client timed out \(110: Connection timed out\) }
    . qr{while reading client request headers};
my $timed_out = () = $log =~ /$header_re/g;
is($timed_out, $SLOW, 'slowloris: each logged "client timed out"');

ok(wait_for(sub { conns() == 0 }, 5),
    'slowloris: the worker holds no connection any more') or diag(conns());

my ($ok) = normal(8080);
ok($ok, 'slowloris: served afterwards');

@socks = ();

# --- slow readers -------------------------------------------------------------

# Each asks for 8 MiB with a small receive buffer, reads a few bytes a few
# times and then stops reading: once the buffers are full nothing moves,
# and send_timeout ends the connection.

my @readers;

for my $i (1 .. $READERS) {
    my $s = IO::Socket::INET->new(Proto => 'tcp') or die "socket: $!\n";
    $s->setsockopt(SOL_SOCKET, SO_RCVBUF, 4096);
    $s->connect(pack_sockaddr_in(port(8081), inet_aton('127.0.0.1')))
        or die "connect: $!\n";
    syswrite($s, "GET /big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n");
    push @readers, $s;
}

my $read = 0;
my $requested = time();
my %part;

for my $round (1 .. 3) {
    for my $s (@readers) {
        if (IO::Select->new($s)->can_read(5)) {
            $n = sysread($s, $buf, 16);
            $read++ if $n;
            $part{$s} .= $buf if $n;
        }
    }
    select(undef, undef, undef, 0.1);
}

is($read, 3 * $READERS, 'slow readers: each read a few bytes three times');

my $re = qr{client timed out \(110: Connection timed out\) while sending }
    . qr{response to client.*"GET /big\.bin };

# Meanwhile a normal client, on the same worker, is served; then wait for
# the timeouts, noting when the first one is logged.

$served = 0;
my ($first, $count);
for my $i (1 .. 10) {
    ($ok) = normal(8081);
    $served++ if $ok;
    $count = () = $t->read_file('error.log') =~ /$re/g;
    $first //= time() if $count;
}

is($served, 10, 'slow readers: a normal client is served meanwhile');

ok(wait_for(sub {
    $count = () = $t->read_file('error.log') =~ /$re/g;
    $first //= time() if $count;
    $count >= $READERS;
}, $SEND_TIMEOUT + 15, 0.05), "slow readers: $READERS timed out")
    or diag("$count timed out");

# The server's timer starts at its last write, which may be before a
# client's last read (a few bytes read do not reopen the TCP window), but
# never before the request; timers may fire up to 0.3 s early (lazy
# re-arm, as nginx).
cmp_ok($first - $requested, '>=', $SEND_TIMEOUT - 0.35,
    sprintf('slow readers: none before send_timeout (first %.2f s after '
        . 'the requests)', $first - $requested));
is($count, $READERS, 'slow readers: one timeout each');

# What was buffered arrives, then the close: never the whole file.

my ($closed, $short) = (0, 0);
for my $s (@readers) {
    my $all = http_read($s, timeout => 10);
    $closed++ if defined $all;
    my $r = parse_response($part{$s} . ($all // '')) // {};
    $short++ if ($r->{status} // 0) == 200
        && length($r->{body} // '') < $big_size;
}

is($closed, $READERS, 'slow readers: every connection closed');
is($short, $READERS, 'slow readers: each got a 200 and part of the file');

ok(wait_for(sub { conns() == 0 }, 5),
    'slow readers: the worker holds no connection any more') or diag(conns());
($ok) = normal(8081);
ok($ok, 'slow readers: served afterwards');
ok($t->alive($worker), 'the same worker throughout');

$t->stop;
