#!/usr/bin/perl
# start_stop.t: process model and lifecycle: daemon, pid file, master and
# workers, -s stop/quit, TERM/INT/QUIT, graceful quit finishing a transfer,
# and single-process foreground mode.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use IO::Select;
use Test::More;
use Test::Kiln;

my $t = Test::Kiln->new;
my $d = $t->testdir;

sub conf {
    my ($main) = @_;

    $t->write_file_expand('kiln.conf', $main . <<'EOF');
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;

events {
    worker_connections 64;
}

http {
    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        location / {
            root %%TESTDIR%%/html;
        }
    }
}
EOF
}

$t->write_file('html/index.html', "index\n");

# Large enough not to fit in loopback socket buffers, so the transfer is
# still in progress when the worker is told to quit.
# (The bound is a variable: perl would fold a constant range at compile time.)
my $ints = 4 * 1024 * 1024;
my $big = pack('N*', 0 .. $ints - 1);    # 16 MiB, no two words alike
$t->write_file('html/big.bin', $big);

$t->plan(49);

sub serves {
    my $r = parse_response(http_get('/index.html', timeout => 5)) // {};

    return ($r->{status} // 0) == 200 && $r->{body} eq "index\n";
}

sub port_closed {
    return !defined http_connect(timeout => 1);
}

# Daemon mode, two workers.

conf("daemon on;\nworker_processes 2;\n");
$t->run;

my $master = $t->read_pid;
ok($master, 'pid file holds a pid');
is($t->read_file('kiln.pid'), "$master\n", 'pid file is "PID\n"');
like($t->title($master), qr/^kiln: master process/,
    'the pid file names the master process');
ok(wait_for(sub { $t->worker_pids == 2 }), 'two workers');

my @workers = $t->worker_pids;
is(scalar($t->children($master)), 2, 'the master has two children');
is(scalar(grep { $t->title($_) =~ /^kiln: worker process$/ } @workers), 2,
    'both are titled "kiln: worker process"');

isnt($t->ppid($master), $$, 'daemon: the master is not the test\'s child');

SKIP: {
    skip 'not root: workers keep the user', 1 if $> != 0;

    my $uid = (stat "/proc/$workers[0]")[4];
    isnt($uid, 0, 'as root, workers drop root (default user nobody)');
}

ok(serves(), 'serves with two workers');
like($t->read_file('error.log'), qr/\[notice\].*start worker process/,
    'error log: start worker process');

# kiln -s stop: fast shutdown through the pid file.

my $r = $t->run_kiln($t->kiln_args, '-s', 'stop');
is($r->{exit}, 0, '-s stop exits 0');
ok($t->wait_exit(10), '-s stop: master exits');
ok(!-e "$d/kiln.pid", '-s stop: pid file removed');
ok(!grep({ -e "/proc/$_" && $t->title($_) =~ /kiln/ } @workers),
    '-s stop: workers gone');
ok(port_closed(), '-s stop: port closed');

# kiln -s quit: graceful shutdown through the pid file.

$t->run;
ok(serves(), 'restarted');
$r = $t->run_kiln($t->kiln_args, '-s', 'quit');
is($r->{exit}, 0, '-s quit exits 0');
ok($t->wait_exit(10), '-s quit: master exits');
ok(!-e "$d/kiln.pid", '-s quit: pid file removed');
like($t->read_file('error.log'), qr/gracefully shutting down/,
    'error log: gracefully shutting down');

# -s with no server running fails and says why.

$r = $t->run_kiln($t->kiln_args, '-s', 'stop');
is($r->{exit}, 1, '-s stop with no pid file: exit 1');
like($r->{stderr}, qr/open\(\) "\Q$d\E\/kiln\.pid" failed/,
    '-s stop with no pid file: names the pid file');

# TERM and INT: fast shutdown.

for my $sig (qw(TERM INT)) {
    $t->run;
    my @w = $t->worker_pids;
    ok(serves(), "serves before $sig");
    $t->signal($sig);
    ok($t->wait_exit(10), "$sig: master exits");
    ok(wait_for(sub { !-e "$d/kiln.pid" }, 2), "$sig: pid file removed");
    ok(wait_for(sub { !grep { -e "/proc/$_" } @w }, 5),
        "$sig: workers exit");
}

# QUIT: graceful; a transfer in progress completes.

$t->run;
my $s = http("GET /big.bin HTTP/1.0\r\nHost: localhost\r\n\r\n", start => 1);
ok(wait_for(sub { IO::Select->new($s)->can_read(0) }),
    'QUIT: transfer started');

$t->signal('QUIT');
ok(wait_for(\&port_closed), 'QUIT: stops accepting new connections');

$r = parse_response(http_read($s, timeout => 30)) // {};
is($r->{status}, 200, 'QUIT: in-flight response 200');
ok(defined $r->{body} && $r->{body} eq $big,
    'QUIT: in-flight transfer completes intact');
ok($t->wait_exit(10), 'QUIT: master exits');
ok(!-e "$d/kiln.pid", 'QUIT: pid file removed');

# QUIT closes idle keep-alive connections rather than waiting on them.

$t->run;
$s = http("GET /index.html HTTP/1.1\r\nHost: localhost\r\n\r\n", start => 1);
is((parse_response(read_response($s)) // {})->{status}, 200,
    'keep-alive connection open');
$t->signal('QUIT');
ok(wait_closed($s, 5), 'QUIT: idle keep-alive connection closed');
ok($t->wait_exit(5), 'QUIT with an idle connection: master exits');

# Foreground, single process: daemon off; master_process off.

conf("daemon off;\nmaster_process off;\n");
$t->run;

$master = $t->read_pid;
ok($master, 'single process: pid file written');
is($master, $t->child_pid, 'single process: stays in the foreground');
is(scalar($t->children($master)), 0, 'single process: no workers');
ok(serves(), 'single process: serves');
ok(serves(), 'single process: serves again');

$t->signal('QUIT');
ok($t->wait_exit(10), 'single process: QUIT exits');
ok(!-e "$d/kiln.pid", 'single process: pid file removed');

# Foreground with a master: daemon off; master_process on.

conf("daemon off;\nworker_processes 1;\n");
$t->run;
is($t->read_pid, $t->child_pid, 'daemon off: master in the foreground');
ok(wait_for(sub { $t->worker_pids == 1 }), 'daemon off: one worker');
ok(serves(), 'daemon off: serves');
$t->stop;
