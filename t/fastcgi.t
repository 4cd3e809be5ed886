#!/usr/bin/perl
# fastcgi.t: fastcgi_pass to the Backend FastCGI responder over TCP and a
# unix socket: params (fastcgi_params, SCRIPT_FILENAME, if_not_empty,
# HTTP_* fields, inheritance), fastcgi_index, fastcgi_split_path_info,
# request bodies (length and chunked), big responses in many records
# (buffered and not), Status:, STDERR logged, keep_conn reuse, a dead
# responder (502) and a read timeout (504) with their log lines;
# fastcgi_request_buffering off (STDIN records as the body comes).

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Digest::SHA qw(sha1_hex);
use Test::More;
use Test::Kiln;
use Test::Kiln::Backend;

my $t = Test::Kiln->new->has('fastcgi', 'rewrite');
my $dir = $t->testdir;

my $f = Test::Kiln::Backend->fastcgi(port => 'f1', name => 'fc');
my $fk = Test::Kiln::Backend->fastcgi(port => 'f2', name => 'keep');
my $fu = Test::Kiln::Backend->fastcgi(unix => "$dir/f.sock", name => 'fu');
my $fs = Test::Kiln::Backend->fastcgi(port => 'f3', name => 'slow',
    force => '/fcgi/slow/3000');
my $fr = Test::Kiln::Backend->fastcgi(port => 'f4', name => 'rec',
    record => 1);

# nginx's file, as shipped in conf/.
open(my $fh, '<', "$Bin/../conf/fastcgi_params") or die "fastcgi_params: $!\n";
$t->write_file('fastcgi_params', do { local $/; <$fh> });
close $fh;

my $conf = <<'EOF';
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes 1;

events {
    worker_connections 64;
}

http {
    upstream kfc {
        server 127.0.0.1:%%PORT_f2%%;
        keepalive 4;
    }

    upstream retry {
        server 127.0.0.1:%%PORT_f3%%;
        server 127.0.0.1:%%PORT_f1%%;
    }

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;
        root %%TESTDIR%%/html;

        fastcgi_param X_SRV srv;

        location / {
            include fastcgi_params;
            fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
            fastcgi_param X_EMPTY $arg_e if_not_empty;
            fastcgi_param X_KEPT $arg_e;
            fastcgi_param HTTP_X_OVER set;
            fastcgi_index index.php;
            fastcgi_pass 127.0.0.1:%%PORT_f1%%;
        }

        location /inherit/ {
            fastcgi_pass 127.0.0.1:%%PORT_f1%%;
        }

        location /unix/ {
            fastcgi_param SCRIPT_NAME $fastcgi_script_name;
            fastcgi_pass unix:%%TESTDIR%%/f.sock;
        }

        location ~ ^/split/ {
            fastcgi_split_path_info ^(/split/.+?\.php)(/.*)$;
            fastcgi_param SCRIPT_NAME $fastcgi_script_name;
            fastcgi_param PATH_INFO $fastcgi_path_info;
            fastcgi_pass 127.0.0.1:%%PORT_f1%%;
        }

        location /keep/ {
            fastcgi_keep_conn on;
            fastcgi_param SCRIPT_NAME $fastcgi_script_name;
            fastcgi_pass kfc;
        }

        location /unbuf/ {
            fastcgi_buffering off;
            fastcgi_param REQUEST_URI $request_uri;
            fastcgi_pass 127.0.0.1:%%PORT_f1%%;
        }

        location /bigparam/ {
            set $b %%BIG%%;
            fastcgi_param BIG $b$b$b$b$b$b$b$b$b$b;
            fastcgi_pass 127.0.0.1:%%PORT_f1%%;
        }

        location /nohdr/ {
            fastcgi_pass_request_headers off;
            fastcgi_pass_request_body off;
            fastcgi_param X_A a;
            fastcgi_pass 127.0.0.1:%%PORT_f1%%;
        }

        location /hide/ {
            fastcgi_hide_header X-Backend-Conn;
            fastcgi_param SCRIPT_NAME /fcgi/status/404;
            fastcgi_pass 127.0.0.1:%%PORT_f1%%;
        }

        location /dead/ {
            fastcgi_pass 127.0.0.1:%%PORT_dead%%;
        }

        location /retry/ {
            fastcgi_read_timeout 300ms;
            fastcgi_param SCRIPT_NAME $fastcgi_script_name;
            fastcgi_pass retry;
        }

        location /icpt/ {
            fastcgi_intercept_errors on;
            error_page 404 /page404;
            fastcgi_param SCRIPT_NAME /fcgi/status/404;
            fastcgi_pass 127.0.0.1:%%PORT_f1%%;
        }

        location = /page404 {
            return 404 "our page\n";
        }

        location /stream/ {
            include fastcgi_params;
            fastcgi_request_buffering off;
            client_body_buffer_size 1k;
            fastcgi_pass 127.0.0.1:%%PORT_f4%%;
        }

        location /stream64/ {
            include fastcgi_params;
            fastcgi_request_buffering off;
            client_body_buffer_size 64k;
            fastcgi_pass 127.0.0.1:%%PORT_f4%%;
        }

        location /slow/ {
            fastcgi_read_timeout 300ms;
            fastcgi_param SCRIPT_NAME /fcgi/slow/3000;
            fastcgi_pass 127.0.0.1:%%PORT_f1%%;
        }
    }
}
EOF

