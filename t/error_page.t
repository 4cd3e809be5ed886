#!/usr/bin/perl
# error_page.t: error_page with codes, =code, "=", @named, URLs (302 and
# =301), query strings, URIs and URLs built from variables, inheritance, recursive_error_pages, the
# redirection cycle limit, HEAD and POST; the built-in error pages byte for
# byte, with server_tokens on and off.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;

my $t = Test::Kiln->new->has('static', 'index');

# The access log shows which URI and method an error page was fetched with;
# those cases are skipped when kiln is built without it.
my $log = $t->has_module('log');
my ($log_http, $log_srv) = $log
    ? ("    log_format  ep  '\$status \$request_method \$uri?\$args';\n",
        "        access_log   %%TESTDIR%%/ep.log ep;\n")
    : ('', '');

my $conf = <<'EOF';
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes 1;

events {
    worker_connections 64;
}

http {
LOG_HTTP

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;
        root         %%TESTDIR%%/html;

LOG_SRV

        error_page   404 /srv404.html;
        error_page   400 414 505 /srv4xx.html;

        location / {
        }

        location /own/ {
            error_page 403 /own403.html;
        }

        location /multi/ {
            error_page 403 404 /multi.html;
        }

        location /code/ {
            error_page 404 =200 /page.txt;
        }

        location /code410/ {
            error_page 404 =410 /page.txt;
        }

        location /same/ {
            error_page 404 = /page.txt;
        }

        location /named/ {
            error_page 404 @fallback;
        }

        location /named200/ {
            error_page 404 = @fallback;
        }

        location @fallback {
            root %%TESTDIR%%/fallback;
        }

        location /url/ {
            error_page 404 http://example.com/found?x=1;
        }

        location /url301/ {
            error_page 404 =301 http://example.com/moved;
        }

        location /local301/ {
            error_page 404 =301 /page.txt?from=301;
        }

        location /args/ {
            error_page 404 /page.txt?from=err;
        }

        location /norec/ {
            error_page 404 /norec2/missing;
        }

        location /norec2/ {
            error_page 404 /final.txt;
        }

        location /rec/ {
            recursive_error_pages on;
            error_page 404 /rec2/missing;
        }

        location /rec2/ {
            error_page 404 /final.txt;
        }

        location /loop/ {
            recursive_error_pages on;
            error_page 404 /loop/again;
        }

        location /post/ {
            error_page 405 /p405.html;
        }

        location /var/ {
            error_page 404 https://$host$request_uri;
        }

        location /var301/ {
            error_page 404 =301 https://$host/moved$uri?q=$arg_q;
        }

        location /varint/ {
            error_page 404 /err$uri?from=$arg_a;
        }
    }

    # No error_page: the built-in pages.
    server {
        listen       127.0.0.1:%%PORT_8081%%;
        server_name  localhost;
        root         %%TESTDIR%%/html;

        location /loop/ {
            recursive_error_pages on;
            error_page 404 /loop/again;
        }
    }

    server {
        listen         127.0.0.1:%%PORT_8082%%;
        server_name    localhost;
        root           %%TESTDIR%%/html;
        server_tokens  off;
    }
}
EOF

$conf =~ s/^LOG_HTTP\n/$log_http/m;
$conf =~ s/^LOG_SRV\n/$log_srv/m;
$t->write_file_expand('kiln.conf', $conf);

$t->write_file('html/page.txt', "page\n");
$t->write_file('html/srv404.html', "server 404 page\n");
$t->write_file('html/srv4xx.html', "server 4xx page\n");
$t->write_file('html/own403.html', "own 403 page\n");
$t->write_file('html/multi.html', "multi page\n");
$t->write_file('html/final.txt', "final\n");
$t->write_file('html/p405.html', "405 page\n");
$t->write_file('html/post/file.txt', "post file\n");
$t->write_file('html/own/sub/x.txt', "x\n");
$t->write_file('html/multi/sub/x.txt', "x\n");
$t->write_file('html/noindex/x.txt', "x\n");
$t->write_file('html/err/varint/missing.txt', "err page\n");
$t->write_file('fallback/named/missing.txt', "fallback\n");
$t->write_file('fallback/named200/missing.txt', "fallback 200\n");

