#!/usr/bin/perl
# signals.t: the master's stop signals with transfers in flight: QUIT lets
# a slow 20 MiB download finish byte for byte while refusing new
# connections and closing idle ones; TERM and INT stop at once;
# worker_shutdown_timeout cuts a graceful quit short; WINCH stops the
# workers but not the master, and HUP brings them back.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Errno qw(ECONNREFUSED);
use IO::Select;
use IO::Socket::INET;
use Socket qw(SOL_SOCKET SO_RCVBUF pack_sockaddr_in inet_aton);
use Test::More;
use Test::Kiln;
use Time::HiRes qw(time);

my $t = Test::Kiln->new;
my $d = $t->testdir;

sub conf {
    my (%o) = @_;

    $o{daemon} //= 'on';
    $o{workers} //= 1;
    $o{root} //= 'html';
    $o{main} //= '';

    $t->write_file_expand('kiln.conf', <<"EOF");
daemon $o{daemon};
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes $o{workers};
$o{main}
events {
    worker_connections 64;
}

http {
    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        location / {
            root %%TESTDIR%%/$o{root};
        }
    }
}
EOF
}

# (The bound is a variable: perl would fold a constant range at compile time.)
my $ints = 5 * 1024 * 1024;
my $big = pack('N*', 0 .. $ints - 1);    # 20 MiB, no two words alike
$t->write_file('html/big.bin', $big);
$t->write_file('html/index.html', "one\n");
$t->write_file('html2/index.html', "two\n");

$t->plan(42);

sub body {
    my $r = parse_response(http_get('/index.html', timeout => 5)) // {};

    return ($r->{status} // 0) == 200 ? $r->{body} : undef;
}

# refused(): a new connection is refused (not accepted, not timed out).

sub refused {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
        PeerPort => port(8080), Proto => 'tcp', Timeout => 2);
    my $err = $! + 0;

    return 0 if $s;
    return $err == ECONNREFUSED;
}

sub workers {
    return $t->master_pid ? $t->children($t->master_pid) : ();
}

# up_workers(N): the workers' pids once N are up (at most 5 s): $t->run
# returns when the port answers, which a worker may not have yet, and an
# empty list would make gone() trivially true (seen under a loaded
# sanitizer run).
sub up_workers {
    my ($n) = @_;
    my @pids;

    wait_for(sub { (@pids = workers()) >= $n }, 5);
    return @pids;
}

sub gone {
    my (@pids) = @_;

    return !grep { $t->alive($_) } @pids;
}

# download(): GET /big.bin on a socket with a small receive buffer, so
# that the server soon blocks on a full socket; returns the socket once the
# first bytes arrived, with what was read so far buffered on it.

sub download {
    my ($s, $buf, $n);

    $s = IO::Socket::INET->new(Proto => 'tcp') or die "socket: $!\n";
    setsockopt($s, SOL_SOCKET, SO_RCVBUF, 32768);
    $s->connect(pack_sockaddr_in(port(8080), inet_aton('127.0.0.1')))
        or die "connect: $!\n";
    syswrite($s, "GET /big.bin HTTP/1.0\r\nHost: localhost\r\n\r\n");

    ${*$s}{got} = '';
    while (length ${*$s}{got} < 65536) {
        last unless IO::Select->new($s)->can_read(5);
        $n = sysread($s, $buf, 65536);
        last unless $n;
        ${*$s}{got} .= $buf;
    }

    return $s;
}

# drain(SOCK, PAUSE): read the rest until the server closes, PAUSE seconds
# between reads of at most 64 KiB (a slow client); bounded. Returns the
# whole response.

sub drain {
    my ($s, $pause) = @_;
    my ($deadline, $buf, $n);

    $deadline = time() + 60;

    while (time() < $deadline) {
        last unless IO::Select->new($s)->can_read(10);
        $n = sysread($s, $buf, 65536);
        last unless $n;
        ${*$s}{got} .= $buf;
        select(undef, undef, undef, $pause) if $pause;
    }

    return ${*$s}{got};
}

