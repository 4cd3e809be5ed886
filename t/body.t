#!/usr/bin/perl
# body.t: request bodies a handler does not read (the static module's),
# discarded so the connection carries the next request: every framing,
# split across packets, slow, pipelined; client_max_body_size; Expect:
# 100-continue; the lingering timeouts that bound a discarded body (not
# client_body_timeout, as in nginx); and the body directives' config.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Socket qw(IPPROTO_TCP TCP_NODELAY);
use Test::More;
use Test::Kiln;
use Time::HiRes qw(time sleep);

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
    client_max_body_size          16;
    client_body_buffer_size       1k;
    client_body_in_single_buffer  on;
    client_body_in_file_only      off;
    client_body_temp_path         %%TESTDIR%%/spool 1 2;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        location / {
            root %%TESTDIR%%/html;
        }
    }

    server {
        listen               127.0.0.1:%%PORT_8081%%;
        server_name          localhost;
        client_body_timeout  300ms;
        lingering_timeout    1500ms;
        lingering_time       30s;

        location / {
            root %%TESTDIR%%/html;
        }
    }

    server {
        listen                127.0.0.1:%%PORT_8082%%;
        server_name           localhost;
        client_max_body_size  0;
        lingering_timeout     1s;
        lingering_time        2s;

        location / {
            root %%TESTDIR%%/html;
        }
    }
}
EOF

for my $n (qw(a b)) {
    $t->write_file("html/$n.txt", "file $n\n");
}

$t->plan(51);
$t->run;