$t->plan(124);
$t->run;


sub get {
    my ($uri, %o) = @_;

    return parse_response(http_get($uri, %o)) // {};
}

sub req {
    my ($raw, %o) = @_;

    return parse_response(http($raw, %o)) // {};
}

# --- error_page URI: the status stays, the page is the body ------------------

my $r = get('/missing');
is($r->{status}, 404, 'server error_page 404: status 404');
is($r->{body}, "server 404 page\n", 'server error_page 404: its page');
is($r->{headers}{'content-type'}, 'text/html', 'the page\'s own type');
is($r->{headers}{'content-length'}, 16, 'the page\'s own length');

# A location with its own error_page does not inherit the server's.

$r = get('/own/sub/');
is($r->{status}, 403, 'location error_page 403: status');
is($r->{body}, "own 403 page\n", 'location error_page 403: its page');

$r = get('/own/missing');
is($r->{status}, 404, 'own error_page: 404 still 404');
like($r->{body}, qr{<title>404 Not Found</title>},
    'own error_page: the server\'s 404 page is not inherited');

# Several codes on one line.

$r = get('/multi/missing');
is($r->{status}, 404, 'error_page 403 404: 404');
is($r->{body}, "multi page\n", 'error_page 403 404: page for 404');
$r = get('/multi/sub/');
is($r->{status}, 403, 'error_page 403 404: 403');
is($r->{body}, "multi page\n", 'error_page 403 404: page for 403');

# --- =code and = -------------------------------------------------------------

$r = get('/code/missing');
is($r->{status}, 200, '=200: status replaced');
is($r->{body}, "page\n", '=200: the page');

$r = get('/code410/missing');
is($r->{status}, 410, '=410: status replaced');
is($r->{body}, "page\n", '=410: the page');

$r = get('/same/missing');
is($r->{status}, 200, '"=": the page\'s own status');
is($r->{body}, "page\n", '"=": the page');

# --- named locations ---------------------------------------------------------

$r = get('/named/missing.txt');
is($r->{status}, 404, '@named: status stays 404');
is($r->{body}, "fallback\n", '@named: served there, same URI');

$r = get('/named200/missing.txt');
is($r->{status}, 200, '= @named: the named location\'s status');
is($r->{body}, "fallback 200\n", '= @named: its body');

$r = get('/named/absent.txt');
is($r->{status}, 404, '@named that 404s too: 404');
like($r->{body}, qr{<title>404 Not Found</title>},
    '@named that 404s too: the built-in page');

# --- URLs: redirects ---------------------------------------------------------

$r = get('/url/missing');
is($r->{status}, 302, 'error_page URL: 302');
is($r->{headers}{location}, 'http://example.com/found?x=1',
    'error_page URL: Location with its query');
like($r->{body}, qr{<title>302 Found</title>}, 'error_page URL: 302 page');

$r = get('/url301/missing');
is($r->{status}, 301, 'error_page =301 URL: 301');
is($r->{headers}{location}, 'http://example.com/moved',
    'error_page =301 URL: Location');
like($r->{body}, qr{<title>301 Moved Permanently</title>},
    'error_page =301 URL: 301 page');

# =301 with a local URI is still an internal redirect (as nginx): the
# status is 301, the body the page's, and there is no Location.
$r = get('/local301/missing');
is($r->{status}, 301, 'error_page =301 /uri: 301');
is($r->{body}, "page\n", 'error_page =301 /uri: internal, the page');
ok(!exists $r->{headers}{location}, 'error_page =301 /uri: no Location');

# --- query string: the internal redirect carries it --------------------------

$r = get('/args/missing');
is($r->{status}, 404, 'error_page /uri?args: 404');
is($r->{body}, "page\n", 'error_page /uri?args: the page');
SKIP: {
    skip 'kiln built without the access log', 1 unless $log;

    ok(wait_for(sub {
        $t->read_file('ep.log') =~ m{^404 GET /page\.txt\?from=err$}m
    }), 'error_page /uri?args: logged with the page\'s URI and args');
}

# --- variables in the URI: evaluated per error, as nginx ---------------------

$r = get('/var/missing?x=1');
is($r->{status}, 302, 'error_page with variables in a URL: 302');
is($r->{headers}{location}, 'https://localhost/var/missing?x=1',
    'error_page https://$host$request_uri: Location built per request');

