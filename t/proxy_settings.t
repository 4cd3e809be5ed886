#!/usr/bin/perl
# proxy_settings.t: proxy_set_body, proxy_bind (fixed, with variables,
# off), proxy_force_ranges, proxy_limit_rate (and with variables),
# proxy_ignore_client_abort, proxy_socket_keepalive (seen with ss),
# proxy_headers_hash_* accepted, and the nginx directives this build
# refuses (cache, store, TLS, proxy_pass_trailers on) with a message
# that says why.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Digest::SHA qw(sha1_hex);
use IO::Socket::INET;
use Time::HiRes qw(time);
use Test::More;
use Test::Kiln;
use Test::Kiln::Backend;

my $t = Test::Kiln->new->has('proxy', 'log');

my $b = Test::Kiln::Backend->http(port => 'b1', name => 'one');

# proxy_limit_rate with variables is nginx 1.27's: left out for 1.22.
my $nginx = $t->binary =~ /nginx/;
my $ratevar = $nginx ? '' : 'location /ratevar/ {
            proxy_pass http://127.0.0.1:%%PORT_b1%%;
            proxy_limit_rate $arg_r;
        }';

(my $conf = <<'EOF') =~ s/RATEVAR/$ratevar/;
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

    proxy_headers_hash_max_size 1024;
    proxy_headers_hash_bucket_size 128;
    proxy_socket_keepalive on;

    server {
        listen 127.0.0.1:%%PORT_8080%%;

        location /body/ {
            proxy_pass http://127.0.0.1:%%PORT_b1%%;
            proxy_set_body "set $arg_v";
        }

        location /bind/ {
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
            proxy_bind 127.0.0.2;

            location /bind/var/ {
                proxy_pass http://127.0.0.1:%%PORT_8081%%;
                proxy_bind $arg_b;
            }

            location /bind/off/ {
                proxy_pass http://127.0.0.1:%%PORT_8081%%;
                proxy_bind off;
            }
        }

        location /ranges/ {
            proxy_pass http://127.0.0.1:%%PORT_b1%%;
            proxy_force_ranges on;
        }

        location /noranges/ {
            proxy_pass http://127.0.0.1:%%PORT_b1%%;
        }

        location /rate/ {
            proxy_pass http://127.0.0.1:%%PORT_b1%%;
            proxy_limit_rate 40k;
        }

        RATEVAR

        location /ka/ {
            proxy_pass http://127.0.0.1:%%PORT_b1%%;
        }

        location /noka/ {
            proxy_pass http://127.0.0.1:%%PORT_b1%%;
            proxy_socket_keepalive off;
        }

        location /abort/ {
            proxy_pass http://127.0.0.1:%%PORT_b1%%;
        }

        location /ignore/ {
            proxy_pass http://127.0.0.1:%%PORT_b1%%;
            proxy_ignore_client_abort on;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_8081%%;

        location / {
            return 200 "from $remote_addr\n";
        }
    }
}
EOF

$t->write_file_expand('kiln.conf', $conf);

$t->plan(28);
$t->run;

my $r;

# --- proxy_set_body -------------------------------------------------------

$r = parse_response(http("POST /body/?v=abcd HTTP/1.0\r\nHost: localhost\r\n"
    . "Content-Length: 5\r\n\r\nhello"));
my $e = parse_echo($r->{body});
is($e->{header}{'content-length'}, 8, 'proxy_set_body: its length sent');
is($e->{body_sha1}, sha1_hex('set abcd'), 'proxy_set_body: the body sent is it');

$e = parse_echo(parse_response(http_get('/body/?v=yz'))->{body});
is($e->{body_length}, 6, 'proxy_set_body: a GET gets it too');

# --- proxy_bind -----------------------------------------------------------

is(parse_response(http_get('/bind/'))->{body}, "from 127.0.0.2\n",
    'proxy_bind: the local address');
is(parse_response(http_get('/bind/var/?b=127.0.0.3'))->{body},
    "from 127.0.0.3\n", 'proxy_bind: with variables');
is(parse_response(http_get('/bind/var/'))->{body}, "from 127.0.0.1\n",
    'proxy_bind: an empty value binds nothing');
is(parse_response(http_get('/bind/var/?b=nonsense'))->{body},
    "from 127.0.0.1\n", 'proxy_bind: not an address: logged, not bound');
is(parse_response(http_get('/bind/off/'))->{body}, "from 127.0.0.1\n",
    'proxy_bind off');

# --- proxy_force_ranges ---------------------------------------------------

my $range = "Host: localhost\r\nRange: bytes=2-5\r\n\r\n";

$r = parse_response(http("GET /ranges/length/100 HTTP/1.0\r\n$range"));
is($r->{status}, 206, 'proxy_force_ranges: 206');
is($r->{body}, substr(backend_body(100), 2, 4), 'proxy_force_ranges: the part');

