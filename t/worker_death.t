#!/usr/bin/perl
# worker_death.t: a worker that crashes (SIGSEGV, SIGABRT) is logged with
# its signal and replaced; a worker that dies again as soon as it starts
# is respawned with a growing delay, logged, while the master stays up.
# (t/respawn.t covers kill -9 and the plain respawn.)

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;
use Time::HiRes qw(time);

my $t = Test::Kiln->new;

sub conf {
    my ($workers) = @_;

    # working_directory: a core dump, if the system writes one, lands in the
    # test's prefix.
    $t->write_file_expand('kiln.conf', <<"EOF");
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes $workers;
working_directory %%TESTDIR%%;

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

$t->expect_errors(qr/worker process \d+ exited on signal (?:6|9|11)\b/,
    qr/worker process \d+ died \d+ ms after start, respawning in \d+ ms/);

$t->plan(16);

# This file kills workers with SIGSEGV on purpose: under a sanitizer build,
# AddressSanitizer would catch the signal and exit(1) instead of letting the
# master see the signal. Real crashes elsewhere are still reported.
$ENV{ASAN_OPTIONS} = join(':', grep { defined && length }
    $ENV{ASAN_OPTIONS}, 'handle_segv=0');

conf(2);
$t->run;

my $master = $t->master_pid;

sub serves {
    my $r = parse_response(http_get('/index.html')) // {};

    return ($r->{status} // 0) == 200 && $r->{body} eq "index\n";
}

sub workers {
    return grep { $t->title($_) =~ /: worker process$/ }
        $t->children($master);
}

ok(wait_for(sub { workers() == 2 }), 'two workers');

# A crash: logged with the signal, and the worker replaced.

for my $sig ([SEGV => 11], [ABRT => 6]) {
    my ($name, $num) = @$sig;
    my @before = workers();
    my $victim = $before[0];

    kill $name, $victim;

    ok(wait_for(sub { $t->read_file('error.log')
            =~ /\[alert\].*worker process $victim exited on signal $num\b/ }),
        "SIG$name: \"worker process $victim exited on signal $num\"");
    ok(wait_for(sub {
            my @w = workers();
            @w == 2 && !grep { $_ == $victim } @w;
        }, 10), "SIG$name: a new worker replaces it");
    ok(serves(), "SIG$name: serves");
}

# A crash loop on one worker: kill it each time it appears.

$t->stop;
conf(1);
$t->run;
$master = $t->master_pid;
ok(wait_for(sub { workers() == 1 }), 'crash loop: one worker');

my (@deaths, $next, $t0);
$t0 = time();

while (@deaths < 10 && time() - $t0 < 4) {
    my ($w) = workers();
    if (!$w) {
        select(undef, undef, undef, 0.002);
        next;
    }

    # Once the previous death's respawn is here, note when it came.
    $deaths[-1]{back} = time() if @deaths && !$deaths[-1]{back};

    kill 'KILL', $w;
    push @deaths, { pid => $w, at => time() };
    wait_for(sub { !$t->alive($w) }, 2, 0.002);
}

ok(@deaths >= 3, scalar(@deaths) . ' deaths in the crash loop');
ok($t->alive($master), 'crash loop: the master is alive');

# What the master said about each death: "respawning in N ms".
my $log = $t->read_file('error.log');
my @delay = map {
    my $re = qr/worker process $_->{pid} died \d+ ms after start, /;
    $log =~ /${re}respawning in (\d+) ms/ ? $1 : undef;
} @deaths;

my $young = grep { defined } @delay[1 .. $#delay];
is($young, $#delay, 'crash loop: every quick death after the first is '
    . 'logged with "respawning in N ms"')
    or diag('delays: ' . join(' ', map { $_ // '-' } @delay));

my @d = grep { defined } @delay;
ok(!grep({ $d[$_] < $d[$_ - 1] } 1 .. $#d) && @d >= 2 && $d[-1] > $d[0],
    "crash loop: the delays grow (@d ms)");

# The master waits as long as it says before each respawn.
my @early = grep {
    defined $delay[$_] && $deaths[$_]{back}
        && $deaths[$_]{back} - $deaths[$_]{at} < $delay[$_] / 1000 - 0.05;
} 0 .. $#deaths;
is("@early", '', 'crash loop: no respawn came sooner than announced')
    or diag(join("\n", map { sprintf('death %d: back after %.3f s, said %d ms',
        $_, $deaths[$_]{back} - $deaths[$_]{at}, $delay[$_]) } @early));

# The last death's respawn still comes, when announced.
my $last = $delay[-1] // 0;
ok(wait_for(sub { workers() == 1 }, $last / 1000 + 3),
    "crash loop: the worker comes back (after ${last} ms)");
ok(serves(), 'crash loop: serves again');
ok($t->alive($master) && $t->read_pid == $master,
    'crash loop: same master, same pid file');

$t->stop;
