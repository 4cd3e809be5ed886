#!/usr/bin/perl
# respawn.t: the master replaces a worker that dies, logs how it died, keeps
# serving meanwhile, and does not spin when workers die over and over.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use POSIX ();
use Test::More;
use Test::Kiln;
use Time::HiRes qw(time);

my $t = Test::Kiln->new;

$t->write_file_expand('kiln.conf', <<'EOF');
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes 2;

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

$t->write_file('html/index.html', "index\n");

# Killing workers is the point: the master's [alert] about it is expected.
$t->expect_errors(qr/worker process \d+ exited on signal 9/,
    qr/worker process \d+ died \d+ ms after start, respawning in \d+ ms/);

$t->plan(17);
$t->run;

my $master = $t->master_pid;

sub serves {
    my $r = parse_response(http_get('/index.html')) // {};

    return ($r->{status} // 0) == 200 && $r->{body} eq "index\n";
}

sub spawned {
    my @n = $t->read_file('error.log') =~ /start worker process \d+/g;

    return scalar @n;
}

# cpu(PID): user + system CPU seconds of PID so far.

sub cpu {
    my ($pid) = @_;
    my ($fh, @f);

    open($fh, '<', "/proc/$pid/stat") or return 0;
    my $line = <$fh>;
    close $fh;
    $line =~ s/^.*\)\s+//;
    @f = split ' ', $line;

    # After "pid (comm)": state is field 0, utime 11, stime 12.
    return ($f[11] + $f[12]) / POSIX::sysconf(POSIX::_SC_CLK_TCK());
}

ok(wait_for(sub { $t->worker_pids == 2 }), 'two workers');
my @before = $t->worker_pids;

# One kill -9: logged, replaced, and the server keeps answering.

my $victim = $before[0];
kill 'KILL', $victim;

ok(wait_for(sub { $t->read_file('error.log')
        =~ /\[alert\].*worker process $victim exited on signal 9/ }),
    'master logs "exited on signal 9"');
ok(serves(), 'serves while a worker is being replaced');
ok(wait_for(sub {
        my @w = $t->worker_pids;
        @w == 2 && !grep { $_ == $victim } @w;
    }, 10), 'a new worker replaces the killed one');
ok((grep { $_ == $before[1] } $t->worker_pids), 'the other worker lives on');
is($t->ppid(($t->worker_pids)[0]), $master, 'workers are the master\'s');
ok(serves(), 'serves after the respawn');
is(spawned(), 3, 'one respawn for one death');

# Repeated kills in quick succession: each death gets at most one respawn,
# the master stays up and does not burn CPU, and service resumes.

my $kills = 0;
my $t0 = time();
my $cpu0 = cpu($master);

for my $round (1 .. 3) {
    # Kill whatever workers exist, as soon as they exist.
    wait_for(sub { $t->worker_pids > 0 }, 10);
    my @killed = grep { kill 'KILL', $_ } $t->worker_pids;
    $kills += @killed;
    wait_for(sub { !grep { $t->alive($_) } @killed }, 5);
}

ok(wait_for(sub { $t->worker_pids == 2 }, 20),
    'after repeated kills: back to two workers');
my $wall = time() - $t0;
my $cpu = cpu($master) - $cpu0;

ok(kill(0, $master) && $t->title($master) =~ /master process/,
    'after repeated kills: the master is still up');
is($t->master_pid, $t->read_pid, 'the pid file still names the master');
cmp_ok($kills, '>=', 3, "killed $kills workers");
cmp_ok(spawned(), '<=', 3 + $kills,
    'no more respawns than deaths (no spinning)');
is(spawned(), 3 + $kills, 'every death respawned once');
cmp_ok($cpu, '<', 0.5 * $wall + 0.1,
    sprintf('master CPU %.2fs in %.2fs: not spinning', $cpu, $wall));
ok(serves(), 'serves after repeated kills');
ok(serves(), 'serves again');

$t->stop;
