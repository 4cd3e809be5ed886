#!/usr/bin/perl
# copy_filter.t: file buffers read into memory by the copy filter: gzip of
# big files served with sendfile on (in the loop and with aio threads) and
# off; sendfile off without gzip (whole and ranges, aio threads or not,
# small output_buffers); a proxied 24 MiB body that spilled to its temp
# file, gzipped (sendfile on and off); output_buffers errors.
# The log check at the end asserts no alert, so no file buffer ever got to
# the socket with sendfile off.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Digest::MD5 qw(md5_hex);
use IO::Select;
use IO::Uncompress::Gunzip qw(gunzip $GunzipError);
use Socket qw(:DEFAULT);
use Test::More;
use Test::Kiln;

my $t = Test::Kiln->new->has('static', 'gzip_filter', 'proxy');
my $d = $t->testdir;

$t->write_file_expand('kiln.conf', <<'EOF');
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes 1;

events {
    worker_connections 64;
}

http {
    default_type  text/plain;
    log_format    st '$server_port $uri $status';
    access_log    %%TESTDIR%%/access.log st;

    gzip_http_version 1.0;
    gzip_min_length 0;
    gzip_comp_level 1;
    gzip_types text/plain;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;
        sendfile     on;
        gzip         on;
        root         %%TESTDIR%%/html;

        location /aio/ {
            alias %%TESTDIR%%/html/;
            aio threads;
        }

        location /gz/ {
            proxy_buffers 4 16k;
            proxy_pass http://127.0.0.1:%%PORT_8081%%/;
        }
    }

    server {
        listen       127.0.0.1:%%PORT_8081%%;
        server_name  peer;
        sendfile     on;
        root         %%TESTDIR%%/html;
    }

    server {
        listen       127.0.0.1:%%PORT_8082%%;
        server_name  localhost;
        sendfile     off;
        aio          threads;
        output_buffers 2 16k;
        root         %%TESTDIR%%/html;

        location /plain/ {
            alias %%TESTDIR%%/html/;
            aio off;
            output_buffers 1 4k;
        }

        location /gzip/ {
            alias %%TESTDIR%%/html/;
            gzip on;
        }

        location /gz/ {
            gzip on;
            proxy_buffers 4 16k;
            proxy_pass http://127.0.0.1:%%PORT_8081%%/;
        }
    }
}
EOF

# 8 MiB of text whose every 16-byte line names its offset, so a wrong
# piece shows where it came from; 24 MiB that deflate cannot shrink, so
# the compressed body is as big and fills the client's socket.
my $text = join('', map { sprintf("%015x\n", $_ * 16) } 0 .. 524287);
$t->write_file('html/text.txt', $text);

my $BIG = 24 * 1024 * 1024;
my $rand = '';
open(my $ur, '<', '/dev/urandom') or die "urandom: $!\n";
while (length $rand < $BIG) {
    read($ur, $rand, $BIG - length $rand, length $rand) or die "urandom: $!\n";
}
close $ur;
$t->write_file('html/rand.txt', $rand);

$t->plan(31);
$t->run(wait_ports => [8080, 8081, 8082]);