sub req {
    my ($method, $uri, $extra) = @_;

    return "$method $uri HTTP/1.1\r\nHost: localhost\r\n" . ($extra // '')
        . "\r\n";
}

sub get11 {
    return req('GET', @_);
}

sub one {
    my ($s, %o) = @_;

    return parse_response(read_response($s, %o)) // {};
}

# Send each byte in its own packet.

sub trickle {
    my ($s, $bytes) = @_;

    setsockopt($s, IPPROTO_TCP, TCP_NODELAY, 1);

    for my $c (split //, $bytes) {
        http($c, socket => $s, start => 1);
        sleep 0.002;
    }
}

# The temp directory is the master's to make, the workers' to use.

ok(-d $t->testdir . '/spool', 'client_body_temp_path: made at start');
is((stat($t->testdir . '/spool'))[2] & 0777, 0700,
    'client_body_temp_path: mode 0700');

# Content-Length bodies: in the head's packet, then byte by byte.

my $s = http(get11('/a.txt', "Content-Length: 10\r\n") . '0123456789'
    . get11('/b.txt'), start => 1);
is(one($s)->{body}, "file a\n", 'Content-Length body: the file');
is(one($s)->{body}, "file b\n", 'Content-Length body: then the next request');
ok(!wait_closed($s, 0.2), 'Content-Length body: kept alive');
close $s;

$s = http_connect();
trickle($s, get11('/a.txt', "Content-Length: 16\r\n") . 'abcdefghijklmnop'
    . get11('/b.txt'));
is(one($s)->{body}, "file a\n", 'byte by byte: the file');
is(one($s)->{body}, "file b\n", 'byte by byte: then the next request');
close $s;

# HEAD and POST-to-a-file (405) with bodies keep the connection too.

$s = http(req('HEAD', '/a.txt', "Content-Length: 3\r\n") . 'xyz'
    . get11('/b.txt'), start => 1);
is(one($s, head => 1)->{status}, 200, 'HEAD with a body: 200');
is(one($s)->{body}, "file b\n", 'HEAD with a body: then the next request');
close $s;

$s = http(req('POST', '/a.txt', "Content-Length: 3\r\n") . 'xyz'
    . get11('/b.txt'), start => 1);
my $r = one($s);
is($r->{status}, 405, 'POST to a file: 405');
is(one($s)->{body}, "file b\n", 'POST to a file: its body was skipped');
close $s;

# Chunked bodies: extensions, trailers, byte by byte.

my $chunked = "5\r\nhello\r\n3;name=\"quoted\"\r\nabc\r\n"
    . "0\r\nX-Trailer: 1\r\n\r\n";

$s = http_connect();
trickle($s, get11('/a.txt', "Transfer-Encoding: chunked\r\n") . $chunked
    . get11('/b.txt'));
is(one($s)->{body}, "file a\n", 'chunked byte by byte: the file');
is(one($s)->{body}, "file b\n", 'chunked byte by byte: then the next');
close $s;

# A chunk cut in its data, the rest coming later with the next request: the
# discarding reads exactly to the body's end.

$s = http(get11('/a.txt', "Transfer-Encoding: chunked\r\n") . "5\r\nhel",
    start => 1);
is(one($s)->{body}, "file a\n", 'chunk cut in its data: the file at once');
sleep 0.2;
http("lo\r\n0\r\n\r\n" . get11('/b.txt'), socket => $s, start => 1);
$r = one($s);
is($r->{status}, 200, 'chunk cut in its data: next request parsed');
is($r->{body}, "file b\n", 'chunk cut in its data: next request answered');
close $s;

# The response does not wait for a slow body; the connection does.

$s = http(get11('/a.txt', "Content-Length: 10\r\n") . '012', start => 1);
is(one($s, timeout => 1)->{body}, "file a\n", 'slow body: answered at once');
sleep 0.3;
http('3456', socket => $s, start => 1);
sleep 0.3;
http('789' . get11('/b.txt'), socket => $s, start => 1);
is(one($s)->{body}, "file b\n", 'slow body: the next request after it');
ok(!wait_closed($s, 0.2), 'slow body: kept alive');
close $s;

# client_max_body_size: a known length over it is refused unread.

$s = http(get11('/a.txt', "Content-Length: 17\r\n") . 'x' x 17, start => 1);
$r = one($s);
is($r->{status}, 413, 'Content-Length over client_max_body_size: 413');
is($r->{headers}{connection}, 'close', '413: Connection: close');
ok(wait_closed($s), '413: then closed');

$r = parse_response(http(get11('/a.txt', "Content-Length: 16\r\n"
    . "Connection: close\r\n") . 'x' x 16));
is($r->{status}, 200, 'Content-Length at client_max_body_size: 200');

# A chunked body is discarded whatever its size (nginx checks the limit only
# when a body is read).

$s = http(get11('/a.txt', "Transfer-Encoding: chunked\r\n")
    . "20\r\n" . ('y' x 32) . "\r\n0\r\n\r\n" . get11('/b.txt'), start => 1);
is(one($s)->{status}, 200, 'discarded chunked body over the limit: 200');
is(one($s)->{body}, "file b\n", 'discarded chunked body: then the next');
close $s;

# Bad chunked framing: 400, and the connection is closed.

$s = http(get11('/a.txt', "Transfer-Encoding: chunked\r\n") . "zz\r\n",
    start => 1);
$r = one($s);
is($r->{status}, 400, 'bad chunk size: 400');
ok(wait_closed($s), 'bad chunk size: closed');

# Expect: 100-continue. A file served discards the body, so the client is
# told to send it; an error answer needs no body, and gets no 100.

$s = http(get11('/a.txt', "Expect: 100-continue\r\nContent-Length: 5\r\n"),
    start => 1);
$r = one($s);
is($r->{status}, 100, '100-continue: 100 first');
is($r->{raw}, "HTTP/1.1 100 Continue\r\n\r\n", '100-continue: as nginx');
http('hello' . get11('/b.txt'), socket => $s, start => 1);
is(one($s)->{body}, "file a\n", '100-continue: then the file');
is(one($s)->{body}, "file b\n", '100-continue: then the next request');
close $s;

$s = http(get11('/missing', "Expect: 100-continue\r\nContent-Length: 5\r\n"),
    start => 1);
$r = one($s);
is($r->{status}, 404, '100-continue on a 404: no 100');
http('hello' . get11('/b.txt'), socket => $s, start => 1);
is(one($s)->{body}, "file b\n", '404: the body sent anyway was skipped');
close $s;

$s = http(req('POST', '/a.txt', "Expect: 100-continue\r\n"
    . "Content-Length: 5\r\n"), start => 1);
is(one($s)->{status}, 405, '100-continue on a 405: no 100');
close $s;

$s = http("GET /a.txt HTTP/1.0\r\nHost: localhost\r\n"
    . "Expect: 100-continue\r\nContent-Length: 5\r\n\r\nhello", start => 1);
$r = one($s);
is($r->{status}, 200, 'HTTP/1.0 with 100-continue: no 100');
close $s;

$s = http(get11('/a.txt', "Expect: fly\r\nContent-Length: 5\r\n") . 'hello',
    start => 1);
$r = one($s);
is($r->{status}, 200, 'unknown expectation: ignored, as nginx (no 417)');
close $s;

# A discarded body is bounded by lingering_timeout, not client_body_timeout
# (300ms here, lingering_timeout 1.5s).

$s = http(get11('/a.txt', "Content-Length: 10\r\n") . '01', start => 1,
    port => 8081);
is(one($s)->{body}, "file a\n", 'stalled body: answered');
my $t0 = time();
ok(!wait_closed($s, 0.8), 'stalled body: open past client_body_timeout');
ok(wait_closed($s, 5), 'stalled body: closed after lingering_timeout');
cmp_ok(time() - $t0, '>=', 1.2, 'stalled body: not before lingering_timeout');

# A body that keeps coming, each piece within lingering_timeout (1s), is
# still cut at lingering_time (2s).

$s = http(get11('/a.txt', "Content-Length: 100000\r\n") . '01', start => 1,
    port => 8082);
is(one($s)->{body}, "file a\n", 'endless body: answered');
$t0 = time();
my $closed = 0;
for (1 .. 20) {
    last unless http('0123456789', socket => $s, start => 1);
    if (wait_closed($s, 0.3)) {
        $closed = 1;
        last;
    }
}
ok($closed, 'endless body: closed');
cmp_ok(time() - $t0, '<', 4, 'endless body: cut at lingering_time');
cmp_ok(time() - $t0, '>=', 1.5, 'endless body: not before lingering_time');

# The body directives: kiln -t checks them as nginx does.

$t->write_file('bad-levels.conf', <<"EOF");
events { }
http {
    client_body_temp_path spool 1;
    server { location /x { client_body_temp_path spool/ 2; } }
}
EOF
# kiln -t on a config of its own, its messages apart from the server's log.
sub check {
    my ($conf) = @_;
    my $d = $t->testdir;

    return $t->run_kiln('-t', '-p', "$d/", '-c', "$d/$conf", '-e',
        "$d/check.log");
}

my $res = check('bad-levels.conf');
isnt($res->{exit}, 0, 'one path with two sets of levels: refused');
like($res->{stderr}, qr/the same path name ".*spool" in .* has the different levels/,
    'one path with two sets of levels: nginx\'s message');

for my $bad ('client_body_temp_path spool 0;',
    'client_body_temp_path spool 9 2;', 'client_body_in_file_only maybe;',
    'client_body_buffer_size many;')
{
    $t->write_file('bad.conf', "events { }\nhttp { $bad }\n");
    $res = check('bad.conf');
    isnt($res->{exit}, 0, "refused: $bad");
}

$t->write_file('good.conf', "events { }\nhttp { client_body_buffer_size 0;"
    . " client_body_temp_path spool 1 2 3;"
    . " client_body_in_file_only clean; client_body_in_single_buffer off;"
    . " server { listen 127.0.0.1:" . port(8083) . "; location / {"
    . " client_body_in_file_only on; } } }\n");
$res = check('good.conf');
is($res->{exit}, 0, 'every body directive, in every context: accepted');

$t->stop;
