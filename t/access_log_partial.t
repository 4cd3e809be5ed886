#!/usr/bin/perl
# access_log_partial.t: a request that ends before its request line was
# parsed (a malformed line, the client gone mid-line, client_header_timeout)
# is logged with as much of the line as came, up to the first CR or LF, as
# nginx logs it.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;

my $t = Test::Kiln->new->has('log');

$t->write_file_expand('kiln.conf', <<'EOF2');
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes 1;

events {
    worker_connections 64;
}

http {
    log_format  req  '$status [$request]';

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        client_header_timeout 1s;
        access_log %%TESTDIR%%/access.log req;

        location / { return 204; }
    }
}
EOF2

$t->plan(4);
$t->run;

my $log = $t->testdir . '/access.log';

# The log line is written before the connection closes; each wait below
# is for the close (or the server's answer), then for the line.
sub lines {
    my ($n) = @_;
    my @l;

    wait_for(sub {
        @l = split /\n/, ($t->read_file('access.log') // '');
        return @l >= $n;
    }, 10);

    return @l;
}

my $r = http("GET /a b c HTTP/1.1\r\nHost: x\r\n\r\n");
like($r, qr{^HTTP/1\.1 400 }, 'a malformed request line: 400');

my $s = http("GET /half", start => 1);
$s->shutdown(1);
wait_closed($s, 10);

$s = http("GET /slow HTTP/1.", start => 1);
wait_closed($s, 10);

my @l = lines(3);
is($l[0], '400 [GET /a b c HTTP/1.1]', 'logged as far as the line went');
is($l[1], '400 [GET /half]', 'the client gone mid-line');
is($l[2], '408 [GET /slow HTTP/1.]', 'client_header_timeout mid-line');

$t->done;
