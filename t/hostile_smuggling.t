#!/usr/bin/perl
# hostile_smuggling.t: request smuggling seen as the attacker sends it: every
# framing vector (CL+TE, duplicate and malformed Content-Length, obfuscated
# Transfer-Encoding, chunk-size overflow, bad chunk extensions, bare CR/LF,
# obs-fold, NUL, whitespace before the colon) carries a second request
# behind it, which must never be answered: one response (the error), then a
# clean close. Bodies and trailers that hold a request are data, not a
# request. The worker survives it all with no descriptor left behind.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;

my $t = Test::Kiln->new->has('static');

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
    }
}
EOF

$t->write_file('html/a.txt', "file a\n");
$t->write_file('html/b.txt', "file b\n");
$t->write_file('html/smuggled.txt', "SMUGGLED\n");

$t->plan(393);
$t->run;

# The request every vector hides behind its framing: answering it (200 with
# "SMUGGLED") is the bug.
my $SMUGGLED = "GET /smuggled.txt HTTP/1.1\r\nHost: localhost\r\n\r\n";

my %reason = (400 => 'Bad Request', 501 => 'Not Implemented');

sub show {
    my ($s) = @_;

    $s = substr($s, 0, 50) . '...' if length $s > 50;
    $s =~ s/([^\x20-\x7e])/sprintf('\\x%02x', ord $1)/ge;
    return $s;
}

sub worker {
    my @w = $t->worker_pids;

    return @w == 1 ? $w[0] : undef;
}

# nfds(): how many descriptors the worker holds.

sub nfds {
    return scalar keys %{$t->fds(worker())};
}

# attack(NAME, RAW, STATUS): RAW on a new connection gets exactly one
# response, STATUS with its error page, then the server closes; nothing of
# the smuggled request comes back (4 tests).

sub attack {
    my ($name, $raw, $status) = @_;
    my ($s, $first, $r, $rest);

    $s = http($raw, start => 1);
    $first = read_response($s);
    $r = parse_response($first) // {};

    is($r->{status}, $status, "$name: $status");
    like($r->{body} // '', qr{<title>$status \Q$reason{$status}\E</title>},
        "$name: $status page");
    ok(wait_closed($s, 3), "$name: closed");

    # Closed: this is what arrived after the first response, to the end.
    $rest = http_read($s, timeout => 0.5);
    is(show($rest . ($first =~ /SMUGGLED/ ? $first : '')), '',
        "$name: no second response");
    close $s;
}

# post(HEADERS, BODY): a POST to a file whose framing is HEADERS; BODY
# follows the head, then the smuggled request.

