#!/usr/bin/perl
# redirects.t: the redirects kiln makes itself, byte for byte as nginx:
# the directory slash (the path escaped again, the args as sent),
# "return 301 /x" (the text as written, no args), error_page to a URL
# (the old Location gone); and Host values nginx takes: IPvFuture
# literals, long IPv4 with port.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;

my $t = Test::Kiln->new->has('static', 'rewrite');

$t->write_file_expand('kiln.conf', <<'EOF');
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes 1;

events {
    worker_connections 64;
}

http {
    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;
        root         %%TESTDIR%%/html;

        location /ret {
            return 301 /x;
        }

        location /ep {
            error_page 301 =302 http://example.com/o?x=1;
            return 301 /first;
        }

        location /host {
            return 200 "$host\n";
        }
    }

    server {
        listen              127.0.0.1:%%PORT_8081%%;
        server_name         localhost;
        root                %%TESTDIR%%/html;
        absolute_redirect   off;
    }
}
EOF

$t->write_file('html/d x/index.html', "x\n");
$t->write_file("html/d\xc3\xa9/index.html", "e\n");
$t->write_file('html/q"x/index.html', "q\n");
$t->write_file('html/plain/index.html', "p\n");

$t->plan(14);
$t->run;

my $port = port(8080);

sub loc {
    my ($uri, %o) = @_;
    my $host = $o{host} // 'localhost';
    my $r = parse_response(http("GET $uri HTTP/1.0\r\nHost: $host\r\n\r\n",
            port => $o{port})) // {};

    return ($r->{status} // 0) . ' ' . ($r->{headers}{location} // '-');
}

is(loc('/d%20x?a=1&b=%20'), "301 http://localhost:$port/d%20x/?a=1&b=%20",
    'directory: a space escaped, the args as sent');
is(loc('/d%C3%A9?z'), "301 http://localhost:$port/d%C3%A9/?z",
    'directory: 8-bit bytes escaped');
is(loc('/q%22x'), "301 http://localhost:$port/q%22x/",
    'directory: a quote escaped');
is(loc('/%64%20x'), "301 http://localhost:$port/d%20x/",
    'directory: the decoded path, escaped again');
is(loc('/plain?a=%2F&b'), "301 http://localhost:$port/plain/?a=%2F&b",
    'directory: plain path, args kept');
is(loc('/d%20x?q=%41', port => 8081), '301 /d%20x/?q=%41',
    'directory, absolute_redirect off: escaped too');

is(loc('/ret?a=1'), "301 http://localhost:$port/x",
    'return 301 /x: no args added');

my $r = http("GET /ep HTTP/1.0\r\nHost: localhost\r\n\r\n");
my @l = $r =~ /^Location: (.*?)\r$/mg;
is(scalar @l, 1, 'error_page to a URL: one Location');
is($l[0], 'http://example.com/o?x=1', 'error_page to a URL: the new one');
like($r, qr{^HTTP/1\.1 302 }, 'error_page =302: 302');

# Host: an IPvFuture literal (RFC 3986 3.2.2) and long IPv4 forms.

is(loc('/d%20x', host => '[v1.x]'), "301 http://[v1.x]:$port/d%20x/",
    'Host [v1.x]: accepted, kept in the Location');
is(loc('/d%20x', host => '127.000.000.001:000000000000000000000000080'),
    "301 http://127.000.000.001:$port/d%20x/",
    'Host: long IPv4 and port: accepted');
is(loc('/d%20x', host => '[v1.x/y]'), '400 -', 'Host [v1.x/y]: 400');

$r = parse_response(http("GET http://[v1.x]/host HTTP/1.1\r\nHost: localhost\r\n"
        . "Connection: close\r\n\r\n")) // {};
is($r->{body}, "[v1.x]\n", 'absolute-form with an IPvFuture authority');
