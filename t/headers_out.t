#!/usr/bin/perl
# headers_out.t: the response head kiln writes itself: the status line,
# Date, Server (server_tokens), Connection and Keep-Alive, and the Location
# of redirects (absolute_redirect, port_in_redirect,
# server_name_in_redirect), for HTTP/1.1 and HTTP/1.0 requests.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;
use Time::Local qw(timegm);

my $t = Test::Kiln->new->has('static', 'index');

$t->write_file_expand('kiln.conf', <<'EOF');
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes 1;

events {
    worker_connections 64;
}

http {
    root  %%TESTDIR%%/html;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;
    }

    server {
        listen             127.0.0.1:%%PORT_8081%%;
        server_name        localhost;
        keepalive_timeout  5 5;
        server_tokens      off;
    }

    server {
        listen             127.0.0.1:%%PORT_8082%%;
        server_name        localhost;
        absolute_redirect  off;
    }

    server {
        listen            127.0.0.1:%%PORT_8083%%;
        server_name       localhost;
        port_in_redirect  off;
    }

    server {
        listen                   127.0.0.1:%%PORT_8084%%;
        server_name              primary.test alias.test;
        server_name_in_redirect  on;
    }

    server {
        listen             127.0.0.1:%%PORT_8085%%;
        server_name        localhost;
        keepalive_timeout  0;
    }
}
EOF

$t->write_file('html/a.txt', "file a\n");
$t->write_file('html/dir/index.html', "dir\n");

$t->plan(61);
$t->run;

my $version = do {
    my $v = $t->run_kiln('-v');
    ($v->{stdout} . $v->{stderr}) =~ m{version: (\S+)} ? $1 : 'kiln/?';
};
(my $name = $version) =~ s{/.*}{};

sub req {
    my ($raw, %o) = @_;

    return parse_response(http($raw, %o)) // {};
}

# one(RAW, %o): send RAW on a new connection, return the first response
# and the socket, to see whether the server closes it.

sub one {
    my ($raw, %o) = @_;
    my ($s, $r);

    $s = http($raw, start => 1, port => $o{port});
    $r = parse_response(read_response($s, head => $o{head})) // {};

    return ($r, $s);
}

# --- status line, Date, Server -----------------------------------------------

my $before = time();
my ($r, $s) = one("GET /a.txt HTTP/1.1\r\nHost: localhost\r\n\r\n");
my $after = time();

like($r->{raw}, qr{^HTTP/1\.1 200 OK\r\n}, 'status line "HTTP/1.1 200 OK"');
is($r->{count}{date}, 1, 'one Date');
my $imf = qr/^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d /
    . qr/(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) /
    . qr/\d{4} \d\d:\d\d:\d\d GMT$/;
like($r->{headers}{date}, qr/$imf/,
    'Date is an IMF-fixdate');
my $date = imf_epoch($r->{headers}{date});
ok(defined $date && $date >= $before - 2 && $date <= $after + 1,
    'Date is now (within 2 s)');
is($r->{count}{server}, 1, 'one Server');
is($r->{headers}{server}, $version, 'server_tokens on: Server: name/version');
like($r->{headers}{server}, qr{^\w+/\d+\.\d+\.\d+$}, 'Server: name/x.y.z');

# HTTP/1.1 keep-alive by default: said in Connection, no Keep-Alive header
# without a header timeout.
is($r->{headers}{connection}, 'keep-alive', '1.1: Connection: keep-alive');
ok(!exists $r->{headers}{'keep-alive'}, '1.1: no Keep-Alive header');
ok(!wait_closed($s, 0.3), '1.1: connection kept');

