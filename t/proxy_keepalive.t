#!/usr/bin/perl
# proxy_keepalive.t: keepalive_time, keepalive_requests and
# keepalive_timeout in an upstream block bound the reuse of a cached
# connection to a peer: by its age since the connect, its number of
# responses, and its idle time.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;
use Test::Kiln::Backend;

my $t = Test::Kiln->new->has('proxy', 'upstream_keepalive');

my $b = Test::Kiln::Backend->http(port => 'b1', name => 'one');

$t->write_file_expand('kiln.conf', <<'EOF');
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes 1;

events {
    worker_connections 64;
}

http {
    upstream long {
        server 127.0.0.1:%%PORT_b1%%;
        keepalive 4;
    }

    upstream young {
        server 127.0.0.1:%%PORT_b1%%;
        keepalive 4;
        keepalive_time 400ms;
    }

    upstream few {
        server 127.0.0.1:%%PORT_b1%%;
        keepalive 4;
        keepalive_requests 2;
    }

    upstream idle {
        server 127.0.0.1:%%PORT_b1%%;
        keepalive 4;
        keepalive_timeout 300ms;
    }

    server {
        listen 127.0.0.1:%%PORT_8080%%;

        proxy_http_version 1.1;
        proxy_set_header Connection "";

        location /long/ { proxy_pass http://long; }
        location /young/ { proxy_pass http://young; }
        location /few/ { proxy_pass http://few; }
        location /idle/ { proxy_pass http://idle; }
    }
}
EOF

$t->plan(6);
$t->run;

# The backend's connection number for a request to URI.
sub conn {
    my ($uri) = @_;
    return parse_response(http_get($uri))->{headers}{'x-backend-conn'};
}

# Each pause below is what is tested: a connection older, or idle
# longer, than its bound.

my $c = conn('/long/a');
is(conn('/long/b'), $c, 'the cached connection is reused');

# As nginx, the age is checked when a response ends: a connection
# cached young is used once more, then closed.
$c = conn('/young/a');
select(undef, undef, undef, 0.6);
is(conn('/young/b'), $c, 'keepalive_time: cached while young');
isnt(conn('/young/c'), $c, 'keepalive_time: not kept once older');

$c = conn('/few/a');
is(conn('/few/b'), $c, 'keepalive_requests 2: the second on it');
isnt(conn('/few/c'), $c, 'keepalive_requests 2: not a third');

$c = conn('/idle/a');
select(undef, undef, undef, 0.6);
isnt(conn('/idle/b'), $c, 'keepalive_timeout: an idle one is closed');
