#!/usr/bin/perl
# limit_conn.t: limit_conn_zone, limit_conn (several per location,
# inheritance), limit_conn_status, limit_conn_log_level,
# limit_conn_dry_run and $limit_conn_status. A count is held while a
# request is in progress and given back at every end: a response sent
# (keep-alive), a client gone while the upstream is silent, a client gone
# mid-response, a request refused by a later zone, a subrequest; the
# checks wait for a new request to be admitted. Configuration errors in
# nginx's words.
#
# A request is held in progress by a peer that accepts and never answers,
# or by a response too large for the socket buffers that the client does
# not read. Keys come from headers, so each check has its own state.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use IO::Socket::INET;
use Test::More;
use Test::Kiln;

my $t = Test::Kiln->new->has('static', 'proxy', 'limit_conn', 'headers',
    'log', 'auth_request');

my $silent = IO::Socket::INET->new(LocalAddr => '127.0.0.1:' . port(8081),
    Listen => 64, ReuseAddr => 1, Proto => 'tcp')
    or die "listen: $!";

$t->write_file_expand('kiln.conf', <<'EOF');
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes 2;

events {
    worker_connections 256;
}

http {
    limit_conn_zone $http_x_key zone=z:1m;
    limit_conn_zone $http_x_key2 zone=z2:1m;

    log_format lc '$http_x_key $status $limit_conn_status';
    access_log %%TESTDIR%%/access.log lc;

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        root %%TESTDIR%%/html;

        add_header X-LC "$limit_conn_status" always;

        limit_conn z 1;

        location /slow {
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }

        location /slow2 {
            limit_conn z2 1;
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }

        location /check {
        }

        location /big {
        }

        location /status {
            limit_conn z 1;
            limit_conn_status 429;
            limit_conn_log_level warn;
        }

        location /dry {
            limit_conn z 1;
            limit_conn_dry_run on;
        }

        location /multi {
            limit_conn z 1;
            limit_conn z2 1;
        }

        location /two {
            limit_conn z 2;
        }

        location /slowtwo {
            limit_conn z 2;
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }

        location /auth {
            limit_conn z2 1;
            auth_request /authsub;
        }

        location = /authsub {
            limit_conn z2 1;
        }
    }
}
EOF

$t->write_file("html/$_", "$_\n") for qw(check status dry multi two auth
    authsub);
$t->write_file('html/big', 'x' x (16 << 20));

$t->plan(29);
$t->run;

my $d = $t->testdir;

sub req {
    my ($uri, %h) = @_;
    my $head = join '', map { "$_: $h{$_}\r\n" } sort keys %h;
    return "GET $uri HTTP/1.0\r\nHost: x\r\n$head\r\n";
}

sub get {
    my ($uri, %h) = @_;
    return parse_response(http(req($uri, %h))) // { status => 'none',
        headers => {} };
}

# Hold a request to uri until the key's count is taken: the next one to
# /check with the same key is refused.
sub hold {
    my ($uri, $key, %h) = @_;
    my $s = http(req($uri, 'X-Key' => $key, %h), start => 1);
    wait_for(sub { get('/check', 'X-Key' => $key)->{status} == 503 }, 5);
    return $s;
}

sub admitted {
    my ($key) = @_;
    return wait_for(sub { get('/check', 'X-Key' => $key)->{status} == 200 },
        10);
}

# A silent upstream holds the request; a second is refused.

my $a = hold('/slow', 'a');
my $r = get('/check', 'X-Key' => 'a');
is($r->{status}, 503, 'held by a request in progress: 503');
is($r->{headers}{'x-lc'}, 'REJECTED', '$limit_conn_status REJECTED');
ok(wait_for(sub {
    $t->read_file('error.log') =~ /\[error\].*limiting connections by zone "z"/
}, 5), 'refusal logged, in nginx\'s words');
is(get('/check', 'X-Key' => 'a2')->{headers}{'x-lc'}, 'PASSED',
    'another key: PASSED');

$r = get('/status', 'X-Key' => 'a');
is($r->{status}, 429, 'limit_conn_status 429');
ok(wait_for(sub {
    $t->read_file('error.log') =~ /\[warn\].*limiting connections by zone/
}, 5), 'limit_conn_log_level warn');

$r = get('/dry', 'X-Key' => 'a');
is($r->{status}, 200, 'dry run: served');
is($r->{headers}{'x-lc'}, 'REJECTED_DRY_RUN', 'dry run: REJECTED_DRY_RUN');
ok(wait_for(sub {
    $t->read_file('error.log') =~ /limiting connections, dry run, by zone/
}, 5), 'dry run logged');

# The client goes while the upstream is silent: the count comes back.

