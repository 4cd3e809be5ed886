#!/usr/bin/perl
# accept_spread.t: with EPOLLEXCLUSIVE (the default) and several workers, a
# worker over 7/8 of worker_connections leaves new connections to workers
# with room: idle keep-alive connections beyond one worker's share are all
# held and answer again, none is closed to make room, and no
# "worker_connections are not enough" is logged.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;

my $t = Test::Kiln->new->has('rewrite');

$t->write_file_expand('kiln.conf', <<'EOF2');
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes 2;

events {
    worker_connections 32;
}

http {
    keepalive_timeout 60s;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        location / {
            return 200 "$pid\n";
        }
    }
}
EOF2

$t->plan(6);
$t->run;

# 40 connections: more than one worker's 31 slots (one is its listener),
# fewer than both have.
my $n = 40;
my (@conns, %pids, $answered, $again);

$answered = 0;

for my $i (1 .. $n) {
    my $s = http_connect() or last;
    my $r = http("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n", socket => $s,
        one => 1, timeout => 5);

    if (defined $r && $r =~ m{^HTTP/1\.1 200 .*\r\n\r\n(\d+)\n\z}s) {
        $answered++;
        $pids{$1}++;
    }

    push @conns, $s;
}

is($answered, $n, "$n keep-alive connections answered");
is(scalar(keys %pids), 2, 'both workers took connections');
cmp_ok((sort { $b <=> $a } values %pids)[0], '<=', 29,
    'no worker past 7/8 of its connections');

# Each held connection answers a second request: none was closed.
$again = 0;

for my $s (@conns) {
    my $r = http("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n", socket => $s,
        one => 1, timeout => 5);
    $again++ if defined $r && $r =~ m{^HTTP/1\.1 200 }s;
}

is($again, $n, 'every held connection answers again');

close $_ for @conns;

unlike($t->read_file('error.log'), qr/worker_connections are not enough/,
    'no worker ran out of connections');
ok($t->alive($t->master_pid), 'kiln still runs');

$t->done;