# The Date moves with the clock (it is rebuilt at least once a second).
my $r2;
ok(wait_for(sub {
    http("GET /a.txt HTTP/1.1\r\nHost: localhost\r\n\r\n", socket => $s,
        start => 1);
    $r2 = parse_response(read_response($s)) // {};
    my $d = imf_epoch($r2->{headers}{date} // '');
    defined $d && defined $date && $d > $date;
}, 4, 0.2), 'Date advances on a later response');
close $s;

# --- Connection --------------------------------------------------------------

($r, $s) = one("GET /a.txt HTTP/1.1\r\nHost: localhost\r\n"
    . "Connection: close\r\n\r\n");
is($r->{headers}{connection}, 'close', '1.1 Connection: close: close');
is($r->{count}{connection}, 1, 'one Connection header');
ok(wait_closed($s), '1.1 Connection: close: closed');

($r, $s) = one("GET /a.txt HTTP/1.0\r\nHost: localhost\r\n\r\n");
like($r->{raw}, qr{^HTTP/1\.1 200 OK\r\n}, '1.0 request: answered HTTP/1.1');
is($r->{headers}{connection}, 'close', '1.0: Connection: close');
is($r->{headers}{'content-length'}, 7, '1.0: Content-Length');
is($r->{body}, "file a\n", '1.0: body');
ok(wait_closed($s), '1.0: closed');

($r, $s) = one("GET /a.txt HTTP/1.0\r\nHost: localhost\r\n"
    . "Connection: keep-alive\r\n\r\n");
is($r->{headers}{connection}, 'keep-alive',
    '1.0 Connection: keep-alive: keep-alive');
ok(!exists $r->{headers}{'keep-alive'}, '1.0 keep-alive: no Keep-Alive');
ok(!wait_closed($s, 0.3), '1.0 keep-alive: kept');
close $s;

# Errors that leave the framing intact keep the connection; bad requests
# do not.

($r, $s) = one("GET /missing HTTP/1.1\r\nHost: localhost\r\n\r\n");
is($r->{status}, 404, 'missing file: 404');
is($r->{headers}{connection}, 'keep-alive', '404: Connection: keep-alive');
ok(!wait_closed($s, 0.3), '404: kept');
close $s;

($r, $s) = one("GET /a.txt HTTP/1.1\r\n\r\n");
is($r->{status}, 400, '400 (no Host)');
is($r->{headers}{connection}, 'close', '400: Connection: close');
ok(wait_closed($s), '400: closed');

# keepalive_timeout 0: no keep-alive at all.

($r, $s) = one("GET /a.txt HTTP/1.1\r\nHost: localhost\r\n\r\n",
    port => 8085);
is($r->{status}, 200, 'keepalive_timeout 0: 200');
is($r->{headers}{connection}, 'close', 'keepalive_timeout 0: close');
ok(wait_closed($s), 'keepalive_timeout 0: closed');

($r, $s) = one("GET /a.txt HTTP/1.0\r\nHost: localhost\r\n"
    . "Connection: keep-alive\r\n\r\n", port => 8085);
is($r->{headers}{connection}, 'close',
    'keepalive_timeout 0: 1.0 keep-alive refused');
ok(wait_closed($s), 'keepalive_timeout 0: 1.0 closed');

# --- Keep-Alive: timeout=N, server_tokens off (8081) -------------------------

($r, $s) = one("GET /a.txt HTTP/1.1\r\nHost: localhost\r\n\r\n",
    port => 8081);
is($r->{headers}{connection}, 'keep-alive',
    'keepalive_timeout 5 5: keep-alive');
is($r->{headers}{'keep-alive'}, 'timeout=5',
    'keepalive_timeout 5 5: Keep-Alive: timeout=5');
is($r->{count}{'keep-alive'}, 1, 'one Keep-Alive header');
is($r->{headers}{server}, $name, 'server_tokens off: Server: name only');
close $s;

($r, $s) = one("GET /a.txt HTTP/1.0\r\nHost: localhost\r\n"
    . "Connection: keep-alive\r\n\r\n", port => 8081);
is($r->{headers}{'keep-alive'}, 'timeout=5', '1.0 keep-alive: timeout=5');
close $s;

($r, $s) = one("GET /a.txt HTTP/1.1\r\nHost: localhost\r\n"
    . "Connection: close\r\n\r\n", port => 8081);
ok(!exists $r->{headers}{'keep-alive'}, 'Connection: close: no Keep-Alive');

($r, $s) = one("HEAD /a.txt HTTP/1.1\r\nHost: localhost\r\n\r\n",
    port => 8081, head => 1);
is($r->{status}, 200, 'HEAD: 200');
is($r->{headers}{'keep-alive'}, 'timeout=5', 'HEAD: Keep-Alive too');
is($r->{headers}{'content-length'}, 7, 'HEAD: Content-Length');
is($r->{headers}{server}, $name, 'HEAD: Server');
close $s;

# --- Location of redirects ---------------------------------------------------

my $p = port(8080);

$r = req("GET /dir HTTP/1.0\r\nHost: localhost\r\n\r\n");
is($r->{status}, 301, 'directory redirect: 301');
is($r->{headers}{location}, "http://localhost:$p/dir/",
    'absolute_redirect on: scheme, Host, listen port');

$r = req("GET /dir?x=1 HTTP/1.0\r\nHost: LocalHost.:$p\r\n\r\n");
is($r->{headers}{location}, "http://localhost:$p/dir/?x=1",
    'Location from the normalised Host, with the query');

$r = req("GET /dir HTTP/1.0\r\n\r\n");
is($r->{headers}{location}, "http://127.0.0.1:$p/dir/",
    'no Host: the local address, as nginx');

$r = req("GET /dir HTTP/1.0\r\nHost: other.test\r\n\r\n");
is($r->{headers}{location}, "http://other.test:$p/dir/",
    'server_name_in_redirect off: the Host');

$r = req("GET /dir HTTP/1.0\r\nHost: localhost\r\n\r\n", port => 8082);
is($r->{status}, 301, 'absolute_redirect off: 301');
is($r->{headers}{location}, '/dir/', 'absolute_redirect off: relative');

$r = req("GET /dir?x=1 HTTP/1.0\r\nHost: localhost\r\n\r\n", port => 8082);
is($r->{headers}{location}, '/dir/?x=1',
    'absolute_redirect off: relative, with the query');

$r = req("GET /dir HTTP/1.0\r\nHost: localhost\r\n\r\n", port => 8083);
is($r->{status}, 301, 'port_in_redirect off: 301');
is($r->{headers}{location}, 'http://localhost/dir/',
    'port_in_redirect off: no port');

my $p4 = port(8084);

$r = req("GET /dir HTTP/1.0\r\nHost: alias.test\r\n\r\n", port => 8084);
is($r->{status}, 301, 'server_name_in_redirect on: 301');
is($r->{headers}{location}, "http://primary.test:$p4/dir/",
    'server_name_in_redirect on: the primary server_name');

$r = req("GET /dir HTTP/1.0\r\nHost: unknown.test\r\n\r\n", port => 8084);
is($r->{headers}{location}, "http://primary.test:$p4/dir/",
    'server_name_in_redirect on: even for another Host');

# A redirect's head: the same rules.

($r, $s) = one("GET /dir HTTP/1.1\r\nHost: localhost\r\n\r\n");
is($r->{status}, 301, 'redirect on 1.1: 301');
is($r->{headers}{connection}, 'keep-alive', 'redirect: keep-alive');
is($r->{headers}{'content-type'}, 'text/html', 'redirect: text/html page');
is($r->{headers}{'content-length'}, length $r->{body},
    'redirect: Content-Length of the page');
is($r->{headers}{server}, $version, 'redirect: Server');
close $s;

$t->stop;


sub imf_epoch {
    my ($d) = @_;
    my %mon = (Jan => 0, Feb => 1, Mar => 2, Apr => 3, May => 4, Jun => 5,
        Jul => 6, Aug => 7, Sep => 8, Oct => 9, Nov => 10, Dec => 11);

    return undef unless defined $d
        && $d =~ /^\w{3}, (\d\d) (\w{3}) (\d{4}) (\d\d):(\d\d):(\d\d) GMT$/;

    return timegm($6, $5, $4, $1, $mon{$2}, $3);
}
