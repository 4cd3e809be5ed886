#!/usr/bin/perl
# proxy_upstream.t: proxy_pass to upstream groups: proxy_next_upstream
# (error, http_503, off, non_idempotent) with _tries, backup servers,
# $upstream_addr/$upstream_status lists across retries, "no live
# upstreams", keep-alive to the peers (the backend's connection count stays
# flat), and 3 backends with one killed under load, no request failing.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use IO::Socket::INET;
use Socket qw(PF_INET SOCK_STREAM SOL_SOCKET SO_REUSEADDR sockaddr_in
    inet_aton);
use Test::More;
use Test::Kiln;
use Test::Kiln::Backend;
use Test::Kiln::Load;

my $t = Test::Kiln->new->has('proxy');

my $b1 = Test::Kiln::Backend->http(port => 'b1', name => 'one');
my $drop = Test::Kiln::Backend->http(port => 'drop', force => '/drop');
my $b503 = Test::Kiln::Backend->http(port => 'b503', force => '/status/503');
my $ka = Test::Kiln::Backend->http(port => 'ka');
my @three = map { Test::Kiln::Backend->http(port => "t$_") } 1 .. 3;

# A peer whose accept queue is full: a connect to it is never answered.
socket(my $full, PF_INET, SOCK_STREAM, 0) or die "socket: $!\n";
setsockopt($full, SOL_SOCKET, SO_REUSEADDR, 1) or die "setsockopt: $!\n";
bind($full, sockaddr_in(port('full'), inet_aton('127.0.0.1')))
    or die "bind: $!\n";
listen($full, 0) or die "listen: $!\n";
my $filler = IO::Socket::INET->new(PeerAddr => '127.0.0.1:' . port('full'))
    or die "filler: $!\n";

$t->write_file_expand('kiln.conf', <<'EOF');
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes 1;

events {
    worker_connections 256;
}

http {
    log_format up '$uri|$upstream_addr|$upstream_status';
    access_log %%TESTDIR%%/access.log up;

    upstream two {
        server 127.0.0.1:%%PORT_dead%%;
        server 127.0.0.1:%%PORT_b1%%;
    }

    upstream two_off {
        server 127.0.0.1:%%PORT_dead%%;
        server 127.0.0.1:%%PORT_b1%%;
    }

    upstream two_tries {
        server 127.0.0.1:%%PORT_dead%%;
        server 127.0.0.1:%%PORT_b1%%;
    }

    upstream drop_backup {
        server 127.0.0.1:%%PORT_drop%%;
        server 127.0.0.1:%%PORT_b1%% backup;
    }

    upstream drop_backup_get {
        server 127.0.0.1:%%PORT_drop%%;
        server 127.0.0.1:%%PORT_b1%% backup;
    }

    upstream drop_backup_ni {
        server 127.0.0.1:%%PORT_drop%%;
        server 127.0.0.1:%%PORT_b1%% backup;
    }

    upstream busy {
        server 127.0.0.1:%%PORT_b503%%;
        server 127.0.0.1:%%PORT_b1%% backup;
    }

    upstream nolive {
        server 127.0.0.1:%%PORT_dead%% max_fails=1 fail_timeout=60s;
        server 127.0.0.1:%%PORT_dead2%% max_fails=1 fail_timeout=60s;
    }

    upstream ka {
        server 127.0.0.1:%%PORT_ka%%;
        keepalive 4;
    }

    upstream three {
        server 127.0.0.1:%%PORT_t1%%;
        server 127.0.0.1:%%PORT_t2%%;
        server 127.0.0.1:%%PORT_t3%%;
    }

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;

        location /two/ {
            proxy_pass http://two;
        }

        location /two_off/ {
            proxy_next_upstream off;
            proxy_pass http://two_off;
        }

        location /two_tries/ {
            proxy_next_upstream_tries 1;
            proxy_pass http://two_tries;
        }

        location /dr/ {
            proxy_pass http://drop_backup;
        }

        location /dr_get/ {
            proxy_pass http://drop_backup_get;
        }

        location /dr_ni/ {
            proxy_next_upstream error non_idempotent;
            proxy_pass http://drop_backup_ni;
        }

        location /busy/ {
            proxy_next_upstream http_503;
            proxy_pass http://busy;
        }

        location /busy_pass/ {
            proxy_pass http://127.0.0.1:%%PORT_b503%%;
        }

        location /nolive/ {
            proxy_pass http://nolive;
        }

        location /ka/ {
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://ka;
        }

        location /full/ {
            proxy_connect_timeout 300ms;
            proxy_pass http://127.0.0.1:%%PORT_full%%;
        }

        location /three/ {
            proxy_pass http://three;
        }
    }
}
EOF

