#!/usr/bin/perl
# proxy.t: proxy_pass to one HTTP backend: the request line (URI rules with
# and without a URI part) and fields sent, request bodies (length and
# chunked), response bodies (length, chunked, close-delimited) reframed for
# the client, HEAD, hidden fields, $upstream_* variables, 502/504 with their
# log lines, too big a header, proxy_intercept_errors with error_page.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Digest::SHA qw(sha1_hex);
use IO::Socket::INET;
use POSIX ();
use Test::More;
use Test::Kiln;
use Test::Kiln::Backend;

my $t = Test::Kiln->new->has('proxy');

my $b = Test::Kiln::Backend->http(port => 'b1', name => 'one');

# A peer that sends interim answers before the final one: Backend.pm
# answers only once, so this one is written here.
my $interim = IO::Socket::INET->new(LocalAddr => '127.0.0.1:' . port('im'),
    Listen => 5, ReuseAddr => 1) or die "interim: $!\n";
my $interim_pid = fork() // die "fork: $!\n";

if ($interim_pid == 0) {
    while (my $c = $interim->accept) {
        my $req = '';
        while ($req !~ /\r\n\r\n/) {
            sysread($c, $req, 4096, length $req) or last;
        }
        print $c "HTTP/1.1 100 Continue\r\n\r\n"
            . "HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n"
            . "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX-Final: 1\r\n\r\nok\n";
        close $c;
    }
    POSIX::_exit(0);
}

close $interim;
END { kill 'KILL', $interim_pid if $interim_pid; }

$t->write_file_expand('kiln.conf', <<'EOF');
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes 1;

events {
    worker_connections 64;
}

http {
    log_format up '$uri $upstream_addr $upstream_status';
    access_log %%TESTDIR%%/access.log up;

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;

        location / {
            proxy_pass http://127.0.0.1:%%PORT_b1%%;
        }

        location /u/ {
            proxy_pass http://127.0.0.1:%%PORT_b1%%/x/;
        }

        location /strip/ {
            proxy_pass http://127.0.0.1:%%PORT_b1%%/;
        }

        location /v11/ {
            proxy_http_version 1.1;
            proxy_pass http://127.0.0.1:%%PORT_b1%%;
        }

        location /set/ {
            proxy_set_header Host "h.example";
            proxy_set_header X-Real $remote_addr;
            proxy_set_header X-Fwd $proxy_add_x_forwarded_for;
            proxy_set_header X-Drop "";
            proxy_set_header Connection "";
            proxy_pass http://127.0.0.1:%%PORT_b1%%;
        }

        location /noheaders/ {
            proxy_pass_request_headers off;
            proxy_pass http://127.0.0.1:%%PORT_b1%%;
        }

        location /r1/ {
            proxy_pass http://127.0.0.1:%%PORT_b1%%/r2/;
        }

        location /roff/ {
            proxy_redirect off;
            proxy_pass http://127.0.0.1:%%PORT_b1%%;
        }

        location /rcustom/ {
            proxy_pass http://127.0.0.1:%%PORT_b1%%;
            proxy_redirect http://127.0.0.1:%%PORT_b1%%/x http://$host/new;
            proxy_redirect default;
        }

        location /method/ {
            proxy_method $arg_m;
            proxy_pass http://127.0.0.1:%%PORT_b1%%;
        }

        location /passh/ {
            proxy_pass_header X-Accel-Expires;
            proxy_pass http://127.0.0.1:%%PORT_b1%%;
        }

        location /rw/ {
            rewrite ^/rw/(.*)$ /z/$1 break;
            proxy_pass http://127.0.0.1:%%PORT_b1%%;
        }

        location ~ ^/re(gex)?/ {
            proxy_pass http://127.0.0.1:%%PORT_b1%%;
        }

        location /iff/ {
            if ($arg_p) {
                proxy_pass http://127.0.0.1:%%PORT_b1%%;
            }
            return 200 "no proxy\n";
        }

        location /interim/ {
            proxy_pass http://127.0.0.1:%%PORT_im%%;
        }

        location /passsd/ {
            proxy_pass_header Server;
            proxy_pass_header Date;
            proxy_pass http://127.0.0.1:%%PORT_b1%%;
        }

        location /hide/ {
            proxy_hide_header X-Secret;
            proxy_pass http://127.0.0.1:%%PORT_b1%%;
        }

        location /nobody/ {
            proxy_pass_request_body off;
            proxy_pass http://127.0.0.1:%%PORT_b1%%;
        }

        location /dead/ {
            proxy_pass http://127.0.0.1:%%PORT_dead%%;
        }

        location /slow/ {
            proxy_read_timeout 300ms;
            proxy_pass http://127.0.0.1:%%PORT_b1%%;
        }

        location /small/ {
            proxy_buffer_size 1k;
            proxy_pass http://127.0.0.1:%%PORT_b1%%;
        }

        location /icpt/ {
            proxy_intercept_errors on;
            error_page 404 /page404;
            proxy_pass http://127.0.0.1:%%PORT_b1%%;
        }

        location = /page404 {
            return 404 "our page\n";
        }
    }
}
EOF