# A param longer than a record (32 KiB in kiln): the stream spans two.
# nginx reads at most 4 KiB a token: ten of them make it.
my $big = join('', map { chr(97 + $_ % 26) } 1 .. 4000);
$conf =~ s/%%BIG%%/$big/;
$big x= 10;
$t->write_file_expand('kiln.conf', $conf);

$t->plan(66);
$t->run(wait_ports => [8080]);

my ($r, $e, $s);

# --- params ------------------------------------------------------------

$r = parse_response(http("GET /a/b.php?x=1&y=2 HTTP/1.0\r\nHost: localhost\r\n"
    . "X-Foo: bar\r\nX-Over: client\r\nUser-Agent: ua/1\r\n\r\n"));
$e = parse_echo($r->{body});
is($r->{status}, 200, 'GET: 200');
is($e->{backend}, 'fc', 'TCP responder');
is($e->{param}{SCRIPT_FILENAME}, "$dir/html/a/b.php",
    'SCRIPT_FILENAME: $document_root$fastcgi_script_name');
is($e->{param}{SCRIPT_NAME}, '/a/b.php', 'SCRIPT_NAME');
is($e->{param}{QUERY_STRING}, 'x=1&y=2', 'QUERY_STRING');
is($e->{param}{REQUEST_METHOD}, 'GET', 'REQUEST_METHOD');
is($e->{param}{REQUEST_URI}, '/a/b.php?x=1&y=2', 'REQUEST_URI');
is($e->{param}{GATEWAY_INTERFACE}, 'CGI/1.1', 'a literal param');
is($e->{param}{SERVER_PORT}, port(8080), 'SERVER_PORT');
is($e->{param}{HTTP_X_FOO}, 'bar', 'a request field as HTTP_*');
is($e->{param}{HTTP_USER_AGENT}, 'ua/1', 'User-Agent as HTTP_USER_AGENT');
is($e->{param}{HTTP_HOST}, 'localhost', 'Host as HTTP_HOST');
is(scalar(grep { $_->[0] eq 'HTTP_X_OVER' } @{$e->{params}}), 1,
    'a param HTTP_X_OVER replaces the field');
is($e->{param}{HTTP_X_OVER}, 'set', 'the param\'s value');
ok(!exists $e->{param}{X_EMPTY}, 'if_not_empty: empty, not sent');
is($e->{param}{X_KEPT}, '', 'without if_not_empty: sent empty');
ok(!exists $e->{param}{X_SRV}, 'params of its own: none inherited');
is($e->{param}{CONTENT_LENGTH}, '', 'CONTENT_LENGTH empty without a body');

$e = parse_echo(parse_response(http_get('/a?e=1'))->{body});
is($e->{param}{X_EMPTY}, '1', 'if_not_empty: sent when not empty');

