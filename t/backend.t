#!/usr/bin/perl
# backend.t: the test backends of Test::Kiln::Backend, checked with a plain
# Perl client (no kiln): HTTP keep-alive, bodies in and out, every path
# behaviour, counters, kill and restart; the WebSocket echo; the FastCGI
# responder over TCP and a unix socket, whole and in 1-byte writes.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Digest::SHA qw(sha1_hex);
use IO::Select;
use IO::Socket::INET;
use IO::Socket::UNIX;
use Test::More;
use Time::HiRes qw(time);

use Test::Kiln;
use Test::Kiln::Backend;

my $t = Test::Kiln->new;
my $dir = $t->testdir;

my $h = Test::Kiln::Backend->http(port => 'h1', name => 'one');
my $force = Test::Kiln::Backend->http(port => 'h2', force => '/status/503',
    keepalive_requests => 2);
my $idle = Test::Kiln::Backend->http(port => 'h3', keepalive_timeout => 200);
my $f = Test::Kiln::Backend->fastcgi(port => 'f1', name => 'fc');
my $fu = Test::Kiln::Backend->fastcgi(unix => "$dir/fcgi.sock");

sub req {
    my ($target, %o) = @_;
    my $v = $o{version} // '1.1';

    return ($o{method} // 'GET') . " $target HTTP/$v\r\nHost: localhost\r\n"
        . ($o{headers} // '') . "\r\n" . ($o{body} // '');
}

sub one {
    my ($s, %o) = @_;
    return parse_response(read_response($s, %o));
}

# write_slowly(SOCK, BYTES): one byte per write, each its own segment.
sub write_slowly {
    my ($s, $data) = @_;

    $s->setsockopt(Socket::IPPROTO_TCP(), Socket::TCP_NODELAY(), 1);
    for my $c (split //, $data) {
        syswrite($s, $c) == 1 or return 0;
    }
    return 1;
}


# --- HTTP: keep-alive, echo, counters ----------------------------------------

{
    my $s = http(req('/a?x=1', headers => "X-One: 1\r\nX-Two:  2 \r\n")
        . req('/b'), port => 'h1', start => 1);
    my $r1 = one($s);
    my $r2 = one($s);
    my $e1 = parse_echo($r1->{body});
    my $e2 = parse_echo($r2->{body});

    is($r1->{status}, 200, 'keep-alive: 200');
    is($r1->{headers}{'x-backend'}, 'one', 'X-Backend is the name');
    is($e1->{backend}, 'one', 'echo: backend');
    is($e1->{method}, 'GET', 'echo: method');
    is($e1->{target}, '/a?x=1', 'echo: target with args');
    is($e1->{version}, 'HTTP/1.1', 'echo: version');
    is_deeply($e1->{header_lines},
        ['Host: localhost', 'X-One: 1', 'X-Two:  2 '],
        'echo: header lines in order, as received');
    is($e1->{header}{'x-two'}, '2', 'echo: header hash, trimmed');
    is($e1->{framing}, 'none', 'echo: no body framing');
    is($e1->{body_length}, 0, 'echo: body length 0');
    is($e2->{target}, '/b', 'pipelined second request');
    is($r2->{headers}{'x-backend-conn'}, $r1->{headers}{'x-backend-conn'},
        'same connection');
    is(join(',', map { $_->{headers}{'x-backend-request'} } $r1, $r2),
        '1,2', 'request numbers on the connection');
    ok(!wait_closed($s, 0.3), 'HTTP/1.1 stays open');

    http(req('/c', headers => "Connection: close\r\n"), socket => $s,
        start => 1);
    my $r3 = one($s);
    is($r3->{headers}{connection}, 'close', 'Connection: close answered');
    ok(wait_closed($s, 5), 'Connection: close honoured');

    my $probe = http_connect(port => 'h1');
    ok(wait_for(sub { $h->stats->{accepted} == 2 }, 5),
        'stats: a connection that sends nothing is accepted');
    close $probe;
    ok(wait_for(sub { $h->stats->{open} == 0 }, 5), 'stats: open 0');
    is_deeply([@{$h->stats}{qw(connections requests accepted)}], [1, 3, 2],
        'stats: it is not in connections');
    is_deeply([map { "$_->{conn}.$_->{n} $_->{method} $_->{target}" }
        @{$h->requests}], ['1.1 GET /a?x=1', '1.2 GET /b', '1.3 GET /c'],
        'requests log');
}

{
    my $s = http(req('/', version => '1.0'), port => 'h1', start => 1);
    my $r = one($s);
    is($r->{headers}{connection}, 'close', 'HTTP/1.0: Connection: close');
    ok(wait_closed($s, 5), 'HTTP/1.0: closed');

    $s = http(req('/', version => '1.0',
        headers => "Connection: keep-alive\r\n"), port => 'h1', start => 1);
    $r = one($s);
    is($r->{headers}{connection}, 'keep-alive',
        'HTTP/1.0 keep-alive: Connection: keep-alive');
    ok(!wait_closed($s, 0.3), 'HTTP/1.0 keep-alive: open');
}

# --- HTTP: request bodies ----------------------------------------------------

{
    my $body = "hello\nworld";
    my $r = parse_response(http(req('/p', method => 'POST',
        headers => "Content-Length: 11\r\nConnection: close\r\n",
        body => $body), port => 'h1'));
    my $e = parse_echo($r->{body});

    is($e->{framing}, 'length', 'Content-Length body: framing');
    is($e->{body_length}, 11, 'Content-Length body: length');
    is($e->{body_sha1}, sha1_hex($body), 'Content-Length body: digest');

    my $chunked = "5;ext=1\r\nhello\r\n6\r\n\nworld\r\n0\r\nX-T: t1\r\n\r\n";
    my $s = http_connect(port => 'h1');
    ok(write_slowly($s, req('/p', method => 'POST',
        headers => "Transfer-Encoding: chunked\r\n", body => $chunked)),
        'chunked body sent in 1-byte writes');
    $e = parse_echo(one($s)->{body});
    is($e->{framing}, 'chunked', 'chunked body: framing');
    is($e->{body_length}, 11, 'chunked body: decoded length');
    is($e->{body_sha1}, sha1_hex($body), 'chunked body: digest');
    is_deeply($e->{trailers}, [['X-T', 't1']], 'chunked body: trailer');

    http(req('/next'), socket => $s, start => 1);
    is(parse_echo(one($s)->{body})->{target}, '/next',
        'keep-alive after a chunked body');

    http(req('/e', method => 'PUT', headers => "Content-Length: 3\r\n"
        . "Expect: 100-continue\r\n"), socket => $s, start => 1);
    my $c = one($s);
    is($c->{status}, 100, 'Expect: 100 Continue');
    http('abc', socket => $s, start => 1);
    $e = parse_echo(one($s)->{body});
    is($e->{body_sha1}, sha1_hex('abc'), 'body after 100 Continue');

    my $raw;
    my $big = backend_body(3_000_000);
    my $cb = join('', map { sprintf("%x\r\n%s\r\n", length $_, $_) }
        unpack('(a65536)*', $big)) . "0\r\n\r\n";
    $e = parse_echo(one($s = http(req('/big', method => 'POST',
        headers => "Transfer-Encoding: chunked\r\n", body => $cb),
        port => 'h1', start => 1), timeout => 30)->{body});
    is_deeply([@$e{qw(body_length body_sha1)}], [3_000_000, sha1_hex($big)],
        'a 3 MB chunked body');

    $e = parse_echo(one($s = http(req('/big', method => 'POST',
        headers => "Content-Length: 3000000\r\n", body => $big),
        port => 'h1', start => 1), timeout => 30)->{body});
    is($e->{body_sha1}, sha1_hex($big), 'a 3 MB Content-Length body');

    $raw = http(req('/p', method => 'POST',
        headers => "Transfer-Encoding: chunked\r\n", body => "zz\r\n"),
        port => 'h1');
    like($raw, qr{^HTTP/1.1 400 }, 'malformed chunk size: 400');

    $raw = http("GARBAGE\r\n\r\n", port => 'h1');
    like($raw, qr{^HTTP/1.1 400 }, 'malformed request: 400');
}

# --- HTTP: path behaviours ---------------------------------------------------

sub get {
    my ($target, %o) = @_;
    return parse_response(http(req($target,
        headers => "Connection: close\r\n" . ($o{headers} // ''), %o),
        port => $o{port} // 'h1'));
}

{
    my $open;
    my $r = get('/status/404');
    is($r->{status}, 404, '/status/404');
    is(parse_echo($r->{body})->{target}, '/status/404', '/status: echo body');

    $r = get('/app/status/418');
    is($r->{status}, 418, 'behaviour after a path prefix');

    $r = get('/status/204');
    is($r->{status}, 204, '/status/204');
    is($r->{body}, '', '/status/204: no body');
    ok(!exists $r->{headers}{'content-length'}, '/status/204: no length');

    my $s = http(req('/status/103') . req('/status/304'), port => 'h1',
        start => 1);
    $r = one($s);
    is($r->{status}, 103, '/status/103: interim response');
    $r = one($s);
    is($r->{status}, 200, '/status/103: then 200');
    is(parse_echo($r->{body})->{target}, '/status/103',
        '/status/103: echo');
    $r = one($s);
    is($r->{status}, 304, '/status/304');
    is($r->{body}, '', '/status/304: no body');

    $r = get('/length/1000');
    is($r->{headers}{'content-length'}, 1000, '/length: Content-Length');
    is($r->{body}, backend_body(1000), '/length: body');
    is(substr(backend_body(40), 30), '456789abcd', 'backend_body pattern');

    $s = http(req('/length/100', method => 'HEAD') . req('/x'),
        port => 'h1', start => 1);
    $r = one($s, head => 1);
    is($r->{headers}{'content-length'}, 100, 'HEAD: Content-Length');
    is($r->{body}, '', 'HEAD: no body');
    is(parse_echo(one($s)->{body})->{target}, '/x', 'HEAD: keep-alive');

    $r = get('/chunked/10000');
    is($r->{headers}{'transfer-encoding'}, 'chunked', '/chunked: chunked');
    is(dechunk($r->{body}), backend_body(10000), '/chunked: content');
    like($r->{body}, qr/^1\r\na\r\n7\r\nbcdefgh\r\n64\r\n/,
        '/chunked: chunks of varied sizes');
    like($r->{body}, qr/\r\n0\r\n\r\n\z/, '/chunked: last chunk');

    $r = get('/chunked/25?chunk=10');
    is($r->{body}, "a\r\n" . backend_body(10) . "\r\na\r\n"
        . substr(backend_body(20), 10) . "\r\n5\r\n"
        . substr(backend_body(25), 20) . "\r\n0\r\n\r\n", '?chunk=10');

    $r = get('/chunked/50', version => '1.0');
    ok(!exists $r->{headers}{'transfer-encoding'},
        '/chunked to HTTP/1.0: not chunked');
    is($r->{body}, backend_body(50), '/chunked to HTTP/1.0: close-delimited');

    $s = http(req('/close/5000'), port => 'h1', start => 1);
    $r = parse_response(http_read($s));
    ok(!exists $r->{headers}{'content-length'}, '/close: no length');
    is($r->{headers}{connection}, 'close', '/close: Connection: close');
    is($r->{body}, backend_body(5000), '/close: body to the close');

    my $t0 = time();
    $r = get('/slow/300');
    ok(time() - $t0 >= 0.3, '/slow: not before the delay');
    is(parse_echo($r->{body})->{target}, '/slow/300', '/slow: the echo');

    $s = http(req('/slowbody/300'), port => 'h1', start => 1);
    $t0 = time();
    $r = one($s, head => 1);
    is($r->{status}, 200, '/slowbody: head');
    my $len = $r->{headers}{'content-length'};
    ok(Test::Kiln::_fill($s, time() + 5), '/slowbody: body comes');
    wait_for(sub { length(${*$s}{kiln_buf}) >= $len
        || !Test::Kiln::_fill($s, time() + 5) }, 5);
    ok(time() - $t0 >= 0.3, '/slowbody: body not before the delay');
    is(parse_echo(${*$s}{kiln_buf})->{target}, '/slowbody/300',
        '/slowbody: the echo');

    $s = http(req('/drop'), port => 'h1', start => 1);
    ok(wait_closed($s, 5), '/drop: closed');
    is(${*$s}{kiln_buf} // '', '', '/drop: no answer');

    $s = http(req('/reset'), port => 'h1', start => 1);
    ok(wait_closed($s, 5), '/reset: closed');
    ok(${*$s}{kiln_reset}, '/reset: by RST');

    $s = http(req('/sleep'), port => 'h1', start => 1);
    $r = get('/while-sleeping');
    is(parse_echo($r->{body})->{target}, '/while-sleeping',
        'another connection is served while one sleeps');
    ok(!wait_closed($s, 0.3), '/sleep: still open');
    is(${*$s}{kiln_buf} // '', '', '/sleep: no answer');
    $open = $h->stats->{open};
    close $s;
    ok(wait_for(sub { $h->stats->{open} < $open }, 5),
        '/sleep: closed by the backend once the client closes');

    $r = get('/headers/5');
    is(join(',', map { $r->{headers}{"x-h-$_"} } 1 .. 5), 'v1,v2,v3,v4,v5',
        '/headers/5');
    ok(!exists $r->{headers}{'x-h-6'}, '/headers/5: only five');

    $r = get('/bigheader/10000');
    is(length $r->{headers}{'x-big'}, 10000, '/bigheader: value length');

    $r = get('/redirect');
    is($r->{status}, 302, '/redirect: 302');
    is($r->{headers}{location}, 'http://127.0.0.1:' . port('h1') . '/x',
        '/redirect: Location');
    $r = get('/redirect/a/b');
    is($r->{headers}{location}, 'http://127.0.0.1:' . port('h1') . '/a/b',
        '/redirect/REST: Location');

    $r = get('/upgrade');
    is($r->{status}, 426, '/upgrade without Upgrade: 426');

    $s = http(req('/short/1000'), port => 'h1', start => 1);
    $r = parse_response(http_read($s));
    is($r->{headers}{'content-length'}, 1000, '/short: Content-Length');
    is($r->{body}, backend_body(500), '/short: half the body, then close');

    is(http(req('/invalid'), port => 'h1'), "NOT HTTP AT ALL\r\n\r\n",
        '/invalid: no status line, close');

    $r = http(req('/badheader', headers => "Connection: close\r\n"),
        port => 'h1');
    like($r, qr{^HTTP/1.1 200 OK\r\n.*\r\nThis Is Not A Header\r\n}s,
        '/badheader: a header line without a colon');

    my $reqs = $h->stats->{requests};
    $s = http(req('/stall', method => 'POST',
        headers => "Content-Length: 100000000\r\n"), port => 'h1',
        start => 1);
    ok($h->wait_requests($reqs + 1, 5), '/stall: head read');
    $s->blocking(0);
    my $sent = 0;
    for (1 .. 10000) {
        my $n = syswrite($s, 'x' x 65536);
        last unless $n;
        $sent += $n;
    }
    ok($sent < 100000000, '/stall: the body is not read');
    ok(!wait_closed($s, 0.3), '/stall: no answer, still open');

    # A FIN would wait behind the unread body: abort with an RST.
    $open = $h->stats->{open};
    setsockopt($s, Socket::SOL_SOCKET(), Socket::SO_LINGER(),
        pack('ii', 1, 0));
    close $s;
    ok(wait_for(sub { $h->stats->{open} < $open }, 5),
        '/stall: a reset connection is closed');

    $r = get('/x?header=X-Foo:%20bar%20baz&header=X-Foo:2');
    is($r->{headers}{'x-foo'}, 'bar baz, 2', '?header= adds headers');
}

# --- HTTP: options -----------------------------------------------------------

{
    my $s = http(req('/a') . req('/b') . req('/c'), port => 'h2', start => 1);
    my $r1 = one($s);
    my $r2 = one($s);
    is($r1->{status}, 503, 'force: 503');
    is(parse_echo($r1->{body})->{target}, '/a', 'force: echo shows target');
    ok(!exists $r1->{headers}{connection}, 'keepalive_requests: first kept');
    is($r2->{headers}{connection}, 'close',
        'keepalive_requests 2: second has Connection: close');
    ok(wait_closed($s, 5), 'keepalive_requests 2: closed after the second');
    is(${*$s}{kiln_buf}, '', 'keepalive_requests: third not answered');

    $s = http(req('/a'), port => 'h3', start => 1);
    is(one($s)->{status}, 200, 'keepalive_timeout: answered');
    ok(wait_closed($s, 5), 'keepalive_timeout: idle connection closed');

    # A backend started while a client socket is open must not hold a copy
    # of it: the peer sees the close.
    ok(wait_for(sub { $h->stats->{open} == 0 }, 5), 'h1 idle');
    my $accepted = $h->stats->{accepted};
    my $c = http_connect(port => 'h1');
    wait_for(sub { $h->stats->{accepted} > $accepted }, 5);
    my $late = Test::Kiln::Backend->http(port => 'h4');
    close $c;
    ok(wait_for(sub { $h->stats->{open} == 0 }, 5),
        'a socket open when a backend forks closes for its peer');

    my $before = $h->stats;
    ok($h->kill, 'kill');
    ok(!IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => port('h1')),
        'killed: connection refused');
    $h->start;
    my $r = get('/after');
    is($r->{status}, 200, 'restarted: answers');
    is($h->stats->{connections}, $before->{connections} + 1,
        'restarted: connection counter goes on');
    ok($h->wait_requests($before->{requests} + 1, 1), 'wait_requests');
}

# --- WebSocket ---------------------------------------------------------------

{
    my $s = http_connect(port => 'h1');
    my $r = ws_handshake($s, path => '/ws');
    is($r->{status}, 101, 'WebSocket: 101');
    ok($r->{accept_ok}, 'WebSocket: Sec-WebSocket-Accept');
    is($r->{headers}{'x-backend'}, 'one', 'WebSocket: X-Backend');
    is(ws_accept('dGhlIHNhbXBsZSBub25jZQ=='), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=',
        'ws_accept: the RFC 6455 example');

    http(ws_frame('text', 'hello'), socket => $s, start => 1);
    my $fr = ws_read_frame($s, 5);
    is_deeply([@$fr{qw(fin opcode masked payload)}], [1, 1, 0, 'hello'],
        'text echoed, unmasked');

    for my $n (200, 70000) {
        my $data = join('', map { chr($_ % 256) } 1 .. $n);
        http(ws_frame('binary', $data), socket => $s, start => 1);
        $fr = ws_read_frame($s, 5);
        ok($fr->{opcode} == 2 && $fr->{payload} eq $data,
            "binary $n bytes echoed");
    }

    http(ws_frame('text', 'frag', fin => 0) . ws_frame('cont', 'ment'),
        socket => $s, start => 1);
    my $a = ws_read_frame($s, 5);
    my $b = ws_read_frame($s, 5);
    is_deeply([@$a{qw(fin opcode payload)}, @$b{qw(fin opcode payload)}],
        [0, 1, 'frag', 1, 0, 'ment'], 'fragments echoed frame by frame');

    ok(write_slowly($s, ws_frame('ping', 'pp')), 'ping in 1-byte writes');
    $fr = ws_read_frame($s, 5);
    is_deeply([@$fr{qw(opcode payload)}], [10, 'pp'], 'ping -> pong');

    http(ws_frame('close', pack('n', 1000) . 'bye'), socket => $s, start => 1);
    $fr = ws_read_frame($s, 5);
    is_deeply([@$fr{qw(opcode payload)}], [8, pack('n', 1000) . 'bye'],
        'close -> close');
    ok(wait_closed($s, 5), 'closed after the close frame');

    $s = http_connect(port => 'h1');
    ws_handshake($s);
    http(ws_frame('text', 'x', mask => 0), socket => $s, start => 1);
    $fr = ws_read_frame($s, 5);
    is_deeply([@$fr{qw(opcode payload)}], [8, pack('n', 1002)],
        'unmasked client frame: close 1002');

    my @p = ws_parse_frame(substr(ws_frame('text', 'abc'), 0, 5));
    is(scalar @p, 0, 'ws_parse_frame: incomplete');
    my ($pf, $used) = ws_parse_frame(ws_frame('text', 'abc',
        key => "\1\2\3\4") . 'rest');
    is_deeply([$pf->{payload}, $pf->{masked}, $used], ['abc', 1, 9],
        'ws_parse_frame: masked frame, bytes used');
}

# --- FastCGI -----------------------------------------------------------------

my @params = (SCRIPT_NAME => '/index.php', REQUEST_METHOD => 'POST',
    REQUEST_URI => '/index.php?a=1', CONTENT_LENGTH => 5,
    LONG => 'v' x 300);

sub fconnect {
    return IO::Socket::INET->new(PeerAddr => '127.0.0.1',
        PeerPort => port('f1'), Proto => 'tcp', Timeout => 5);
}

{
    my $s = fconnect();
    http(fcgi_request(1, \@params, 'hello'), socket => $s, start => 1);
    my $r = fcgi_read_response($s, 1, 5);
    my $e = parse_echo($r->{body});

    is($r->{status}, 200, 'FastCGI: Status 200');
    is($r->{head}{'content-type'}, 'text/plain', 'FastCGI: Content-Type');
    is($r->{head}{'x-backend'}, 'fc', 'FastCGI: X-Backend');
    is_deeply([@$r{qw(app_status protocol_status)}], [0, 0],
        'FastCGI: END_REQUEST complete');
    is_deeply([map { $_->[0] } @{$e->{params}}],
        [sort qw(SCRIPT_NAME REQUEST_METHOD REQUEST_URI CONTENT_LENGTH LONG)],
        'FastCGI: params sorted');
    is($e->{param}{LONG}, 'v' x 300, 'FastCGI: a long value (4-byte length)');
    is($e->{stdin_length}, 5, 'FastCGI: stdin length');
    is($e->{stdin_sha1}, sha1_hex('hello'), 'FastCGI: stdin digest');
    ok(wait_closed($s, 5), 'FastCGI: closed without FCGI_KEEP_CONN');

    $s = fconnect();
    ok(write_slowly($s, fcgi_request(7, \@params, 'x' x 70000, keep => 1)),
        'FastCGI: request in 1-byte writes');
    $r = fcgi_read_response($s, 7, 10);
    $e = parse_echo($r->{body});
    is($e->{stdin_sha1}, sha1_hex('x' x 70000),
        'FastCGI 1-byte writes: stdin over two records');
    is($e->{param}{REQUEST_URI}, '/index.php?a=1',
        'FastCGI 1-byte writes: params');
    ok(!wait_closed($s, 0.3), 'FCGI_KEEP_CONN: open');

    http(fcgi_request(8, [SCRIPT_NAME => '/fcgi/status/404'], '',
        keep => 1), socket => $s, start => 1);
    $r = fcgi_read_response($s, 8, 5);
    is($r->{status}, 404, '/fcgi/status/404 by SCRIPT_NAME');
    is($r->{head}{'x-backend-conn'}, parse_echo($r->{body})->{conn},
        'FCGI_KEEP_CONN: same connection');
    is(parse_echo($r->{body})->{request}, 2, 'FCGI_KEEP_CONN: second request');

    http(fcgi_request(9, [REQUEST_URI => '/fcgi/stderr'], '', keep => 1),
        socket => $s, start => 1);
    $r = fcgi_read_response($s, 9, 5);
    is($r->{stderr}, 'backend stderr: fc', '/fcgi/stderr: STDERR record');
    is($r->{status}, 200, '/fcgi/stderr: and a response');

    http(fcgi_request(10, [REQUEST_URI => '/fcgi/big/100000'], '',
        keep => 1), socket => $s, start => 1);
    $r = fcgi_read_response($s, 10, 5);
    is($r->{body}, backend_body(100000), '/fcgi/big: body');
    my @out = grep { $_->{type} == 6 } @{$r->{records}};
    ok(@out > 20, '/fcgi/big: many STDOUT records');
    ok((grep { $_->{padding} } @out), '/fcgi/big: padded records');

    my $t0 = time();
    http(fcgi_request(11, [REQUEST_URI => '/fcgi/slow/300'], '', keep => 1),
        socket => $s, start => 1);
    $r = fcgi_read_response($s, 11, 5);
    ok(time() - $t0 >= 0.3, '/fcgi/slow: not before the delay');
    is($r->{status}, 200, '/fcgi/slow: answered');

    # Management records, roles, multiplexing, abort.
    http(fcgi_record('get_values', 0, fcgi_params_encode(FCGI_MPXS_CONNS => '',
        FCGI_MAX_CONNS => '', X => '')), socket => $s, start => 1);
    Test::Kiln::_fill($s, time() + 5)
        until fcgi_parse_record(${*$s}{kiln_buf});
    my ($rec, $used) = fcgi_parse_record(${*$s}{kiln_buf});
    substr(${*$s}{kiln_buf}, 0, $used, '');
    is($rec->{type}, 10, 'GET_VALUES_RESULT');
    is_deeply([fcgi_params_decode($rec->{content})],
        [FCGI_MPXS_CONNS => 0, FCGI_MAX_CONNS => 100], 'GET_VALUES values');

    http(fcgi_record(99, 0, ''), socket => $s, start => 1);
    Test::Kiln::_fill($s, time() + 5)
        until fcgi_parse_record(${*$s}{kiln_buf});
    ($rec, $used) = fcgi_parse_record(${*$s}{kiln_buf});
    substr(${*$s}{kiln_buf}, 0, $used, '');
    is_deeply([$rec->{type}, ord $rec->{content}], [11, 99], 'UNKNOWN_TYPE');

    http(fcgi_begin(12, 1, 1) . fcgi_begin(13, 1, 1), socket => $s,
        start => 1);
    $r = fcgi_read_response($s, 13, 5);
    is($r->{protocol_status}, 1, 'second BEGIN_REQUEST: CANT_MPX_CONN');
    http(fcgi_record('abort', 12), socket => $s, start => 1);
    $r = fcgi_read_response($s, 12, 5);
    is_deeply([$r->{protocol_status}, $r->{stdout}], [0, ''],
        'ABORT_REQUEST: END_REQUEST');

    http(fcgi_begin(14, 2, 1), socket => $s, start => 1);
    $r = fcgi_read_response($s, 14, 5);
    is($r->{protocol_status}, 3, 'role AUTHORIZER: UNKNOWN_ROLE');

    http(fcgi_request(15, \@params, '', keep => 0), socket => $s, start => 1);
    $r = fcgi_read_response($s, 15, 5);
    is(parse_echo($r->{body})->{request}, 6, 'still the same connection');
    ok(wait_closed($s, 5), 'closed after a request without KEEP_CONN');

    ok(wait_for(sub { $f->stats->{open} == 0 }, 5), 'FastCGI stats: open 0');
    is_deeply([@{$f->stats}{qw(connections requests)}], [2, 7],
        'FastCGI stats: 2 connections, 7 requests');
    is($f->requests->[0]{uri}, '/index.php?a=1', 'FastCGI requests log');

    $s = IO::Socket::UNIX->new(Peer => "$dir/fcgi.sock", Timeout => 5);
    ok($s, 'FastCGI over a unix socket: connect');
    http(fcgi_request(1, \@params, 'abc'), socket => $s, start => 1);
    $r = fcgi_read_response($s, 1, 5);
    is(parse_echo($r->{body})->{stdin_sha1}, sha1_hex('abc'),
        'FastCGI over a unix socket: answered');
    ok(wait_closed($s, 5), 'FastCGI over a unix socket: closed');
    is($fu->stats->{requests}, 1, 'unix backend counters');
}

$t->done;
done_testing();
