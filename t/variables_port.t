#!/usr/bin/perl
# variables_port.t: $request_port and $is_request_port (nginx 1.29.3): the
# port of the request line's authority, else of the Host field; a number,
# empty when there is none.
#
# nginx 1.22 has neither variable: against it this file fails to start.
# Where the request line has an authority without a port, kiln ignores
# the Host field's port (RFC 9112 3.2.2: Host is then ignored).

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;

my $t = Test::Kiln->new->has('rewrite');

$t->write_file_expand('kiln.conf', <<'EOF2');
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes 1;

events {
    worker_connections 64;
}

http {
    access_log off;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        location / {
            return  200 "[$request_port][$is_request_port]\n";
        }
    }
}
EOF2

$t->plan(7);
$t->run;

sub get {
    my ($line, $host) = @_;
    my $h = defined $host ? "Host: $host\r\n" : '';

    return parse_response(http("$line HTTP/1.1\r\n${h}Connection: close\r\n\r\n"))
        ->{body};
}

is(get('GET /', 'example.com:8080'), "[8080][:]\n", 'Host with a port');
is(get('GET /', 'example.com:080'), "[80][:]\n", 'Host port: a number');
is(get('GET /', 'example.com'), "[][]\n", 'Host without a port: empty');
is(get('GET /', '[::1]:9000'), "[9000][:]\n", 'Host: an IPv6 literal');
is(get('GET http://a.example:9090/x', 'b.example:1'), "[9090][:]\n",
    'absolute-form: the request line\'s port first');
is(get('GET http://a.example/x', 'b.example:1'), "[][]\n",
    'absolute-form without a port: Host is ignored (RFC 9112 3.2.2)');
is(parse_response(http("GET / HTTP/1.0\r\n\r\n"))->{body}, "[][]\n",
    'no Host: empty');