$t->plan(27);
$t->run(wait_ports => [8080]);

my ($r, @s);

# --- proxy_next_upstream error -----------------------------------------

@s = map { parse_response(http_get("/two/$_"))->{status} } 1 .. 4;
is("@s", '200 200 200 200', 'error: a refused peer is skipped');
ok(wait_for(sub { $t->read_file('access.log')
    =~ m{^/two/1\|127\.0\.0\.1:\d+, 127\.0\.0\.1:\d+\|502, 200$}m }, 5),
    '$upstream_addr and $upstream_status list both tries');

@s = map { parse_response(http_get("/two_off/$_"))->{status} } 1 .. 2;
is("@s", '502 200', 'proxy_next_upstream off: the first try answers');

@s = map { parse_response(http_get("/two_tries/$_"))->{status} } 1 .. 2;
is("@s", '502 200', 'proxy_next_upstream_tries 1: one try');

# --- non-idempotent requests -------------------------------------------

$r = parse_response(http_get('/dr_get/x'));
is($r->{status}, 200, 'GET: a closed connection goes to the backup');
is($r->{headers}{'x-backend'}, 'one', 'GET: answered by the backup');

$r = parse_response(http("POST /dr/post HTTP/1.0\r\nHost: localhost\r\n"
    . "Content-Length: 3\r\n\r\nabc"));
is($r->{status}, 502, 'POST sent: not tried again');

$r = parse_response(http("POST /dr_ni/post HTTP/1.0\r\nHost: localhost\r\n"
    . "Content-Length: 3\r\n\r\nabc"));
is($r->{status}, 200, 'POST with non_idempotent: tried again');
is(parse_echo($r->{body})->{body_length}, 3, 'POST retried: its body sent');

# --- proxy_next_upstream http_503 ---------------------------------------

$r = parse_response(http_get('/busy/x'));
is($r->{status}, 200, 'http_503: the next peer answers');
ok(wait_for(sub { $t->read_file('access.log')
    =~ m{^/busy/x\|127\.0\.0\.1:\d+, 127\.0\.0\.1:\d+\|503, 200$}m }, 5),
    'http_503: both statuses logged');

$r = parse_response(http_get('/busy_pass/x'));
is($r->{status}, 503, 'without http_503: the 503 is passed');
like($r->{body}, qr/^backend: b503$/m, 'with the peer own body');

# --- no live upstreams ---------------------------------------------------

$r = parse_response(http_get('/nolive/1'));
is($r->{status}, 502, 'both peers refuse: 502');
$r = parse_response(http_get('/nolive/2'));
is($r->{status}, 502, 'then both are down: 502');
ok(wait_for(sub { $t->read_file('error.log')
    =~ /\[error\] .*no live upstreams while connecting to upstream, client: 127\.0\.0\.1, server: localhost, request: "GET \/nolive\/2 HTTP\/1\.0"/ }, 5),
    '"no live upstreams" logged');

# --- proxy_connect_timeout ---------------------------------------------------

$r = parse_response(http_get('/full/x'));
is($r->{status}, 504, 'connect timed out: 504');
ok(wait_for(sub { $t->read_file('error.log')
    =~ /\[error\] .*upstream timed out \(110: Connection timed out\) while connecting to upstream, client: 127\.0\.0\.1, server: localhost, request: "GET \/full\/x HTTP\/1\.0"/ }, 5),
    'connect timed out: logged');

# --- keep-alive to the peer ----------------------------------------------

my $ok = 0;
for my $i (1 .. 20) {
    $r = parse_response(http_get("/ka/length/100?i=$i"));
    $ok++ if $r->{status} == 200 && $r->{body} eq backend_body(100);
}
is($ok, 20, 'keepalive: 20 answers');
is($ka->stats->{connections}, 1, 'keepalive: one connection to the peer');

$r = parse_response(http_get('/ka/chunked/5000'));
is($r->{body}, backend_body(5000), 'keepalive: a chunked answer');
$r = parse_response(http_get('/ka/length/10'));
is($r->{headers}{'x-backend-request'}, 22,
    'keepalive: the connection reused after a chunked answer');
is($ka->stats->{connections}, 1, 'keepalive: still one connection');

# --- 3 backends, one killed under load -----------------------------------

my $l = Test::Kiln::Load->start(uri => '/three/length/64',
    body => backend_body(64), mode => 'keepalive', clients => 2);
ok($l->wait_requests(150), 'load flows over the 3 backends');
$three[1]->kill;
ok($l->wait_requests(300), 'load goes on after one backend died');
my $res = $l->stop;
is($res->{failed}, 0, 'no request failed') or diag($res->{summary});
ok($three[0]->stats->{requests} > 0 && $three[2]->stats->{requests} > 0,
    'the live backends answered');