$t->plan(89);
$t->run(wait_ports => [8080]);

my ($r, $e);

# --- the request sent ---------------------------------------------------

$r = parse_response(http("GET /a/b?x=1 HTTP/1.0\r\nHost: localhost\r\n"
    . "X-Foo: bar\r\nConnection: keep-alive\r\nKeep-Alive: 5\r\n"
    . "TE: trailers\r\n\r\n", one => 1));
$e = parse_echo($r->{body});
is($r->{status}, 200, 'GET: 200');
is($e->{method}, 'GET', 'GET: method');
is($e->{target}, '/a/b?x=1', 'no URI part: the target as the client sent it');
is($e->{version}, 'HTTP/1.0', 'proxy_http_version 1.0 by default');
is($e->{header}{host}, '127.0.0.1:' . port('b1'), 'Host: $proxy_host');
is($e->{header}{connection}, 'close', 'Connection: close');
is($e->{header}{'x-foo'}, 'bar', 'client fields passed');
ok(!exists $e->{header}{'keep-alive'}, 'Keep-Alive not passed');
ok(!exists $e->{header}{te}, 'TE not passed');
is($r->{headers}{'x-backend'}, 'one', 'response fields passed');

$e = parse_echo(parse_response(http_get('/a/%7e%20b/../c'))->{body});
is($e->{target}, '/a/%7e%20b/../c', 'no URI part: unparsed target as sent');

$e = parse_echo(parse_response(http_get('/u/d%20e?q=1'))->{body});
is($e->{target}, '/x/d%20e?q=1', 'URI part: the prefix replaced, escaped');

$e = parse_echo(parse_response(http_get('/strip/abc'))->{body});
is($e->{target}, '/abc', 'URI part "/": the prefix removed');

$e = parse_echo(parse_response(http_get('/rw/a%20b?q=1'))->{body});
is($e->{target}, '/z/a%20b?q=1', 'after a rewrite: the new URI, escaped');

$e = parse_echo(parse_response(http_get('/regex/x?y=1'))->{body});
is($e->{target}, '/regex/x?y=1', 'regex location: the target as sent');

$r = parse_response(http_get('/iff/x?p=1'));
is($r->{body}, "no proxy\n", 'proxy_pass in if: return comes first, as nginx');

$e = parse_echo(parse_response(http_get('/v11/z'))->{body});
is($e->{version}, 'HTTP/1.1', 'proxy_http_version 1.1');

$e = parse_echo(parse_response(http("GET /set/ HTTP/1.0\r\nHost: localhost\r\n"
    . "X-Drop: 1\r\nX-Forwarded-For: 10.0.0.1\r\nX-Keep: 2\r\n\r\n"))->{body});