$e = parse_echo(parse_response(http_get('/inherit/x'))->{body});
is($e->{param}{X_SRV}, 'srv', 'no params of its own: the server\'s');

$e = parse_echo(parse_response(http_get('/dir/'))->{body});
is($e->{param}{SCRIPT_FILENAME}, "$dir/html/dir/index.php",
    'fastcgi_index after a /');

$e = parse_echo(parse_response(http_get('/split/a.php/b/c'))->{body});
is($e->{param}{SCRIPT_NAME}, '/split/a.php', 'split_path_info: script');
is($e->{param}{PATH_INFO}, '/b/c', 'split_path_info: path info');

$e = parse_echo(parse_response(http_get('/split/none'))->{body});
is($e->{param}{SCRIPT_NAME}, '/split/none', 'no match: the URI');

$e = parse_echo(parse_response(http("POST /nohdr/ HTTP/1.0\r\n"
    . "Host: localhost\r\nX-Foo: bar\r\nContent-Length: 3\r\n\r\nabc"))->{body});
is_deeply([map { $_->[0] } @{$e->{params}}], ['X_A'],
    'pass_request_headers off: the params alone');
is($e->{stdin_length}, 0, 'pass_request_body off: no stdin');

$e = parse_echo(parse_response(http("GET /bigparam/ HTTP/1.0\r\n"
    . "Host: localhost\r\nX-Long: " . ('v' x 300) . "\r\n\r\n"))->{body});
is(length $e->{param}{BIG}, 40000, 'a param over two PARAMS records: length');
ok($e->{param}{BIG} eq $big, 'a param over two PARAMS records: bytes');
is($e->{param}{HTTP_X_LONG}, 'v' x 300, 'a long field (4-byte length)');

$r = parse_response(http_get('/unix/u'));
$e = parse_echo($r->{body});
is($e->{backend}, 'fu', 'unix socket responder');
is($e->{param}{SCRIPT_NAME}, '/unix/u', 'unix: params');

# --- bodies --------------------------------------------------------------

my $body = join('', map { chr(($_ * 7) % 256) } 1 .. 100000);
$r = parse_response(http("POST /p HTTP/1.0\r\nHost: localhost\r\n"
    . "Content-Length: " . length($body) . "\r\n\r\n$body"));
$e = parse_echo($r->{body});
is($e->{param}{CONTENT_LENGTH}, length $body, 'CL body: CONTENT_LENGTH');
is($e->{stdin_length}, length $body, 'CL body: stdin length');
is($e->{stdin_sha1}, sha1_hex($body), 'CL body: stdin digest');

$r = parse_response(http("POST /p HTTP/1.1\r\nHost: localhost\r\n"
    . "Connection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
    . "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"));
$e = parse_echo($r->{body});
is($e->{stdin_length}, 11, 'chunked body: stdin length');
is($e->{stdin_sha1}, sha1_hex('hello world'), 'chunked body: stdin digest');

$r = parse_response(http_get('/fcgi/big/300000'));
is(length $r->{body}, 300000, 'big response: length');
ok($r->{body} eq backend_body(300000), 'big response: bytes');

$r = parse_response(http_get('/unbuf/fcgi/big/100000'));
ok($r->{body} eq backend_body(100000), 'fastcgi_buffering off: bytes');

# --- the head --------------------------------------------------------------

$r = parse_response(http_get('/fcgi/status/404'));
is($r->{status}, 404, 'Status: 404');
ok(!exists $r->{headers}{status}, 'Status not passed on');

$r = parse_response(http_get('/hide/x'));
ok(!exists $r->{headers}{'x-backend-conn'}, 'fastcgi_hide_header');

http_get('/fcgi/stderr');
ok(wait_for(sub {
        $t->read_file('error.log') =~ /FastCGI sent in stderr: "backend stderr: fc" while reading response header from upstream/
    }, 5), 'STDERR logged as nginx');

# --- keep_conn ---------------------------------------------------------------

for my $i (1 .. 3) {
    $r = parse_response(http_get("/keep/$i"));
}
is($r->{headers}{'x-backend-request'}, 3, 'keep_conn: the third request');
is($fk->stats->{connections}, 1, 'keep_conn: one connection');

