#!/usr/bin/perl
# variables.t: the core variables, as a log_format writes them, for a
# keep-alive pair of requests, an internal redirect, a request without
# Host, and regex captures in a complex value (access_log if=$1).

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Cwd qw(realpath);
use Sys::Hostname qw(hostname);
use Test::More;
use Test::Kiln;

my $t = Test::Kiln->new->has('log', 'static', 'index');
my $d = $t->testdir;

my @names = qw(uri document_uri args query_string is_args arg_x arg_y
    request_uri request request_method server_protocol scheme https
    http_host host server_name server_addr server_port remote_addr
    remote_port binary_remote_addr http_user_agent http_cookie cookie_a
    cookie_e http_x_forwarded_for http_x_dashed_name content_type
    content_length status body_bytes_sent bytes_sent request_length
    request_time connection connection_requests remote_user
    sent_http_content_type sent_http_content_length sent_http_etag
    document_root realpath_root request_filename hostname pid msec
    time_local time_iso8601 nginx_version);

my $format = join '|', map { "\$$_" } @names;

$t->write_file_expand('kiln.conf', <<"EOF");
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes 1;

events {
    worker_connections 64;
}

http {
    types {
        text/plain  txt;
        text/html   html;
    }

    log_format  vars  '$format';

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;
        root         %%TESTDIR%%/html/;
        access_log   %%TESTDIR%%/vars.log vars;

        location /other/ {
            root  %%TESTDIR%%/other;
        }

        location ~ ^/cap/(\\w+)/(\\w*)\$ {
            access_log  %%TESTDIR%%/vars.log vars;
            access_log  %%TESTDIR%%/cap.log vars if=\$2;
        }
    }

    server {
        listen       127.0.0.1:%%PORT_8081%%;
        server_name  vhost.example  alias.example;
        root         %%TESTDIR%%/html;
        access_log   %%TESTDIR%%/vhost.log vars;
    }
}
EOF

$t->write_file('html/dir/file.txt', "some text\n");
$t->write_file('html/dir/index.html', "<p>index</p>\n");
$t->write_file('other/other/x.txt', "other\n");
$t->write_file('html/cap/a/1', "1\n");
$t->write_file('html/cap/a/0', "0\n");

$t->plan(112);
$t->run;

my $port = port(8080);
my $root = "$d/html";

# entries(FILE): one { name => value } per line of the log.

sub entries {
    my ($file) = @_;
    my @e;

    for my $line (split /\n/, $t->read_file($file)) {
        my @v = split /\|/, $line, -1;
        my %e;
        @e{@names} = @v;
        push @e, \%e;
    }

    return @e;
}

# A keep-alive pair: GET with every kind of field, then HEAD of a missing
# file that closes.

my $req1 = "GET /dir/file.txt?x=1&y=two%20 HTTP/1.1\r\n"
    . "Host: Example.COM:1234\r\n"
    . "User-Agent: agent/1.0\r\n"
    . "Cookie: a=b1; c=d\r\n"
    . "Cookie: e=f\r\n"
    . "X-Forwarded-For: 10.0.0.1\r\n"
    . "X-Forwarded-For: 10.0.0.2\r\n"
    . "X-Dashed-Name: dash\r\n"
    . "Content-Type: text/x-test\r\n"
    . "\r\n";
my $req2 = "HEAD /missing.txt?x= HTTP/1.1\r\n"
    . "Host: h2\r\n"
    . "Content-Length: 0\r\n"
    . "Connection: close\r\n"
    . "\r\n";

my $s = http($req1, start => 1);
my $raw1 = read_response($s);
http($req2, socket => $s, start => 1);
my $raw2 = read_response($s, head => 1);
my $r1 = parse_response($raw1);
my $r2 = parse_response($raw2);

is($r1->{status}, 200, 'first request: 200');
is($r2->{status}, 404, 'second request: 404');

ok(wait_for(sub { entries('vars.log') == 2 }), 'two lines logged');
my ($e1, $e2) = entries('vars.log');
$e1 //= {};
$e2 //= {};