sub post {
    my ($headers, $body) = @_;

    return "POST /a.txt HTTP/1.1\r\nHost: localhost\r\n$headers\r\n"
        . ($body // '') . $SMUGGLED;
}

# chunked(BODY): a GET of a file with a chunked body BODY (discarded).

sub chunked {
    my ($body) = @_;

    return "GET /a.txt HTTP/1.1\r\nHost: localhost\r\n"
        . "Transfer-Encoding: chunked\r\n\r\n" . $body . $SMUGGLED;
}

# The baseline: one worker, its descriptors with no connection open.

my $w0 = wait_for(sub { worker() });
ok($w0, 'one worker');
is(parse_response(http_get('/a.txt'))->{body}, "file a\n", 'serving');
my $fd0 = nfds();

# --- Content-Length and Transfer-Encoding together (RFC 9112 6.1, 6.3) -------

# CL.TE: a front end framing by Content-Length forwards "0\r\n\r\n" and the
# smuggled request as the body; one framing by chunked sees a second request.
my $cl = length("0\r\n\r\n" . $SMUGGLED);

attack('CL.TE', post("Content-Length: $cl\r\nTransfer-Encoding: chunked\r\n",
    "0\r\n\r\n"), 400);
attack('TE.CL', post("Transfer-Encoding: chunked\r\nContent-Length: 3\r\n",
    "0\r\n\r\n"), 400);
attack('CL: 0 with TE', post("Content-Length: 0\r\n"
    . "Transfer-Encoding: chunked\r\n", "0\r\n\r\n"), 400);
attack('CL.TE with TE: CHUNKED', post("Content-Length: $cl\r\n"
    . "Transfer-Encoding: CHUNKED\r\n", "0\r\n\r\n"), 400);
attack('CL.TE with an unknown coding', post("Content-Length: $cl\r\n"
    . "Transfer-Encoding: xchunked\r\n", "0\r\n\r\n"), 400);
attack('CL.TE in HTTP/1.0', "POST /a.txt HTTP/1.0\r\nHost: localhost\r\n"
    . "Content-Length: $cl\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    . $SMUGGLED, 400);

# --- Content-Length repeated or malformed ------------------------------------

attack('two Content-Length, 0 then N', post("Content-Length: 0\r\n"
    . 'Content-Length: ' . length($SMUGGLED) . "\r\n"), 400);
attack('two Content-Length, N then 0', post('Content-Length: '
    . length($SMUGGLED) . "\r\nContent-Length: 0\r\n"), 400);
attack('Content-Length list "0, N"', post('Content-Length: 0, '
    . length($SMUGGLED) . "\r\n"), 400);
attack('Content-Length list "0,,0"', post("Content-Length: 0,,0\r\n"), 400);
attack('Content-Length list with an empty member',
    post("Content-Length: 0,\r\n"), 400);

for my $v ('+0', '-0', '0x0', '0.0', '0 0', '0;', '00x', '1e1', "\x{0b}0",
    '18446744073709551616', '18446744073709551617',
    '9223372036854775808', '-9223372036854775808')
{
    attack('Content-Length "' . show($v) . '"',
        post("Content-Length: $v\r\n"), 400);
}

# --- Transfer-Encoding obfuscations -----------------------------------------

# Unknown or stacked codings: 501 (RFC 9112 6.1), never "not chunked".
for my $v ('xchunked', 'chunked-x', 'chunk', 'identity', 'chunked, identity',
    'gzip, chunked', '"chunked"', 'chunked;q=1', 'chunked, chunked',
    "chu\x80nked")
{
    attack('Transfer-Encoding "' . show($v) . '"',
        post("Transfer-Encoding: $v\r\n", "0\r\n\r\n"), 501);
}

# Transfer-Encoding is a list, but repeating the field is refused as nginx
# refuses it ("client sent duplicate header line"), whatever the values.
attack('Transfer-Encoding repeated, the second unknown',
    post("Transfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n",
    "0\r\n\r\n"), 400);
attack('Transfer-Encoding: chunked repeated',
    post("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
    "0\r\n\r\n"), 400);
attack('Transfer-Encoding empty',
    post("Transfer-Encoding:\r\n", "0\r\n\r\n"), 501);

# Syntax tricks around the field: 400 whatever a lenient parser would make
# of them.
for my $h ("Transfer-Encoding : chunked", "Transfer-Encoding\t: chunked",
    "Transfer-Encoding:\r\n chunked", "Transfer-Encoding: x\r\n\tchunked",
    "Transfer-Encoding: \x{0b}chunked", "Transfer-Encoding: \x{0c}chunked",
    "Transfer-Encoding: chunked\x00", "Transfer\x00-Encoding: chunked",
    "Transfer-Encoding: chunked\rX: y", " Transfer-Encoding: chunked")
{
    attack('Transfer-Encoding header "' . show($h) . '"',
        post("$h\r\n", "0\r\n\r\n"), 400);
}

# --- header syntax on the framing fields ------------------------------------

for my $h ('Content-Length : ' . length($SMUGGLED),
    "Content-Length\t: 0", "Content-Length: 0\r\n " . length($SMUGGLED),
    "Content-Length: 0\x00", "Content\x00-Length: 0", "Content-Length: 0\rX: y",
    "Content-Length:\x{0b}0", "X: y\r\n Content-Length: 0")
{
    attack('Content-Length header "' . show($h) . '"', post("$h\r\n"), 400);
}

# A bare CR anywhere in the head ends nothing (RFC 9112 2.2).
attack('bare CR ending the request line',
    "GET /a.txt HTTP/1.1\rHost: localhost\r\n\r\n" . $SMUGGLED, 400);
attack('bare CR ending the head', "GET /a.txt HTTP/1.1\r\nHost: localhost\r\n"
    . "\r" . $SMUGGLED, 400);
attack('NUL in the request line',
    "GET /a.txt\x00 HTTP/1.1\r\nHost: localhost\r\n\r\n" . $SMUGGLED, 400);

# --- chunk sizes --------------------------------------------------------------

for my $size ('ffffffffffffffff', '10000000000000000', '8000000000000000',
    'fffffffffffffffffffffffffffffff0', '-1', '+1', '0x1', ' 1', '1 1', 'g',
    '')
{
    attack('chunk size "' . show($size) . '"',
        chunked("$size\r\nx\r\n0\r\n\r\n"), 400);
}

# 2^64 + 5 wraps to 5 in 64 bits: the 5 bytes would hide the request.
attack('chunk size 2^64+5', chunked("10000000000000005\r\nhello\r\n0\r\n\r\n"),
    400);

# --- chunk extensions ---------------------------------------------------------

for my $ext (';', '; ', ';=v', ';a=', ';a="x', ';a=b c', ";a=\x00",
    ";a=\"\x01\"", ';a=b;', ";a\rb", ";a=\"x\r\n\"", ';a=@')
{
    attack('chunk extension "' . show($ext) . '"',
        chunked("5$ext\r\nhello\r\n0\r\n\r\n"), 400);
}

# A chunk-size line is bounded (extensions included): a long one is refused,
# not buffered.
attack('chunk extension of 8 KiB',
    chunked('5;a=' . ('x' x 8192) . "\r\nhello\r\n0\r\n\r\n"), 400);

# --- line ends inside the chunked framing --------------------------------------

# Bare LF is accepted in the head (RFC 9112 2.2) but not in the body's
# framing, where a proxy reading it otherwise would be smuggled past.
attack('bare LF after the chunk size', chunked("5\nhello\r\n0\r\n\r\n"), 400);
attack('bare LF after the chunk data', chunked("5\r\nhello\n0\r\n\r\n"), 400);
attack('bare LF ending the last chunk', chunked("5\r\nhello\r\n0\n\n"), 400);
attack('bare CR after the chunk size', chunked("5\rhello\r\n0\r\n\r\n"), 400);
attack('chunk data longer than its size',
    chunked("5\r\nhello!\r\n0\r\n\r\n"), 400);
attack('chunk data shorter than its size',
    chunked("5\r\nhell\r\n0\r\n\r\n"), 400);
attack('trailer without a colon', chunked("0\r\nX y\r\n\r\n"), 400);
attack('obs-fold in a trailer', chunked("0\r\nX: y\r\n z\r\n\r\n"), 400);
attack('NUL in a trailer', chunked("0\r\nX: \x00\r\n\r\n"), 400);
attack('bare LF ending a trailer', chunked("0\r\nX: y\n\r\n"), 400);

# --- a bad request in the middle of a pipeline -------------------------------

my $s = http("GET /a.txt HTTP/1.1\r\nHost: localhost\r\n\r\n"
    . "GET /b.txt HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1\r\n"
    . "Content-Length: 2\r\n\r\nab" . $SMUGGLED, start => 1);
my $r = parse_response(read_response($s)) // {};
is($r->{body}, "file a\n", 'pipeline: the good request answered');
$r = parse_response(read_response($s)) // {};
is($r->{status}, 400, 'pipeline: the bad one gets 400');
ok(wait_closed($s, 3), 'pipeline: then closed');
is(show(http_read($s, timeout => 0.5)), '',
    'pipeline: the smuggled request is not answered');
close $s;

# --- requests inside bodies and trailers are data ----------------------------

# The static module discards these bodies; what they hold is never parsed
# as a request, and the request after the body is.

$s = http('GET /a.txt HTTP/1.1' . "\r\nHost: localhost\r\nContent-Length: "
    . length($SMUGGLED) . "\r\n\r\n" . $SMUGGLED
    . "GET /b.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    start => 1);
$r = parse_response(read_response($s)) // {};
is($r->{body}, "file a\n", 'request in a Content-Length body: the file');
$r = parse_response(read_response($s)) // {};
is($r->{body}, "file b\n", 'request in a Content-Length body: then the next');
ok(wait_closed($s, 3), 'request in a Content-Length body: closed');
is(show(http_read($s, timeout => 0.5)), '',
    'request in a Content-Length body: never answered');
close $s;

$s = http("GET /a.txt HTTP/1.1\r\nHost: localhost\r\n"
    . "Transfer-Encoding: chunked\r\n\r\n"
    . sprintf('%x', length $SMUGGLED) . "\r\n$SMUGGLED\r\n0\r\n"
    . "Content-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n"
    . "GET /b.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    start => 1);
$r = parse_response(read_response($s)) // {};
is($r->{body}, "file a\n", 'request in a chunk, framing trailers: the file');
$r = parse_response(read_response($s)) // {};
is($r->{body}, "file b\n", 'framing trailers ignored: then the next');
ok(wait_closed($s, 3), 'request in a chunk: closed');
is(show(http_read($s, timeout => 0.5)), '',
    'request in a chunk: never answered');
close $s;

# Connection: close ends the connection: what follows is not read.
$s = http("GET /a.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
    . "\r\n" . $SMUGGLED, start => 1);
$r = parse_response(read_response($s)) // {};
is($r->{body}, "file a\n", 'after Connection: close: the file');
ok(wait_closed($s, 3), 'after Connection: close: closed');
is(show(http_read($s, timeout => 0.5)), '',
    'after Connection: close: the next request not answered');
close $s;

# --- the worker survived, and holds nothing more than before -----------------

is(parse_response(http_get('/b.txt'))->{body}, "file b\n", 'still serving');
is_deeply([$t->worker_pids], [$w0], 'the same worker');
is(wait_for(sub { nfds() == $fd0 }, 5) ? nfds() : nfds(), $fd0,
    'worker descriptors back to the baseline');

$t->stop;
unlike($t->read_file('error.log'), qr/exited on signal/, 'no worker crash');
