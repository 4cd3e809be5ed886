#!/usr/bin/perl
# variables_recent.t: variables of nginx releases newer than Debian's 1.22:
# $upstream_last_server_name (1.25.3), the name of the server the last
# attempt went to, without its port, from an upstream group's server line,
# a proxy_pass host (a name or an address) and a proxy_pass with
# variables, not found without an upstream; the $proxy_protocol_ ones
# (tlv_ since 1.23.2), not found on a listener without proxy_protocol.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;
use Test::Kiln::Backend;

my $t = Test::Kiln->new;

# nginx 1.22 (Debian 12) predates the variable: its -t refuses the config.
plan(skip_all => 'nginx before 1.25.3 has no $upstream_last_server_name')
    if ($ENV{KILN_BINARY} // '') =~ /nginx/
    && `$ENV{KILN_BINARY} -v 2>&1` =~ m{nginx/1\.(\d+)\.(\d+)}
    && ($1 < 25 || ($1 == 25 && $2 < 3));

my $b1 = Test::Kiln::Backend->http(port => 'b1', name => 'one');

$t->plan(6);

$t->write_file_expand('kiln.conf', <<'EOF');
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes 1;

events {
    worker_connections 64;
}

http {
    upstream grp {
        server localhost:%%PORT_b1%%;
    }

    server {
        listen 127.0.0.1:%%PORT_8080%%;

        add_header X-Last "[$upstream_last_server_name]" always;

        location /grp/ {
            proxy_pass http://grp;
        }

        location /name/ {
            proxy_pass http://localhost:%%PORT_b1%%;
        }

        location /addr/ {
            proxy_pass http://127.0.0.1:%%PORT_b1%%;
        }

        location /var/ {
            set $h 127.0.0.1;
            proxy_pass http://$h:%%PORT_b1%%;
        }

        location /none/ {
            return 200 "none\n";
        }

        location /pp/ {
            return 200 "[$proxy_protocol_addr][$proxy_protocol_port][$proxy_protocol_server_addr][$proxy_protocol_server_port][$proxy_protocol_tlv_alpn][$proxy_protocol_tlv_0x01]";
        }
    }
}
EOF

$t->run;

sub last_server {
    my ($uri) = @_;
    my $r = parse_response(http_get($uri));
    return $r ? $r->{headers}{'x-last'} : 'no response';
}

is(last_server('/grp/x'), '[localhost]', 'an upstream group: its server line');
is(last_server('/name/x'), '[localhost]', 'proxy_pass with a name');
is(last_server('/addr/x'), '[127.0.0.1]', 'proxy_pass with an address');
is(last_server('/var/x'), '[127.0.0.1]', 'proxy_pass with variables');
is(last_server('/none/x'), '[]', 'no upstream: not found');

is(parse_response(http_get('/pp/'))->{body}, '[][][][][][]',
    '$proxy_protocol_*: not found without proxy_protocol');

$t->done;
