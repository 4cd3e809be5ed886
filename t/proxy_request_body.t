#!/usr/bin/perl
# proxy_request_body.t: proxy_request_buffering off: the body reaches the
# peer as the client sends it (Content-Length as is, chunked re-chunked to
# HTTP/1.1, buffered for HTTP/1.0), 100-continue, client_max_body_size
# mid-stream (413), a client gone mid-body (logged, peer closed),
# client_body_timeout, a peer answering before the body (the client
# connection then closed), proxy_next_upstream before and after body bytes
# went out, keepalive peers, and a pipelined request after the body.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Digest::SHA qw(sha1_hex);
use IO::Select;
use Test::More;
use Test::Kiln;
use Test::Kiln::Backend;

my $t = Test::Kiln->new->has('proxy');

my $b1 = Test::Kiln::Backend->http(port => 'b1', record => 1);
my $b2 = Test::Kiln::Backend->http(port => 'b2', name => 'ka');
my $b3 = Test::Kiln::Backend->http(port => 'b3', name => 'drop',
    force => '/drop');
my $b4 = Test::Kiln::Backend->http(port => 'b4', name => 'spare');
my $b5 = Test::Kiln::Backend->http(port => 'b5', name => 'stall',
    force => '/stall');

$t->write_file_expand('kiln.conf', <<'EOF');
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes 1;

events {
    worker_connections 64;
}

http {
    log_format st '$uri $status';
    access_log %%TESTDIR%%/access.log st;

    upstream ka {
        server 127.0.0.1:%%PORT_b2%%;
        keepalive 4;
    }

    upstream dead {
        server 127.0.0.1:%%PORT_dead%%;
        server 127.0.0.1:%%PORT_b4%% backup;
    }

    upstream dropper {
        server 127.0.0.1:%%PORT_b3%%;
        server 127.0.0.1:%%PORT_b4%% backup;
    }

    proxy_request_buffering off;
    client_body_buffer_size 1k;

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;

        location / {
            proxy_http_version 1.1;
            proxy_pass http://127.0.0.1:%%PORT_b1%%;
        }

        location /v10/ {
            proxy_pass http://127.0.0.1:%%PORT_b1%%;
        }

        location /small/ {
            client_max_body_size 100;
            proxy_http_version 1.1;
            proxy_pass http://127.0.0.1:%%PORT_b1%%;
        }

        location /timeout/ {
            client_body_timeout 1s;
            proxy_pass http://127.0.0.1:%%PORT_b1%%;
        }

        location /next/ {
            proxy_pass http://dead;
        }

        location /drop/ {
            proxy_pass http://dropper;
        }

        location /stall/ {
            proxy_send_timeout 1s;
            client_max_body_size 0;
            proxy_pass http://127.0.0.1:%%PORT_b5%%;
        }

        location /ka/ {
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://ka;
        }
    }
}
EOF

$t->plan(46);
$t->run(wait_ports => [8080]);

my ($s, $r, $e, $n, $raw);

sub head {
    my ($uri, @fields) = @_;
    return "POST $uri HTTP/1.1\r\nHost: localhost\r\n"
        . join('', map { "$_\r\n" } @fields) . "\r\n";
}

# The next connection number on b1, and what it read so far.
sub next_conn { $b1->stats->{connections} + 1 }

sub got {
    my ($conn, $re) = @_;
    return wait_for(sub { $b1->received($conn) =~ $re }, 5);
}

sub logged {
    my ($re) = @_;
    return wait_for(sub { $t->read_file('access.log') =~ $re }, 5);
}

# --- Content-Length: the bytes go as they come -----------------------------

$n = next_conn();
$s = http(head('/cl', 'Content-Length: 20', 'Connection: close')
    . '0123456789', start => 1);
ok(got($n, qr/\r\n\r\n0123456789\z/),
    'the first half reached the peer before the client sent the rest');
like($b1->received($n), qr/^Content-Length: 20\r$/mi,
    'the client\'s Content-Length went on');
print $s 'abcdefghij';
$r = parse_response(http_read($s));
$e = parse_echo($r->{body});
is($r->{status}, 200, 'Content-Length: 200');
is($e->{body_length}, 20, 'Content-Length: the whole body');
is($e->{body_sha1}, sha1_hex('0123456789abcdefghij'),
    'Content-Length: the bytes intact');

