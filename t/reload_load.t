#!/usr/bin/perl
# reload_load.t: reloads while keep-alive and new-connection clients hammer
# kiln: 200 HUPs in a row, a broken config, worker_processes 2 -> 3,
# kiln -s reload, and listeners kept (same socket), added and removed; not
# one request may fail.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Errno qw(ECONNREFUSED);
use Test::More;
use Test::Kiln;
use Test::Kiln::Load;
use Time::HiRes qw(time);

my $t = Test::Kiln->new;
my $d = $t->testdir;

my $RELOADS = 200;

# conf(WORKERS, EXTRA_LISTEN, EXTRA_MAIN): two servers: the one on 8080
# the load uses, and a second one on the EXTRA_LISTEN label (if any).

sub conf {
    my ($workers, $listen, $main) = @_;
    my $second = '';

    $main //= '';

    if ($listen) {
        $second = <<"EOF";

    server {
        listen       127.0.0.1:%%PORT_$listen%%;
        server_name  localhost;

        location / {
            root %%TESTDIR%%/html;
        }
    }
EOF
    }

    $t->write_file_expand('kiln.conf', <<"EOF");
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes $workers;
$main
events {
    worker_connections 256;
}

http {
    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        location / {
            root %%TESTDIR%%/html;
        }
    }
$second}
EOF
}

my $body = join('', map { "line $_ of the file the load fetches\n" } 1 .. 20);
$t->write_file('html/index.html', $body);

# The broken reload is on purpose.
$t->expect_errors(qr/invalid parameter "bogus"/, qr/reload failed/);

$t->plan(30);

conf(2, 8081);
$t->run;

my $master = $t->master_pid;

# workers(): the master's workers that are not shutting down.

sub workers {
    return grep { $t->title($_) =~ /: worker process$/ }
        $t->children($master);
}

sub gone {
    my (@pids) = @_;

    return !grep { $t->alive($_) } @pids;
}

# reload(SEND, N): send the reload (a code ref), then wait, polling tightly,
# until N workers that were not there before are up. True if they are.

