#!/usr/bin/perl
# keepalive.t: persistent connections: HTTP/1.1 default keep-alive,
# Connection: close, HTTP/1.0 keep-alive, keepalive_requests,
# keepalive_timeout, client_header_timeout, pipelining, keepalive_disable
# (msie6, safari, none: by User-Agent, as nginx), keepalive_time.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;
use Time::HiRes qw(time);

my $t = Test::Kiln->new;

$t->write_file_expand('kiln.conf', <<'EOF');
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes 1;

events {
    worker_connections 64;
}

http {
    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        location / {
            root %%TESTDIR%%/html;
        }
    }

    server {
        listen              127.0.0.1:%%PORT_8081%%;
        server_name         localhost;
        keepalive_requests  3;

        location / {
            root %%TESTDIR%%/html;
        }
    }

    server {
        listen       127.0.0.1:%%PORT_8083%%;
        server_name  localhost;

        location / {
            return 200 "ok\n";
        }

        location /safari/ {
            keepalive_disable  safari;
            return 200 "ok\n";
        }

        location /none/ {
            keepalive_disable  none;
            return 200 "ok\n";
        }

        location /f/ {
            alias %%TESTDIR%%/html/;
        }

        location /time/ {
            keepalive_time  1s;
            alias           %%TESTDIR%%/html/;
        }
    }

    server {
        listen                 127.0.0.1:%%PORT_8082%%;
        server_name            localhost;
        keepalive_timeout      1s;
        client_header_timeout  1s;

        location / {
            root %%TESTDIR%%/html;
        }
    }
}
EOF

for my $n (qw(a b c)) {
    $t->write_file("html/$n.txt", "file $n\n");
}
$t->write_file('html/big.bin', 'z' x (1024 * 1024));

$t->plan(76);
$t->run;

