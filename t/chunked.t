#!/usr/bin/perl
# chunked.t: the chunked transfer coding of responses. Only a response of
# unknown length is chunked, and nothing built into kiln makes one yet
# (gzip and proxy will): so this checks that responses of known length,
# files, error pages, redirects, HEAD, stay as they are, and that the
# chunked_transfer_encoding directive is read. The chunks on the wire are
# tested in t/unit/test_http_chunked_filter.c, through the real filter
# chain; add the unknown-length cases here with the first module that
# makes them.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;

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
    chunked_transfer_encoding on;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;
        chunked_transfer_encoding on;

        location / {
            root %%TESTDIR%%/html;
        }

        location /off/ {
            chunked_transfer_encoding off;
            root %%TESTDIR%%/html;
        }
    }
}
EOF

$t->write_file('html/a.txt', "file a\n");
$t->write_file('html/off/b.txt', "file b\n");
$t->write_file('html/dir/index.html', "index\n");

$t->plan(17);
$t->run;

sub get11 {
    my ($uri, %o) = @_;
    my $method = $o{method} // 'GET';

    return parse_response(http("$method $uri HTTP/1.1\r\nHost: localhost\r\n"
        . "Connection: close\r\n\r\n")) // {};
}

my $r = get11('/a.txt');
is($r->{status}, 200, 'file: 200');
is($r->{headers}{'content-length'}, 7, 'file: Content-Length');
ok(!exists $r->{headers}{'transfer-encoding'}, 'file: not chunked');
is($r->{body}, "file a\n", 'file: the body as it is');

$r = get11('/missing');
is($r->{status}, 404, 'error page: 404');
ok(defined $r->{headers}{'content-length'}, 'error page: Content-Length');
ok(!exists $r->{headers}{'transfer-encoding'}, 'error page: not chunked');

$r = get11('/dir');
is($r->{status}, 301, 'redirect: 301');
ok(!exists $r->{headers}{'transfer-encoding'}, 'redirect: not chunked');

$r = get11('/a.txt', method => 'HEAD');
is($r->{headers}{'content-length'}, 7, 'HEAD: Content-Length');
ok(!exists $r->{headers}{'transfer-encoding'}, 'HEAD: not chunked');
is($r->{body}, '', 'HEAD: no body');

$r = get11('/off/b.txt');
is($r->{body}, "file b\n", 'chunked_transfer_encoding off: served');
is($r->{headers}{'content-length'}, 7,
    'chunked_transfer_encoding off: Content-Length as ever');

# The directive is a flag, in http, server and location.

$t->write_file('bad.conf',
    "events { }\nhttp { chunked_transfer_encoding maybe; }\n");
my $d = $t->testdir;
my $res = $t->run_kiln('-t', '-p', "$d/", '-c', "$d/bad.conf", '-e',
    "$d/check.log");
isnt($res->{exit}, 0, 'chunked_transfer_encoding maybe: refused');
like($res->{stderr}, qr/chunked_transfer_encoding/,
    'chunked_transfer_encoding maybe: the message names it');

$t->write_file('dup.conf', "events { }\nhttp { chunked_transfer_encoding on;"
    . " chunked_transfer_encoding off; }\n");
$res = $t->run_kiln('-t', '-p', "$d/", '-c', "$d/dup.conf", '-e',
    "$d/check.log");
like($res->{stderr}, qr/is duplicate/, 'chunked_transfer_encoding twice: '
    . 'is duplicate');

$t->stop;