my %want1 = (
    uri                      => '/dir/file.txt',
    document_uri             => '/dir/file.txt',
    args                     => 'x=1&y=two%20',
    query_string             => 'x=1&y=two%20',
    is_args                  => '?',
    arg_x                    => '1',
    arg_y                    => 'two%20',
    request_uri              => '/dir/file.txt?x=1&y=two%20',
    request                  => 'GET /dir/file.txt?x=1&y=two%20 HTTP/1.1',
    request_method           => 'GET',
    server_protocol          => 'HTTP/1.1',
    scheme                   => 'http',
    https                    => '',
    http_host                => 'Example.COM:1234',
    host                     => 'example.com',
    server_name              => 'localhost',
    server_addr              => '127.0.0.1',
    server_port              => $port,
    remote_addr              => '127.0.0.1',
    remote_port              => $s->sockport,
    binary_remote_addr       => '\x7F\x00\x00\x01',
    http_user_agent          => 'agent/1.0',
    http_cookie              => 'a=b1; c=d; e=f',
    cookie_a                 => 'b1',
    cookie_e                 => 'f',
    http_x_forwarded_for     => '10.0.0.1, 10.0.0.2',
    http_x_dashed_name       => 'dash',
    content_type             => 'text/x-test',
    content_length           => '-',
    status                   => '200',
    body_bytes_sent          => length($r1->{body}),
    bytes_sent               => length($raw1),
    request_length           => length($req1),
    connection_requests      => '1',
    remote_user              => '-',
    sent_http_content_type   => 'text/plain',
    sent_http_content_length => '10',
    sent_http_etag           => ($r1->{headers}{etag} // '') =~ s/"/\\x22/gr,
    document_root            => $root,
    realpath_root            => realpath($root),
    request_filename         => "$root/dir/file.txt",
    hostname                 => lc hostname(),
);

for my $name (sort keys %want1) {
    is($e1->{$name}, $want1{$name}, "\$$name");
}

my ($worker) = $t->worker_pids;
is($e1->{pid}, $worker, '$pid: the worker\'s');
like($e1->{request_time}, qr/^\d+\.\d{3}$/, '$request_time: seconds.ms');
like($e1->{msec}, qr/^\d+\.\d{3}$/, '$msec: seconds.ms');
cmp_ok(abs(($e1->{msec} // 0) - time()), '<', 30, '$msec: now');
like($e1->{time_local},
    qr{^\d\d/(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}$},
    '$time_local');
like($e1->{time_iso8601},
    qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/, '$time_iso8601');
like($e1->{connection}, qr/^\d+$/, '$connection: a number');
like($e1->{nginx_version}, qr/^\d+\.\d+\.\d+$/, '$nginx_version');

# The second request of the connection counts its own bytes.

my %want2 = (
    uri                      => '/missing.txt',
    args                     => 'x=',
    is_args                  => '?',
    arg_x                    => '',
    arg_y                    => '-',
    request_method           => 'HEAD',
    host                     => 'h2',
    http_host                => 'h2',
    cookie_a                 => '-',
    http_cookie              => '-',
    http_user_agent          => '-',
    http_x_forwarded_for     => '-',
    content_type             => '-',
    content_length           => '0',
    status                   => '404',
    body_bytes_sent          => '0',
    bytes_sent               => length($raw2),
    request_length           => length($req2),
    connection_requests      => '2',
    connection               => $e1->{connection},
    remote_port              => $s->sockport,
    sent_http_content_type   => 'text/html',
    sent_http_content_length => $r2->{headers}{'content-length'},
    sent_http_etag           => '-',
    request_filename         => "$root/missing.txt",
);

for my $name (sort keys %want2) {
    is($e2->{$name}, $want2{$name}, "second request: \$$name");
}

# An internal redirect (index): $uri follows it, $request_uri does not.

is(parse_response(http_get('/dir/'))->{status}, 200, 'index: 200');
ok(wait_for(sub { entries('vars.log') == 3 }), 'index: logged');
my $e3 = (entries('vars.log'))[2] // {};
is($e3->{uri}, '/dir/index.html', 'index: $uri is the index file');
is($e3->{document_uri}, '/dir/index.html', 'index: $document_uri too');
is($e3->{request_uri}, '/dir/', 'index: $request_uri as sent');
is($e3->{request_filename}, "$root/dir/index.html",
    'index: $request_filename');
is($e3->{args}, '-', 'no query: $args is "-"');
is($e3->{is_args}, '', 'no query: $is_args is empty');
is($e3->{request}, 'GET /dir/ HTTP/1.0', 'HTTP/1.0: $request');
is($e3->{host}, 'localhost', 'Host: localhost: $host');
is($e3->{connection_requests}, '1', 'a new connection: 1 request');

# A location with its own root; a redirect for a directory.

http_get('/other/x.txt');
my $r = parse_response(http_get('/dir'));
is($r->{status}, 301, 'directory without slash: 301');
ok(wait_for(sub { entries('vars.log') == 5 }), 'both logged');
my ($e4, $e5) = (entries('vars.log'))[3, 4];
is($e4->{document_root}, "$d/other", 'location root: $document_root');
is($e4->{request_filename}, "$d/other/other/x.txt",
    'location root: $request_filename');
is($e4->{status}, '200', 'location root: 200');
is($e5->{status}, '301', '$status 301');
is($e5->{body_bytes_sent}, length($r->{body}), '301: $body_bytes_sent');

# No Host: $host is the server's first name; "?" alone is no arguments.

$r = parse_response(http("GET /dir/file.txt? HTTP/1.0\r\n\r\n",
    port => 8081));
is($r->{status}, 200, 'no Host: 200');
ok(wait_for(sub { entries('vhost.log') == 1 }), 'no Host: logged');
my $e6 = (entries('vhost.log'))[0] // {};
is($e6->{host}, 'vhost.example', 'no Host: $host is the server_name');
is($e6->{http_host}, '-', 'no Host: $http_host is "-"');
is($e6->{server_name}, 'vhost.example', '$server_name: the first name');
is($e6->{server_port}, port(8081), '$server_port: the second port');
is($e6->{request_uri}, '/dir/file.txt?', '"?" alone: $request_uri keeps it');
is($e6->{args}, '-', '"?" alone: $args is "-" (as nginx)');
is($e6->{is_args}, '', '"?" alone: $is_args is empty');

# Regex captures in a complex value: if=$2 logs unless it is "" or "0".

for my $uri ('/cap/a/1', '/cap/a/0', '/cap/a/') {
    http_get($uri);
}

ok(wait_for(sub { entries('vars.log') == 8 }), 'captures: all in vars.log');
my @cap = entries('cap.log');
is(scalar @cap, 1, 'if=$2: only the capture that is not "" or "0"');
is($cap[0]{uri} // '', '/cap/a/1', 'if=$2: /cap/a/1');

# Configuration errors, in nginx's words (no file:line for unknown).

sub conf_error {
    my ($http) = @_;

    $t->write_file('bad.conf', "events { }\nhttp {\n$http\n"
        . "server { listen 127.0.0.1:1; } }\n");
    my $res = $t->run_kiln('-p', "$d/", '-e', "$d/bad.log", '-c',
        "$d/bad.conf", '-t');
    return ($res->{exit}, $res->{stderr} . $t->read_file('bad.log'));
}

my ($rc, $err) = conf_error("log_format f '\$http_ \$arg_ \$cookie_ "
    . "\$sent_http_ \$HOST'; access_log $d/x.log f;");
is($rc, 0, 'empty prefixed names and upper case are known') or diag($err);

($rc, $err) = conf_error("log_format f '\$1'; access_log $d/x.log f;");
ok($rc && $err =~ /unknown "1" variable/, 'log_format has no captures');

($rc, $err) = conf_error("access_log $d/x.log combined if=\$a\$;");
ok($rc && $err =~ /invalid variable name/, 'if= with a lone \$');

($rc, $err) = conf_error("access_log $d/x.log combined if=\$nope;");
ok($rc && $err =~ /\[emerg\] unknown "nope" variable$/m,
    'if= with an unknown variable');
