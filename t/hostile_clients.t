#!/usr/bin/perl
# hostile_clients.t: clients that abuse the protocol rather than the parser:
# oversized request lines, header lines and header counts, huge and
# negative Content-Length, Range floods (thousands of overlapping ranges),
# Expect abuse, HTTP/0.9 and unknown versions, 1000 pipelined requests
# written without reading, half-close, and RST in the middle of a request
# and of a response. Each gets its status or a clean close, never a hang;
# the worker survives it all and its descriptors come back to the baseline
# after each part (no leaked file or socket).

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Errno qw(EINTR EAGAIN EWOULDBLOCK);
use IO::Select;
use Socket qw(SOL_SOCKET SO_LINGER SHUT_WR);
use Time::HiRes qw(time);

use Test::More;
use Test::Kiln;

my $t = Test::Kiln->new->has('static', 'range_filter');

$t->write_file_expand('kiln.conf', <<'EOF');
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes 1;

events {
    worker_connections 64;
}

http {
    default_type  text/plain;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        location / {
            root %%TESTDIR%%/html;
        }

        location /unlimited/ {
            root                  %%TESTDIR%%/html;
            client_max_body_size  0;
        }
    }

    server {
        listen                       127.0.0.1:%%PORT_8081%%;
        server_name                  localhost;
        large_client_header_buffers  4 64k;

        location / {
            root %%TESTDIR%%/html;
        }

        location /lim/ {
            root        %%TESTDIR%%/html;
            max_ranges  16;
        }
    }

    server {
        listen       127.0.0.1:%%PORT_8082%%;
        server_name  localhost;
        sendfile     off;

        location / {
            root %%TESTDIR%%/html;
        }
    }
}
EOF

$t->write_file('html/a.txt', "file a\n");
$t->write_file('html/unlimited/u.txt', "file u\n");
my $data = join '', map { chr(ord('a') + $_ % 26) } 0 .. 99999;
$t->write_file('html/r.txt', $data);
$t->write_file('html/lim/r.txt', $data);
my $big = '';
$big .= sprintf("%07d:%s\n", $_, 'z' x 55) for 0 .. 4 * 1024 * 1024 / 64 - 1;
$t->write_file('html/big.bin', $big);
my @pfile;
for my $i (0 .. 9) {
    $pfile[$i] = sprintf("%02d", $i) x (8 * 1024);
    $t->write_file("html/p$i", $pfile[$i]);
}

$t->plan(160);
$t->run;

my %reason = (400 => 'Bad Request', 413 => 'Request Entity Too Large',
    414 => 'Request-URI Too Large', 416 => 'Requested Range Not Satisfiable',
    431 => 'Request Header Fields Too Large',
    505 => 'HTTP Version Not Supported');

sub worker {
    my @w = $t->worker_pids;

    return @w == 1 ? $w[0] : undef;
}

sub nfds {
    return scalar keys %{$t->fds(worker())};
}

my $w0 = wait_for(sub { worker() });
ok($w0, 'one worker');
is(parse_response(http_get('/a.txt'))->{body}, "file a\n", 'serving');
my $fd0 = nfds();

# baseline(NAME): the worker's descriptors are back to what they were with
# no connection open (1 test).

sub baseline {
    my ($name) = @_;
    my $fds;

    return 1 if ok(wait_for(sub { nfds() == $fd0 }, 10),
        "$name: worker descriptors back to the baseline");

    $fds = $t->fds(worker());
    diag("$fd0 at the start, now: " . join(' ',
        map { "$_:$fds->{$_}" } sort { $a <=> $b } keys %$fds));
    return 0;
}

# refused(NAME, RAW, STATUS, port => L): STATUS with its page, then the
# server closes, and nothing else comes (4 tests).

