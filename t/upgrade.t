#!/usr/bin/perl
# upgrade.t: nginx's binary upgrade procedure, under load: USR2 starts a
# new master (pid file to kiln.pid.oldbin, listening sockets passed in
# $KILN), WINCH and QUIT to the old master complete the switch; HUP to the
# old master and QUIT to the new one roll it back. Not one request fails.
# Also: a master started with $KILN adopts the sockets it names.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Fcntl qw(F_GETFD F_SETFD FD_CLOEXEC);
use IO::Socket::INET;
use Test::More;
use Test::Kiln;
use Test::Kiln::Load;

my $t = Test::Kiln->new;
my $d = $t->testdir;

# nginx names the variable after itself: this file also runs against it.
my $ENVVAR = Test::Kiln::binary() =~ m{/nginx$} ? 'NGINX' : 'KILN';

sub conf {
    my ($root) = @_;

    $t->write_file_expand('kiln.conf', <<"EOF");
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes 2;

events {
    worker_connections 256;
}

http {
    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        location / {
            root %%TESTDIR%%/$root;
        }
    }
}
EOF
}

my $body = join('', map { "upgrade line $_\n" } 1 .. 30);

for my $root (qw(html html2)) {
    $t->write_file("$root/index.html", $body);
}
$t->write_file('html/probe.txt', "first config\n");
$t->write_file('html2/probe.txt', "changed config\n");

# A USR2 during an upgrade is refused on purpose (nginx says so at [crit]).
$t->expect_errors(qr/changing binary|ignoring USR2/);

$t->plan(52);