is($e->{header}{host}, 'h.example', 'proxy_set_header Host');
is($e->{header}{'x-real'}, '127.0.0.1', 'proxy_set_header with a variable');
is($e->{header}{'x-fwd'}, '10.0.0.1, 127.0.0.1',
    '$proxy_add_x_forwarded_for');
ok(!exists $e->{header}{'x-drop'}, 'an empty value removes the field');
ok(!exists $e->{header}{connection}, 'Connection "" sends none');
is($e->{header}{'x-keep'}, 2, 'other client fields still passed');
is(join(',', map { $_->[0] } @{$e->{headers}}),
    'Host,X-Real,X-Fwd,X-Forwarded-For,X-Keep', 'the order of the fields');

$e = parse_echo(parse_response(http("GET /noheaders/ HTTP/1.0\r\n"
    . "Host: localhost\r\nX-A: 1\r\n\r\n"))->{body});
is(join(',', map { $_->[0] } @{$e->{headers}}), 'Host,Connection',
    'proxy_pass_request_headers off');

# --- request bodies -----------------------------------------------------

my $body = 'x' x 5000;
$r = parse_response(http("POST /post HTTP/1.0\r\nHost: localhost\r\n"
    . "Content-Length: 5000\r\n\r\n$body"));
$e = parse_echo($r->{body});
is($e->{method}, 'POST', 'POST: method');
is($e->{framing}, 'length', 'POST: body with Content-Length');
is($e->{body_length}, 5000, 'POST: body length');
is($e->{body_sha1}, sha1_hex($body), 'POST: body bytes');

$r = parse_response(http("POST /post HTTP/1.1\r\nHost: localhost\r\n"
    . "Connection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
    . "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"));
$e = parse_echo($r->{body});
is($e->{framing}, 'length', 'chunked client body: sent with a length');
is($e->{body_sha1}, sha1_hex('hello world'), 'chunked client body: bytes');

$r = parse_response(http("POST /nobody/x HTTP/1.0\r\nHost: localhost\r\n"
    . "Content-Length: 4\r\n\r\nabcd"));
