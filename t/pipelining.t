#!/usr/bin/perl
# pipelining.t: requests pipelined on one connection are answered in
# order, whole and never mixed: a burst of 1000 in one write (with HEADs
# and 404s among them), bursts cut at arbitrary bytes, requests after one
# whose body is discarded, and a bad request in the middle.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;

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
        keepalive_requests  5000;

        location / {
            root %%TESTDIR%%/html;
        }
    }
}
EOF

for my $i (1 .. 1000) {
    $t->write_file("html/f$i", "body of f$i\n");
}
$t->write_file('html/big.bin', join('', map { sprintf("%07d\n", $_) }
    1 .. 64 * 1024));

$t->plan(34);
$t->run;

sub get11 {
    my ($uri, $extra) = @_;

    return "GET $uri HTTP/1.1\r\nHost: localhost\r\n" . ($extra // '') . "\r\n";
}

# burst(N): N requests, each identified by its number i: every 7th a HEAD,
# every 11th a missing file, the rest GET /fi. Returns the bytes and the
# list of what each answer must be: [method, status, body].

sub burst {
    my ($n) = @_;
    my ($raw, @want);

    $raw = '';

    for my $i (1 .. $n) {
        if ($i % 11 == 0) {
            $raw .= get11("/missing$i");
            push @want, ['GET', 404, undef];
        } elsif ($i % 7 == 0) {
            $raw .= "HEAD /f$i HTTP/1.1\r\nHost: localhost\r\n\r\n";
            push @want, ['HEAD', 200, ''];
        } else {
            $raw .= get11("/f$i");
            push @want, ['GET', 200, "body of f$i\n"];
        }
    }

    return ($raw, \@want);
}

# check(SOCK, WANT, NAME): read one response per WANT entry; returns the
# index (1-based) of the first that is not as it must be, or 0, and the
# last response.

sub check {
    my ($s, $want) = @_;
    my ($i, $r, $w);

    for $i (1 .. @$want) {
        $w = $want->[$i - 1];
        $r = parse_response(read_response($s, head => $w->[0] eq 'HEAD',
            timeout => 10)) // {};

        return ($i, $r) unless ($r->{status} // 0) == $w->[1];

        if ($w->[0] eq 'HEAD') {
            return ($i, $r) unless $r->{body} eq ''
                && ($r->{headers}{'content-length'} // '')
                    == length "body of f$i\n";
        } elsif (defined $w->[2]) {
            return ($i, $r) unless $r->{body} eq $w->[2];
        } else {
            return ($i, $r)
                unless $r->{body} =~ m{<title>404 Not Found</title>};
        }
    }

    return (0, $r);
}

# 1000 requests in one write, with keepalive_requests at its default of
# 1000: all answered in order, the last one says close.

my ($raw, $want) = burst(1000);
my $s = http($raw, start => 1, timeout => 20);
my ($bad, $last) = check($s, $want);
is($bad, 0, '1000 pipelined requests: 1000 ordered responses'
    . ($bad ? " (response $bad is wrong: status "
    . ($last->{status} // 'none') . ')' : ''));
is($last->{headers}{connection}, 'close',
    'keepalive_requests 1000: the 1000th response says close');
ok(wait_closed($s, 5), 'closed after the 1000th');
is(${*$s}{kiln_buf} // '', '', 'nothing after the 1000th response');

# The same burst with keepalive_requests 5000: kept open after it.

$s = http($raw, start => 1, port => 8081, timeout => 20);
($bad, $last) = check($s, $want);
is($bad, 0, '1000 pipelined requests, keepalive_requests 5000: in order'
    . ($bad ? " (response $bad is wrong)" : ''));
is($last->{headers}{connection}, 'keep-alive', 'the 1000th keeps alive');
ok(!wait_closed($s, 0.3), 'still open after 1000');

# And it serves the next one on the same connection.
http(get11('/f1'), socket => $s, start => 1);
is((parse_response(read_response($s)) // {})->{body}, "body of f1\n",
    'a request after the burst');
close $s;

# A burst of 300 written in pieces cut at arbitrary bytes.

($raw, $want) = burst(300);
$s = http_connect(port => 8081);
my $pos = 0;
my $k = 0;
while ($pos < length $raw) {
    my $len = (37, 1, 500, 3, 1460, 2, 4096)[$k++ % 7];
    http(substr($raw, $pos, $len), socket => $s, start => 1);
    $pos += $len;
}
($bad) = check($s, $want);
is($bad, 0, '300 requests sent in pieces cut anywhere: in order'
    . ($bad ? " (response $bad is wrong)" : ''));
close $s;

# A large response among small ones is not mixed with them.

$s = http(get11('/f1') . get11('/big.bin') . get11('/f2')
    . "HEAD /big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n" . get11('/f3'),
    start => 1);
my $r = parse_response(read_response($s)) // {};
is($r->{body}, "body of f1\n", 'before the large file');
$r = parse_response(read_response($s, timeout => 20)) // {};
is(length($r->{body} // ''), 8 * 64 * 1024, 'the large file, whole');
ok(($r->{body} // '') eq $t->read_file('html/big.bin'),
    'the large file, byte for byte');
$r = parse_response(read_response($s)) // {};
is($r->{body}, "body of f2\n", 'after the large file');
$r = parse_response(read_response($s, head => 1)) // {};
is($r->{headers}{'content-length'}, 8 * 64 * 1024, 'HEAD of the large file');
$r = parse_response(read_response($s)) // {};
is($r->{body}, "body of f3\n", 'after HEAD of the large file');
close $s;

# Requests after one whose body is discarded: a POST to a static file is
# 405 and its body is read and thrown away, not taken for a request.

my $body = get11('/f9');
$s = http("POST /f1 HTTP/1.1\r\nHost: localhost\r\nContent-Length: "
    . length($body) . "\r\n\r\n" . $body . get11('/f2') . get11('/f3'),
    start => 1);
$r = parse_response(read_response($s)) // {};
is($r->{status}, 405, 'POST with a body: 405');
$r = parse_response(read_response($s)) // {};
is($r->{status}, 200, 'after a discarded body: 200');
is($r->{body}, "body of f2\n", 'after a discarded body: the next request');
$r = parse_response(read_response($s)) // {};
is($r->{body}, "body of f3\n", 'after a discarded body: and the one after');
close $s;

# A chunked body, discarded the same way.

$s = http("POST /f1 HTTP/1.1\r\nHost: localhost\r\n"
    . "Transfer-Encoding: chunked\r\n\r\n"
    . sprintf("%x\r\n%s\r\n", length $body, $body) . "0\r\n\r\n"
    . get11('/f4') . get11('/f5'), start => 1);
$r = parse_response(read_response($s)) // {};
is($r->{status}, 405, 'POST with a chunked body: 405');
$r = parse_response(read_response($s)) // {};
is($r->{body}, "body of f4\n", 'after a discarded chunked body');
$r = parse_response(read_response($s)) // {};
is($r->{body}, "body of f5\n", 'after a discarded chunked body: second');
close $s;

# A 64 KiB body on a GET, then requests.

my $big_body = 'x' x 65536;
$s = http(get11('/f6', "Content-Length: 65536\r\n") . $big_body . get11('/f7')
    . get11('/f8'), start => 1);
$r = parse_response(read_response($s)) // {};
is($r->{body}, "body of f6\n", 'GET with a 64 KiB body: served');
$r = parse_response(read_response($s)) // {};
is($r->{body}, "body of f7\n", 'after a discarded 64 KiB body');
$r = parse_response(read_response($s)) // {};
is($r->{body}, "body of f8\n", 'after a discarded 64 KiB body: second');
close $s;

# Several bodies in a row.

$s = http(join('', map {
    "POST /f$_ HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\n"
        . 'abcde' . get11("/f$_")
} 1 .. 5), start => 1);
my @got = map {
    my $rr = parse_response(read_response($s)) // {};
    ($rr->{status} // 0) . ' ' . ($rr->{body} =~ /^(body of f\d+)/ ? $1 : '-');
} 1 .. 10;
is_deeply(\@got, [map { ('405 -', "200 body of f$_") } 1 .. 5],
    'POST with body and GET, five times: all in order');
close $s;

# A bad request in the middle: the ones before are answered, it gets its
# 400, and nothing after it is taken.

$s = http(get11('/f1') . get11('/f2')
    . "GET /f3 HTTP/1.1\r\nHost: localhost\r\nX-Bad\x01: y\r\n\r\n"
    . get11('/f4'), start => 1);
$r = parse_response(read_response($s)) // {};
is($r->{body}, "body of f1\n", 'before a bad request: first');
$r = parse_response(read_response($s)) // {};
is($r->{body}, "body of f2\n", 'before a bad request: second');
$r = parse_response(read_response($s)) // {};
is($r->{status}, 400, 'the bad request: 400');
is($r->{headers}{connection}, 'close', 'the bad request: Connection: close');
ok(wait_closed($s), 'closed after the bad request');
is(${*$s}{kiln_buf} // '', '', 'the request after it is not answered');

# HTTP/1.0 requests pipelined: the first without keep-alive ends it.

$s = http("GET /f1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
    . "GET /f2 HTTP/1.0\r\n\r\nGET /f3 HTTP/1.0\r\n\r\n", start => 1);
@got = map { (parse_response(read_response($s)) // {})->{body} // '' } 1 .. 2;
is_deeply(\@got, ["body of f1\n", "body of f2\n"],
    '1.0: keep-alive request, then one without');
ok(wait_closed($s), '1.0: closed after the one without keep-alive');

$t->stop;