sub refused {
    my ($name, $raw, $status, %o) = @_;
    my ($s, $r, $rest);

    $s = http($raw, start => 1, port => $o{port}, timeout => 10);
    $r = parse_response(read_response($s)) // {};
    is($r->{status}, $status, "$name: $status");
    like($r->{body} // '', qr{<title>$status \Q$reason{$status}\E</title>},
        "$name: $status page");
    ok(wait_closed($s, 5), "$name: closed");
    $rest = http_read($s, timeout => 0.5);
    is(length $rest, 0, "$name: nothing after the response");
    close $s;
}

sub get11 {
    my ($uri, $extra) = @_;

    return "GET $uri HTTP/1.1\r\nHost: localhost\r\n" . ($extra // '') . "\r\n";
}

# --- oversized request lines, header lines, header counts --------------------

refused('request line of 1 MiB',
    'GET /' . ('a' x (1024 * 1024)) . " HTTP/1.1\r\nHost: localhost\r\n\r\n",
    414);
refused('header line of 1 MiB',
    get11('/a.txt', 'X-Big: ' . ('b' x (1024 * 1024)) . "\r\n"), 431);
refused('Host of 64 KiB', "GET /a.txt HTTP/1.1\r\nHost: "
    . ('h' x 65536) . "\r\n\r\n", 431);
# max_headers (1000 by default) stops these before the buffers fill: 400,
# as current nginx answers (Debian's 1.22 has no such limit).
refused('20000 empty headers (80 KB)',
    get11('/a.txt', "a:\r\n" x 20000), 400);
refused('5000 headers of 12 bytes', get11('/a.txt',
    join('', map { sprintf("X-%05d: v\r\n", $_) } 1 .. 5000)), 400);

# What fits in the buffers and in max_headers is served: 1000 fields (Host
# and 999 more) in 4 x 8k.
my $r = parse_response(http(get11('/a.txt',
    "a:\r\n" x 998 . "Connection: close\r\n"), timeout => 10)) // {};
is($r->{status}, 200, '1000 header fields within the buffers: 200');

baseline('oversized');

# --- Content-Length ------------------------------------------------------------

refused('Content-Length 2^63-1', get11('/a.txt',
    "Content-Length: 9223372036854775807\r\n"), 413);
refused('Content-Length 1 MiB + 1', get11('/a.txt',
    "Content-Length: 1048577\r\n"), 413);
refused('POST with Content-Length 100 MB', "POST /a.txt HTTP/1.1\r\n"
    . "Host: localhost\r\nContent-Length: 100000000\r\n\r\n", 413);
refused('Content-Length 2^63', get11('/a.txt',
    "Content-Length: 9223372036854775808\r\n"), 400);
refused('Content-Length 2^64', get11('/a.txt',
    "Content-Length: 18446744073709551616\r\n"), 400);
refused('Content-Length -1', get11('/a.txt', "Content-Length: -1\r\n"), 400);
refused('Content-Length -9223372036854775808', get11('/a.txt',
    "Content-Length: -9223372036854775808\r\n"), 400);
refused('Content-Length of 1000 digits', get11('/a.txt',
    'Content-Length: ' . ('9' x 1000) . "\r\n"), 400);

# No limit (client_max_body_size 0): a 2^63-1 body to a file is discarded
# while the answer goes out; the client giving up ends it.
my $s = http(get11('/unlimited/u.txt',
    "Content-Length: 9223372036854775807\r\n") . ('x' x 100000), start => 1);
$r = parse_response(read_response($s)) // {};
is($r->{body}, "file u\n", 'Content-Length 2^63-1, no limit: answered');
close $s;

baseline('Content-Length');

# --- Range floods (8081: 4 x 64k header buffers) ------------------------------

# range(URI, SPEC): a GET with "Range: bytes=SPEC" on 8081.

sub range {
    my ($uri, $spec) = @_;

    return parse_response(http("GET $uri HTTP/1.0\r\nHost: localhost\r\n"
        . "Range: bytes=$spec\r\n\r\n", port => 8081, timeout => 20)) // {};
}

# parts(R): the multipart/byteranges parts as "start-end" strings.

sub parts {
    my ($r) = @_;
    my ($b) = ($r->{headers}{'content-type'} // '') =~ /boundary=(\S+)/;

    return () unless defined $b;
    return $r->{body} =~ /^Content-Range: bytes (\d+-\d+)\/\d+\r$/mg;
}

# Ranges adding up to more than the file are ignored (as nginx 1.22).
$r = range('/r.txt', join(',', ('0-99999') x 5000));
is($r->{status}, 200, '5000 whole-file ranges: ignored, 200');
is(length $r->{body}, 100000, '5000 whole-file ranges: the file once');

$r = range('/r.txt', join(',', ('0-') x 5000));
is($r->{status}, 200, '5000 open ranges: ignored, 200');

# Small ones that fit: answered as asked, each part once (as nginx).
$r = range('/r.txt', join(',', ('0-0') x 5000));
is($r->{status}, 206, '5000 "0-0" ranges: 206');
my @p = parts($r);
is(scalar @p, 5000, '5000 "0-0" ranges: 5000 parts');
is(scalar(grep { $_ ne '0-0' } @p), 0, '5000 "0-0" ranges: each 0-0');
is($r->{headers}{'content-length'}, length $r->{body},
    '5000 ranges: Content-Length is the body');

$r = range('/r.txt', join(',', ('-1') x 5000));
is($r->{status}, 206, '5000 "-1" ranges: 206');
is(scalar(() = parts($r)), 5000, '5000 "-1" ranges: 5000 parts');

# max_ranges bounds it.
$r = range('/lim/r.txt', join(',', ('0-0') x 5000));
is($r->{status}, 200, 'max_ranges 16, 5000 ranges: ignored, 200');
is(length $r->{body}, 100000, 'max_ranges 16: the whole file');

# Malformed floods and overflows.
$r = range('/r.txt', ',' x 60000);
is($r->{status}, 416, '60000 commas: 416');
$r = range('/r.txt', join(',', ('x') x 5000));
is($r->{status}, 416, '5000 bad ranges: 416');
# Past off_t, a position is past the end (RFC 9110 14.1.2): the whole file,
# 206; nginx 1.22 overflows and answers 416.
my $n = ($ENV{KILN_BINARY} // '') =~ /nginx/ ? 416 : 206;
$r = range('/r.txt', '0-' . ('9' x 100));
is($r->{status}, $n, "end of 100 digits: $n");
$r = range('/r.txt', ('9' x 100) . '-');
is($r->{status}, 416, 'start of 100 digits: 416');
$r = range('/r.txt', '-' . ('9' x 100));
is($r->{status}, $n, "suffix of 100 digits: $n");
$r = range('/r.txt', '100000-');
is($r->{status}, 416, 'start at the length: 416');

# A flood against a keep-alive connection, the client vanishing midway
# through the multipart answer (RST).
for (1 .. 3) {
    $s = http("GET /r.txt HTTP/1.1\r\nHost: localhost\r\nRange: bytes="
        . join(',', ('0-0') x 5000) . "\r\n\r\n", port => 8081, start => 1);
    IO::Select->new($s)->can_read(5);
    sysread($s, my $buf, 1024);
    rst($s);
}

baseline('Range floods');

# --- Expect --------------------------------------------------------------------

refused('Expect: 100-continue over client_max_body_size: no 100', get11(
    '/a.txt', "Expect: 100-continue\r\nContent-Length: 2000000\r\n"), 413);
refused('Expect twice', get11('/a.txt', "Expect: 100-continue\r\n"
    . "Expect: 100-continue\r\nContent-Length: 1\r\n") . 'x', 400);

$r = parse_response(http(get11('/a.txt', "Expect: 100-continue\r\n"
    . "Connection: close\r\n"))) // {};
is($r->{status}, 200, 'Expect: 100-continue without a body: no 100, 200');

$r = parse_response(http(get11('/a.txt', 'Expect: ' . ('e' x 6000)
    . "\r\nConnection: close\r\n"))) // {};
is($r->{status}, 200, 'Expect of 6000 bytes: ignored, 200');

# The client asks to wait, then never sends the body: the answer still
# comes, and the connection goes when the client does.
$s = http(get11('/a.txt', "Expect: 100-continue\r\nContent-Length: 10\r\n"),
    start => 1);
$r = parse_response(read_response($s)) // {};
is($r->{status}, 100, 'Expect, body never sent: 100');
$r = parse_response(read_response($s)) // {};
is($r->{body}, "file a\n", 'Expect, body never sent: the file');
close $s;

baseline('Expect');

# --- HTTP/0.9 and unknown versions ---------------------------------------------

my $next = get11('/a.txt');

refused('HTTP/0.9 request', "GET /a.txt\r\n" . $next, 400);
refused('HTTP/0.9 request without CRLF', "GET /a.txt\n" . $next, 400);

# A version that is written out is a version: major 0 is not supported,
# 505 (RFC 9110 15.6.6); only a missing one is HTTP/0.9's 400.
refused('HTTP/0.9 version', "GET /a.txt HTTP/0.9\r\n\r\n" . $next, 505);
refused('HTTP/0.0', "GET /a.txt HTTP/0.0\r\n\r\n" . $next, 505);
refused('HTTP/2.0', "GET /a.txt HTTP/2.0\r\nHost: localhost\r\n\r\n"
    . $next, 505);
refused('HTTP/9.9', "GET /a.txt HTTP/9.9\r\nHost: localhost\r\n\r\n"
    . $next, 505);
refused('HTTP/10.0', "GET /a.txt HTTP/10.0\r\nHost: localhost\r\n\r\n"
    . $next, 400);

# The HTTP/2 preface: "*" is only for OPTIONS, 400 before the version.
refused('HTTP/2 preface', "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" . $next, 400);
refused('HTTPS/1.1', "GET /a.txt HTTPS/1.1\r\nHost: localhost\r\n\r\n"
    . $next, 400);
refused('version then garbage', "GET /a.txt HTTP/1.1x\r\nHost: localhost\r\n"
    . "\r\n" . $next, 400);
refused('TLS ClientHello', "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03"
    . ("\x00" x 64), 400);

$r = parse_response(http("GET /a.txt HTTP/1.9\r\nHost: localhost\r\n"
    . "Connection: close\r\n\r\n")) // {};
is($r->{body}, "file a\n", 'HTTP/1.9: served as 1.1');

baseline('versions');

# --- 1000 pipelined requests, written without waiting to read -----------------

# Written as fast as the server takes them, read as they come: the server
# must neither stall (its output is not read while it reads) nor drop one.
# The 1000th reaches keepalive_requests (1000): it says Connection: close.

my $n = 1000;
my $burst = join '', map { get11('/p' . $_ % 10) } 1 .. $n;
$s = http_connect();
$s->blocking(0);
my ($in, $closed, $deadline, $sel) = ('', 0, time() + 30,
    IO::Select->new($s));

while (time() < $deadline) {
    my ($rd, $wr) = IO::Select->select($sel, length $burst ? $sel : undef,
        undef, 1);

    if ($wr && @$wr) {
        my $w = syswrite($s, $burst, 65536);
        substr($burst, 0, $w, '') if $w;
    }

    if ($rd && @$rd) {
        my $got = sysread($s, my $buf, 262144);
        $closed = 1, last if defined $got && $got == 0;
        next if !defined $got
            && ($! == EINTR || $! == EAGAIN || $! == EWOULDBLOCK);
        last unless defined $got;
        $in .= $buf;
    }
}

is(length $burst, 0, '1000 pipelined: all written');

my ($answered, $inorder, $last) = (0, 0, {});

while (length $in) {
    my $end = index($in, "\r\n\r\n");
    last if $end < 0;
    my ($len) = substr($in, 0, $end) =~ /^Content-Length: (\d+)\r$/mi;
    last unless defined $len && length $in >= $end + 4 + $len;
    $last = parse_response(substr($in, 0, $end + 4 + $len, '')) // {};
    $answered++;
    $inorder++ if ($last->{body} // '') eq $pfile[$answered % 10];
}

is($answered, $n, '1000 pipelined: 1000 answers');
is($inorder, $n, '1000 pipelined: each the file asked for, in order');
is($last->{headers}{connection}, 'close',
    '1000 pipelined: the last at keepalive_requests says close');
is(length $in, 0, '1000 pipelined: nothing more');
ok($closed, '1000 pipelined: then closed');
close $s;

baseline('pipelined');

# --- half-close ------------------------------------------------------------------

# The request, then FIN: the answer comes whole, then the close.
$s = http(get11('/big.bin'), start => 1);
shutdown($s, SHUT_WR);
$r = parse_response(read_response($s, timeout => 20)) // {};
is($r->{status}, 200, 'half-close after the request: 200');
ok(($r->{body} // '') eq $big, 'half-close after the request: whole body');
ok(wait_closed($s, 5), 'half-close after the request: then closed');
close $s;

$s = http(get11('/a.txt') . get11('/p1'), start => 1);
shutdown($s, SHUT_WR);
is((parse_response(read_response($s)) // {})->{body}, "file a\n",
    'half-close after two requests: the first');
is((parse_response(read_response($s)) // {})->{body}, $pfile[1],
    'half-close after two requests: the second');
ok(wait_closed($s, 5), 'half-close after two requests: then closed');
close $s;

# FIN in the middle of a head: no request, no answer, a close.
for my $part ("GET /a.txt HT", "GET /a.txt HTTP/1.1\r\nHost: local",
    "GET /a.txt HTTP/1.1\r\nHost: localhost\r\n")
{
    (my $show = $part) =~ s/\r\n/\\r\\n/g;
    $s = http($part, start => 1);
    shutdown($s, SHUT_WR);
    ok(wait_closed($s, 5), "FIN after \"$show\": closed");
    is(http_read($s, timeout => 0.5), '', "FIN after \"$show\": no answer");
    close $s;
}

baseline('half-close');

# --- RST in the middle of a request or a response ----------------------------

# rst(SOCK): close with SO_LINGER {1, 0}: the kernel sends RST, not FIN.

sub rst {
    my ($sock) = @_;

    setsockopt($sock, SOL_SOCKET, SO_LINGER, pack('ii', 1, 0))
        or die "SO_LINGER: $!\n";
    close $sock;
}

for my $i (1 .. 10) {
    rst(http_connect());
    rst(http('GET /a.txt HTT', start => 1));
    rst(http("GET /a.txt HTTP/1.1\r\nHost: localhost\r\nX-A: b", start => 1));
    rst(http(get11('/a.txt', "Content-Length: 1000\r\n") . 'x' x 10,
        start => 1));
    rst(http("GET /a.txt HTTP/1.1\r\nHost: localhost\r\nX-Big: "
        . ('y' x 20000), start => 1));

    # After a 400 the server lingers, reading: RST then.
    rst(http("GET /a b HTTP/1.1\r\n\r\n" . ('z' x 5000), start => 1));
}

baseline('RST in a request');

# RST with the response under way: sendfile (8080), read into buffers
# (8082), a range of the big file, and keep-alive with more queued.
for my $i (1 .. 10) {
    for my $port (8080, 8082) {
        $s = http(get11('/big.bin'), start => 1, port => $port);
        IO::Select->new($s)->can_read(5);
        sysread($s, my $buf, 4096);
        rst($s);
    }

    $s = http(get11('/big.bin', "Range: bytes=1000-3000000\r\n"), start => 1);
    IO::Select->new($s)->can_read(5);
    rst($s);

    $s = http(get11('/big.bin') . get11('/big.bin') . get11('/a.txt'),
        start => 1, port => 8082);
    IO::Select->new($s)->can_read(5);
    sysread($s, my $buf, 100000);
    rst($s);
}

baseline('RST in a response');

# --- the worker survived ---------------------------------------------------------

is(parse_response(http_get('/a.txt'))->{body}, "file a\n", 'still serving');
is_deeply([$t->worker_pids], [$w0], 'the same worker');

$t->stop;
unlike($t->read_file('error.log'), qr/exited on signal/, 'no worker crash');