sub get11 {
    my ($uri, $extra) = @_;

    return "GET $uri HTTP/1.1\r\nHost: localhost\r\n" . ($extra // '') . "\r\n";
}

# one(SOCK, %opts): the next response on SOCK, parsed.

sub one {
    my ($s, %o) = @_;

    return parse_response(read_response($s, %o)) // {};
}

# HTTP/1.1: several requests on one connection.

my $s = http(get11('/a.txt'), start => 1);
my $r = one($s);
is($r->{status}, 200, '1.1 first request: 200');
is($r->{body}, "file a\n", '1.1 first request: body');
unlike($r->{headers}{connection} // '', qr/close/i,
    '1.1 first response: not Connection: close');

http(get11('/b.txt'), socket => $s, start => 1);
$r = one($s);
is($r->{body}, "file b\n", '1.1 second request on the connection');

http(get11('/missing'), socket => $s, start => 1);
$r = one($s);
is($r->{status}, 404, '1.1 404 on the connection');
unlike($r->{headers}{connection} // '', qr/close/i, '404 keeps the connection');

http("HEAD /c.txt HTTP/1.1\r\nHost: localhost\r\n\r\n", socket => $s,
    start => 1);
$r = one($s, head => 1);
is($r->{status}, 200, '1.1 HEAD on the connection');
is($r->{headers}{'content-length'}, 7, 'HEAD: Content-Length of the file');

http(get11('/c.txt'), socket => $s, start => 1);
$r = one($s);
is($r->{body}, "file c\n", 'GET after HEAD: HEAD sent no body');

http(get11('/big.bin'), socket => $s, start => 1);
$r = one($s, timeout => 20);
is(length $r->{body}, 1024 * 1024, '1 MiB file on the connection');
http(get11('/a.txt'), socket => $s, start => 1);
$r = one($s);
is($r->{body}, "file a\n", 'request after a large file on the connection');

ok(!wait_closed($s, 0.3), '1.1 connection still open');

# Connection: close.

http(get11('/a.txt', "Connection: close\r\n"), socket => $s, start => 1);
$r = one($s);
is($r->{status}, 200, 'Connection: close: 200');
is($r->{body}, "file a\n", 'Connection: close: body');
like($r->{headers}{connection} // '', qr/^close$/i,
    'Connection: close is echoed');
ok(wait_closed($s), 'Connection: close: server closes');

# Connection tokens are case-insensitive and may be a list.

$s = http(get11('/a.txt', "Connection: foo, CLOSE\r\n"), start => 1);
$r = one($s);
like($r->{headers}{connection} // '', qr/^close$/i,
    'Connection: foo, CLOSE means close');
ok(wait_closed($s), 'Connection: foo, CLOSE: server closes');

# HTTP/1.0: close by default, keep-alive on request.

$s = http("GET /a.txt HTTP/1.0\r\nHost: localhost\r\n\r\n", start => 1);
$r = one($s);
is($r->{body}, "file a\n", '1.0: body');
like($r->{headers}{connection} // '', qr/^close$/i, '1.0: Connection: close');
ok(wait_closed($s), '1.0: server closes');

$s = http("GET /a.txt HTTP/1.0\r\nHost: localhost\r\n"
    . "Connection: keep-alive\r\n\r\n", start => 1);
$r = one($s);
is($r->{body}, "file a\n", '1.0 keep-alive: body');
like($r->{headers}{connection} // '', qr/^keep-alive$/i,
    '1.0 keep-alive: Connection: keep-alive');
is($r->{headers}{'content-length'}, 7, '1.0 keep-alive: Content-Length');

http("GET /b.txt HTTP/1.0\r\nHost: localhost\r\n"
    . "Connection: keep-alive\r\n\r\n", socket => $s, start => 1);
$r = one($s);
is($r->{body}, "file b\n", '1.0 keep-alive: second request answered');

http("GET /c.txt HTTP/1.0\r\nHost: localhost\r\n\r\n", socket => $s,
    start => 1);
$r = one($s);
is($r->{body}, "file c\n", '1.0 keep-alive: third request, without it');
ok(wait_closed($s), '1.0 without keep-alive: then closed');

# keepalive_requests 3: the third response says close, then it closes.

$s = http(get11('/a.txt'), start => 1, port => 8081);
for my $i (1 .. 3) {
    http(get11('/a.txt'), socket => $s, start => 1) if $i > 1;
    $r = one($s);
    is($r->{status}, 200, "keepalive_requests 3: request $i answered");

    if ($i < 3) {
        unlike($r->{headers}{connection} // '', qr/close/i,
            "keepalive_requests 3: request $i keeps alive");
    } else {
        like($r->{headers}{connection} // '', qr/^close$/i,
            'keepalive_requests 3: request 3 says Connection: close');
    }
}
ok(wait_closed($s), 'keepalive_requests 3: closed after the third');

# keepalive_timeout 1s: an idle connection is closed after about a second.

$s = http(get11('/a.txt'), start => 1, port => 8082);
$r = one($s);
is($r->{body}, "file a\n", 'keepalive_timeout 1s: response');
my $t0 = time();
ok(wait_closed($s, 5), 'keepalive_timeout 1s: idle connection closed');
my $idle = time() - $t0;
cmp_ok($idle, '>=', 0.8, 'keepalive_timeout 1s: not closed early');
cmp_ok($idle, '<', 4, 'keepalive_timeout 1s: closed within bounds');

# A request in time resets nothing it should not: a second request within
# the timeout is answered.

$s = http(get11('/a.txt'), start => 1, port => 8082);
one($s);
select(undef, undef, undef, 0.3);
http(get11('/b.txt'), socket => $s, start => 1);
is(one($s)->{body}, "file b\n", 'keepalive_timeout 1s: request at 0.3s ok');
close $s;

# client_header_timeout 1s: a connection that sends nothing, or half a
# request, is closed.

$s = http_connect(port => 8082);
$t0 = time();
ok(wait_closed($s, 5), 'client_header_timeout: silent connection closed');
cmp_ok(time() - $t0, '>=', 0.8, 'client_header_timeout: not closed early');

$s = http("GET /a.txt HTTP/1.1\r\nHost: loc", start => 1, port => 8082);
$t0 = time();
ok(wait_closed($s, 5), 'client_header_timeout: half a request closed');
cmp_ok(time() - $t0, '>=', 0.8,
    'client_header_timeout: half a request not closed early');

# Pipelining: requests in one write are answered in order.

$s = http(get11('/a.txt') . get11('/b.txt') . get11('/c.txt'), start => 1);
is(one($s)->{body}, "file a\n", 'pipelined 1 of 3: a');
is(one($s)->{body}, "file b\n", 'pipelined 2 of 3: b');
is(one($s)->{body}, "file c\n", 'pipelined 3 of 3: c');
ok(!wait_closed($s, 0.3), 'pipelined: connection stays open');

http(get11('/c.txt') . get11('/missing') . "HEAD /b.txt HTTP/1.1\r\n"
    . "Host: localhost\r\n\r\n" . get11('/a.txt', "Connection: close\r\n"),
    socket => $s, start => 1);
$r = one($s);
is($r->{body}, "file c\n", 'pipelined with 404 and HEAD: c');
$r = one($s);
is($r->{status}, 404, 'pipelined: 404 in order');
$r = one($s, head => 1);
is($r->{status}, 200, 'pipelined: HEAD in order');
is($r->{headers}{'content-length'}, 7, 'pipelined: HEAD Content-Length');
$r = one($s);
is($r->{body}, "file a\n", 'pipelined: last one, after HEAD');
like($r->{headers}{connection} // '', qr/^close$/i,
    'pipelined: last one says close');
ok(wait_closed($s), 'pipelined: closed after Connection: close');

# Twenty pipelined requests in one write.

my @names = map { (qw(a b c))[$_ % 3] } 0 .. 19;
$s = http(join('', map { get11("/$_.txt") } @names), start => 1);
my @bodies = map { one($s)->{body} // '' } @names;
is_deeply(\@bodies, [map { "file $_\n" } @names],
    '20 pipelined requests answered in order');
close $s;

# Pipelining across a large file and byte by byte.

$s = http(get11('/big.bin') . get11('/a.txt'), start => 1);
is(length(one($s, timeout => 20)->{body} // ''), 1024 * 1024,
    'pipelined: large file first');
is(one($s)->{body}, "file a\n", 'pipelined: small file after the large one');
close $s;

$s = http_connect();
for my $c (split //, get11('/b.txt') . get11('/c.txt')) {
    http($c, socket => $s, start => 1);
}
is(one($s)->{body}, "file b\n", 'requests sent byte by byte: first');
is(one($s)->{body}, "file c\n", 'requests sent byte by byte: second');
close $s;

# A GET with a body: the body is read and discarded, not taken for the
# next request.

my $body = "GET /c.txt HTTP";
$s = http(get11('/a.txt', 'Content-Length: ' . length($body) . "\r\n") . $body
    . get11('/b.txt'), start => 1);
$r = one($s);
is($r->{status}, 200, 'GET with a body: 200');
is($r->{body}, "file a\n", 'GET with a body: the file');
$r = one($s);
is($r->{body}, "file b\n", 'GET with a body: the body was skipped');
close $s;

# A chunked request body is skipped the same way.

$s = http("GET /a.txt HTTP/1.1\r\nHost: localhost\r\n"
    . "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3;ext=1\r\nabc\r\n"
    . "0\r\nTrailer: x\r\n\r\n" . get11('/c.txt'), start => 1);
is(one($s)->{body}, "file a\n", 'GET with a chunked body: the file');
is(one($s)->{body}, "file c\n", 'GET with a chunked body: skipped');
close $s;

# keepalive_disable: msie6 (the default) closes after a POST from MSIE 6
# (not SV1) only; safari closes after any request from Safari on Mac OS X.

my $msie6 = 'Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)';
my $safari = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_6_8) AppleWebKit/534'
    . ' (KHTML, like Gecko) Version/5.1.9 Safari/534.59';

sub ka {
    my ($method, $uri, $ua) = @_;
    my $r = parse_response(http("$method $uri HTTP/1.1\r\nHost: localhost\r\n"
            . "User-Agent: $ua\r\nContent-Length: 0\r\n\r\n", one => 1,
            port => 8083)) // {};

    return ($r->{status} // 0) . ' ' . lc($r->{headers}{connection} // '');
}

is(ka('POST', '/', $msie6), '200 close', 'msie6: POST from MSIE 6: close');
is(ka('GET', '/', $msie6), '200 keep-alive', 'msie6: GET from MSIE 6: kept');
is(ka('POST', '/', "$msie6; SV1)"), '200 keep-alive',
    'msie6: POST from MSIE 6 SV1: kept');
is(ka('POST', '/f/a.txt', $msie6), '405 close',
    'msie6: a 405 to a POST from MSIE 6: close');
is(ka('POST', '/none/', $msie6), '200 keep-alive', 'none: POST from MSIE 6: kept');
is(ka('GET', '/safari/', $safari), '200 close', 'safari: GET from Safari: close');
is(ka('GET', '/', $safari), '200 keep-alive', 'msie6: Safari kept');

# keepalive_time: a request that finds its connection older than the time
# is answered, then the connection closes; younger, it is kept.

$s = http("GET /time/a.txt HTTP/1.1\r\nHost: localhost\r\n\r\n", start => 1,
    port => 8083);
my $born = time();
$r = one($s);
is(lc($r->{headers}{connection} // ''), 'keep-alive',
    'keepalive_time 1s: a young connection is kept');

# The connection's age is the event waited for (bounded, 1.2 s).
select(undef, undef, undef, 0.05) while time() - $born < 1.2;

http("GET /time/b.txt HTTP/1.1\r\nHost: localhost\r\n\r\n", socket => $s,
    start => 1);
$r = one($s);
is($r->{body}, "file b\n", 'keepalive_time: the late request is answered');
is(lc($r->{headers}{connection} // ''), 'close',
    'keepalive_time: with Connection: close');
ok(wait_closed($s), 'keepalive_time: then the connection closes');
close $s;

# The server is fine afterwards.

$r = parse_response(http_get('/a.txt')) // {};
is($r->{body}, "file a\n", 'still serving');

$t->stop;
