# tcp_nopush.t: with sendfile and tcp_nopush on, a file response's header
# leaves in the same TCP segment as the file's first bytes (one data
# segment for header and a 10000-byte file on loopback, whose MSS is
# about 64 KiB); with tcp_nopush off the header leaves alone first; both
# bodies intact. A file sent in several rounds (sendfile_max_chunk 100k,
# 2 MiB, corked meanwhile) arrives whole on a keep-alive connection and
# the next request on it is answered. The client counts the segments it received from
# TCP_INFO (tcpi_data_segs_in, Linux 4.6 and later).

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;

my $t = Test::Kiln->new->has('static');

$t->write_file_expand('kiln.conf', <<'EOF');
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes 1;

events {
    worker_connections 64;
}

http {
    access_log off;
    sendfile on;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;
        tcp_nopush   on;

        location / {
            root %%TESTDIR%%/html;
        }

        location /rounds/ {
            alias %%TESTDIR%%/html/;
            sendfile_max_chunk 100k;
        }
    }

    server {
        listen       127.0.0.1:%%PORT_8081%%;
        server_name  localhost;
        tcp_nopush   off;

        location / {
            root %%TESTDIR%%/html;
        }
    }
}
EOF

my $body = join('', map { sprintf("%07d\n", $_) } 0 .. 1249);
$t->write_file('html/10k.txt', $body);

my $big = join('', map { sprintf("%07d\n", $_) } 0 .. 262143);
$t->write_file('html/2m.bin', $big);

$t->plan(8);
$t->run;

# segments(PORT): the response to one HTTP/1.0 request for /10k.txt on a
# new connection, and the data segments the client received for it.
sub segments {
    my ($label) = @_;
    my ($s, $r, @segs);

    $s = http("GET /10k.txt HTTP/1.0\r\nHost: localhost\r\n\r\n",
        port => $label, start => 1) or return ('', -1);
    $r = http_read($s);
    @segs = tcp_segments_in($s);
    close $s;

    return ($r, $segs[1]);
}

my ($r, $segs) = segments('8080');
my $p = parse_response($r) // {};
is($p->{body}, $body, 'tcp_nopush on: body intact');
like($r, qr/^HTTP\/1\.1 200 /, 'tcp_nopush on: 200');
is($segs, 1, 'tcp_nopush on: header and file in one segment');

($r, $segs) = segments('8081');
$p = parse_response($r) // {};
is($p->{body}, $body, 'tcp_nopush off: body intact');
like($r, qr/^HTTP\/1\.1 200 /, 'tcp_nopush off: 200');
cmp_ok($segs, '>=', 2, 'tcp_nopush off: the header leaves alone');

# Two requests on one keep-alive connection: the 2 MiB file in rounds of
# 100 KiB (kiln corks for them), then the small file, which comes only
# if the first response ended whole. How the rounds are cut into
# segments shows over GBs, not here: t/bench/sendfile_cpu counts them
# (sendfile_cpu.segs).
{
    my $s = http_connect(port => '8080');
    my ($r1, $r2);

    print $s "GET /rounds/2m.bin HTTP/1.1\r\nHost: localhost\r\n\r\n";
    $r1 = http_read($s, one => 1) // '';
    print $s "GET /10k.txt HTTP/1.1\r\nHost: localhost\r\n"
        . "Connection: close\r\n\r\n";
    $r2 = http_read($s, one => 1) // '';
    close $s;

    $p = parse_response($r1) // {};
    ok(defined $p->{body} && $p->{body} eq $big, 'rounds: 2 MiB body intact');
    $p = parse_response($r2) // {};
    ok(defined $p->{body} && $p->{body} eq $body,
        'rounds: the next keep-alive request answered');
}

$t->done;
