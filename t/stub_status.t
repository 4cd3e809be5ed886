#!/usr/bin/perl
# stub_status.t: the counts of both workers on one page, in nginx's exact
# text; Reading/Writing/Waiting for idle and in-flight connections; the
# counts run on across a reload and a worker's respawn; $connections_*;
# GET/HEAD only; "stub_status on" and what kiln refuses.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;

my $t = Test::Kiln->new->has('stub_status');
my $nginx = ($ENV{KILN_BINARY} // '') =~ /nginx/;

# reuseport: the kernel spreads connections over both workers by address,
# so a few keep-alive connections land on each.
$t->write_file_expand('kiln.conf', <<'EOF');
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes 2;

events {
    worker_connections 128;
}

http {
    access_log off;

    server {
        listen 127.0.0.1:%%PORT_8080%% reuseport;

        location = /status {
            stub_status;
        }

        location = /status_on {
            stub_status on;
        }

        location = /pid {
            return 200 "$pid\n";
        }

        location = /vars {
            return 200 "$connections_active $connections_reading $connections_writing $connections_waiting\n";
        }

        location / {
            root %%TESTDIR%%/html;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_8081%%;
        stub_status;
    }
}
EOF

# A response the client will not read: far more than loopback buffers hold.
$t->write_file('html/index.html', "index\n");
{
    my $big = $t->testdir . '/html/big';
    open(my $fh, '>', $big) or die "$big: $!";
    truncate($fh, 256 * 1024 * 1024) or die "truncate: $!";
    close $fh;
}

# Killing a worker on purpose: the master's alert about it is expected.
$t->expect_errors(qr/worker process \d+ exited on signal 9/,
    qr/unknown directive "no_such_directive"/,
    qr/reload failed, still serving the old configuration/);

$t->plan(41);
$t->run;

my $STATUS_RE = qr/\AActive connections: (\d+) \nserver accepts handled requests\n (\d+) (\d+) (\d+) \nReading: (\d+) Writing: (\d+) Waiting: (\d+) \n\z/;

# parse(BODY): the page's counts, or undef if it is not nginx's text.

sub parse {
    my ($body) = @_;
    my @n = ($body // '') =~ $STATUS_RE or return undef;
    my %s;

    @s{qw(active accepts handled requests reading writing waiting)} = @n;
    return \%s;
}

# status(SOCK): the counts through a keep-alive connection, or a new one.

sub status {
    my ($s) = @_;
    my $r;

    if ($s) {
        $r = parse_response(http("GET /status HTTP/1.1\r\nHost: localhost\r\n\r\n",
            socket => $s, one => 1));
    } else {
        $r = parse_response(http_get('/status'));
    }

    return parse($r->{body}) // {};
}

sub keepalive_get {
    my ($uri, $s) = @_;

    $s //= http_connect() or return (undef, undef);
    my $r = parse_response(http("GET $uri HTTP/1.1\r\nHost: localhost\r\n\r\n",
        socket => $s, one => 1));

    return ($s, $r);
}

# The page, to the byte (compared with Debian's nginx 1.22).

my $r = parse_response(http_get('/status'));
is($r->{status}, 200, 'GET /status: 200');
like($r->{body}, $STATUS_RE, 'nginx\'s exact text, trailing spaces included');
is($r->{headers}{'content-type'}, 'text/plain', 'Content-Type: text/plain');
is($r->{headers}{'content-length'}, length($r->{body}),
    'Content-Length: the page\'s');
my $st = parse($r->{body});
ok($st && $st->{writing} >= 1, 'the status request counts itself writing');

$r = parse_response(http_get('/status_on'));
like($r->{body}, $STATUS_RE, '"stub_status on" serves the page too');

$r = parse_response(http_get('/any/uri', port => 8081));
like($r->{body}, $STATUS_RE, 'stub_status in a server: every URI');

$r = parse_response(http_head('/status'));
is($r->{status}, 200, 'HEAD: 200');
is($r->{body}, '', 'HEAD: no body');

$r = parse_response(http("POST /status HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc"));
is($r->{status}, 405, 'POST: 405');

# Keep-alive connections on both workers: every count adds up, whichever
# worker answers. S is the status connection, alone at first.

my ($S) = keepalive_get('/pid');
my $polls = 0;
my $base;
ok(wait_for(sub {
    $polls++;
    $base = status($S);
    ($base->{active} // 0) == 1 && $base->{writing} == 1
        && $base->{reading} == 0;
}), 'the status connection alone is active');
$polls = 0;

my (@conns, %pids);
for (1 .. 60) {
    my ($s, $pr) = keepalive_get('/pid');
    last unless $s && $pr->{status} == 200;
    push @conns, $s;
    $pids{$pr->{body}}++;
    last if keys %pids == 2 && @conns >= 6;
}
my $k = @conns;
is(scalar keys %pids, 2, "$k keep-alive connections, served by both workers");

$st = {};
ok(wait_for(sub {
    $polls++;
    $st = status($S);
    ($st->{waiting} // -1) == $k && $st->{writing} == 1;
}), 'Waiting: every idle keep-alive connection of both workers');
is($st->{active}, 1 + $k, 'Active: the status connection and the idle ones');
is($st->{accepts}, $base->{accepts} + $k, 'accepts: one per connection');
is($st->{handled}, $base->{handled} + $k, 'handled: one per connection');
is($st->{requests}, $base->{requests} + $k + $polls,
    'requests: one per request, both workers summed');
is($st->{reading}, 0, 'Reading: 0 with nothing half-read');

$r = parse_response(http("GET /vars HTTP/1.1\r\nHost: localhost\r\n\r\n",
    socket => $S, one => 1));
is($r->{body}, (1 + $k) . " 0 1 $k\n",
    '$connections_active, _reading, _writing, _waiting');

# In flight: a head half sent is Reading, a response the client does not
# read is Writing.

my $R = http("GET /pid HTTP/1.1\r\nHost: localhost\r\n", start => 1);
ok(wait_for(sub { (status($S)->{reading} // 0) == 1 }),
    'Reading: a request head half sent');
my $W = http("GET /big HTTP/1.1\r\nHost: localhost\r\n\r\n", start => 1);
ok(wait_for(sub { (status($S)->{writing} // 0) == 2 }),
    'Writing: a response the client does not read');
$st = status($S);
is($st->{active}, 3 + $k, 'Active: both in-flight connections too');
is($st->{waiting}, $k, 'Waiting: still the idle ones only');

close $R;
close $W;
ok(wait_for(sub {
    $st = status($S);
    ($st->{active} // 0) == 1 + $k && $st->{reading} == 0
        && $st->{writing} == 1;
}), 'closed by the client: counted out');

# A reload keeps the counts: the zone is reused.

$st = status($S);
my @old = $t->worker_pids;
$t->signal('HUP');
ok(wait_for(sub {
    my %old = map { $_ => 1 } @old;
    my @w = $t->worker_pids;
    @w == 2 && !grep { $old{$_} } @w;
}), 'reload: two new workers, the old ones gone');
ok(wait_closed($S, 5), 'reload: the old workers closed their idle connections');

my $after = status();
is($after->{accepts}, $st->{accepts} + 1, 'reload: accepts run on');
is($after->{handled}, $st->{handled} + 1, 'reload: handled runs on');
is($after->{requests}, $st->{requests} + 1, 'reload: requests run on');
is($after->{active}, 1, 'reload: Active, the idle connections gone');
is($after->{waiting}, 0, 'reload: Waiting 0');

# A worker killed and respawned: the counts run on.

my @w = $t->worker_pids;
kill 'KILL', $w[0];
ok(wait_for(sub {
    my @n = $t->worker_pids;
    @n == 2 && !grep { $_ == $w[0] } @n;
}), 'a killed worker is respawned');
my $resp = status();
is($resp->{accepts}, $after->{accepts} + 1, 'respawn: accepts run on');
is($resp->{requests}, $after->{requests} + 1, 'respawn: requests run on');
is($resp->{active}, 1, 'respawn: Active 1');

# A reload that fails keeps the old workers, their zone and its counts.

my @kept = sort $t->worker_pids;
my $good = $t->read_file('kiln.conf');
(my $broken = $good) =~ s/stub_status on;/stub_status on;\n            no_such_directive;/;
$t->write_file('kiln.conf', $broken);
$t->signal('HUP');
ok(wait_for(sub {
    $t->read_file('error.log') =~ /unknown directive "no_such_directive"/;
}), 'a broken reload is refused');
is(join(' ', sort $t->worker_pids), "@kept", 'the old workers stay');
my $kept = status();
is($kept->{accepts}, $resp->{accepts} + 1, 'a failed reload: the counts run on');
$t->write_file('kiln.conf', $good);

# Configuration: nginx takes any word after stub_status ("off" turns the
# page on); kiln refuses all but "on".

SKIP: {
    skip 'nginx takes "stub_status off" and turns it on', 3 if $nginx;

    $t->write_file('bad.conf', <<"EOF");
events { }
http {
    server {
        listen 127.0.0.1:1;
        location / {
            stub_status off;
        }
    }
}
EOF
    my $bad = $t->testdir . '/bad.conf';
    my $res = $t->run_kiln('-p', $t->testdir . '/', '-c', $bad,
        '-e', $t->testdir . '/bad.log', '-t');
    isnt($res->{exit}, 0, '"stub_status off": -t fails');
    like($res->{stderr}, qr/invalid parameter "off".* in \Q$bad\E:6/,
        '"stub_status off": refused with file and line');

    $t->write_file('bad.conf', <<"EOF");
events { }
http {
    stub_status;
}
EOF
    $res = $t->run_kiln('-p', $t->testdir . '/', '-c', $bad,
        '-e', $t->testdir . '/bad.log', '-t');
    like($res->{stderr}, qr/"stub_status" directive is not allowed here in \Q$bad\E:3/,
        'stub_status in http{}: not allowed here');
}