sub get {
    my ($uri, %o) = @_;
    my $h = '';

    $h .= "Accept-Encoding: gzip\r\n" if $o{gzip};
    $h .= "Range: bytes=$o{range}\r\n" if $o{range};

    return parse_response(http("GET $uri HTTP/1.0\r\nHost: localhost\r\n"
        . "$h\r\n", port => $o{port} // 8080, timeout => 60)) // {};
}

sub gunzipped {
    my ($r) = @_;
    my $plain = '';

    return '' unless ($r->{headers}{'content-encoding'} // '') eq 'gzip';
    gunzip(\$r->{body} => \$plain) or diag("gunzip: $GunzipError");
    return $plain;
}

# --- gzip of files ----------------------------------------------------------

for my $case (['/text.txt', 8080, 'sendfile on'],
    ['/aio/text.txt', 8080, 'sendfile on, aio threads'],
    ['/gzip/text.txt', 8082, 'sendfile off, aio threads'])
{
    my ($uri, $p, $what) = @$case;
    my $r = get($uri, port => $p, gzip => 1);

    is($r->{headers}{'content-encoding'}, 'gzip', "gzip, $what: compressed");
    ok(length($r->{body} // '') < length($text) / 4,
        "gzip, $what: smaller");
    ok(gunzipped($r) eq $text, "gzip, $what: the file's bytes");
}

# --- sendfile off, no filter needing memory ----------------------------------

for my $case (['/text.txt', 'aio threads, output_buffers 2 16k'],
    ['/plain/text.txt', 'in the loop, output_buffers 1 4k'])
{
    my ($uri, $what) = @$case;
    my $r = get($uri, port => 8082);

    is($r->{headers}{'content-length'}, length $text,
        "sendfile off, $what: Content-Length");
    is(md5_hex($r->{body} // ''), md5_hex($text),
        "sendfile off, $what: the bytes");

    $r = get($uri, port => 8082, range => '17-100000,5000000-');
    like($r->{body} // '',
        qr{\r\n\r\n\Q@{[substr($text, 17, 100000 - 17 + 1)]}\E\r\n}s,
        "sendfile off, $what: first range");
    ok(index($r->{body} // '', substr($text, 5000000) . "\r\n--") > 0,
        "sendfile off, $what: second range, to the end");
}

# --- a proxied body spilled to its temp file, then gzipped ---------------------

# A client with a small receive buffer: nothing is read until asked.
sub slow_get {
    my ($port, $uri) = @_;
    my $s;

    socket($s, PF_INET, SOCK_STREAM, 0) or die "socket: $!\n";
    setsockopt($s, SOL_SOCKET, SO_RCVBUF, 4096) or die "SO_RCVBUF: $!\n";
    connect($s, pack_sockaddr_in(port($port), inet_aton('127.0.0.1')))
        or die "connect: $!\n";
    syswrite($s, "GET $uri HTTP/1.0\r\nHost: localhost\r\n"
        . "Accept-Encoding: gzip\r\n\r\n");
    return $s;
}

# Read to the close in bounded steps.
sub read_all {
    my ($s) = @_;
    my ($raw, $n, $sel);

    $raw = '';
    $sel = IO::Select->new($s);
    for (1 .. 100000) {
        last unless $sel->can_read(20);
        $n = sysread($s, $raw, 65536, length $raw);
        last unless $n;
    }
    close $s;
    return parse_response($raw) // {};
}

sub count {
    my ($file, $re) = @_;
    return scalar grep { $_ =~ $re } split /\n/, $t->read_file($file);
}

my $spilled = qr/an upstream response is buffered to a temporary file/;

for my $case ([8080, 'sendfile on'], [8082, 'sendfile off'])
{
    my ($p, $what) = @$case;
    my $done = qr{^@{[port(8081)]} /rand\.txt 200$};
    my $peer = count('access.log', $done);
    my $temp = count('error.log', $spilled);

    my $s = slow_get($p, '/gz/rand.txt');

    ok(wait_for(sub { count('access.log', $done) > $peer }, 30),
        "spilled, gzip, $what: the peer was done before the client read");
    is(count('error.log', $spilled), $temp + 1,
        "spilled, gzip, $what: the temp file line");

    my $r = read_all($s);

    is($r->{status}, 200, "spilled, gzip, $what: 200");
    is($r->{headers}{'content-encoding'}, 'gzip',
        "spilled, gzip, $what: compressed");
    my $plain = gunzipped($r);
    is(length $plain, $BIG, "spilled, gzip, $what: 24 MiB once gunzipped");
    ok($plain eq $rand, "spilled, gzip, $what: the peer's bytes");
}

# --- configuration -------------------------------------------------------------

for my $case (['output_buffers 0 32k;', qr/"output_buffers" directive invalid value in /],
    ['output_buffers 2 0;', qr/"output_buffers" directive invalid value in /])
{
    my ($line, $re) = @$case;

    $t->write_file_expand('bad.conf', "events { }\nhttp {\n    $line\n"
        . "    server { listen 127.0.0.1:%%PORT_8080%%; }\n}\n");
    my $r = $t->run_kiln('-p', "$d/", '-c', "$d/bad.conf", '-e',
        "$d/test.log", '-t');
    ok($r->{exit} != 0 && $r->{stderr} =~ $re, "config error: $line");
}

$t->done;
