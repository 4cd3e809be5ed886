#!/usr/bin/perl
# max_headers.t: the limit on request header field lines (nginx's current
# documentation: default 1000, http and server): one line over it is 400
# and the connection closes; the limit itself is answered.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;

# The directive is younger than Debian's nginx 1.22, which refuses it.
if (($ENV{KILN_BINARY} // '') =~ /nginx/) {
    plan(skip_all => 'nginx 1.22 has no max_headers');
}

my $t = Test::Kiln->new;

$t->write_file_expand('kiln.conf', <<'EOF');
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes 1;

events {
    worker_connections 64;
}

http {
    large_client_header_buffers  4 64k;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;
        max_headers  5;

        location / {
            return 200 "ok\n";
        }
    }

    server {
        listen       127.0.0.1:%%PORT_8081%%;
        server_name  localhost;

        location / {
            return 200 "ok\n";
        }
    }
}
EOF

$t->plan(8);
$t->run;

# req(N, PORT): a GET with Host and N - 1 more field lines.

sub req {
    my ($n, $port) = @_;
    my $h = join '', map { "X-F$_: v\r\n" } 2 .. $n;
    my $s = http("GET / HTTP/1.1\r\nHost: localhost\r\n$h\r\n", start => 1,
        port => $port);

    return ($s, parse_response(read_response($s)) // {});
}

my ($s, $r) = req(5, 8080);
is($r->{status}, 200, 'max_headers 5: 5 lines answered');
ok(!wait_closed($s, 0.2), 'max_headers 5: 5 lines, connection kept');

($s, $r) = req(6, 8080);
is($r->{status}, 400, 'max_headers 5: 6 lines, 400');
ok(wait_closed($s), 'max_headers 5: 6 lines, connection closed');

($s, $r) = req(1000, 8081);
is($r->{status}, 200, 'default 1000: 1000 lines answered');
($s, $r) = req(1001, 8081);
is($r->{status}, 400, 'default 1000: 1001 lines, 400');

like($t->read_file('error.log'), qr/client sent too many header lines/,
    'logged: client sent too many header lines');

# Its contexts: http and server, not location.

my $d = $t->testdir;
$t->write_file('bad.conf', <<"EOF");
error_log $d/bad.log;
events {
}
http {
    server {
        location / {
            max_headers 10;
        }
    }
}
EOF
my $res = $t->run_kiln('-p', "$d/", '-c', "$d/bad.conf", '-t');
like($res->{stderr},
    qr/"max_headers" directive is not allowed here in \Q$d\E\/bad\.conf:7/,
    'max_headers in a location: not allowed here');
