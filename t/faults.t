#!/usr/bin/perl
# faults.t: faults under way: kill -9 of a worker under load (only its
# in-flight requests fail; a new worker is spawned and serves); the access
# log on a full disk (/dev/full) and on an unwritable path (at start, at
# reload, and opened at run time): logged, no crash, still serving;
# worker_connections and file descriptors running out: logged, accept
# backs off without a busy loop, and every queued client is served once
# connections free up; a reload whose old worker exceeds
# worker_shutdown_timeout ends it. (200 reloads under load losing nothing:
# t/reload_load.t; crash loops: t/worker_death.t, t/respawn.t.)

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Errno qw(EAGAIN EWOULDBLOCK EINTR);
use IO::Select;
use IO::Socket::INET;
use POSIX ();
use Socket qw(SOL_SOCKET SO_RCVBUF pack_sockaddr_in inet_aton);
use Test::More;
use Test::Kiln;
use Test::Kiln::Load;
use Time::HiRes qw(time);

my $t = Test::Kiln->new->has('static', 'log', 'rewrite');
my $d = $t->testdir;

# conf(%o): workers, main (main context lines), events (events {} lines),
# http (http {} lines), listen (after 8080's address), server (in its
# server block), servers (more server blocks).

sub conf {
    my (%o) = @_;

    $o{workers} //= 1;
    $o{$_} //= '' for qw(main events http listen server servers);

    $t->write_file_expand('kiln.conf', <<"EOF");
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes $o{workers};
$o{main}
events {
$o{events}}

http {
    root %%TESTDIR%%/html;
$o{http}
    server {
        listen       127.0.0.1:%%PORT_8080%%$o{listen};
        server_name  localhost;
$o{server}    }
$o{servers}}
EOF
}

$t->write_file('html/index.html', "index\n");
$t->write_file('notadir', "a regular file\n");

my $big_size = 16 * 1024 * 1024;
$t->write_file('html/big.bin', 'b' x $big_size);

$SIG{PIPE} = 'IGNORE';

$t->expect_errors(qr/worker process \d+ exited on signal 9/,
    qr{write\(\) to "/dev/full" failed \(28: No space left on device\)},
    qr{open\(\) "\Q$d\E/notadir/access\.log" failed \(20: Not a directory\)},
    qr/worker process \d+ died \d+ ms after start, respawning in \d+ ms/,
    qr/reload failed, still serving the old configuration/,
    qr/\d+ worker_connections are not enough/);

$t->plan(45);

# get(PORT): one GET /index.html on a new connection: true if answered 200
# with the file.

