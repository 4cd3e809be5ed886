#!/usr/bin/perl
# variables_request.t: the core variables nginx added after the first set,
# and repeated fields: $request_id (32 hex digits, one per request),
# $connection_time, $request_completion, $tcpinfo_*, $sent_trailer_NAME,
# $request_body and $request_body_file of a proxied request, $pipe, and
# $http_NAME / $sent_http_NAME joining repeated fields as nginx >= 1.23,
# and $gzip_ratio.
#
# Against nginx 1.22 the four joins fail: 1.22 predates them (1.23.0).

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;
use Test::Kiln::Backend;

my $t = Test::Kiln->new->has('log', 'headers', 'proxy', 'gzip');

my $b1 = Test::Kiln::Backend->http(port => 'b1', name => 'one');

my $long = 'compressible text ' x 100;

my @names = qw(uri request_id connection_time request_completion
    tcpinfo_rtt tcpinfo_rttvar tcpinfo_snd_cwnd tcpinfo_rcv_space
    sent_trailer_x_t http_x_dup sent_http_x_dup sent_http_cache_control
    request_body request_body_file pipe connection_requests gzip_ratio
    http_user_agent);

my $format = join '|', map { "\$$_" } @names;

$t->write_file_expand('kiln.conf', <<"EOF");
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes 1;

events {
    worker_connections 64;
}

http {
    log_format  req  '$format';
    access_log  %%TESTDIR%%/req.log req;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        location /id {
            add_header  X-Id  \$request_id;
            return      200 "\$request_id \$request_id\\n";
        }

        location /dup {
            add_header  X-Dup          a;
            add_header  X-Dup          b;
            add_header  Cache-Control  no-cache;
            add_header  Cache-Control  private;
            return      200 "[\$http_x_dup]\\n";
        }

        location /trailer {
            add_trailer  X-T  "tv";
            return       200 "body\\n";
        }

        location /body {
            client_body_buffer_size  1k;
            proxy_pass               http://127.0.0.1:%%PORT_b1%%;
        }

        location /keep {
            client_body_buffer_size   1k;
            client_body_in_file_only  on;
            proxy_pass                http://127.0.0.1:%%PORT_b1%%;
        }

        location /gz {
            gzip             on;
            gzip_min_length  1;
            gzip_types       text/plain;
            default_type     text/plain;
            return           200 "$long";
        }

        location / {
            return  200 "ok\\n";
        }
    }
}
EOF

$t->plan(36);
$t->run(wait_ports => [8080]);

# entries(URI): the log lines of the requests for URI, once there are n.