$r = get('/var301/missing?q=z');
is($r->{status}, 301, 'error_page =301 URL with variables: 301');
is($r->{headers}{location}, 'https://localhost/moved/var301/missing?q=z',
    'error_page =301 URL with variables: its query kept in Location');

$r = get('/varint/missing.txt?a=7');
is($r->{status}, 404, 'error_page /err$uri?from=$arg_a: 404');
is($r->{body}, "err page\n",
    'error_page /err$uri?from=$arg_a: the page the variables name');
SKIP: {
    skip 'kiln built without the access log', 1 unless $log;

    ok(wait_for(sub {
        $t->read_file('ep.log')
            =~ m{^404 GET /err/varint/missing\.txt\?from=7$}m
    }), 'error_page /err$uri?from=$arg_a: the query split off, as nginx');
}

$t->write_file_expand('badvar.conf', "error_log %%TESTDIR%%/badvar.log;\n"
    . "events { }\nhttp {\n    server {\n"
    . "        listen 127.0.0.1:%%PORT_8083%%;\n"
    . "        error_page 404 /x/\$nosuchvar;\n    }\n}\n");
my $c = $t->run_kiln('-t', '-p', $t->testdir . '/', '-c',
    $t->testdir . '/badvar.conf');
ok($c->{exit} != 0
    && $c->{stderr} =~ /unknown "nosuchvar" variable/,
    'error_page with an unknown variable: refused at config time');

# --- recursive_error_pages ---------------------------------------------------

$r = get('/norec/missing');
is($r->{status}, 404, 'recursive_error_pages off: 404');
like($r->{body}, qr{<title>404 Not Found</title>},
    'recursive_error_pages off: the second error gets the built-in page');
unlike($r->{body}, qr/final/, 'recursive_error_pages off: no second page');

$r = get('/rec/missing');
is($r->{status}, 404, 'recursive_error_pages on: 404');
is($r->{body}, "final\n",
    'recursive_error_pages on: the second error_page is used');

# --- the cycle limit ---------------------------------------------------------

$r = get('/loop/x');
is($r->{status}, 500, 'error_page cycle: 500');
like($r->{body}, qr{<title>500 Internal Server Error</title>},
    'error_page cycle: 500 page');
my $cycle = qr{rewrite or internal redirection cycle while internally }
    . qr{redirecting to "/loop/again"};
ok(wait_for(sub { $t->read_file('error.log') =~ $cycle }),
    'error_page cycle: logged as nginx does');
