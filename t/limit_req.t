#!/usr/bin/perl
# limit_req.t: limit_req_zone, limit_req (burst, nodelay, delay=, several
# per location, inheritance), limit_req_status, limit_req_log_level,
# limit_req_dry_run and $limit_req_status; an empty key not accounted;
# exactness across two workers; a full zone evicting its least recently
# used states and refusing (logged once) a key that finds no room; a
# client leaving while delayed; a flood from one address leaving another
# served; configuration errors in nginx's words.
#
# Counting, not timing: most zones run at 1r/m, which drains 1/60 of a
# request a second, so a burst is exact for as long as a test can take.
# Where a request must be delayed, it comes pipelined right behind the
# one that filled the bucket. Keys come from the X-Key header, so each
# check starts from a fresh state.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use IO::Socket::INET;
use Test::More;
use Test::Kiln;

my $t = Test::Kiln->new->has('static', 'limit_req', 'headers', 'log',
    'auth_request');

$t->write_file_expand('kiln.conf', <<'EOF');
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes 2;

events {
    worker_connections 256;
}

http {
    limit_req_zone $http_x_key zone=slow:1m rate=1r/m;
    limit_req_zone $http_x_key zone=slow2:1m rate=1r/m;
    limit_req_zone $http_x_key zone=persec:1m rate=1r/s;
    limit_req_zone $http_x_key zone=tiny:32k rate=1r/m;
    limit_req_zone $binary_remote_addr zone=flood:1m rate=10r/s;
    limit_req_zone $http_x_key zone=inh:1m rate=1r/m;

    log_format lr '$http_x_key $status $limit_req_status';
    access_log %%TESTDIR%%/access.log lr;

    large_client_header_buffers 4 64k;

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        root %%TESTDIR%%/html;

        add_header X-LR "$limit_req_status" always;

        limit_req zone=inh burst=1 nodelay;

        location /nodelay {
            limit_req zone=slow burst=3 nodelay;
        }

        location /noburst {
            limit_req zone=slow;
        }

        location /status {
            limit_req zone=slow;
            limit_req_status 429;
            limit_req_log_level warn;
        }

        location /dry {
            limit_req zone=slow;
            limit_req_dry_run on;
        }

        location /delay {
            limit_req zone=persec burst=3;
        }

        location /delayparam {
            limit_req zone=persec burst=5 delay=2;
        }

        location /wait {
            limit_req zone=slow burst=5;
        }

        location /two {
            limit_req zone=slow burst=5 nodelay;
            limit_req zone=slow2 nodelay;
        }

        location /one {
            limit_req zone=slow burst=5 nodelay;
        }

        location /inherit {
        }

        location /exact {
            limit_req zone=slow burst=9 nodelay;
        }

        location /tiny {
            limit_req zone=tiny;
        }

        location /flood {
            limit_req zone=flood burst=5 nodelay;
        }

        location /auth {
            auth_request /authsub;
        }

        location = /authsub {
            limit_req zone=slow;
        }
    }
}
EOF

for my $f (qw(nodelay noburst status dry delay delayparam wait two one
    inherit exact tiny flood auth authsub))
{
    $t->write_file("html/$f", "$f\n");
}

$t->expect_errors(qr/could not allocate node/);
$t->plan(51);
$t->run;

my $d = $t->testdir;

sub get {
    my ($uri, $key, %o) = @_;
    my $h = defined $key ? "X-Key: $key\r\n" : '';
    my $r = parse_response(http("GET $uri HTTP/1.0\r\nHost: x\r\n$h\r\n",
        %o));
    return $r;
}