# --- failures --------------------------------------------------------------

$r = parse_response(http_get('/dead/'));
is($r->{status}, 502, 'dead responder: 502');
like($t->read_file('error.log'),
    qr/connect\(\) failed \(111: Connection refused\) while connecting to upstream, .*upstream: "fastcgi:\/\/127\.0\.0\.1:\d+"/,
    'dead responder: the log line');

$r = parse_response(http_get('/slow/'));
is($r->{status}, 504, 'read timeout: 504');
like($t->read_file('error.log'),
    qr/upstream timed out \(110: Connection timed out\) while reading response header from upstream/,
    'read timeout: the log line');

# A retry after the request went out: the records are built again, the
# body (in a temporary file) included.
$r = parse_response(http("GET /retry/x HTTP/1.0\r\nHost: localhost\r\n"
    . "Content-Length: " . length($body) . "\r\n\r\n$body"));
$e = parse_echo($r->{body});
is($r->{status}, 200, 'retry: 200');
is($e->{backend}, 'fc', 'retry: the second responder');
is($e->{stdin_sha1}, sha1_hex($body), 'retry: the body again, whole');
is($fs->stats->{requests}, 1, 'retry: the first responder had it whole');

$r = parse_response(http_get('/icpt/'));
is($r->{status}, 404, 'intercept_errors: the status');
is($r->{body}, "our page\n", 'intercept_errors: our error_page');

# --- fastcgi_request_buffering off ----------------------------------------------

# STDIN records as the body comes: the first part before the client sent
# the rest, one record of 10 bytes and its padding.
$s = http("POST /stream/a HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
    . "Content-Length: 20\r\n\r\n0123456789", start => 1);
ok(wait_for(sub { $fr->received(1) =~ /\x01\x05\x00\x01\x00\x0a\x06\x00
        0123456789\x00{6}\z/x }, 5),
    'unbuffered: a STDIN record before the rest of the body came');
print $s 'abcdefghij';
$e = parse_echo(parse_response(http_read($s))->{body});
is($e->{stdin_sha1}, sha1_hex('0123456789abcdefghij'), 'unbuffered: stdin');
is($e->{param}{CONTENT_LENGTH}, 20, 'unbuffered: CONTENT_LENGTH');
like($fr->received(1), qr/\x01\x05\x00\x01\x00\x00\x00\x00\z/,
    'unbuffered: the empty STDIN record last');

# Chunked and still coming: the length is not known when the params go
# (nginx: empty); all there with the head: known.
$s = http("POST /stream/c HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
    . "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", start => 1);
ok(wait_for(sub { $fr->received(2) =~ /hello\x00{3}\z/ }, 5),
    'unbuffered chunked: the first chunk went on');
print $s "6\r\n world\r\n0\r\n\r\n";
$e = parse_echo(parse_response(http_read($s))->{body});
is($e->{stdin_sha1}, sha1_hex('hello world'), 'unbuffered chunked: stdin');
is($e->{param}{CONTENT_LENGTH}, '', 'unbuffered chunked: CONTENT_LENGTH empty');

$r = parse_response(http("POST /stream/c HTTP/1.1\r\nHost: localhost\r\n"
    . "Connection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
    . "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"));
is(parse_echo($r->{body})->{param}{CONTENT_LENGTH}, 11,
    'unbuffered chunked, all with the head: CONTENT_LENGTH 11');

# No body: the empty STDIN record alone.
$e = parse_echo(parse_response(http_get('/stream/g'))->{body});
is($e->{stdin_length}, 0, 'unbuffered, no body: an empty stdin');

# Pieces larger than a record (32 KiB) go as several.
$r = parse_response(http("POST /stream64/b HTTP/1.0\r\nHost: localhost\r\n"
    . "Content-Length: " . length($body) . "\r\n\r\n$body"));
$e = parse_echo($r->{body});
is($e->{stdin_length}, length $body, 'unbuffered, 64k pieces: stdin length');
is($e->{stdin_sha1}, sha1_hex($body), 'unbuffered, 64k pieces: stdin digest');