$r = parse_response(http("GET /noranges/length/100 HTTP/1.0\r\n$range"));
is($r->{status}, 200, 'without: 200 and the whole body');

# --- proxy_limit_rate -----------------------------------------------------

# 40k/s: the first second's 40k at once, then 40k a second: 100k cannot
# come in less than 1.5 s (a lower bound the rate sets, not a guess).
my $start = time();
$r = parse_response(http_get('/rate/length/102400', timeout => 20));
my $took = time() - $start;
is($r->{body}, backend_body(102400), 'proxy_limit_rate: the body whole');
cmp_ok($took, '>=', 1.2, 'proxy_limit_rate: read no faster than the rate');

# Variables (nginx 1.27; nginx 1.22 reads "$arg_r" as a bad size, so the
# config below is kiln's only): an empty or bad value means no limit.
# X-Accel-Limit-Rate: the client's rate for the response (limit_rate's).
$start = time();
$r = parse_response(http_get('/abort/length/102400?header=X-Accel-Limit-Rate:40960',
    timeout => 20));
$took = time() - $start;
is($r->{body}, backend_body(102400), 'X-Accel-Limit-Rate: the body whole');
cmp_ok($took, '>=', 1.2, 'X-Accel-Limit-Rate: sent no faster than the rate');
ok(!exists $r->{headers}{'x-accel-limit-rate'}, 'X-Accel-Limit-Rate hidden');

SKIP: {
    skip 'proxy_limit_rate with variables: nginx 1.27', 3 if $nginx;

    $start = time();
    $r = parse_response(http_get('/ratevar/length/102400?r=40k',
        timeout => 20));
    $took = time() - $start;
    is($r->{body}, backend_body(102400),
        'proxy_limit_rate $var: the body whole');
    cmp_ok($took, '>=', 1.2, 'proxy_limit_rate $var: the rate applied');
    is(parse_response(http_get('/ratevar/length/1000?r=bad'))->{body},
        backend_body(1000), 'proxy_limit_rate $var: a bad size: no limit');
}

# --- proxy_ignore_client_abort ----------------------------------------------

for my $loc ('abort', 'ignore') {
    my $s = http("GET /$loc/slow/300 HTTP/1.0\r\nHost: localhost\r\n\r\n",
        start => 1);
    select(undef, undef, undef, 0.1);    # the request is read and sent on
    close $s;
}

ok(wait_for(sub { $t->read_file('access.log') =~ m{^/abort/slow/300 499$}m },
    5), 'a client gone: 499, the peer connection closed');
ok(wait_for(sub { $t->read_file('access.log') =~ m{^/ignore/slow/300 200$}m },
    5), 'proxy_ignore_client_abort on: the response is read to its end');

# --- proxy_socket_keepalive -------------------------------------------------

# ss shows a keepalive timer on kiln's socket to the peer while the peer
# takes its time to answer.
SKIP: {
    skip 'no ss', 2 unless -x '/usr/bin/ss' || -x '/bin/ss';

    for my $case (['ka', qr/timer:\(keepalive/, 'on (http level): SO_KEEPALIVE'],
        ['noka', qr/^(?!.*keepalive).*127\.0\.0\.1/s, 'off: none'])
    {
        my ($loc, $re, $name) = @$case;
        my $s = http("GET /$loc/slow/1500 HTTP/1.0\r\nHost: localhost\r\n\r\n",
            start => 1);
        my $out = wait_for(sub {
            my $o = `ss -tnoH state established dst 127.0.0.1:${\port('b1')}`;
            $o =~ /\S/ ? $o : undef }, 5) // '';
        like($out, $re, "proxy_socket_keepalive $name");
        read_response($s);
        close $s;
    }
}

# --- refused and warned ---------------------------------------------------

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
    skip 'kiln\'s messages', 5 if $nginx;

    like(conf_test('location / { proxy_cache one; }'),
        qr/unknown directive "proxy_cache": response caching is not supported by kiln yet in \S+bad\.conf:7/,
        'proxy_cache refused: no cache in this build');
    like(conf_test('location / { proxy_ssl_verify on; }'),
        $t->has_module('ssl') ? qr/test is successful/
        : qr/unknown directive "proxy_ssl_verify": TLS is not supported by this build of kiln/,
        'proxy_ssl_verify: refused only in a build without TLS');
    like(conf_test('location / { proxy_pass_trailers on; }'),
        qr/"proxy_pass_trailers" directive is not supported: trailers from the peer are not passed/,
        'proxy_pass_trailers on refused');
    like(conf_test('location / { proxy_pass_trailers off; }'),
        qr/test is successful/, 'proxy_pass_trailers off: what kiln does');
    like(conf_test('location / { proxy_send_lowat 1k; }'),
        qr/"proxy_send_lowat" is not supported, ignored/,
        'proxy_send_lowat: warned, as nginx on Linux');
}
