#!/usr/bin/perl
# signal_race.t: a stop signal that reaches the master in the same wakeup
# as a worker's exit, as INT from a terminal does (it goes to the whole
# process group, and a worker may be gone before the master, busy forking
# the others, waits again): the exit is not taken for a crash, no worker
# is started, nothing is logged as an alert, and the master exits.
#
# The wakeup is made deterministic: the master is stopped (SIGSTOP), a
# worker gets INT and exits (a zombie, unreaped), the master gets INT or
# QUIT, and SIGCONT lets it see both at once.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;

my $t = Test::Kiln->new;

$t->write_file_expand('kiln.conf', <<'EOF');
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log notice;
worker_processes 2;

events {
    worker_connections 64;
}

http {
    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;
        location / {
            return 200 "ok\n";
        }
    }
}
EOF

$t->plan(10);

sub zombie {
    my ($pid) = @_;
    my $fh;

    open($fh, '<', "/proc/$pid/stat") or return 1;
    my $line = <$fh> // '';
    close $fh;

    return $line =~ /\)\s+Z\s/;
}

for my $sig (qw(INT QUIT)) {
    $t->write_file('error.log', '');
    $t->run;

    my $master = $t->master_pid;
    my @w;
    wait_for(sub { (@w = $t->worker_pids) >= 2 }, 5);
    is(scalar @w, 2, "$sig: two workers");

    kill 'STOP', $master;
    kill 'INT', $w[0];
    ok(wait_for(sub { zombie($w[0]) }, 5), "$sig: a worker exits on INT");

    kill $sig, $master;
    kill 'CONT', $master;

    ok($t->wait_exit(10), "$sig: the master exits");

    my $log = $t->read_file('error.log');
    my $started = () = $log =~ /start worker process \d+/g;
    is($started, 2, "$sig: no worker started after the stop");
    unlike($log, qr/\[alert\]/, "$sig: no alert");
}