# --- chunked, to an HTTP/1.1 peer: chunked ---------------------------------

$n = next_conn();
$s = http(head('/ch', 'Transfer-Encoding: chunked', 'Connection: close')
    . "5\r\nhello\r\n", start => 1);
ok(got($n, qr/\r\n\r\n5\r\nhello\r\n\z/),
    'chunked: the first chunk reached the peer, chunked, before the rest');
like($b1->received($n), qr/^Transfer-Encoding: chunked\r$/mi,
    'chunked: Transfer-Encoding: chunked to the peer');
unlike($b1->received($n), qr/^Content-Length:/mi,
    'chunked: no Content-Length to the peer');
print $s "6\r\n world\r\n0\r\n\r\n";
$r = parse_response(http_read($s));
$e = parse_echo($r->{body});
is($e->{framing}, 'chunked', 'chunked: the peer read a chunked body');
is($e->{body_sha1}, sha1_hex('hello world'), 'chunked: the bytes intact');
like($b1->received($n), qr/\r\n0\r\n\r\n\z/, 'chunked: the last chunk sent');

# A body larger than client_body_buffer_size, in pieces of at most 1k.
my $big = 'x' x 5000;
$r = parse_response(http(head('/ch', 'Transfer-Encoding: chunked',
    'Connection: close') . sprintf("%x\r\n%s\r\n0\r\n\r\n", 5000, $big)));
$e = parse_echo($r->{body});
is($e->{body_sha1}, sha1_hex($big), 'chunked, 5000 bytes: intact');
my $large = join('', map { chr(($_ * 13) % 256) } 1 .. 300000);
$r = parse_response(http(head('/cl', 'Content-Length: 300000',
    'Connection: close') . $large));
is(parse_echo($r->{body})->{body_sha1}, sha1_hex($large),
    'Content-Length, 300000 bytes in 1k pieces: intact');
unlike($t->read_file('error.log'), qr/buffered to a temporary file/,
    'no temp file: one buffer reused');

# --- chunked, to an HTTP/1.0 peer: buffered, with Content-Length -----------

$n = next_conn();
$r = parse_response(http(head('/v10/x', 'Transfer-Encoding: chunked',
    'Connection: close') . "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"));
$e = parse_echo($r->{body});
is($e->{framing}, 'length', 'HTTP/1.0 peer: the body has a length');
is($e->{header}{'content-length'}, 11, 'HTTP/1.0 peer: Content-Length: 11');
is($e->{body_sha1}, sha1_hex('hello world'), 'HTTP/1.0 peer: intact');

# --- 100-continue ------------------------------------------------------------

$s = http(head('/cont', 'Content-Length: 4', 'Expect: 100-continue',
    'Connection: close'), start => 1);
$raw = read_response($s);
like($raw, qr{^HTTP/1\.1 100 Continue\r\n\r\n}, '100 Continue first');
print $s 'abcd';
$r = parse_response(http_read($s));
is(parse_echo($r->{body})->{body_sha1}, sha1_hex('abcd'),
    '100-continue: the body went on');

# --- client_max_body_size, mid-stream ---------------------------------------

$n = next_conn();
$s = http(head('/small/x', 'Transfer-Encoding: chunked')
    . "50\r\n" . ('a' x 80) . "\r\n", start => 1);
ok(got($n, qr/\r\n\r\n50\r\na{80}\r\n\z/),
    '413: the chunk within the limit reached the peer');
print $s "50\r\n" . ('b' x 80) . "\r\n";
$r = parse_response(http_read($s));
is($r->{status}, 413, 'a chunk past client_max_body_size: 413');
close $s;
ok(logged(qr{^/small/x 413$}m), '413 logged');
ok(wait_for(sub { $b1->stats->{open} == 0 }, 5),
    '413: the peer connection closed');

# --- the client goes away mid-body ------------------------------------------

$n = next_conn();
$s = http(head('/gone', 'Content-Length: 100') . 'partial', start => 1);
ok(got($n, qr/\r\n\r\npartial\z/), 'gone: the part reached the peer');
close $s;
ok(wait_for(sub { $b1->stats->{open} == 0 }, 5),
    'gone: the peer connection closed');