sub complete {
    my ($raw) = @_;
    my $r = parse_response($raw) // {};

    return ($r->{status} // 0) == 200 && length($r->{body}) == length($big)
        && $r->{body} eq $big;
}

# QUIT: graceful.

conf();
$t->run;

my $master = $t->master_pid;
my @w = up_workers(1);

my $ka = http("GET /index.html HTTP/1.1\r\nHost: localhost\r\n\r\n",
    start => 1);
is((parse_response(read_response($ka)) // {})->{status}, 200,
    'QUIT: an idle keep-alive connection');

my $dl = download();
ok(length(${*$dl}{got}) >= 65536, 'QUIT: a 20 MiB download started');

$t->signal('QUIT');

ok(wait_for(\&refused, 5), 'QUIT: new connections are refused');
ok(wait_closed($ka, 5), 'QUIT: the idle keep-alive connection is closed');
is(${*$ka}{kiln_buf} // '', '', 'QUIT: ... with nothing sent on it');

# No worker_shutdown_timeout: the worker waits for the slow client.
ok(!wait_for(sub { gone(@w) }, 1.5), 'QUIT: the worker waits for the transfer');
ok($t->alive($master) && -e "$d/kiln.pid",
    'QUIT: the master and its pid file stay meanwhile');

ok(complete(drain($dl, 0.003)),
    'QUIT: the download completes, byte for byte');
ok($t->wait_exit(10), 'QUIT: the master exits');
ok(gone(@w), 'QUIT: the worker exits');
ok(!-e "$d/kiln.pid", 'QUIT: the pid file is removed');
like($t->read_file('error.log'), qr/gracefully shutting down/,
    'QUIT: logged');

# TERM and INT: fast, even with a transfer in flight.

for my $sig (qw(TERM INT)) {
    $t->run;
    $master = $t->master_pid;
    @w = up_workers(1);
    $dl = download();

    my $t0 = time();
    $t->signal($sig);

    ok($t->wait_exit(3), "$sig: the master exits with a download in flight");
    ok(time() - $t0 < 2, sprintf("$sig: within 2 s (%.2f s)", time() - $t0));
    ok(wait_for(sub { gone(@w) }, 2), "$sig: the worker exits");
    ok(!-e "$d/kiln.pid", "$sig: the pid file is removed");
    ok(refused(), "$sig: the port is closed");

    my $r = parse_response(drain($dl)) // {};
    ok(length($r->{body} // '') < length($big), "$sig: the download was cut");
}

# worker_shutdown_timeout: a graceful quit that gives up after 1s.

conf(main => "worker_shutdown_timeout 1s;\n");
$t->run;
@w = up_workers(1);
$dl = download();

my $t0 = time();
$t->signal('QUIT');

ok(wait_for(sub { gone(@w) }, 5, 0.01),
    'worker_shutdown_timeout: the worker exits');
my $took = time() - $t0;
ok($took >= 0.8 && $took < 3,
    sprintf('worker_shutdown_timeout 1s: after %.2f s', $took));
ok($t->wait_exit(5), 'worker_shutdown_timeout: the master exits');
ok(!-e "$d/kiln.pid", 'worker_shutdown_timeout: the pid file is removed');

my $r = parse_response(drain($dl)) // {};
ok(length($r->{body} // '') < length($big),
    'worker_shutdown_timeout: the download was cut');

# WINCH: the workers leave, the master stays, and HUP starts workers again
# with the current configuration.

conf(workers => 2);
$t->run;
$master = $t->master_pid;
ok(wait_for(sub { workers() == 2 }), 'WINCH: two workers');
is(body(), "one\n", 'WINCH: serves');
@w = workers();

$t->signal('WINCH');
ok(wait_for(sub { gone(@w) }, 5), 'WINCH: the workers exit');
ok($t->alive($master), 'WINCH: the master stays');
is($t->read_pid, $master, 'WINCH: the pid file stays');
ok(!wait_for(sub { workers() > 0 }, 0.5), 'WINCH: no worker is respawned');
ok($t->listen_sockets($master)->{port(8080)},
    'WINCH: the master keeps the listening socket');

# Queued in the listen backlog, answered when workers are back.
my $q = http("GET /index.html HTTP/1.0\r\nHost: localhost\r\n\r\n",
    start => 1);
ok($q && !IO::Select->new($q)->can_read(0.3),
    'WINCH: a new request waits: no worker to take it');

conf(workers => 2, root => 'html2');
$t->signal('HUP');
ok(wait_for(sub { workers() == 2 }, 5), 'HUP after WINCH: two workers again');

$r = parse_response(http_read($q, timeout => 5)) // {};
is($r->{body}, "two\n",
    'HUP after WINCH: the waiting request is served, with the new config');
is(body(), "two\n", 'HUP after WINCH: the current config serves');

$t->stop;

# WINCH is ignored when kiln is not a daemon (as nginx: it is for binary
# upgrades, which need a daemon).

conf(daemon => 'off', workers => 1);
$t->run;
@w = up_workers(1);
$t->signal('WINCH');
ok(!wait_for(sub { gone(@w) }, 0.5), 'WINCH with daemon off: ignored');
is(body(), "one\n", 'WINCH with daemon off: still serves');

$t->stop;