sub statuses {
    my ($uri, $key, $n) = @_;
    return join ' ', map { get($uri, $key)->{status} // 'none' } 1 .. $n;
}

sub lr {
    my ($r) = @_;
    return $r ? $r->{headers}{'x-lr'} // '' : 'none';
}

# burst=3 nodelay: the first and three more, then refused.

is(statuses('/nodelay', 'a', 6), '200 200 200 200 503 503',
    'burst=3 nodelay: four pass, then 503');
is(lr(get('/nodelay', 'a')), 'REJECTED', '$limit_req_status REJECTED');
is(lr(get('/nodelay', 'a2')), 'PASSED', '$limit_req_status PASSED');

is(statuses('/noburst', 'b', 3), '200 503 503', 'no burst: one passes');

my $r = get('/status', 'c');
$r = get('/status', 'c');
is($r->{status}, 429, 'limit_req_status 429');

ok(wait_for(sub {
    $t->read_file('error.log')
        =~ /\[warn\].*limiting requests, excess: 1\.\d{3} by zone "slow"/
}, 5), 'refusal logged at limit_req_log_level, in nginx\'s words');

is(statuses('/dry', 'd', 3), '200 200 200', 'dry run: nothing refused');
is(lr(get('/dry', 'd')), 'REJECTED_DRY_RUN', 'dry run: REJECTED_DRY_RUN');
ok(wait_for(sub {
    $t->read_file('error.log') =~ /limiting requests, dry run, excess/
}, 5), 'dry run refusal logged');

# An empty key is not accounted: no status either.

is(statuses('/noburst', undef, 3), '200 200 200', 'empty key: not limited');
$r = get('/noburst', undef);
ok(!defined $r->{headers}{'x-lr'}, 'empty key: no $limit_req_status');

# Delayed: the second request comes pipelined behind the first, at once,
# and waits for the excess to drain (at most a second at 1r/s).

my $s = http("GET /delay HTTP/1.1\r\nHost: x\r\nX-Key: e\r\n\r\n"
    . "GET /delay HTTP/1.1\r\nHost: x\r\nX-Key: e\r\nConnection: close\r\n\r\n",
    start => 1);
my $r1 = parse_response(read_response($s));
my $r2 = parse_response(read_response($s));
is($r1->{status} . ' ' . lr($r1), '200 PASSED', 'delay: first passes');
is($r2->{status} . ' ' . lr($r2), '200 DELAYED', 'delay: second delayed');
like($t->read_file('error.log'),
    qr/\[warn\].*delaying request, excess: [01]\.\d{3}, by zone "persec"/,
    'delay logged a level below refusals (error: warn)');

# delay=2: two beyond the first pass at once, the next is delayed.

$s = http(join('', map {
    "GET /delayparam HTTP/1.1\r\nHost: x\r\nX-Key: f\r\n\r\n" } 1 .. 3)
    . "GET /delayparam HTTP/1.1\r\nHost: x\r\nX-Key: f\r\n"
    . "Connection: close\r\n\r\n", start => 1);
my @lr = map { lr(parse_response(read_response($s))) } 1 .. 4;
is("@lr[0 .. 2]", 'PASSED PASSED PASSED', 'delay=2: three pass at once');
is($lr[3], 'DELAYED', 'delay=2: the fourth is delayed');

# A client that leaves while delayed (a minute at 1r/m): 499 in the log.

get('/wait', 'g');
$s = http("GET /wait HTTP/1.0\r\nHost: x\r\nX-Key: g\r\n\r\n", start => 1);
ok(wait_for(sub {
    $t->read_file('error.log') =~ /delaying request, excess: 1\.000, by zone "slow"/
}, 5), 'delayed a minute');
close $s;
ok(wait_for(sub { $t->read_file('access.log') =~ /^g 499 DELAYED$/m }, 5),
    'client gone while delayed: 499');

# Several limits: the request is refused by the second zone, and the
# first is not charged for it: /one (burst=5) then admits five more.

is(statuses('/two', 'h', 3), '200 503 503', 'two zones: the tighter refuses');
like($t->read_file('error.log'), qr/excess: 1\.\d{3} by zone "slow2"/,
    'refused by zone slow2');
is(statuses('/one', 'h', 7), '200 200 200 200 200 503 503',
    'refusals by a later zone cost the first nothing');

# Inheritance: a location with no limit_req has the server's; one with
# its own has only its own.

is(statuses('/inherit', 'i', 3), '200 200 503', 'server level inherited');
is(statuses('/nodelay', 'i', 4), '200 200 200 200',
    'a location with its own limit_req: only its own');

# Subrequests: the main request decides; auth_request's subrequest is not
# limited again once the main request passed.

is(statuses('/auth', 'j', 3), '200 200 503',
    'auth_request: the main request limited by the server\'s zone');
is(get('/noburst', 'j')->{status}, 200,
    'auth_request: its subrequest was not limited again');

# Exact across two workers: 30 connections at once, burst=9: ten pass.

my @socks = map {
    http("GET /exact HTTP/1.0\r\nHost: x\r\nX-Key: k\r\n\r\n", start => 1)
} 1 .. 30;
my %count;
$count{parse_response(http_read($_))->{status} // 'none'}++ for @socks;
is($count{200}, 10, 'two workers: exactly burst + 1 pass');
is($count{503}, 20, 'two workers: the rest refused');

# A 32k zone and 2000 keys: the oldest states go, every new key passes,
# and the latest keys are still counted.

my $fails = 0;
for my $i (1 .. 2000) {
    $fails++ if get('/tiny', "key$i")->{status} != 200;
}
is($fails, 0, 'full zone: least recently used states evicted');
is(get('/tiny', 'key2000')->{status}, 503, 'the newest state is kept');

# A key no zone could hold: refused, logged once (nginx: each time).

my $big = 'z' x 40000;
is(get('/tiny', $big)->{status}, 503, 'no room: 503');
is(get('/tiny', $big)->{status}, 503, 'no room again: 503');
ok(wait_for(sub {
    $t->read_file('error.log') =~ /could not allocate node in limit_req zone/
}, 5), 'could not allocate node: logged');
is(get('/tiny', 'after')->{status}, 200, 'the zone still works');

# Flood: one address sends thousands at 10r/s; another is still served.

my ($flood200, $flood503, $other200) = (0, 0, 0);
my $req = "GET /flood HTTP/1.1\r\nHost: x\r\n\r\n";

for my $round (1 .. 5) {
    my $f = http($req x 599 . "GET /flood HTTP/1.1\r\nHost: x\r\n"
        . "Connection: close\r\n\r\n", start => 1);
    my $o = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
        PeerPort => port(8080), LocalAddr => '127.0.0.2',
        Proto => 'tcp') or die "127.0.0.2: $!";
    $r = parse_response(http("GET /flood HTTP/1.0\r\nHost: x\r\n\r\n",
        socket => $o));
    $other200++ if $r && $r->{status} == 200;
    my $all = http_read($f, timeout => 30);
    $flood200 += () = $all =~ m{^HTTP/1\.1 200}mg;
    $flood503 += () = $all =~ m{^HTTP/1\.1 503}mg;
}

is($flood200 + $flood503, 3000, 'flood: every request answered');
ok($flood503 > 2000, "flood: most refused ($flood503)");
is($other200, 5, 'flood: the other address served every time');

# A reload keeps the zone and its states.

my %old = map { $_ => 1 } $t->worker_pids;
is(get('/noburst', 'r')->{status}, 200, 'before reload: passes');
$t->signal('HUP');
ok(wait_for(sub {
    my @w = $t->worker_pids;
    @w == 2 && !grep { $old{$_} } @w;
}, 10), 'reloaded');
is(get('/noburst', 'r')->{status}, 503, 'after reload: the state is kept');

# Configuration errors, in nginx's words.

sub conf_error {
    my ($http) = @_;

    $t->write_file('bad.conf', "events { }\nhttp {\n$http\n"
        . "server { listen 127.0.0.1:1; } }\n");
    my $res = $t->run_kiln('-p', "$d/", '-e', "$d/bad.log", '-c',
        "$d/bad.conf", '-t');
    return ($res->{exit}, $res->{stderr} . $t->read_file('bad.log'));
}

my ($rc, $err) = conf_error('limit_req zone=nosuch;');
ok($rc && $err =~ /zero size shared memory zone "nosuch"/, 'unknown zone');

($rc, $err) = conf_error('limit_req_zone $uri zone=a:1m rate=0r/s;');
ok($rc && $err =~ /invalid rate "rate=0r\/s"/, 'invalid rate');

($rc, $err) = conf_error('limit_req_zone $uri zone=a:1k rate=1r/s;');
ok($rc && $err =~ /zone "zone=a:1k" is too small/, 'zone too small');

($rc, $err) = conf_error('limit_req_zone $uri rate=1r/s rate=2r/s;');
ok($rc && $err =~ /"limit_req_zone" must have "zone" parameter/,
    'no zone parameter');

($rc, $err) = conf_error("limit_req_zone \$uri zone=a:1m rate=1r/s;\n"
    . 'limit_req zone=a burst=0;');
ok($rc && $err =~ /invalid burst value "burst=0"/, 'burst=0');

($rc, $err) = conf_error("limit_req_zone \$uri zone=a:1m rate=1r/s;\n"
    . 'limit_req_status 600;');
ok($rc && $err =~ /value must be between 400 and 599/, 'status 600');

($rc, $err) = conf_error("limit_req_zone \$uri zone=a:1m rate=1r/s;\n"
    . 'limit_req zone=a delay=0;');
ok($rc && $err =~ /invalid delay value "delay=0"/, 'delay=0');

($rc, $err) = conf_error("limit_req_zone \$uri zone=a:1m rate=1r/s;\n"
    . "limit_req zone=a;\nlimit_req zone=a;");
ok($rc && $err =~ /"limit_req" directive is duplicate/, 'a zone twice');

($rc, $err) = conf_error("limit_req_zone \$uri zone=a:1m rate=1r/s;\n"
    . 'limit_req_zone $host zone=a:1m rate=1r/s;');
ok($rc && $err =~ /limit_req_zone "a" is already bound to key "\$uri"/,
    'a zone bound to two keys');

($rc, $err) = conf_error("limit_req_zone \$uri zone=a:1m rate=1r/s;\n"
    . 'limit_req burst=2;');
ok($rc && $err =~ /"limit_req" must have "zone" parameter/,
    'limit_req without zone');

($rc, $err) = conf_error("limit_conn_zone \$uri zone=a:1m;\n"
    . 'limit_req zone=a;');
ok($rc && $err =~ /shared memory zone "a" is already declared for a different use/,
    'a limit_conn zone named by limit_req');

# nginx 1.22 knows no "sync" (NGINX Plus): the argument count refuses it.

($rc, $err) = conf_error('limit_req_zone $uri zone=a:1m rate=1r/s sync;');
ok($rc && $err =~ /"sync" parameter is NGINX Plus only|invalid number of arg/,
    'sync refused');