$e = parse_echo($r->{body});
is($e->{body_length} // 0, 0, 'proxy_pass_request_body off: no body');

# --- response bodies ----------------------------------------------------

$r = parse_response(http_get('/length/100000'));
is($r->{headers}{'content-length'}, 100000, 'Content-Length body: length');
ok($r->{body} eq backend_body(100000), 'Content-Length body: bytes');

$r = parse_response(http("GET /v11/chunked/70000 HTTP/1.1\r\n"
    . "Host: localhost\r\nConnection: close\r\n\r\n"));
is($r->{headers}{'transfer-encoding'}, 'chunked',
    'chunked from the peer: chunked to an HTTP/1.1 client');
ok(dechunk($r->{body}) eq backend_body(70000), 'chunked: bytes');

$r = parse_response(http("GET /v11/chunked/3000?chunk=1 HTTP/1.0\r\n"
    . "Host: localhost\r\n\r\n"));
ok($r->{body} eq backend_body(3000),
    'one-byte chunks to an HTTP/1.0 client: bytes to the close');

$r = parse_response(http_get('/close/50000'));
is($r->{status}, 200, 'close-delimited body: 200');
ok($r->{body} eq backend_body(50000), 'close-delimited body: bytes');

$r = parse_response(http_head('/length/100'));
is($r->{status}, 200, 'HEAD: 200');
is($r->{headers}{'content-length'}, 100, 'HEAD: Content-Length passed');
is($r->{body}, '', 'HEAD: no body');

my $s = http("HEAD /v11/length/10 HTTP/1.1\r\nHost: localhost\r\n\r\n"
    . "GET /v11/length/10 HTTP/1.1\r\nHost: localhost\r\n\r\n", start => 1);
$r = parse_response(read_response($s, head => 1));
is($r->{status}, 200, 'keep-alive: HEAD');
$r = parse_response(read_response($s));
is($r->{body}, backend_body(10), 'keep-alive: then GET on the same connection');

$r = parse_response(http_get('/status/404'));
is($r->{status}, 404, 'a 404 from the peer is passed');
like($r->{body}, qr/^backend: one$/m, 'with its body');

# --- response fields ----------------------------------------------------

$r = parse_response(http_get('/hide/x?header=X-Secret:1&header=X-Open:2'
    . '&header=X-Accel-Expires:10&header=X-Pad:p'));
ok(!exists $r->{headers}{'x-secret'}, 'proxy_hide_header');
is($r->{headers}{'x-open'}, 2, 'others passed');
ok(!exists $r->{headers}{'x-accel-expires'}, 'X-Accel-* hidden by default');
ok(!exists $r->{headers}{'x-pad'}, 'X-Pad hidden by default');

my $raw = http_get('/hide/x?header=Server:be&header=Date:Thu,%201%20Jan%201970%2000:00:00%20GMT');
like($raw, qr/^Server: (kiln|nginx)/mi, 'Server: the proxy\'s own');
unlike($raw, qr/^Server: be/mi, 'the peer\'s Server hidden by default');
unlike($raw, qr/^Date: Thu, 1 Jan 1970/mi, 'the peer\'s Date hidden by default');

$raw = http_get('/passsd/x?header=Server:be&header=Date:Thu,%201%20Jan%201970%2000:00:00%20GMT');
is(scalar(() = $raw =~ /^Server:/mig), 1, 'proxy_pass_header Server: one Server');
like($raw, qr/^Server: be\r$/mi, 'proxy_pass_header Server: the peer\'s');
like($raw, qr/^Date: Thu, 1 Jan 1970 00:00:00 GMT\r$/mi,
    'proxy_pass_header Date: the peer\'s');
is(scalar(() = $raw =~ /^Date:/mig), 1, 'proxy_pass_header Date: one Date');

# --- proxy_redirect ------------------------------------------------------

my $bp = port('b1');
my $kp = port(8080);

$r = parse_response(http_get('/redirect/a'));
is($r->{status}, 302, 'redirect passed');
is($r->{headers}{location}, "http://localhost:$kp/a",
    'default: the peer URL/ becomes /');

$r = parse_response(http_get('/r1/redirect/r2/b'));
is($r->{headers}{location}, "http://localhost:$kp/r1/b",
    'default: the proxy_pass URL becomes the location');

$r = parse_response(http_get('/roff/redirect/a'));
is($r->{headers}{location}, "http://127.0.0.1:$bp/a", 'off: as sent');

$r = parse_response(http_get('/rcustom/redirect/xyz'));
is($r->{headers}{location}, 'http://localhost/newyz',
    'custom: the first match, with a variable');

$r = parse_response(http_get('/rcustom/redirect/q'));
is($r->{headers}{location}, "http://localhost:$kp/q",
    'custom then default: default when the first does not match');

$r = parse_response(http_get("/rcustom/x?header=Refresh:5%3B%20url%3Dhttp://127.0.0.1:$bp/x1"));
is($r->{headers}{refresh}, 'http://localhost/new1' =~ s/^/5; url=/r,
    'Refresh rewritten too');

$r = parse_response(http_get('/passh/x?header=X-Accel-Expires:10'
    . '&header=X-Pad:p'));
is($r->{headers}{'x-accel-expires'}, 10, 'proxy_pass_header');
ok(!exists $r->{headers}{'x-pad'}, 'the others still hidden');

$e = parse_echo(parse_response(http_get('/method/x?m=PUT'))->{body});
is($e->{method}, 'PUT', 'proxy_method with a variable');

$r = parse_response(http_head('/method/length/20?m=GET'));
is($r->{status}, 200, 'HEAD sent as GET: 200');
is($r->{body}, '', 'HEAD sent as GET: no body to the client');
$r = parse_response(http_get('/method/length/20?m=GET'));
is($r->{body}, backend_body(20), 'and the next request is served');

# --- errors -------------------------------------------------------------

$r = parse_response(http_get('/dead/x'));
is($r->{status}, 502, 'nothing listening: 502');
ok(wait_for(sub { $t->read_file('error.log') =~ /\[error\] .*connect\(\) failed \(111: Connection refused\) while connecting to upstream, client: 127\.0\.0\.1, server: localhost, request: "GET \/dead\/x HTTP\/1\.0", upstream: "http:\/\/127\.0\.0\.1:@{[ port('dead') ]}\/dead\/x", host: "localhost"/ }, 5),
    '502: the connect() failed line, with the upstream');

$r = parse_response(http_get('/slow/slow/3000'));
is($r->{status}, 504, 'proxy_read_timeout: 504');
ok(wait_for(sub { $t->read_file('error.log') =~ /upstream timed out \(110: Connection timed out\) while reading response header from upstream, client: 127\.0\.0\.1, server: localhost, request: "GET \/slow\/slow\/3000 HTTP\/1\.0"/ }, 5),
    '504: the timed out line');

$r = parse_response(http_get('/small/bigheader/2000'));
is($r->{status}, 502, 'a head over proxy_buffer_size: 502');
ok(wait_for(sub { $t->read_file('error.log') =~ /upstream sent too big header while reading response header from upstream/ }, 5),
    'too big header: logged');

$r = parse_response(http_get('/drop'));
is($r->{status}, 502, 'closed without an answer: 502');
ok(wait_for(sub { $t->read_file('error.log') =~ /upstream prematurely closed connection while reading response header from upstream/ }, 5),
    'premature close: logged');

$r = parse_response(http_get('/length/10?header=Content-Length:11'));
is($r->{status}, 502, 'two differing Content-Length from the peer: 502');

$r = parse_response(http_get('/length/10?header=Transfer-Encoding:chunked'));
is($r->{status}, 502, 'Content-Length and chunked from the peer: 502');

$r = parse_response(http_get('/interim/'));
is($r->{status}, 200, 'interim answers (100, 103) skipped: the final one');
is($r->{body}, "ok\n", 'with its body');
ok(!exists $r->{headers}{link}, 'the fields of the interim answers dropped');

$r = parse_response(http_get('/icpt/status/404'));
is($r->{status}, 404, 'proxy_intercept_errors: the status');
is($r->{body}, "our page\n", 'proxy_intercept_errors: our error_page');

# --- configuration errors ---------------------------------------------------

sub bad_conf {
    my ($loc) = @_;
    my $d = $t->testdir;

    $t->write_file('bad.conf', "error_log $d/bad.log;\n"
        . "pid $d/bad.pid;\nevents { }\nhttp {\n server {\n"
        . "  listen 127.0.0.1:" . port(8080) . ";\n  $loc\n }\n}\n");

    return $t->run_kiln('-t', '-p', "$d/", '-c', "$d/bad.conf", '-e',
        "$d/bad.log")->{stderr};
}

like(bad_conf('location / { if ($arg_a) { proxy_pass http://127.0.0.1:1/x; } }'),
    qr/"proxy_pass" cannot have URI part in location given by regular expression, or inside named location, or inside "if" statement, or inside "limit_except" block in \S+bad\.conf:7/,
    'a URI part inside if');
like(bad_conf('location / { proxy_buffers 4 8k; proxy_busy_buffers_size 32k; proxy_pass http://127.0.0.1:1; }'),
    qr/"proxy_busy_buffers_size" must be less than the size of all "proxy_buffers" minus one buffer/,
    'proxy_busy_buffers_size too large');
like(bad_conf('location / { proxy_redirect default; proxy_pass http://127.0.0.1:1; }'),
    qr/"proxy_redirect default" should be placed after the "proxy_pass" directive/,
    'proxy_redirect default before proxy_pass');

# --- variables ----------------------------------------------------------

ok(wait_for(sub { $t->read_file('access.log') =~ m{^/status/404 127\.0\.0\.1:\d+ 404$}m }, 5),
    '$upstream_addr, $upstream_status');
