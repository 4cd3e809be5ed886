#!/usr/bin/perl
# accept.t: the three accept strategies (EPOLLEXCLUSIVE, accept_mutex,
# reuseport) with two workers: many short connections and none fails, both
# workers accept under the mutex and with reuseport, multi_accept, reuseport
# sockets kept across reloads, a reload while old workers linger does not
# strand a connection, a worker killed while it holds the mutex does not
# stop accepting, and master_process off serves every reuseport copy.
#
# Which worker accepted a connection is read from the error log at info
# level: a connection closed before sending a request logs "PID#0: *N
# client closed connection while waiting for request", so the load mixes
# in a few of those.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use IO::Socket::INET;
use POSIX ();
use Test::More;
use Test::Kiln;
use Time::HiRes qw(time sleep);

my $t = Test::Kiln->new;

# conf(EVENTS, LISTEN, MAIN): EVENTS goes in events {}, LISTEN after the
# address, MAIN in the main context.

sub conf {
    my ($events, $listen, $main) = @_;

    $main //= '';

    $t->write_file_expand('kiln.conf', <<"EOF");
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes 2;
$main
events {
    worker_connections 256;
$events}

http {
    server {
        listen       127.0.0.1:%%PORT_8080%%$listen;
        server_name  localhost;

        location / {
            root %%TESTDIR%%/html;
        }
    }
}
EOF
}

$t->write_file('html/index.html', "index\n");

# Killing workers is the point of the last part.
$t->expect_errors(qr/worker process \d+ exited on signal 9/,
    qr/worker process \d+ died \d+ ms after start, respawning in \d+ ms/);

$t->plan(32);

my $port = port(8080);

# request(TIMEOUT): one GET on a new connection with "Connection: close";
# true if it got the file.

sub request {
    my ($timeout) = @_;
    my $r = http("GET /index.html HTTP/1.1\r\nHost: localhost\r\n"
            . "Connection: close\r\n\r\n", timeout => $timeout // 5);

    return defined $r && $r =~ m{^HTTP/1\.1 200 .*\r\n\r\nindex\n\z}s;
}

# idle_close(): connect and close without a request (logged with the pid
# of the worker that accepted it).

sub idle_close {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
        PeerPort => $port, Proto => 'tcp', Timeout => 5);

    close $s if $s;
    return defined $s;
}

# load(CLIENTS, EACH, TRIES, SECS, STOP): CLIENTS processes each make EACH
# requests (and one idle connection every fifth), or, with a STOP file,
# requests until it exists; a request is retried up to TRIES times; what
# is not done in SECS counts as failed. Returns (requests that succeeded,
# requests that failed).

