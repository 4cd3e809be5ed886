#!/usr/bin/perl
# debian_conf.t: Debian's stock nginx.conf with sites-enabled/default
# (t/debian/, paths and ports changed only) passes `kiln -t` and serves:
# index.nginx-debian.html through try_files and index, 404 for the rest,
# types from mime.types, gzip for HTTP/1.1, on 127.0.0.1 and ::1, workers
# as www-data, the access log. It sets ssl_protocols and
# ssl_prefer_server_ciphers at http level with no TLS listener.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use IO::Socket::IP;
use Test::More;
use Test::Kiln;

my $t = Test::Kiln->new->has('static', 'index', 'try_files', 'gzip',
    'ssl');
my $d = $t->testdir;

sub stock {
    my ($name) = @_;
    my ($fh, $text);

    open($fh, '<', "$Bin/debian/$name") or die "$Bin/debian/$name: $!\n";
    local $/;
    $text = <$fh>;
    close $fh;

    return $text;
}

$t->write_file_expand('kiln.conf', stock('nginx.conf'));
$t->write_file_expand('sites-enabled/default', stock('sites-enabled/default'));
$t->write_file('mime.types', do {
    open(my $fh, '<', "$Bin/../conf/mime.types") or die "mime.types: $!\n";
    local $/;
    <$fh>;
});
mkdir "$d/modules-enabled";
mkdir "$d/conf.d";

my $page = "<!DOCTYPE html>\n<title>Welcome to nginx!</title>\n"
    . ('<p>the Debian default page</p>' x 10) . "\n";
$t->write_file('html/index.nginx-debian.html', $page);
$t->write_file('html/style.css', "body { color: black; }\n");

my $www = getpwnam('www-data');

$t->plan(17);

my $r = $t->run_kiln($t->kiln_args, '-t');
is($r->{exit}, 0, '-t: the stock configuration is accepted');
like($r->{stderr}, qr/test is successful/, '-t: test is successful');
unlike($r->{stderr}, qr/\[emerg\]/, '-t: no error');

$t->run;

$r = parse_response(http_get('/'));
is($r->{status}, 200, 'GET /: 200');
is($r->{body}, $page, 'GET /: index.nginx-debian.html');
is($r->{headers}{'content-type'}, 'text/html', 'GET /: text/html');

$r = parse_response(http_get('/style.css'));
is($r->{headers}{'content-type'}, 'text/css', 'mime.types: text/css');

$r = parse_response(http_get('/missing'));
is($r->{status}, 404, 'try_files ... =404: a missing file is 404');

$r = parse_response(http("GET / HTTP/1.1\r\nHost: localhost\r\n"
    . "Accept-Encoding: gzip\r\nConnection: close\r\n\r\n"));
is($r->{status}, 200, 'HTTP/1.1 with gzip: 200');
is($r->{headers}{'content-encoding'}, 'gzip', 'gzip on: text/html gzipped');

$r = parse_response(http("GET / HTTP/1.0\r\n\r\n"));
is($r->{headers}{'content-encoding'}, undef,
    'gzip_http_version 1.1: not for HTTP/1.0');

# listen [::1]:PORT, the stock [::]:80 on loopback.

my $s = IO::Socket::IP->new(PeerHost => '::1', PeerPort => port(8080),
    Timeout => 5);
SKIP: {
    skip 'no IPv6 loopback', 2 unless $s;
    $r = parse_response(http("GET / HTTP/1.0\r\nHost: localhost\r\n\r\n",
        socket => $s));
    is($r->{status}, 200, 'IPv6 listener: 200');
    is($r->{body}, $page, 'IPv6 listener: the page');
}

my @w = $t->worker_pids;
ok(scalar @w >= 1, 'worker_processes auto: workers run');

SKIP: {
    skip 'not root: no user switch', 1 if $> != 0;
    my @uids = map { (stat "/proc/$_")[4] } @w;
    is_deeply([ grep { $_ != $www } @uids ], [], 'user www-data: workers');
}

ok(wait_for(sub { $t->read_file('access.log') =~ m{"GET /missing HTTP/1.0" 404 } },
    5), 'access_log: combined format, the 404 logged');
like($t->read_file('access.log'),
    qr/^127\.0\.0\.1 - - \[[^]]+\] "GET \/ HTTP\/1\.0" 200 \d+ "-" "-"$/m,
    'access_log: the combined line for GET /');
