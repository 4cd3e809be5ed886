#!/usr/bin/perl
# upstream_zone.t: "zone" in upstream {} with two workers: a peer one
# worker found dead (max_fails=1, a long fail_timeout) is skipped by the
# other too, so it is tried once in all; least_conn counts the
# connections of both workers (a peer holding one request gets no other
# from either worker); hash, consistent hash, ip_hash and keepalive
# groups in the zone; groups share a zone named once with its size;
# a reload maps the zone afresh. Then kiln -t: the size check in
# nginx's words, and the warning for a group with "resolve". Passes against nginx 1.22
# (but the last check: 1.22 has no "resolve").

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use IO::Select;
use IO::Socket::INET;
use Test::More;
use Test::Kiln;

my $t = Test::Kiln->new->has('upstream_zone', 'upstream_least_conn', 'proxy',
    'headers_filter', 'upstream_hash', 'upstream_ip_hash',
    'upstream_keepalive');
my $nginx = ($ENV{KILN_BINARY} // '') =~ /nginx/;

# A peer that takes connections (the kernel's backlog) and never answers.
my $hold = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
    LocalPort => port(8083), Listen => 8, ReuseAddr => 1, Proto => 'tcp')
    or die "listen: $!\n";

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

    upstream fails {
        zone shared 64k;
        server 127.0.0.1:%%PORT_8082%% max_fails=1 fail_timeout=600s;
        server 127.0.0.1:%%PORT_8081%% max_fails=1 fail_timeout=600s;
    }

    upstream lc {
        least_conn;
        zone shared;
        server 127.0.0.1:%%PORT_8083%%;
        server 127.0.0.1:%%PORT_8081%%;
    }

    upstream h {
        hash $arg_k;
        zone shared;
        server 127.0.0.1:%%PORT_8081%%;
        server 127.0.0.2:%%PORT_8081%%;
        keepalive 4;
    }

    upstream ch {
        hash $arg_k consistent;
        zone shared;
        server 127.0.0.1:%%PORT_8081%%;
        server 127.0.0.2:%%PORT_8081%%;
    }

    upstream ip {
        ip_hash;
        zone shared;
        server 127.0.0.1:%%PORT_8081%%;
        server 127.0.0.2:%%PORT_8081%%;
    }

    server {
        listen 127.0.0.1:%%PORT_8080%% reuseport;

        location /h {
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://h/;
        }

        location /ch {
            proxy_pass http://ch/;
        }

        location /ip {
            proxy_pass http://ip/;
        }

        add_header X-Pid $pid always;
        add_header X-Up $upstream_addr always;

        location /f {
            proxy_pass http://fails/;
        }

        location /lc {
            proxy_read_timeout 60s;
            proxy_pass http://lc/;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_8081%%;

        location / {
            return 200 "live\n";
        }
    }
}
EOF

# The dead peer's refusals, and nginx's warning when it is disabled.
$t->expect_errors(qr/connect\(\) failed/);

$t->plan(16);
$t->run(wait_ports => [8080, 8081]);

my ($dead, $live, $held) = map { '127.0.0.1:' . port($_) } 8082, 8081, 8083;

# get(URI): [pid, upstream_addr, status] of a request on a new connection.

sub get {
    my ($uri) = @_;
    my $r = parse_response(http_get($uri)) or return [];
    return [$r->{headers}{'x-pid'}, $r->{headers}{'x-up'}, $r->{status}];
}

# Requests until both workers have answered (at most 400): the responses.

sub both_workers {
    my ($uri) = @_;
    my (%pids, @r);

    for (1 .. 400) {
        my $r = get($uri);
        push @r, $r;
        $pids{$r->[0]}++ if defined $r->[0];
        last if keys %pids >= 2 && @r >= 10;
    }

    return (scalar(keys %pids), @r);
}

# A dead peer, found by one worker, is skipped by both.

my ($workers, @r) = both_workers('/f');
is($workers, 2, 'fails: both workers answered');
is(scalar(grep { ($_->[2] // 0) != 200 } @r), 0, 'fails: every request 200');
my @tried = grep { ($_->[1] // '') =~ /\Q$dead\E/ } @r;
is(scalar @tried, 1, 'fails: the dead peer tried once in all, by one worker');
is(scalar(grep { ($_->[1] // '') ne $live } @r[1 .. $#r]), 0,
    'fails: after it, only the live peer');
my $refused = () = $t->read_file('error.log') =~ /connect\(\) failed/g;
is($refused, 1, 'fails: one connect() failed logged');

# least_conn: a request held by one peer sends every other request, from
# either worker, to the other peer.

my $s1 = http_connect() or die "connect: $!\n";
syswrite($s1, "GET /lc HTTP/1.0\r\nHost: localhost\r\n\r\n");
ok(IO::Select->new($hold)->can_read(10),
    'least_conn: the first request went to the peer that holds it');

($workers, @r) = both_workers('/lc');
is($workers, 2, 'least_conn: both workers answered');
is(scalar(grep { ($_->[1] // '') ne $live } @r), 0,
    'least_conn: every other request to the free peer, from both workers');

# Let the held request end: the peer closes, the request gets 502.
my $c = $hold->accept;
close $c if $c;
my $held_r = parse_response(http_read($s1));
like($held_r->{headers}{'x-up'} // '', qr/^\Q$held\E/,
    'least_conn: the held request, on that peer first');

# The other balancers choose under the zone's lock too.

for my $b (qw(h ch ip)) {
    my @st = map { get("/$b?k=$_")->[2] // 0 } 1 .. 6;
    is("@st", '200 200 200 200 200 200', "$b in a zone: every request 200");
}

# A reload: a new zone, the dead peer counted from zero again.

my @old = $t->worker_pids;
$t->signal('HUP');
ok(wait_for(sub {
    my %old = map { $_ => 1 } @old;
    my @w = $t->worker_pids;
    @w == 2 && !grep { $old{$_} } @w;
}), 'reload: two new workers');
($workers, @r) = both_workers('/f');
@tried = grep { ($_->[1] // '') =~ /\Q$dead\E/ } @r;
is(scalar @tried, 1, 'reload: a fresh zone, the dead peer tried once again');

$t->stop;

# kiln -t: the size, and a group with "resolve".

my $d = $t->testdir;
my @targs = ('-p', "$d/", '-c', "$d/bad.conf", '-e', "$d/test.log");

sub check {
    my ($text) = @_;
    $t->write_file('bad.conf', "error_log $d/test.log;\nevents { }\nhttp {\n"
        . $text . "    server { listen 127.0.0.1:" . port(8080) . "; }\n}\n");
    return $t->run_kiln(@targs, '-t');
}

my $r = check("    upstream u { zone z 8k; server 127.0.0.1:1; }\n");
like($r->{stderr}, qr/\[emerg\] zone "z" is too small in \Q$d\E\/bad\.conf:4$/m,
    'a zone under 32k: too small, with file and line');

SKIP: {
    skip 'nginx 1.22 has no "resolve"', 1 if $nginx;

    $r = check("    resolver 127.0.0.1;\n"
        . "    upstream u { zone z 64k; server localhost:1 resolve; }\n");
    like($r->{stderr}, qr/\[warn\] "zone" is not shared by a group with "server \.\.\. resolve": its peers' state stays per worker in upstream "u"/,
        'zone with server ... resolve: accepted, per worker, with a warning');
}
