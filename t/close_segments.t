# close_segments.t: the last response on a connection kiln closes after
# (HTTP/1.0, "Connection: close", keepalive_timeout 0, an error page, a
# file by sendfile under tcp_nopush, a lingering close after a body too
# large to read) leaves in the same TCP segment as the FIN: the client
# receives no segment more than on a kept-alive connection, which has no
# FIN at all; kept-alive responses are not held back (a second request
# on the connection is answered).
# The client counts the segments it received without data from TCP_INFO
# (tcpi_segs_in - tcpi_data_segs_in, Linux 4.6 and later): the SYN-ACK
# and the ACK of the request on every connection, and the FIN when it
# comes alone.
#
# nginx 1.22 sends the FIN alone after the responses from memory (tests
# 4, 7, 10, 12 and 18 fail against it); only a file sent under sendfile
# and tcp_nopush (TCP_CORK), as on port 8082, has it ride the last
# segment.

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

    server {
        listen                127.0.0.1:%%PORT_8080%%;
        server_name           localhost;
        client_max_body_size  5;

        location / {
            root %%TESTDIR%%/html;
        }
    }

    server {
        listen       127.0.0.1:%%PORT_8082%%;
        server_name  localhost;
        sendfile     on;
        tcp_nopush   on;

        location / {
            root %%TESTDIR%%/html;
        }
    }

    server {
        listen             127.0.0.1:%%PORT_8081%%;
        server_name        localhost;
        keepalive_timeout  0;

        location / {
            root %%TESTDIR%%/html;
        }
    }
}
EOF

my $body = join('', map { sprintf("%07d\n", $_) } 0 .. 127);    # 1 KiB
$t->write_file('html/1k.txt', $body);

# Past what the open-file cache keeps in memory (8 KiB), so sent with
# sendfile, and less than loopback's MSS (about 64 KiB), so one segment:
# a longer file's tail waits behind unacknowledged data (Nagle) and
# takes the FIN with it anyway.
my $big = join('', map { sprintf("%07d\n", $_) } 0 .. 2559);    # 20 KiB
$t->write_file('html/20k.txt', $big);

$t->plan(18);
$t->run;

# Segments without data the client received on S so far.
sub bare_segments {
    my ($all, $data) = tcp_segments_in($_[0]);
    return $all - $data;
}

# closed(REQUEST, PORT): the response read to the server's close, and the
# bare segments received.
sub closed {
    my ($req, $port) = @_;
    my ($s, $r, $n);

    $s = http($req, port => $port, start => 1) or return ('', -1);
    $r = http_read($s);
    $n = bare_segments($s);
    close $s;

    return ($r, $n);
}

# A kept-alive connection: one response, no FIN; then a second request.
my $s = http("GET /1k.txt HTTP/1.1\r\nHost: localhost\r\n\r\n",
    start => 1);
my $r = http_read($s, one => 1);
my $alive = bare_segments($s);
is((parse_response($r) // {})->{body}, $body, 'keep-alive: body intact');
$r = http("GET /1k.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    socket => $s);
like($r, qr/^HTTP\/1\.1 200 .*\r\n\r\n\Q$body\E\z/s,
    'keep-alive: the next request on the connection is answered');
close $s;

my ($n, $p);

($r, $n) = closed("GET /1k.txt HTTP/1.0\r\nHost: localhost\r\n\r\n", 8080);
is((parse_response($r) // {})->{body}, $body, 'HTTP/1.0: body intact');
is($n, $alive, 'HTTP/1.0: the FIN came with the response');

($r, $n) = closed("GET /1k.txt HTTP/1.1\r\nHost: localhost\r\n"
    . "Connection: close\r\n\r\n", 8080);
is((parse_response($r) // {})->{body}, $body, 'Connection: close: body intact');
like($r, qr/\r\nConnection: close\r\n/, 'Connection: close: said so');
is($n, $alive, 'Connection: close: the FIN came with the response');

($r, $n) = closed("GET /1k.txt HTTP/1.1\r\nHost: localhost\r\n\r\n", 8081);
is((parse_response($r) // {})->{body}, $body, 'keepalive_timeout 0: body intact');
like($r, qr/\r\nConnection: close\r\n/, 'keepalive_timeout 0: close said');
is($n, $alive, 'keepalive_timeout 0: the FIN came with the response');

($r, $n) = closed("GET /nothing HTTP/1.1\r\nHost: localhost\r\n"
    . "Connection: close\r\n\r\n", 8080);
like($r, qr/^HTTP\/1\.1 404 .*<\/html>\r?\n\z/s, '404: the whole page');
is($n, $alive, '404: the FIN came with the page');

# A file by sendfile under tcp_nopush: corked for its last bytes, as
# nginx does, so close() sends them with the FIN.
($r, $n) = closed("GET /20k.txt HTTP/1.0\r\nHost: localhost\r\n\r\n", 8082);
is((parse_response($r) // {})->{body}, $big, 'sendfile: body intact');
is($n, $alive, 'sendfile, tcp_nopush: the FIN came with the last bytes');

# 413 to a POST whose body is never read: lingering close shuts down the
# sending side at once, and the response goes out with that FIN.
$s = http("POST /1k.txt HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n"
    . "\r\n", start => 1);
$r = http_read($s, one => 1);
like($r, qr/^HTTP\/1\.1 413 /, 'unread body: 413');
like($r, qr/\r\nConnection: close\r\n/, 'unread body: close said');
$r = http('0123456789', socket => $s);
is($r, '', 'unread body: the server closes after the body');
is(bare_segments($s), $alive, 'unread body: the FIN came with the response');
close $s;

$t->done;
