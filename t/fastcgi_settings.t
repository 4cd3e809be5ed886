#!/usr/bin/perl
# fastcgi_settings.t: the fastcgi_ twins of the proxy_ settings:
# fastcgi_catch_stderr (the response is invalid: 502, or the next peer),
# X-Accel-Redirect from a responder and fastcgi_ignore_headers, a
# relative Location (302 without Status) kept relative, fastcgi_bind,
# fastcgi_force_ranges, fastcgi_ignore_client_abort, and the cache and
# store directives refused with a message that says why.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;
use Test::Kiln::Backend;

my $t = Test::Kiln->new->has('fastcgi', 'log');

my $f = Test::Kiln::Backend->fastcgi(port => 'f1', name => 'fc');
my $g = Test::Kiln::Backend->fastcgi(port => 'f2', name => 'other');

$t->write_file_expand('kiln.conf', <<'EOF');
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes 1;

events {
    worker_connections 64;
}

http {
    log_format st '$uri $status $upstream_addr';
    access_log %%TESTDIR%%/access.log st;

    upstream two {
        server 127.0.0.1:%%PORT_f1%%;
        server 127.0.0.1:%%PORT_f2%%;
    }

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;

        fastcgi_param REQUEST_URI $request_uri;
        fastcgi_param QUERY_STRING $query_string;
        fastcgi_param REMOTE_ADDR $remote_addr;

        location / {
            fastcgi_pass 127.0.0.1:%%PORT_f1%%;
        }

        location /catch/ {
            fastcgi_pass 127.0.0.1:%%PORT_f1%%;
            fastcgi_catch_stderr "nothing like it";
            fastcgi_catch_stderr "stderr: fc";
        }

        location /nocatch/ {
            fastcgi_pass 127.0.0.1:%%PORT_f1%%;
            fastcgi_catch_stderr "nothing like it";
        }

        location /next/ {
            fastcgi_pass two;
            fastcgi_catch_stderr "stderr: fc";
            fastcgi_next_upstream invalid_header;
        }

        location /ign/ {
            fastcgi_pass 127.0.0.1:%%PORT_f1%%;
            fastcgi_ignore_headers X-Accel-Redirect;
        }

        location /bind/ {
            fastcgi_pass 127.0.0.1:%%PORT_f1%%;
            fastcgi_bind 192.0.2.1;
        }

        location /ranges/ {
            fastcgi_pass 127.0.0.1:%%PORT_f1%%;
            fastcgi_force_ranges on;
        }

        location /abort/ {
            fastcgi_pass 127.0.0.1:%%PORT_f1%%;
        }

        location /ignore/ {
            fastcgi_pass 127.0.0.1:%%PORT_f1%%;
            fastcgi_ignore_client_abort on;
        }

        location /dst {
            return 200 "dst $request_method $uri $args\n";
        }
    }
}
EOF

$t->plan(16);
$t->run;

my $r;

# --- fastcgi_catch_stderr -------------------------------------------------

is(parse_response(http_get('/catch/fcgi/stderr'))->{status}, 502,
    'fastcgi_catch_stderr: a match makes the response invalid: 502');
is(parse_response(http_get('/nocatch/fcgi/stderr'))->{status}, 200,
    'fastcgi_catch_stderr: no match, the response');
$r = parse_response(http_get('/next/fcgi/stderr'));
is(parse_echo($r->{body})->{backend}, 'other',
    'fastcgi_catch_stderr with fastcgi_next_upstream invalid_header');

# --- X-Accel-Redirect, Location ---------------------------------------------

$r = parse_response(http_get('/x?header=X-Accel-Redirect:/dst%3Fa=b'));
is($r->{body}, "dst GET /dst a=b\n", 'X-Accel-Redirect from a responder');
ok(!exists $r->{headers}{'x-accel-redirect'}, 'and hidden');

$r = parse_response(http_get('/ign/?header=X-Accel-Redirect:/dst'));
is(parse_echo($r->{body})->{backend}, 'fc', 'fastcgi_ignore_headers');

$r = parse_response(http_get('/x?header=Status:&header=Location:/y/z'));
is($r->{status}, 302, 'Location without Status: 302');
is($r->{headers}{location}, '/y/z', 'a relative Location stays relative');

# --- fastcgi_bind, fastcgi_force_ranges -------------------------------------

# 192.0.2.1 (TEST-NET-1) is no address of this host: bind() fails, 500
my $before = $f->stats->{requests};
is(parse_response(http_get('/bind/'))->{status}, 500,
    'fastcgi_bind: the local address is bound (here: cannot be)');
is($f->stats->{requests}, $before, 'fastcgi_bind: nothing reached the peer');

$r = parse_response(http("GET /ranges/fcgi/big/100?header=Content-Length:100 HTTP/1.0\r\n"
    . "Host: localhost\r\nRange: bytes=2-5\r\n\r\n"));
is($r->{status}, 206, 'fastcgi_force_ranges: 206');
is($r->{body}, substr(backend_body(100), 2, 4), 'fastcgi_force_ranges: part');

# --- fastcgi_ignore_client_abort --------------------------------------------

for my $loc ('abort', 'ignore') {
    my $s = http("GET /$loc/fcgi/slow/300 HTTP/1.0\r\nHost: localhost\r\n\r\n",
        start => 1);
    select(undef, undef, undef, 0.1);    # the request is read and sent on
    close $s;
}

ok(wait_for(sub { $t->read_file('access.log') =~ m{^/abort/fcgi/slow/300 499 }m },
    5), 'a client gone: 499');
ok(wait_for(sub { $t->read_file('access.log') =~ m{^/ignore/fcgi/slow/300 200 }m },
    5), 'fastcgi_ignore_client_abort on: the response read to its end');

# --- refused ----------------------------------------------------------------

sub conf_test {
    my ($loc) = @_;
    my $d = $t->testdir;

    $t->write_file('bad.conf', "error_log $d/bad.log;\n"
        . "pid $d/bad.pid;\nevents { }\nhttp {\n server {\n"
        . "  listen 127.0.0.1:" . port(8080) . ";\n  $loc\n }\n}\n");

    return $t->run_kiln('-t', '-p', "$d/", '-c', "$d/bad.conf", '-e',
        "$d/bad.log")->{stderr};
}

SKIP: {
    skip 'kiln\'s messages', 2 if $t->binary =~ /nginx/;

    like(conf_test('location / { fastcgi_cache_valid 200 1m; }'),
        qr/unknown directive "fastcgi_cache_valid": response caching is not supported by kiln yet in \S+bad\.conf:7/,
        'fastcgi_cache_valid refused');
    like(conf_test('location / { fastcgi_store on; }'),
        qr/unknown directive "fastcgi_store": storing responses to files is not supported by kiln/,
        'fastcgi_store refused');
}