sub probe {
    my $r = parse_response(http_get('/probe.txt')) // {};

    return ($r->{status} // 0) == 200 ? $r->{body} : 'status '
        . ($r->{status} // 'none');
}

sub workers_of {
    my ($pid) = @_;

    return grep { $t->title($_) =~ /: worker process$/ } $t->children($pid);
}

sub masters_under {
    my (@pids) = @_;

    return grep { $t->title($_) =~ /: master process/ }
        map { $t->children($_) } @pids;
}

sub gone {
    my (@pids) = @_;

    return !grep { $t->alive($_) } @pids;
}

sub pidfile {
    my ($name) = @_;
    my $c = $t->read_file($name);

    return $c =~ /^(\d+)\n$/ ? $1 : undef;
}

sub inode {
    my ($pid) = @_;
    my $l = $t->listen_sockets($pid)->{port(8080)};

    return $l ? $l->[0]{inode} : 'none';
}

sub loads {
    return (Test::Kiln::Load->start(body => $body, mode => 'keepalive',
            clients => 2, per_conn => 50, duration => 60),
        Test::Kiln::Load->start(body => $body, mode => 'close',
            clients => 1, duration => 60));
}

# usr2(OLD): send USR2 and wait for the new master to write kiln.pid;
# returns its pid (undef if none came).

sub usr2 {
    my ($old) = @_;
    my $new;

    kill 'USR2', $old;

    wait_for(sub {
        $new = pidfile('kiln.pid');
        defined $new && $new != $old && $t->alive($new);
    }, 10) or return undef;

    $t->track($new);
    return $new;
}

# --- the upgrade --------------------------------------------------------------

conf('html');
$t->run;

my $old = $t->master_pid;
ok(wait_for(sub { workers_of($old) == 2 }), 'two workers');
my @old_workers = workers_of($old);

my ($ka, $nc) = loads();
ok($ka->wait_requests(100) && $nc->wait_requests(50), 'load flowing');

my $new = usr2($old);
ok($new, 'USR2: kiln.pid names a new master');
$new //= 0;

is(pidfile('kiln.pid.oldbin'), $old, 'USR2: kiln.pid.oldbin names the old');
is($t->ppid($new), $old, 'USR2: the new master is a child of the old');
like($t->title($new), qr/: master process/, 'USR2: the new one is a master');
is(readlink("/proc/$new/exe"), readlink("/proc/$old/exe"),
    'USR2: the same binary');
ok(wait_for(sub { workers_of($new) == 2 }),
    'USR2: the new master has two workers');
ok(!grep({ !$t->alive($_) } @old_workers), 'USR2: the old workers go on');
is(inode($new), inode($old),
    'USR2: the new master listens on the old one\'s socket (same inode)');
ok(!grep({ inode($_) ne inode($old) } workers_of($new)),
    'USR2: the new workers accept on it too');

my @masters = masters_under($old, $new);
kill 'USR2', $old;
ok(!wait_for(sub { masters_under($old, $new) > @masters }, 0.5),
    'USR2 again to the old master during an upgrade: ignored');

ok($ka->wait_requests(100) && $nc->wait_requests(50),
    'both generations serve the load');

# WINCH to the old master: its workers leave, the new ones serve.

kill 'WINCH', $old;
ok(wait_for(sub { gone(@old_workers) }, 10), 'WINCH old: the old workers exit');
ok($t->alive($old), 'WINCH old: the old master stays');
ok(!wait_for(sub { workers_of($old) > 0 }, 0.3),
    'WINCH old: no worker respawned');
ok($ka->wait_requests(100) && $nc->wait_requests(50),
    'WINCH old: the new workers serve the load');

# QUIT to the old master: the switch is complete.

kill 'QUIT', $old;
ok(wait_for(sub { !$t->alive($old) }, 10), 'QUIT old: the old master exits');
ok(wait_for(sub { !-e "$d/kiln.pid.oldbin" }, 2),
    'QUIT old: kiln.pid.oldbin is removed');
is(pidfile('kiln.pid'), $new, 'QUIT old: kiln.pid names the new master');
ok($t->alive($new) && workers_of($new) == 2,
    'QUIT old: the new master and its workers stay');
$t->set_master($new) if $new;

ok($ka->wait_requests(100) && $nc->wait_requests(50),
    'after the upgrade: the load goes on');

my ($ka_r, $nc_r) = ($ka->stop, $nc->stop);
is($ka_r->{failed}, 0, 'upgrade: no keep-alive request failed')
    or diag($ka_r->{summary});
is($nc_r->{failed}, 0, 'upgrade: no new-connection request failed')
    or diag($nc_r->{summary});

$t->stop;

# --- the rollback -------------------------------------------------------------

conf('html');
$t->run;

$old = $t->master_pid;
ok(wait_for(sub { workers_of($old) == 2 }), 'rollback: two workers');
@old_workers = workers_of($old);

($ka, $nc) = loads();
ok($ka->wait_requests(100) && $nc->wait_requests(50), 'rollback: load flowing');

$new = usr2($old);
ok($new, 'rollback: USR2 starts a new master');
$new //= 0;
ok(wait_for(sub { workers_of($new) == 2 }), 'rollback: with two workers');
my @new_workers = workers_of($new);

kill 'WINCH', $old;
ok(wait_for(sub { gone(@old_workers) }, 10),
    'rollback: WINCH old stops its workers');
ok($ka->wait_requests(50) && $nc->wait_requests(20),
    'rollback: the new workers serve');

# The old master restarts workers on its own configuration: it must not
# read the file again (which now says something else).
conf('html2');
kill 'HUP', $old;
ok(wait_for(sub { workers_of($old) == 2 }, 10),
    'rollback: HUP old starts two workers again');
ok(!grep({ !$t->alive($_) } @new_workers),
    'rollback: the new workers are untouched by it');

kill 'QUIT', $new;
ok(wait_for(sub { !$t->alive($new) }, 10), 'rollback: QUIT new: it exits');
ok(wait_for(sub { gone(@new_workers) }, 10), 'rollback: with its workers');
ok(wait_for(sub { (pidfile('kiln.pid') // 0) == $old }, 5),
    'rollback: kiln.pid names the old master again');
ok(!-e "$d/kiln.pid.oldbin", 'rollback: kiln.pid.oldbin is gone');
ok($t->alive($old) && workers_of($old) == 2,
    'rollback: the old master serves with two workers');
is(probe(), "first config\n",
    'rollback: the old master did not re-read the configuration');

ok($ka->wait_requests(100) && $nc->wait_requests(50),
    'after the rollback: the load goes on');

($ka_r, $nc_r) = ($ka->stop, $nc->stop);
is($ka_r->{failed}, 0, 'rollback: no keep-alive request failed')
    or diag($ka_r->{summary});
is($nc_r->{failed}, 0, 'rollback: no new-connection request failed')
    or diag($nc_r->{summary});

$t->stop;

# --- USR2 to the new master while the old one runs: ignored -------------------

conf('html');
$t->run;

$old = $t->master_pid;
$new = usr2($old) // 0;
ok(wait_for(sub { workers_of($new) == 2 }), 'USR2: a new master, two workers');

kill 'USR2', $new;
ok(!wait_for(sub { masters_under($old, $new) > 1 }, 0.5),
    'USR2 to the new master while the old one runs: ignored');
is(pidfile('kiln.pid'), $new, '... kiln.pid still names the new master');
is(pidfile('kiln.pid.oldbin'), $old, '... kiln.pid.oldbin the old one');

$t->stop;

# --- a master started with $KILN adopts the sockets it names ------------------

conf('html');
my $conf = $t->read_file('kiln.conf');
$conf =~ s/%%PORT_8080%%|127\.0\.0\.1:\d+;/127.0.0.1:${\ port(8080)};/;
$t->write_file('kiln.conf', $conf);

my $ls = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
    LocalPort => port(8080), Proto => 'tcp', Listen => 128, ReuseAddr => 1)
    or die "listen: $!\n";
my $flags = fcntl($ls, F_GETFD, 0);
fcntl($ls, F_SETFD, $flags & ~FD_CLOEXEC);

# Non-blocking, as an old master's listening sockets are.
$ls->blocking(0);
my $ino = (stat $ls)[1];

{
    local $ENV{$ENVVAR} = fileno($ls) . ';';
    $t->run;
}

my $m = $t->master_pid;
is(inode($m), $ino, "\$$ENVVAR: the master adopted the inherited socket");
close $ls;
ok(wait_for(sub { workers_of($m) == 2 }), "\$$ENVVAR: two workers");
is(probe(), "first config\n", "\$$ENVVAR: serves on it");
is(inode($m), $ino, "\$$ENVVAR: still that socket");

$t->stop;

# A socket handed over in blocking mode (not every parent is an old
# master) must not hang the workers: kiln still serves, and stops on QUIT.

$ls = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
    LocalPort => port(8080), Proto => 'tcp', Listen => 128, ReuseAddr => 1)
    or die "listen: $!\n";
fcntl($ls, F_SETFD, fcntl($ls, F_GETFD, 0) & ~FD_CLOEXEC);

{
    local $ENV{$ENVVAR} = fileno($ls) . ';';
    $t->run;
}

close $ls;
$m = $t->master_pid;
ok(!grep({ probe() ne "first config\n" } 1 .. 5),
    "\$$ENVVAR, blocking socket: serves");
$t->signal('QUIT');
ok($t->wait_exit(5), "\$$ENVVAR, blocking socket: QUIT stops kiln");
ok(wait_for(sub { !grep { $t->alive($_) } $t->children($m) }, 2),
    "\$$ENVVAR, blocking socket: no worker left");