sub load {
    my ($clients, $each, $tries, $secs, $stop) = @_;
    my (@pipes, $ok, $failed, $deadline);

    $deadline = time() + ($secs // 60);

    for my $c (1 .. $clients) {
        pipe(my $r, my $w) or die "pipe: $!\n";
        my $pid = fork();
        die "fork: $!\n" unless defined $pid;

        if ($pid == 0) {
            close $r;
            my ($good, $bad) = (0, 0);

            for (my $i = 1; $stop ? !-e $stop : $i <= $each; $i++) {
                idle_close() if $i % 5 == 0;

                my $done = 0;
                for (1 .. $tries) {
                    last if time() > $deadline;
                    last if $done = request(2);
                    sleep 0.05;
                }
                $done ? $good++ : $bad++;
            }

            print $w "$good $bad\n";
            close $w;
            POSIX::_exit(0);
        }

        close $w;
        push @pipes, [$pid, $r];
    }

    ($ok, $failed) = (0, 0);

    for my $p (@pipes) {
        my $fh = $p->[1];
        my $line = <$fh> // "0 $each\n";
        my ($good, $bad) = split ' ', $line;
        $ok += $good;
        $failed += $bad;
        waitpid($p->[0], 0);
    }

    return ($ok, $failed);
}

# log_mark(), log_since(MARK): the error log written after a point.

sub log_mark {
    return length $t->read_file('error.log');
}

sub log_since {
    my ($mark) = @_;

    return substr($t->read_file('error.log'), $_[0]);
}

# acceptors(MARK): the pids that logged an idle connection since MARK.

sub acceptors {
    my ($mark) = @_;
    my %pid;

    $pid{$_}++ for log_since($mark)
        =~ /(\d+)#0: \*\d+ client closed connection while waiting/g;

    return \%pid;
}

# strategy(NAME, EVENTS, LISTEN): start kiln with that config and check
# that both workers report the strategy.

sub strategy {
    my ($name, $events, $listen) = @_;
    my $mark = log_mark();

    conf($events, $listen);
    $t->run;

    wait_for(sub {
        my $n = () = log_since($mark) =~ /accept strategy: /g;
        $n >= 2;
    }, 5);
    my $n = () = log_since($mark) =~ /accept strategy: \Q$name\E/g;
    is($n, 2, "$name: both workers use it");
}

# lingering_reload(): old workers held in their graceful exit by a request
# that never completes, then single requests one at a time: each must be
# accepted by a new worker at once, not left queued because a quitting
# worker took the wake-up.

sub lingering_reload {
    my ($name) = @_;
    my (@hold, $slow);

    for (1 .. 4) {
        my $s = http("GET / HTTP/1.1\r\n", start => 1);
        push @hold, $s if $s;
    }

    my @old = $t->worker_pids;
    $t->signal('HUP');
    wait_for(sub {
        my %old = map { $_ => 1 } @old;
        (grep { !$old{$_} } $t->worker_pids) == 2;
    }, 10);

    $slow = 0;
    for (1 .. 20) {
        my $t0 = time();
        $slow++ unless request() && time() - $t0 < 2;
    }

    is($slow, 0, "$name: no request stranded while old workers linger");

    close $_ for @hold;
    wait_for(sub { !grep { $t->alive($_) } @old }, 10);
}

# --- each strategy serves many short connections -----------------------------

# The lock changes hands only when a worker without it tries (every
# accept_mutex_delay) while the holder is busy between two waits: with
# these small requests the holder is idle most of the time, so the test
# tries often (10ms) to see the hand-over within its bounded rounds.

for my $s (['EPOLLEXCLUSIVE', '', ''],
    ['accept_mutex', "    accept_mutex on;\n    accept_mutex_delay 10ms;\n",
        ''],
    ['reuseport', '', ' reuseport'])
{
    my ($name, $events, $listen) = @$s;

    strategy($name, $events, $listen);

    my $mark = log_mark();
    my ($ok, $failed) = load(4, 250, 1);

    is($failed, 0, "$name: no failed request");
    is($ok, 1000, "$name: 1000 requests served");

    # Under load both workers take connections; bounded extra rounds for
    # an unlucky scheduler.
    my $who = acceptors($mark);
    for (1 .. 8) {
        last if keys %$who >= 2 || $name eq 'EPOLLEXCLUSIVE';
        load(4, 100, 1);
        $who = acceptors($mark);
    }

    note("$name: idle connections per worker: "
        . join(', ', map { "$_: $who->{$_}" } sort keys %$who));

    if ($name ne 'EPOLLEXCLUSIVE') {
        is(scalar keys %$who, 2, "$name: both workers accepted")
            or diag(explain $who);
    }

    lingering_reload($name);

    $t->stop;
}

# --- multi_accept ------------------------------------------------------------

# burst(N): N connections at once, then a request on each.

sub burst {
    my ($n) = @_;
    my (@s, $good);

    for (1 .. $n) {
        my $s = http_connect();
        push @s, $s if $s;
    }

    $good = 0;
    for my $s (@s) {
        my $r = http("GET /index.html HTTP/1.1\r\nHost: localhost\r\n"
                . "Connection: close\r\n\r\n", socket => $s);
        $good++ if defined $r && $r =~ m{^HTTP/1\.1 200 .*\r\n\r\nindex\n\z}s;
    }

    return $good;
}

for my $s (['EPOLLEXCLUSIVE', "    multi_accept on;\n"],
    ['accept_mutex', "    multi_accept on;\n    accept_mutex on;\n"])
{
    my ($name, $events) = @$s;

    strategy($name, $events, '');

    is(burst(100), 100, "$name, multi_accept on: a burst of 100 served");

    my ($ok, $failed) = load(4, 100, 1);
    is($failed, 0, "$name, multi_accept on: no failed request under load");

    $t->stop;
}

# --- reuseport sockets survive reloads ---------------------------------------

strategy('reuseport', '', ' reuseport');

my $before = $t->listen_sockets($t->master_pid)->{$port} // [];
is(scalar @$before, 2, 'reuseport: one socket per worker in the master');

{
    # The load runs in a child while this process reloads ten times.
    my $pid = fork();
    die "fork: $!\n" unless defined $pid;

    if ($pid == 0) {
        my ($ok, $failed) = load(3, 150, 1);
        open(my $fh, '>', $t->testdir . '/reload-load') or POSIX::_exit(1);
        print $fh "$ok $failed\n";
        close $fh;
        POSIX::_exit(0);
    }

    my $reloads = 0;
    for (1 .. 10) {
        my $mark = log_mark();
        $t->signal('HUP');
        $reloads++ if wait_for(sub {
            my $n = () = log_since($mark) =~ /accept strategy: reuseport/g;
            $n == 2;
        }, 10);
    }

    waitpid($pid, 0);
    is($reloads, 10, 'reuseport: ten reloads, each with two new workers');

    my ($ok, $failed) = split ' ', $t->read_file('reload-load') || '0 -1';
    is($failed, 0, 'reuseport: no request failed across the reloads');
    is($ok, 450, 'reuseport: every request served across the reloads');
}

my $after = $t->listen_sockets($t->master_pid)->{$port} // [];
is(join(',', sort map { $_->{inode} } @$after),
    join(',', sort map { $_->{inode} } @$before),
    'reuseport: the same sockets after the reloads');

$t->stop;

# --- a worker killed while holding the mutex ---------------------------------

strategy('accept_mutex', "    accept_mutex on;\n    accept_mutex_delay 100ms;\n",
    '');

{
    my $pid = fork();
    die "fork: $!\n" unless defined $pid;

    if ($pid == 0) {
        # Retries ride out the moments with no worker at all.
        my ($ok, $failed) = load(3, 0, 100, 90, $t->testdir . '/kills-done');
        open(my $fh, '>', $t->testdir . '/kill-load') or POSIX::_exit(1);
        print $fh "$ok $failed\n";
        close $fh;
        POSIX::_exit(0);
    }

    # An idle holder sleeps in epoll_wait with the lock taken: killing
    # every worker at once always kills the holder.
    my $kills = 0;
    for (1 .. 5) {
        # Workers that lived a second are respawned without a back-off.
        wait_for(sub { $t->worker_pids == 2 }, 15);
        sleep 1.1;
        my @w = $t->worker_pids;
        $kills += kill 'KILL', @w;
        wait_for(sub { !grep { $t->alive($_) } @w }, 5);
    }

    $t->write_file('kills-done', '');
    waitpid($pid, 0);
    cmp_ok($kills, '>=', 9, "accept_mutex: killed $kills workers");

    my ($ok, $failed) = split ' ', $t->read_file('kill-load') || '0 -1';
    is($failed, 0, "accept_mutex: all $ok requests eventually succeeded");
}

ok(wait_for(sub { $t->worker_pids == 2 }, 20), 'accept_mutex: two workers');

my $served = 0;
for (1 .. 20) {
    $served++ if request();
}
is($served, 20, 'accept_mutex: the respawned workers accept');

$t->stop;

# --- master_process off: the one process polls every reuseport copy ---------

conf('', ' reuseport', "master_process off;\n");
$t->run;

$served = 0;
for (1 .. 40) {
    $served++ if request(2);
}
is($served, 40, 'master_process off, reuseport: every request served');

$t->stop;
