#!/usr/bin/perl
# process.t: what the master sets up in its workers, seen from /proc: user
# and group, worker_rlimit_nofile, working_directory, worker_cpu_affinity
# (auto and masks), worker_priority, the environment ("env"), and the
# process titles, including a worker's while it shuts down.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use File::Basename qw(basename);
use IO::Select;
use Test::More;
use Test::Kiln;

my $t = Test::Kiln->new;
my $d = $t->testdir;

# The title names the program: "kiln: ..." (or "nginx: ..." against it).
my $bin = Test::Kiln::binary();
my $name = basename($bin);

sub conf {
    my ($main, $workers) = @_;

    $t->write_file_expand('kiln.conf', <<"EOF");
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes ${\ ($workers // 2)};
$main
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
my $ints = 4 * 1024 * 1024;
$t->write_file('html/big.bin', pack('N*', 0 .. $ints - 1));

$t->plan(31);

# start(MAIN, N): (re)start kiln with MAIN in the main context; the
# workers in start order (worker 0 first), or () with a diag if kiln did
# not start.

sub start {
    my ($main, $n) = @_;
    my ($log0, @started, %live);

    $t->stop;
    conf($main, $n);
    $log0 = length $t->read_file('error.log');

    if (!eval { $t->run; 1 }) {
        diag("kiln did not start with \"$main\": $@");
        return ();
    }

    wait_for(sub { $t->worker_pids == ($n // 2) });

    %live = map { $_ => 1 } $t->worker_pids;
    @started = substr($t->read_file('error.log'), $log0)
        =~ /start worker process (\d+)/g;

    return grep { $live{$_} } @started;
}

sub field {
    my ($pid, $f) = @_;

    return $t->status($pid)->{$f} // '';
}

# nice(PID): field 19 of /proc/PID/stat.

sub nice {
    my ($pid) = @_;
    my ($fh, $line);

    open($fh, '<', "/proc/$pid/stat") or return undef;
    $line = <$fh>;
    close $fh;
    $line =~ s/^.*\)\s+//;

    return (split ' ', $line)[16];
}

sub limit {
    my ($pid, $what) = @_;
    my ($fh, $v);

    open($fh, '<', "/proc/$pid/limits") or return '';
    while (my $line = <$fh>) {
        $v = "$1 $2" if $line =~ /^\Q$what\E\s+(\S+)\s+(\S+)/;
    }
    close $fh;

    return $v // '';
}

# --- user, group, rlimit, working directory, titles ---------------------------

my @w = start("user nobody nogroup;\nworker_rlimit_nofile 4096;\n"
    . "worker_rlimit_core 2m;\nlock_file %%TESTDIR%%/kiln.lock;\n"
    . "working_directory /tmp;\n");
my $master = $t->master_pid;

is(scalar @w, 2, 'two workers');

SKIP: {
    skip 'not root: user and group cannot change', 4 if $> != 0;

    my ($uid, $gid) = ((getpwnam 'nobody')[2], (getgrnam 'nogroup')[2]);

    is(join(',', map { field($_, 'Uid') } @w),
        join(',', ("$uid\t" x 3 . $uid) x 2),
        'workers run as nobody (real, effective, saved, fs uid)');
    is(join(',', map { field($_, 'Gid') } @w),
        join(',', ("$gid\t" x 3 . $gid) x 2),
        'workers run as group nogroup');
    is(join(',', map { field($_, 'Groups') } @w), join(',', ($gid) x 2),
        'workers have nogroup\'s supplementary groups only');
    is(field($master, 'Uid'), "0\t0\t0\t0", 'the master stays root');
}

is(join(',', map { limit($_, 'Max open files') } @w), '4096 4096,4096 4096',
    'worker_rlimit_nofile 4096: the workers\' limit');
is(join(',', map { limit($_, 'Max core file size') } @w),
    '2097152 2097152,2097152 2097152',
    'worker_rlimit_core 2m: the workers\' limit');
ok(!-e $t->testdir . '/kiln.lock',
    'lock_file: accepted and never opened, as nginx on Linux');
is(join(',', map { readlink("/proc/$_/cwd") // '' } @w), '/tmp,/tmp',
    'working_directory /tmp: the workers\' current directory');

is($t->title($master), "$name: master process " . join(' ', $bin,
        $t->kiln_args), 'master title: the program and its command line');
is(join(',', map { $t->title($_) } @w),
    "$name: worker process,$name: worker process", 'worker titles');

# A worker that still has a download to finish after a reload says so.

my $s = http("GET /big.bin HTTP/1.0\r\nHost: localhost\r\n\r\n", start => 1);
IO::Select->new($s)->can_read(5);

$t->signal('HUP');
ok(wait_for(sub {
        grep { $t->title($_) eq "$name: worker process is shutting down" } @w
    }), 'title of a worker finishing its requests after a reload');

my $r = parse_response(http_read($s, timeout => 20)) // {};
is(length($r->{body} // ''), 4 * $ints, 'and the download completes');
ok(wait_for(sub { !grep { $t->alive($_) } @w }, 10), 'then it exits');

# --- worker_cpu_affinity ------------------------------------------------------

my $cpus = field($$, 'Cpus_allowed_list');
my $two = $cpus =~ /^0-(\d+)$/ && $1 >= 1;

SKIP: {
    skip "needs CPUs 0 and 1 (allowed here: $cpus)", 4 unless $two;

    @w = start("worker_cpu_affinity auto;\n");
    is(join(',', map { field($_, 'Cpus_allowed_list') } @w), '0,1',
        'worker_cpu_affinity auto: worker 0 on CPU 0, worker 1 on CPU 1');
    is(field($t->master_pid, 'Cpus_allowed_list'), $cpus,
        'worker_cpu_affinity auto: the master is not pinned');

    @w = start("worker_cpu_affinity 10 01;\n");
    is(join(',', map { field($_, 'Cpus_allowed_list') } @w), '1,0',
        'worker_cpu_affinity 10 01: worker 0 on CPU 1, worker 1 on CPU 0');

    @w = start("worker_cpu_affinity 11;\n", 1);
    is(join(',', map { field($_, 'Cpus_allowed_list') } @w), '0-1',
        'worker_cpu_affinity 11: both CPUs');
}

# --- worker_priority ----------------------------------------------------------

@w = start("worker_priority -5;\n");
is(join(',', map { nice($_) // 'none' } @w), '-5,-5',
    'worker_priority -5: the workers\' nice value');
is(nice($t->master_pid), 0, 'worker_priority: the master\'s is unchanged');

@w = start("worker_priority 3;\n", 1);
is(join(',', map { nice($_) // 'none' } @w), '3', 'worker_priority 3');

# --- env ----------------------------------------------------------------------

# env_of(PID): PID's environment, sorted, on one line.

sub env_of {
    my ($pid) = @_;

    return join(' ', sort $t->environ($pid));
}

{
    local $ENV{TZ} = 'UTC';
    local $ENV{KILN_TEST_SECRET} = 'hidden';

    @w = start("env FOO=bar;\nenv PATH;\nenv KILN_TEST_UNSET;\n");
    $master = $t->master_pid;

    ok((grep { $_ eq 'KILN_TEST_SECRET=hidden' } $t->environ($master)),
        'env: the master keeps its environment (and it can be read)');
    is(env_of($w[0]), "FOO=bar PATH=$ENV{PATH} TZ=UTC",
        'env FOO=bar; env PATH;: worker 0 has FOO, PATH, TZ and nothing else');
    is(env_of($w[1]), env_of($w[0]), 'env: worker 1 the same');

    @w = start('');
    is(env_of($w[0]), 'TZ=UTC', 'no env directive: workers keep only TZ');

    # env TZ=... overrides the inherited TZ.
    @w = start("env TZ=Europe/Paris;\n", 1);
    is(env_of($w[0]), 'TZ=Europe/Paris', 'env TZ=...: replaces TZ');
}

{
    local $ENV{KILN_TEST_SECRET} = 'hidden';
    delete local $ENV{TZ};

    @w = start('', 1);
    is(env_of($w[0]), '', 'no TZ, no env: an empty environment');
}

# --- after a reload, workers get the new settings -----------------------------

@w = start("worker_priority 1;\n", 1);
conf("worker_priority 2;\nworker_rlimit_nofile 2048;\n", 1);
$t->signal('HUP');
ok(wait_for(sub { !grep { $t->alive($_) } @w }, 10),
    'reload: the old worker exits');
ok(wait_for(sub { $t->worker_pids == 1 }), 'reload: a new worker');
my ($nw) = $t->worker_pids;
is(nice($nw), 2, 'reload: worker_priority 2 applies to the new worker');
is(limit($nw, 'Max open files'), '2048 2048',
    'reload: worker_rlimit_nofile 2048 applies to the new worker');

$t->stop;