close $a;
ok(admitted('a'), 'client gone while waiting on upstream: count released');
ok(wait_for(sub { $t->read_file('access.log') =~ /^a 499 PASSED$/m }, 5),
    'the aborted request was logged 499');

# The client goes mid-response (16 MiB it does not read).

my $b = hold('/big', 'b');
is(get('/check', 'X-Key' => 'b')->{status}, 503, 'held mid-response');
close $b;
ok(admitted('b'), 'client gone mid-response: count released');

# Keep-alive: each request ends, and gives its count back, before the
# next on the same connection.

my $s = http(join('', map {
    "GET /check HTTP/1.1\r\nHost: x\r\nX-Key: c\r\n\r\n" } 1 .. 4)
    . "GET /check HTTP/1.1\r\nHost: x\r\nX-Key: c\r\nConnection: close\r\n\r\n",
    start => 1);
my @st = map { parse_response(read_response($s))->{status} } 1 .. 5;
is("@st", '200 200 200 200 200', 'keep-alive: every request admitted');

# limit_conn z 2: two at once, the third refused.

my $h1 = http(req('/slowtwo', 'X-Key' => 'd'), start => 1);
my $h2 = http(req('/slowtwo', 'X-Key' => 'd'), start => 1);
ok(wait_for(sub { get('/two', 'X-Key' => 'd')->{status} == 503 }, 5),
    'limit 2: a third refused');
close $h1;
ok(wait_for(sub { get('/two', 'X-Key' => 'd')->{status} == 200 }, 10),
    'limit 2: one gone, admitted again');
close $h2;
ok(admitted('d'), 'limit 2: both gone');

# Several zones: refused by the second, the first's count is given back.

my $e = http(req('/slow2', 'X-Key' => 'e0', 'X-Key2' => 'e'), start => 1);
ok(wait_for(sub {
    get('/multi', 'X-Key' => 'f', 'X-Key2' => 'e')->{status} == 503
}, 5), 'two zones: refused by the second');
is(get('/check', 'X-Key' => 'f')->{status}, 200,
    'two zones: the first zone\'s count given back');
close $e;
ok(wait_for(sub {
    get('/multi', 'X-Key' => 'f', 'X-Key2' => 'e')->{status} == 200
}, 10), 'two zones: admitted once the holder left');

# An empty key is not counted.

$r = get('/check');
is($r->{status}, 200, 'empty key: served');
ok(!defined $r->{headers}{'x-lc'}, 'empty key: no $limit_conn_status');

# Subrequests: auth_request's subrequest is counted with the main request
# and released with it.

# (On one connection: a request ending in a lingering close keeps its
# count until the client closes too, in kiln as in nginx.)

$s = http(join('', map {
    "GET /auth HTTP/1.1\r\nHost: x\r\nX-Key2: g\r\n\r\n" } 1 .. 2)
    . "GET /auth HTTP/1.1\r\nHost: x\r\nX-Key2: g\r\nConnection: close\r\n\r\n",
    start => 1);
@st = map { parse_response(read_response($s))->{status} } 1 .. 3;
is("@st", '200 200 200', 'auth_request: counts released each time');

# Configuration errors, in nginx's words.

sub conf_error {
    my ($http) = @_;

    $t->write_file('bad.conf', "events { }\nhttp {\n$http\n"
        . "server { listen 127.0.0.1:1; } }\n");
    my $res = $t->run_kiln('-p', "$d/", '-e', "$d/bad.log", '-c',
        "$d/bad.conf", '-t');
    return ($res->{exit}, $res->{stderr} . $t->read_file('bad.log'));
}

my ($rc, $err) = conf_error('limit_conn nosuch 1;');
ok($rc && $err =~ /zero size shared memory zone "nosuch"/, 'unknown zone');

($rc, $err) = conf_error("limit_conn_zone \$uri zone=a:1m;\nlimit_conn a 0;");
ok($rc && $err =~ /invalid number of connections "0"/, 'limit 0');

($rc, $err) = conf_error("limit_conn_zone \$uri zone=a:1m;\n"
    . 'limit_conn a 70000;');
ok($rc && $err =~ /connection limit must be less 65536/, 'limit 70000');

($rc, $err) = conf_error("limit_conn_zone \$uri zone=a:1m;\n"
    . "limit_conn a 1;\nlimit_conn a 2;");
ok($rc && $err =~ /"limit_conn" directive is duplicate/, 'a zone twice');

($rc, $err) = conf_error('limit_conn_zone $uri zone=a:1k;');
ok($rc && $err =~ /zone "zone=a:1k" is too small/, 'zone too small');

($rc, $err) = conf_error("limit_conn_zone \$uri zone=a:1m;\n"
    . 'limit_conn_status 99;');
ok($rc && $err =~ /value must be between 400 and 599/, 'status 99');