my @opens = $t->read_file('error.log') =~ m{(open\(\) "[^"]*/loop/again")}g;
is(scalar @opens, 10, 'error_page cycle: stopped after 10 redirections');

# --- methods -----------------------------------------------------------------

my $raw = http_head('/missing');
$r = parse_response($raw) // {};
is($r->{status}, 404, 'HEAD with error_page: 404');
is($r->{headers}{'content-length'}, 16, 'HEAD: the page\'s length');
like($raw, qr/\r\n\r\n\z/, 'HEAD: no body');
SKIP: {
    skip 'kiln built without the access log', 1 unless $log;

    ok(wait_for(sub {
        $t->read_file('ep.log') =~ m{^404 HEAD /srv404\.html\?-$}m
    }), 'HEAD: the error page is requested with HEAD');
}

$r = req("POST /post/file.txt HTTP/1.0\r\nHost: localhost\r\n"
    . "Content-Length: 3\r\n\r\nabc");
is($r->{status}, 405, 'POST, error_page 405: status 405');
is($r->{body}, "405 page\n", 'POST, error_page 405: the page, fetched by GET');
SKIP: {
    skip 'kiln built without the access log', 1 unless $log;

    ok(wait_for(sub {
        $t->read_file('ep.log') =~ m{^405 GET /p405\.html\?-$}m
    }), 'POST: the error page is requested with GET');
}

# --- error_page for errors found while reading the request -------------------

$r = req("GET / HTTP/1.1\r\n\r\n");
is($r->{status}, 400, 'error_page 400 (no Host): 400');
is($r->{body}, "server 4xx page\n", 'error_page 400: the page');
is($r->{headers}{connection}, 'close', 'error_page 400: Connection: close');

$r = req('GET /' . ('u' x 9000) . " HTTP/1.0\r\nHost: localhost\r\n\r\n");
is($r->{status}, 414, 'error_page 414: 414');
is($r->{body}, "server 4xx page\n", 'error_page 414: the page');

$r = req("GET / HTTP/2.0\r\nHost: localhost\r\n\r\n");
is($r->{status}, 505, 'error_page 505: 505');
is($r->{body}, "server 4xx page\n", 'error_page 505: the page');

# --- the built-in pages, byte for byte ---------------------------------------

my $v = $t->run_kiln('-v');
my ($token) = ($v->{stdout} . $v->{stderr}) =~ m{version: (\S+)};
(my $bare = $token // '') =~ s{/.*}{};

sub page {
    my ($status, $reason, $server, $extra) = @_;

    return "<html>\r\n<head><title>$status $reason</title></head>\r\n"
        . "<body>\r\n<center><h1>$status $reason</h1></center>\r\n"
        . ($extra ? "<center>$extra</center>\r\n" : '')
        . "<hr><center>$server</center>\r\n</body>\r\n</html>\r\n";
}

my @pages = (
    [400, 'Bad Request', "GET / HTTP/1.1\r\n\r\n"],
    [403, 'Forbidden', "GET /noindex/ HTTP/1.0\r\n\r\n"],
    [404, 'Not Found', "GET /missing HTTP/1.0\r\n\r\n"],
    [405, 'Not Allowed',
        "POST /page.txt HTTP/1.0\r\nContent-Length: 0\r\n\r\n"],
    [414, 'Request-URI Too Large',
        'GET /' . ('u' x 9000) . " HTTP/1.0\r\n\r\n"],
    [500, 'Internal Server Error', "GET /loop/x HTTP/1.0\r\n\r\n"],
    [501, 'Not Implemented', "POST / HTTP/1.1\r\nHost: localhost\r\n"
        . "Transfer-Encoding: gzip\r\n\r\n"],
    [505, 'HTTP Version Not Supported', "GET / HTTP/2.0\r\n\r\n"],
);

for my $p (@pages) {
    my ($status, $reason, $raw_req) = @$p;

    $r = req($raw_req, port => 8081);
    is($r->{status}, $status, "built-in $status: status");
    is($r->{reason}, $reason, "built-in $status: reason phrase");
    is($r->{body}, page($status, $reason, $token),
        "built-in $status: the page, byte for byte");
    is($r->{headers}{'content-type'}, 'text/html', "built-in $status: type");
    is($r->{headers}{'content-length'}, length $r->{body},
        "built-in $status: Content-Length");
    is($r->{headers}{server}, $token, "built-in $status: Server");
}

# The 400 for a too large header: its own line (431 in kiln, see
# docs/directives.md; nginx: 400 "Request Header Or Cookie Too Large").

$r = req("GET / HTTP/1.0\r\nX-Big: " . ('b' x 9000) . "\r\n\r\n", port => 8081);
is($r->{status}, 431, 'built-in 431: status');
is($r->{body}, page(431, 'Request Header Fields Too Large', $token),
    'built-in 431: the page, byte for byte');

# server_tokens off: the bare name in the page and in Server.

$r = get('/missing', port => 8082);
is($r->{status}, 404, 'server_tokens off: 404');
is($r->{body}, page(404, 'Not Found', $bare),
    'server_tokens off: the page without the version');
is($r->{headers}{server}, $bare, 'server_tokens off: Server without version');

$r = req("GET / HTTP/2.0\r\n\r\n", port => 8082);
is($r->{body}, page(505, 'HTTP Version Not Supported', $bare),
    'server_tokens off: 505 page without the version');

# A HEAD of a missing file: the page's headers, no body.

$raw = http_head('/missing', port => 8081);
$r = parse_response($raw) // {};
is($r->{status}, 404, 'built-in page, HEAD: 404');
is($r->{headers}{'content-length'}, length page(404, 'Not Found', $token),
    'built-in page, HEAD: Content-Length of the page');
like($raw, qr/\r\n\r\n\z/, 'built-in page, HEAD: no body');

$t->stop;