sub get {
    my ($port) = @_;
    my $r = parse_response(http("GET /index.html HTTP/1.1\r\n"
        . "Host: localhost\r\nConnection: close\r\n\r\n",
        port => $port // 8080)) // {};

    return ($r->{status} // 0) == 200 && ($r->{body} // '') eq "index\n";
}

# cpu(PID): utime + stime of PID in seconds.

sub cpu {
    my ($pid) = @_;
    my ($fh, $stat);

    open($fh, '<', "/proc/$pid/stat") or return 0;
    $stat = <$fh>;
    close $fh;
    $stat =~ s/^.*\) //s;

    my @f = split ' ', $stat;
    return ($f[11] + $f[12]) / POSIX::sysconf(POSIX::_SC_CLK_TCK());
}

sub log_count {
    my ($re) = @_;
    my $n = () = $t->read_file('error.log') =~ /$re/g;

    return $n;
}

sub workers {
    my @w;

    wait_for(sub { @w = $t->worker_pids }, 5);
    return @w;
}

# --- kill -9 of a worker under load ------------------------------------------

# Each access log line names the worker that served it, so the new worker
# is seen serving.

conf(workers => 2, events => "    worker_connections 256;\n",
    http => "    log_format pid \"\$pid \$status\";\n"
        . "    access_log %%TESTDIR%%/pid.log pid;\n",
    servers => <<'EOF');

    server {
        listen       127.0.0.1:%%PORT_8081%%;
        server_name  localhost;
        access_log   /dev/full;
    }

    server {
        listen       127.0.0.1:%%PORT_8082%%;
        server_name  localhost;
        access_log   %%TESTDIR%%/notadir/$host.log;
    }
EOF

$t->run;

my $master = $t->master_pid;
ok(wait_for(sub { $t->worker_pids == 2 }), 'kill -9: two workers');
my @before = $t->worker_pids;

my $nc = Test::Kiln::Load->start(body => "index\n", mode => 'close',
    clients => 3);
my $ka = Test::Kiln::Load->start(body => "index\n", mode => 'keepalive',
    clients => 3, per_conn => 20);
ok($nc->wait_requests(100) && $ka->wait_requests(100),
    'kill -9: the load is flowing');

my $victim = $before[0];
kill 'KILL', $victim;

my @after;
ok(wait_for(sub {
    @after = $t->worker_pids;
    @after == 2 && !grep { $_ == $victim } @after;
}, 10), 'kill -9: the worker is replaced');
my ($new) = grep { $_ != $before[1] } @after;
ok(defined $new && $new != $victim, 'kill -9: the new worker has a new pid');
ok(grep({ $_ == $before[1] } @after), 'kill -9: the other worker lives on');

ok($nc->wait_requests(300, 20) && $ka->wait_requests(300, 20),
    'kill -9: requests are served after the respawn');
my $rn = $nc->stop;
my $rk = $ka->stop;

# At most the request each client had in flight on the killed worker
# fails: nothing queued on the listener is lost, and the keep-alive
# connections that were idle on it are not failures.
cmp_ok($rn->{failed} + $rk->{failed}, '<=', 6,
    'kill -9: at most one in-flight request per client failed')
    or diag("$rn->{summary}\n$rk->{summary}");
diag("kill -9 under load: $rn->{summary}; $rk->{summary}");

# Requests until the new worker has taken one (the kernel picks which
# worker wakes).
ok(wait_for(sub { get() && $t->read_file('pid.log') =~ /^$new 200$/m }, 10),
    'kill -9: the new worker serves');
like($t->read_file('error.log'),
    qr/worker process $victim exited on signal 9/,
    'kill -9: the death is logged');
is($t->master_pid, $master, 'kill -9: same master');

# --- the access log on a full disk -------------------------------------------

my $ok = 0;
$ok += get(8081) for 1 .. 10;
is($ok, 10, '/dev/full: requests are answered');

my $full = qr{\[alert\] \d+#\d+: \*\d+ write\(\) to "/dev/full" failed }
    . qr{\(28: No space left on device\) while logging request};
ok(wait_for(sub { log_count($full) }), '/dev/full: the failed write is logged');
cmp_ok(log_count($full), '<=', 2,
    '/dev/full: once a minute per worker, not once a request');
is(join(' ', sort $t->worker_pids), join(' ', sort @after),
    '/dev/full: no worker died');
ok(get(8080), '/dev/full: the other server serves');

# --- an unwritable access log path -------------------------------------------

# Run by root, kiln can write anywhere but under a regular file.

my $bad = qr{open\(\) "\Q$d\E/notadir/access\.log" failed }
    . qr{\(20: Not a directory\)};

# Opened at run time (a path with a variable): [crit], the request served.
ok(get(8082), 'unwritable, opened at run time: the request is served');
my $crit = qr{\[crit\] \d+#\d+: \*\d+ open\(\) "\Q$d\E/notadir/}
    . qr{localhost\.log" failed \(20: Not a directory\) while logging request};
ok(wait_for(sub { log_count($crit) }),
    'unwritable, opened at run time: [crit] open() failed');

my $good = $t->read_file('kiln.conf');
(my $broken = $good) =~ s{access_log   /dev/full;}
    {access_log   $d/notadir/access.log;};

# At start (kiln -t) and at reload: a configuration error.
$t->write_file('bad.conf', $broken);
my $r = $t->run_kiln('-p', "$d/", '-c', "$d/bad.conf", '-t');
isnt($r->{exit}, 0, 'unwritable at start: kiln -t fails');
like($r->{stderr}, qr/\[emerg\] (?:\d+#\d+: )?$bad/,
    'unwritable at start: [emerg]');

$t->write_file('kiln.conf', $broken);
$t->signal('HUP');
ok(wait_for(sub { $t->read_file('error.log') =~ /\[emerg\] \d+#\d+: $bad/ }),
    'unwritable at reload: [emerg] logged');
is(join(' ', sort $t->worker_pids), join(' ', sort @after),
    'unwritable at reload: the old workers stay');
ok(get(8080), 'unwritable at reload: still serving');

$t->write_file('kiln.conf', $good);
$t->stop;

# --- worker_connections exhausted --------------------------------------------

# hold(N, PORT): N connections that each send half a request (deferred:
# the worker gets them with data, so none is an idle connection it could
# reuse). Returns the sockets.

sub hold {
    my ($n, $port) = @_;
    my @s;

    for (1 .. $n) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
            PeerPort => port($port // 8080), Proto => 'tcp', Timeout => 5)
            or die "connect: $!\n";
        syswrite($s, "GET /index.html HTTP/1.1\r\n");
        push @s, $s;
    }

    return @s;
}

# finish(SOCKS): send the rest of each request; the number answered 200.

sub finish {
    my (@socks) = @_;
    my $n = 0;

    syswrite($_, "Host: localhost\r\nConnection: close\r\n\r\n") for @socks;

    for my $s (@socks) {
        my $r = parse_response(http_read($s, timeout => 15) // '') // {};
        $n++ if ($r->{status} // 0) == 200 && ($r->{body} // '') eq "index\n";
    }

    return $n;
}

# exhausted(NAME, RE, MAX): with 40 half requests held on a worker that has
# room for fewer: RE is logged, at most MAX times, the worker's CPU stays
# low while it is out of room, and all 40 are answered once the requests
# complete.

sub exhausted {
    my ($name, $re, $max) = @_;
    my ($w) = workers();
    my @s = hold(40);

    ok(wait_for(sub { log_count($re) }, 5), "$name: logged");

    my $cpu0 = cpu($w);
    my $t0 = time();
    select(undef, undef, undef, 2);
    my $used = cpu($w) - $cpu0;
    my $wall = time() - $t0;

    cmp_ok($used, '<', 0.25 * $wall,
        sprintf('%s: no busy loop (%.2f s CPU in %.2f s)', $name, $used,
            $wall));
    cmp_ok(log_count($re), '<=', $max, "$name: logged at most $max times");

    my $open = grep { !wait_closed($_, 0) } @s;
    is($open, 40, "$name: no connection refused, the extra ones wait");

    is(finish(@s), 40, "$name: all 40 answered once connections free up");
    ok(get(), "$name: served afterwards");
    is(scalar(grep { $_ == $w } $t->worker_pids), 1, "$name: same worker");
}

conf(events => "    worker_connections 16;\n",
    http => "    client_header_timeout 60s;\n", listen => ' deferred');
$t->run;

exhausted('worker_connections 16',
    qr/\[alert\] \d+#\d+: 16 worker_connections are not enough/, 6);

$t->stop;

# --- file descriptors exhausted ----------------------------------------------

# The answer needs no file: a static file's open() would meet EMFILE too
# (a 500, [crit] open() failed, as nginx) when the last fd went to accept.
conf(main => "worker_rlimit_nofile 24;\n",
    events => "    worker_connections 64;\n",
    http => "    client_header_timeout 60s;\n", listen => ' deferred',
    server => "        location / {\n            return 200 \"index\\n\";\n"
        . "        }\n");
$t->run;

exhausted('worker_rlimit_nofile 24',
    qr/\[crit\] \d+#\d+: accept4\(\) failed \(24: Too many open files\)/, 10);

$t->stop;

# --- worker_shutdown_timeout on reload ---------------------------------------

conf(main => "worker_shutdown_timeout 1s;\n",
    events => "    worker_connections 64;\n",
    servers => <<'EOF');

    server {
        listen       127.0.0.1:%%PORT_8081%% sndbuf=16k;
        server_name  localhost;
    }
EOF
$t->run;

my ($old) = workers();

# A download the client does not read: the response can never finish.
my $dl = IO::Socket::INET->new(Proto => 'tcp') or die "socket: $!\n";
$dl->setsockopt(SOL_SOCKET, SO_RCVBUF, 4096);
$dl->connect(pack_sockaddr_in(port(8081), inet_aton('127.0.0.1')))
    or die "connect: $!\n";
syswrite($dl, "GET /big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n");
ok(IO::Select->new($dl)->can_read(5), 'shutdown timeout: the download began');

my $t0 = time();
$t->signal('HUP');

ok(wait_for(sub { grep { $_ != $old } $t->worker_pids }, 5),
    'shutdown timeout: a new worker');
ok(get(), 'shutdown timeout: the new worker serves');
ok(!wait_for(sub { !$t->alive($old) }, 0.5),
    'shutdown timeout: the old worker waits for the download at first');
ok(wait_for(sub { !$t->alive($old) }, 10, 0.02),
    'shutdown timeout: the old worker is ended');
my $took = time() - $t0;
ok($took >= 0.8 && $took < 5,
    sprintf('shutdown timeout 1s: ended after %.2f s', $took));

$r = parse_response(http_read($dl, timeout => 10) // '') // {};
is($r->{status}, 200, 'shutdown timeout: the download had begun');
cmp_ok(length($r->{body} // ''), '<', $big_size,
    'shutdown timeout: and was cut');
ok(get(), 'shutdown timeout: served afterwards');

$t->stop;
