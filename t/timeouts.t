#!/usr/bin/perl
# timeouts.t: slow and stuck clients: client_header_timeout (closed, no
# response), keepalive_timeout, send_timeout for a client that stops
# reading, lingering close after an error while the client keeps sending
# (lingering_time bounds it), and reset_timedout_connection. Timeouts are
# 1-2 s; every wait is a bounded poll.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Errno qw(EAGAIN EWOULDBLOCK EINTR);
use IO::Select;
use IO::Socket::INET;
use Socket qw(SOL_SOCKET SO_RCVBUF pack_sockaddr_in inet_aton);
use Test::More;
use Test::Kiln;
use Time::HiRes qw(time);

my $t = Test::Kiln->new->has('static', 'index');

$t->write_file_expand('kiln.conf', <<'EOF');
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes 1;

events {
    worker_connections 64;
}

http {
    root %%TESTDIR%%/html;

    server {
        listen                 127.0.0.1:%%PORT_8080%%;
        server_name            localhost;
        client_header_timeout  1s;
        keepalive_timeout      1s;
    }

    server {
        listen        127.0.0.1:%%PORT_8081%% sndbuf=16k;
        server_name   localhost;
        send_timeout  1s;
    }

    server {
        listen             127.0.0.1:%%PORT_8082%%;
        server_name        localhost;
        lingering_time     2s;
        lingering_timeout  1s;
    }

    server {
        listen                     127.0.0.1:%%PORT_8083%%;
        server_name                localhost;
        client_header_timeout      1s;
        reset_timedout_connection  on;
    }
}
EOF

$t->write_file('html/a.txt', "file a\n");

my $big_size = 16 * 1024 * 1024;
$t->write_file('html/big.bin', 'b' x $big_size);

$t->plan(31);
$t->run;

sub got {
    my ($s) = @_;

    return ${*$s}{kiln_buf} // '';
}

# Everything that only waits starts at once, so the file waits for one
# timeout rather than one per case.

# client_header_timeout 1s: half a request line, half a head, and nothing
# at all are each closed after about a second, with no response (nginx
# sends no 408).
my @slow = (
    ['half a request line', "GET /a.t"],
    ['half a head', "GET /a.txt HTTP/1.1\r\nHost: localhost\r\nX-A: b"],
    ['a head without its last CRLF',
        "GET /a.txt HTTP/1.1\r\nHost: localhost\r\n"],
    ['nothing', ''],
);
my @socks = map { http($_->[1], start => 1) } @slow;

# keepalive_timeout 1s: after a response, the idle connection is closed.
my $idle = http("GET /a.txt HTTP/1.1\r\nHost: localhost\r\n\r\n", start => 1);

# reset_timedout_connection: on (8083) a timed-out request ends with a
# reset, off (8080) with a FIN.
my $reset_on = http("GET /a.txt HTTP/1.1\r\nHost: loc", start => 1,
    port => 8083);
my $reset_off = http("GET /a.txt HTTP/1.1\r\nHost: loc", start => 1);

# send_timeout 1s (8081): a client that asks for 16 MiB and never reads.
# Once the socket buffers are full nothing moves, and the server gives up.
my $stuck = IO::Socket::INET->new(Proto => 'tcp') or die "socket: $!\n";
$stuck->setsockopt(SOL_SOCKET, SO_RCVBUF, 4096);
$stuck->connect(pack_sockaddr_in(port(8081), inet_aton('127.0.0.1')))
    or die "connect: $!\n";
http("GET /big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n", socket => $stuck,
    start => 1);

my $t0 = time();

for my $i (0 .. $#slow) {
    my $s = $socks[$i];
    my $name = $slow[$i][0];
    my $ok = wait_closed($s, 5);
    my $took = time() - $t0;

    ok($ok && $took >= 0.8 && $took < 3.5,
        "client_header_timeout 1s, $name: closed after "
        . sprintf('%.2f', $took) . ' s');
    is(got($s), '', "client_header_timeout, $name: no response");
}

ok(wait_for(sub { $t->read_file('error.log') =~ /client timed out/ }),
    'client_header_timeout: "client timed out" logged');

# keepalive_timeout.

my $r = parse_response(read_response($idle)) // {};
is($r->{body}, "file a\n", 'keepalive_timeout: first response');
my $ok = wait_closed($idle, 5);
my $took = time() - $t0;
ok($ok && $took >= 0.8 && $took < 3.5,
    'keepalive_timeout 1s: idle connection closed after '
    . sprintf('%.2f', $took) . ' s');
is(got($idle), '', 'keepalive_timeout: nothing sent on close');

# reset_timedout_connection.

ok(wait_closed($reset_on, 5), 'reset_timedout_connection on: connection ends');
ok(${*$reset_on}{kiln_reset}, 'reset_timedout_connection on: reset (RST)');
ok(wait_closed($reset_off, 5),
    'reset_timedout_connection off: connection ends');
ok(!${*$reset_off}{kiln_reset},
    'reset_timedout_connection off: no reset (FIN)');

# send_timeout: the server's verdict is in the log; then the client reads
# what was buffered and finds the connection closed, never the whole file.