sub reload {
    my ($send, $n) = @_;
    my %old = map { $_ => 1 } $t->children($master);

    $send->();

    return wait_for(sub {
        ($n // 2) == grep { !$old{$_} } workers();
    }, 10, 0.005);
}

sub serves {
    my ($port) = @_;
    my $r = parse_response(http_get('/index.html', port => $port // 8080));

    return $r && $r->{status} == 200 && $r->{body} eq $body;
}

ok(wait_for(sub { workers() == 2 }), 'two workers');

my $ka = Test::Kiln::Load->start(body => $body, mode => 'keepalive',
    clients => 2, per_conn => 50, duration => 90);
my $nc = Test::Kiln::Load->start(body => $body, mode => 'close',
    clients => 2, duration => 90);

ok($ka->wait_requests(200) && $nc->wait_requests(100),
    'keep-alive and new-connection load flowing');

# 200 reloads, each waited for.

my @first = workers();
my ($done, $t0, $ka0, $nc0) = (0, time(), $ka->totals, $nc->totals);

for (1 .. $RELOADS) {
    last unless reload(sub { $t->signal('HUP') });
    $done++;
}

my $secs = time() - $t0;
my ($ka1, $nc1) = ($ka->totals, $nc->totals);

is($done, $RELOADS, "$RELOADS HUP reloads, each brought new workers");
diag(sprintf('%d reloads in %.1fs; %d + %d requests meanwhile', $done,
    $secs, $ka1->{ok} - $ka0->{ok}, $nc1->{ok} - $nc0->{ok}));
cmp_ok($ka1->{ok} - $ka0->{ok}, '>=', 100,
    'keep-alive requests were served during the reloads');
cmp_ok($nc1->{ok} - $nc0->{ok}, '>=', 100,
    'new-connection requests were served during the reloads');
is($ka1->{failed} + $nc1->{failed}, 0, 'no request failed during the reloads')
    or diag(join("\n", @{$ka->totals->{errors}}, @{$nc->totals->{errors}}));

ok(gone(@first), 'the first workers are gone');
ok(wait_for(sub { $t->children($master) == 2 }, 15),
    'old workers exit: two processes left');
is($t->read_pid, $master, 'same master, same pid file');

# A broken config: logged with file:line; the same workers keep serving.

my @before = workers();
conf(2, 8081, '');
my $conf = $t->read_file('kiln.conf');
$conf =~ s/(listen\s+127\.0\.0\.1:\d+);/$1 bogus;/;
$t->write_file('kiln.conf', $conf);

my @lines = split /\n/, $conf;
my ($line) = grep { $lines[$_ - 1] =~ /bogus/ } 1 .. @lines;

$t->signal('HUP');
ok(wait_for(sub { $t->read_file('error.log')
        =~ /\[emerg\].*invalid parameter "bogus" in \Q$d\E\/kiln\.conf:$line$/m
    }), "broken config: error names kiln.conf:$line");

# The master logs the error as it parses: once it is there, the outcome of
# this reload is decided; no worker may be started or stopped by it.
ok(!wait_for(sub { join(' ', workers()) ne join(' ', @before) }, 0.5),
    'broken config: the same workers, none started or stopped');
ok(serves(), 'broken config: same response');
ok(serves(8081), 'broken config: the second listener still serves');

# worker_processes 2 -> 3.

conf(3, 8081);
@before = workers();
ok(reload(sub { $t->signal('HUP') }, 3),
    'worker_processes 3: three new workers');
ok(wait_for(sub { gone(@before) && $t->children($master) == 3 }, 10),
    'worker_processes 3: the two old workers exit, three remain');

# kiln -s reload, back to 2.

conf(2, 8081);
my $r;
@before = workers();
ok(reload(sub { $r = $t->run_kiln($t->kiln_args, '-s', 'reload') }),
    '-s reload: new workers');
is($r->{exit}, 0, '-s reload exits 0');
ok(wait_for(sub { gone(@before) && $t->children($master) == 2 }, 10),
    '-s reload: back to two workers');

# Listeners: 8080 unchanged, 8081 removed, 8082 added.

my $ls = $t->listen_sockets($master);
my ($p80, $p81, $p82) = (port(8080), port(8081), port(8082));

ok($ls->{$p80} && $ls->{$p81}, 'the master holds the 8080 and 8081 listeners')
    or diag(explain($ls));

my $keep = $ls->{$p80}[0] // {};
@before = workers();
conf(2, 8082);
ok(reload(sub { $t->signal('HUP') }), 'listener change: new workers');

my $after = $t->listen_sockets($master);
is_deeply($after->{$p80}, $ls->{$p80},
    'unchanged listener: same fd, same socket (inode) in the master');
ok($after->{$p82}, 'added listener: the master holds it');
ok(!$after->{$p81}, 'removed listener: the master closed it');

ok(wait_for(sub { gone(@before) }, 10), 'listener change: old workers exit');
ok(!grep({ $t->listen_sockets($_)->{$p81} } $master, $t->children($master)),
    'removed listener: no kiln process holds it');

my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $p81,
    Proto => 'tcp', Timeout => 2);
my $err = $! + 0;
ok(!$s && $err == ECONNREFUSED, 'removed listener: connections refused');

ok(serves(8082), 'added listener serves');
ok(!grep({ !($t->listen_sockets($_)->{$p80}
            && $t->listen_sockets($_)->{$p80}[0]{inode} == $keep->{inode}) }
        workers()),
    'new workers accept on the same 8080 socket');

# The verdict on the whole run.

my $ka_r = $ka->stop;
my $nc_r = $nc->stop;

is($ka_r->{failed}, 0, 'keep-alive load: no failed request')
    or diag($ka_r->{summary});
is($nc_r->{failed}, 0, 'new-connection load: no failed request')
    or diag($nc_r->{summary});
note($ka_r->{summary});
note($nc_r->{summary});

$t->stop;