ok(logged(qr{^/gone 400$}m), 'gone: logged as nginx logs it (400)');

# --- client_body_timeout -----------------------------------------------------

$n = next_conn();
$s = http(head('/timeout/x', 'Content-Length: 100') . 'slow', start => 1);
ok(got($n, qr/\r\n\r\nslow\z/), 'timeout: the part reached the peer');
ok(wait_closed($s, 5), 'timeout: the client connection closed');
ok(logged(qr{^/timeout/x 408$}m), 'timeout: 408 logged');
ok(wait_for(sub { $b1->stats->{open} == 0 }, 5),
    'timeout: the peer connection closed');

# --- the peer answers before the body ---------------------------------------

$s = http(head('/early/413', 'Content-Length: 100000') . ('e' x 1000),
    start => 1);
$r = parse_response(read_response($s));
is($r->{status}, 413, 'early answer: the client got it');
is($r->{body}, "early\n", 'early answer: its body');
is($r->{headers}{connection}, 'close',
    'early answer: it says the connection closes (RFC 9112 9.6)');
ok(wait_closed($s, 5), 'early answer: the client connection closed');

# --- a peer that stops reading: proxy_send_timeout ---------------------------

# The client writes until the answer comes (kiln stops reading it while
# the peer takes nothing), bounded by bytes and time.
$s = http_connect();
$s->blocking(0);
my $rsel = IO::Select->new($s);
my $wsel = IO::Select->new($s);
my $out = head('/stall/x', 'Content-Length: 64000000');
my $chunk = 'z' x 65536;
my $written = 0;
my $deadline = time() + 10;

while (time() < $deadline && $written < 64000000) {
    my ($rd, $wr) = IO::Select->select($rsel, $wsel, undef, 1);
    last if $rd && @$rd;
    next unless $wr && @$wr;
    $out = $chunk if !length $out;
    my $k = syswrite($s, $out);
    next unless defined $k;
    $written += $k;
    substr($out, 0, $k, '');
}
$s->blocking(1);
$r = parse_response(read_response($s));
is($r->{status}, 504, 'a peer that stops reading: 504 after proxy_send_timeout');
ok($written < 64000000, 'the client was not read ahead of the peer');
like($t->read_file('error.log'),
    qr/upstream timed out \(110: Connection timed out\) while sending request to upstream/,
    'the send timeout logged as nginx');
close $s;

# --- proxy_next_upstream ------------------------------------------------------

$s = http(head('/next/x', 'Content-Length: 10', 'Connection: close')
    . '01234', start => 1);
print $s '56789';
$r = parse_response(http_read($s));
is($r->{headers}{'x-backend'}, 'spare',
    'connect refused: the next peer answered');
is(parse_echo($r->{body})->{body_sha1}, sha1_hex('0123456789'),
    'connect refused: the next peer got the whole body');

my $spare = $b4->stats->{requests};
$r = parse_response(http(head('/drop/x', 'Content-Length: 10',
    'Connection: close') . '0123456789'));
is($r->{status}, 502, 'the peer closed after the body went out: 502');
is($b4->stats->{requests}, $spare, 'no next peer once body bytes went out');

# --- a keepalive peer ----------------------------------------------------------

$r = parse_response(http(head('/ka/1', 'Content-Length: 3',
    'Connection: close') . 'abc'));
is(parse_echo($r->{body})->{body_sha1}, sha1_hex('abc'), 'keepalive: first');
$r = parse_response(http(head('/ka/2', 'Transfer-Encoding: chunked',
    'Connection: close') . "3\r\ndef\r\n0\r\n\r\n"));
$e = parse_echo($r->{body});
is($e->{body_sha1}, sha1_hex('def'), 'keepalive: second, chunked');
is($r->{headers}{'x-backend-conn'}, 1,
    'keepalive: the peer connection was reused');

# --- a pipelined request after the body ------------------------------------------

$s = http(head('/p1', 'Content-Length: 5') . 'hello'
    . "GET /p2 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    start => 1);
$r = parse_response(read_response($s));
is(parse_echo($r->{body})->{body_sha1}, sha1_hex('hello'),
    'pipelined: the first body');
$r = parse_response(http_read($s));
like($r->{body}, qr{^target: /p2$}m, 'pipelined: the second request answered');