ok(wait_for(sub {
    $t->read_file('error.log') =~ m{client timed out.*"GET /big\.bin }
}, 8), 'send_timeout: the stuck client timed out');
$took = time() - $t0;
cmp_ok($took, '>=', 0.8, 'send_timeout: not before the timeout');
cmp_ok($took, '<', 6, 'send_timeout: within bounds');
my ($line) = grep { /timed out.*big\.bin/ }
    split /\n/, $t->read_file('error.log');
my $words = qr{client timed out \(110: Connection timed out\) while }
    . qr{sending response to client, client: 127\.0\.0\.1, }
    . qr{server: localhost, request: "GET /big\.bin HTTP/1\.1"};
like($line // '', qr/$words/,
    'send_timeout: logged in nginx\'s words');

my $all = http_read($stuck, timeout => 10);
$r = parse_response($all) // {};
is($r->{status}, 200, 'send_timeout: the response had begun (200)');
cmp_ok(length($r->{body} // ''), '<', $big_size,
    'send_timeout: connection closed before the whole file');

# The header timeout bounds the whole head, not each read (as nginx): a
# client that trickles a byte every 0.1 s is closed about a second after
# it connected, unanswered.

my $s = http_connect();
$t0 = time();
for my $c (split //, "GET /a.txt HTTP/1.1\r\nHost: localhost\r\nX-Slow: "
    . ('s' x 40) . "\r\n\r\n")
{
    last unless http($c, socket => $s, start => 1);
    last if IO::Select->new($s)->can_read(0.1);
}
$ok = wait_closed($s, 5);
$took = time() - $t0;
ok($ok && $took >= 0.8 && $took < 3,
    'client_header_timeout: a trickling head closed after '
    . sprintf('%.2f', $took) . ' s');
is(got($s), '', 'client_header_timeout: the trickling head gets nothing');

# A request within keepalive_timeout is answered; the timeout then starts
# again.

$s = http("GET /a.txt HTTP/1.1\r\nHost: localhost\r\n\r\n", start => 1);
read_response($s);
select(undef, undef, undef, 0.5);
http("GET /a.txt HTTP/1.1\r\nHost: localhost\r\n\r\n", socket => $s,
    start => 1);
$r = parse_response(read_response($s)) // {};
is($r->{body}, "file a\n", 'keepalive_timeout: request after 0.5 s served');
$t0 = time();
$ok = wait_closed($s, 5);
$took = time() - $t0;
ok($ok && $took >= 0.8 && $took < 3.5,
    'keepalive_timeout: restarted by the request');

# Lingering close (8082): a bad header, then the client keeps sending. The
# 400 arrives whole (no reset destroys it), because the server drains what
# the client sends before it closes; lingering_time 2s ends the draining.

my ($resp, $reset, $write_err, $elapsed) = flood(port(8082),
    "GET /a.txt HTTP/1.1\r\nHost: localhost\r\nX-Bad\x01: y\r\n\r\n", 8);
$r = parse_response($resp) // {};
is($r->{status}, 400, 'lingering close: 400 while the client sends');
like($r->{body}, qr{<title>400 Bad Request</title>.*</html>\r\n\z}s,
    'lingering close: the 400 page arrives whole');
is(length($r->{body} // ''), $r->{headers}{'content-length'} // -1,
    'lingering close: all Content-Length bytes');
ok($write_err, 'lingering_time: the server stops draining at last');
ok($elapsed >= 1.0 && $elapsed < 6,
    'lingering_time 2s: closed after ' . sprintf('%.2f', $elapsed) . ' s');

$t->stop;


# flood(PORT, HEAD, SECS): send HEAD, then keep sending junk for up to SECS
# seconds, reading whatever comes back. Returns (the bytes read, whether a
# read saw a reset, whether a write failed, seconds until the write failed
# or SECS).

sub flood {
    my ($port, $head, $secs) = @_;
    my ($s, $sel, $junk, $got, $reset, $err, $t0, $n, $buf, $rsel);

    $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
        Proto => 'tcp') or die "connect: $!\n";
    $s->blocking(0);
    $sel = IO::Select->new($s);
    $rsel = IO::Select->new($s);
    $junk = 'j' x 16384;
    $got = '';
    $t0 = time();

    syswrite($s, $head);

    while (time() - $t0 < $secs) {
        my ($rd, $wr) = IO::Select->select($rsel, $sel, undef, 0.05);

        if ($rd && @$rd) {
            $n = sysread($s, $buf, 65536);
            if (defined $n && $n > 0) {
                $got .= $buf;
            } elsif (defined $n) {
                $rsel->remove($s);
            } elsif ($! != EAGAIN && $! != EWOULDBLOCK) {
                $reset = 1;
                $rsel->remove($s);
            }
        }

        if ($wr && @$wr) {
            $n = syswrite($s, $junk);
            if (!defined $n && $! != EAGAIN && $! != EWOULDBLOCK
                && $! != EINTR)
            {
                $err = 1;
                last;
            }
        }
    }

    my $elapsed = time() - $t0;

    # Whatever is still readable.
    $s->blocking(1);
    while (IO::Select->new($s)->can_read(0.5)) {
        $n = sysread($s, $buf, 65536);
        last unless $n;
        $got .= $buf;
    }

    close $s;
    return ($got, $reset, $err, $elapsed);
}