sub entries {
    my ($uri, $n) = @_;
    my @e;

    wait_for(sub {
        my @l = $t->read_file('req.log') =~ /^\Q$uri\E\|/mg;
        @l >= ($n // 1);
    }, 5);

    for my $line (split /\n/, $t->read_file('req.log')) {
        my @v = split /\|/, $line, -1;
        next unless $v[0] eq $uri;
        my %e;
        @e{@names} = @v;
        push @e, \%e;
    }

    return @e;
}

# --- $request_id ---------------------------------------------------------

my $r1 = parse_response(http_get('/id'));
my $r2 = parse_response(http_get('/id'));
my ($a1, $a2) = split / /, $r1->{body} =~ s/\n//r;

like($a1 // '', qr/^[0-9a-f]{32}$/, '$request_id: 32 hex digits');
is($a2, $a1, '$request_id: the same value twice in a request');
is($r1->{headers}{'x-id'}, $a1, '$request_id: the same in a header');
isnt(($r2->{body} =~ /^(\S+)/)[0], $a1, '$request_id: another request, another');

my ($e) = entries('/id', 2);
is($e->{request_id}, $a1, '$request_id: the same in the log');

# --- times, completion, TCP_INFO ------------------------------------------

my $s = http("GET /a HTTP/1.1\r\nHost: localhost\r\n\r\n", start => 1);
read_response($s);
http("GET /a HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    socket => $s, start => 1);
read_response($s);

my @e = entries('/a', 2);
like($e[0]{connection_time}, qr/^\d+\.\d{3}$/, '$connection_time: s.ms');
cmp_ok($e[1]{connection_time}, '>=', $e[0]{connection_time},
    '$connection_time: of the connection, not the request');
is($e[1]{connection_requests}, 2, 'the second request of the connection');
is($e[0]{request_completion}, 'OK', '$request_completion: OK when all sent');
like($e[0]{tcpinfo_rtt}, qr/^\d+$/, '$tcpinfo_rtt');
like($e[0]{tcpinfo_rttvar}, qr/^\d+$/, '$tcpinfo_rttvar');
like($e[0]{tcpinfo_snd_cwnd}, qr/^[1-9]\d*$/, '$tcpinfo_snd_cwnd');
like($e[0]{tcpinfo_rcv_space}, qr/^[1-9]\d*$/, '$tcpinfo_rcv_space');
is($e[0]{sent_trailer_x_t}, '-', '$sent_trailer_: none sent');

# --- pipelining -------------------------------------------------------------

$s = http("GET /p HTTP/1.1\r\nHost: localhost\r\n\r\n"
    . "GET /p HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    start => 1);
read_response($s);
read_response($s);

@e = entries('/p', 2);
is($e[0]{pipe}, '.', '$pipe: the first request came alone');
is($e[1]{pipe}, 'p', '$pipe: the pipelined request');

# --- repeated fields ---------------------------------------------------------

my $r = parse_response(http("GET /dup HTTP/1.0\r\nHost: localhost\r\n"
    . "X-Dup: one\r\nX-Dup: two\r\nUser-Agent: u1\r\nUser-Agent: u2\r\n\r\n"));
is($r->{body}, "[one, two]\n", '$http_: repeated fields joined (nginx >= 1.23)');

($e) = entries('/dup');
is($e->{http_x_dup}, 'one, two', '$http_: joined in the log too');
is($e->{sent_http_x_dup}, 'a, b', '$sent_http_: joined (nginx >= 1.23)');
is($e->{http_user_agent}, 'u1, u2', '$http_user_agent: joined (nginx >= 1.23)');
is($e->{sent_http_cache_control}, 'no-cache, private',
    '$sent_http_cache_control: joined');

# --- gzip -------------------------------------------------------------------

$r = parse_response(http("GET /gz HTTP/1.1\r\nHost: localhost\r\n"
    . "Connection: close\r\n"
    . "Accept-Encoding: gzip\r\n\r\n"));
is($r->{headers}{'content-encoding'}, 'gzip', 'gzipped');

($e) = entries('/gz');
like($e->{gzip_ratio}, qr/^\d+\.\d\d$/, '$gzip_ratio: N.NN');
cmp_ok($e->{gzip_ratio}, '>', 10, '$gzip_ratio: in over out');
is((entries('/dup'))[0]{gzip_ratio}, '-', '$gzip_ratio: none without gzip');

# --- trailers ----------------------------------------------------------------

$r = parse_response(http("GET /trailer HTTP/1.1\r\nHost: localhost\r\n"
    . "TE: trailers\r\nConnection: close\r\n\r\n"));
like($r->{body}, qr/X-T: tv/, 'add_trailer: the trailer sent');

($e) = entries('/trailer');
is($e->{sent_trailer_x_t}, 'tv', '$sent_trailer_: the trailer');

# --- the request body ------------------------------------------------------

my $small = 'a=1&b=2';
$r = parse_response(http("POST /body HTTP/1.0\r\nHost: localhost\r\n"
    . "Content-Length: " . length($small) . "\r\n\r\n$small"));
is($r->{status}, 200, 'small body proxied');

($e) = entries('/body');
is($e->{request_body}, $small, '$request_body: in memory');
is($e->{request_body_file}, '-', '$request_body_file: none');

my $big = 'x' x 5000;
$r = parse_response(http("POST /body HTTP/1.0\r\nHost: localhost\r\n"
    . "Content-Length: " . length($big) . "\r\n\r\n$big"));
is(parse_echo($r->{body})->{body_length}, 5000, 'big body proxied');

@e = entries('/body', 2);
is($e[1]{request_body}, '-', '$request_body: not when in a file');
like($e[1]{request_body_file}, qr{^/.+/\d+$},
    '$request_body_file: the temp file');

$r = parse_response(http("POST /keep HTTP/1.0\r\nHost: localhost\r\n"
    . "Content-Length: " . length($small) . "\r\n\r\n$small"));
is($r->{status}, 200, 'client_body_in_file_only: proxied');

($e) = entries('/keep');
like($e->{request_body_file}, qr{^/.+/\d+$},
    '$request_body_file: client_body_in_file_only');
is(slurp($e->{request_body_file}), $small,
    '$request_body_file: the body is in it');

# slurp(PATH): a file's bytes, '' if it cannot be read.

sub slurp {
    my ($path) = @_;

    open(my $fh, '<', $path // '') or return '';
    binmode $fh;
    local $/;
    return <$fh> // '';
}
