#!/usr/bin/perl
# headers.t: the headers filter: expires in each form (exact dates and
# max-age), add_header (variables, empty values, always, inheritance,
# Last-Modified and ETag replaced), add_trailer on chunked responses,
# and the directives' errors.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use POSIX qw(strftime);
use Test::More;
use Test::Kiln;
use Time::Local qw(timegm);

my $t = Test::Kiln->new->has('headers', 'static');
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
    types {
        text/html   html;
        text/plain  txt;
    }
    access_log off;

    add_header X-Http http;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;
        root         %%TESTDIR%%/html;

        location / { }

        location /epoch/  { expires epoch; }
        location /max/    { expires max; }
        location /hour/   { expires 1h; }
        location /plus/   { expires +1d; }
        location /minus/  { expires -1h; }
        location /zero/   { expires 0; }
        location /modified/ {
            expires modified 1d;
        }
        location /daily/  { expires @15h30m; }
        location /var/    { expires $arg_e; }
        location /off/ {
            expires 1h;

            location /off/in/ { expires off; }
            location /off/inherit/ { }
        }

        location /add/ {
            add_header X-A a;
            add_header X-Uri "uri=$uri";
            add_header X-Empty "";
            add_header X-Always yes always;
        }

        location /outer/ {
            add_header X-Outer o;

            location /outer/in/ { }
            location /outer/own/ {
                add_header X-Own own;
            }
        }

        location /replace/ {
            add_header Last-Modified "Mon, 01 Jan 2001 00:00:00 GMT";
            add_header ETag '"mine"';
        }

        location /remove/ {
            add_header Last-Modified "";
            add_header ETag "";
        }

        location /tr/ {
            add_trailer X-T "t=$uri";
            add_trailer X-Empty "";
            add_trailer X-Always yes always;
        }

        location /trerr/ {
            add_header X-E e always;
            expires 1h;
            error_page 404 /add/a.txt;
        }
    }
}
EOF

# The same files in each location's directory; a fixed time long past,
# and one a minute ago, for "expires modified".
my $old = timegm(5, 4, 3, 2, 0, 2020);
my $recent = time() - 60;

for my $dir (qw(. epoch max hour plus minus zero modified daily var off/in
    off/inherit add outer/in outer/own replace remove tr))
{
    $t->write_file("html/$dir/a.txt", "text\n");
    utime($old, $old, "$d/html/$dir/a.txt");
    $t->write_file("html/$dir/dir/index.html", "x\n");
}

$t->write_file('html/modified/recent.txt', "recent\n");
utime($recent, $recent, "$d/html/modified/recent.txt");

$t->plan(73);
$t->run;

my %mon = (Jan => 0, Feb => 1, Mar => 2, Apr => 3, May => 4, Jun => 5,
    Jul => 6, Aug => 7, Sep => 8, Oct => 9, Nov => 10, Dec => 11);

sub epoch {
    my ($date) = @_;

    return undef unless defined $date
        && $date =~ /^\w{3}, (\d\d) (\w{3}) (\d{4}) (\d\d):(\d\d):(\d\d) GMT$/;
    return timegm($6, $5, $4, $1, $mon{$2}, $3);
}

sub get11 {
    my ($uri, $extra) = @_;

    return parse_response(http("GET $uri HTTP/1.1\r\nHost: localhost\r\n"
        . "Connection: close\r\n" . ($extra // '') . "\r\n"));
}

sub get10 {
    my ($uri) = @_;

    return parse_response(http_get($uri));
}

sub names {
    my ($r) = @_;

    return join ' ', map { $_->[0] } @{$r->{header_list}};
}

my ($r, $date);

# --- expires -----------------------------------------------------------------

$r = get10('/epoch/a.txt');
is($r->{headers}{expires}, 'Thu, 01 Jan 1970 00:00:01 GMT', 'epoch: Expires');
is($r->{headers}{'cache-control'}, 'no-cache', 'epoch: no-cache');
like(names($r), qr/ETag Expires Cache-Control X-Http( Accept-Ranges)?$/,
    'epoch: after the response\'s own fields, before add_header');

$r = get10('/max/a.txt');
is($r->{headers}{expires}, 'Thu, 31 Dec 2037 23:55:55 GMT', 'max: Expires');
is($r->{headers}{'cache-control'}, 'max-age=315360000', 'max: ten years');

$r = get10('/hour/a.txt');
$date = epoch($r->{headers}{date});
is($r->{headers}{expires}, http_date($date + 3600), '1h: Date + 1h');
is($r->{headers}{'cache-control'}, 'max-age=3600', '1h: max-age');

$r = get10('/plus/a.txt');
$date = epoch($r->{headers}{date});
is($r->{headers}{expires}, http_date($date + 86400), '+1d: Date + 1d');
is($r->{headers}{'cache-control'}, 'max-age=86400', '+1d: max-age');

$r = get10('/minus/a.txt');
$date = epoch($r->{headers}{date});
is($r->{headers}{expires}, http_date($date - 3600), '-1h: Date - 1h');
is($r->{headers}{'cache-control'}, 'no-cache', '-1h: no-cache');

$r = get10('/zero/a.txt');
is($r->{headers}{expires}, $r->{headers}{date}, '0: Expires is Date');
is($r->{headers}{'cache-control'}, 'max-age=0', '0: max-age=0');

$r = get10('/modified/a.txt');
is($r->{headers}{expires}, 'Fri, 03 Jan 2020 03:04:05 GMT',
    'modified 1d: Last-Modified + 1d');
is($r->{headers}{'cache-control'}, 'no-cache',
    'modified 1d: in the past, no-cache');

$r = get10('/modified/recent.txt');
$date = epoch($r->{headers}{date});
is($r->{headers}{expires}, http_date($recent + 86400),
    'modified 1d, recent file: Last-Modified + 1d');
is($r->{headers}{'cache-control'}, 'max-age=' . ($recent + 86400 - $date),
    'modified 1d, recent file: max-age up to then');

$r = get10('/modified/dir/');
$date = epoch($r->{headers}{date});
ok(defined $r->{headers}{expires}, 'modified, directory index: Expires');

$r = get10('/daily/a.txt');
$date = epoch($r->{headers}{date});
my $exp = epoch($r->{headers}{expires});
is(strftime('%H:%M:%S', localtime($exp)), '15:30:00',
    '@15h30m: 15:30 local time');
ok($exp > $date && $exp - $date <= 86400, '@15h30m: within the next day');
is($r->{headers}{'cache-control'}, 'max-age=' . ($exp - $date),
    '@15h30m: max-age up to then');

$r = get10('/var/a.txt?e=2h');
$date = epoch($r->{headers}{date});
is($r->{headers}{expires}, http_date($date + 7200), '$arg_e=2h: Expires');
is($r->{headers}{'cache-control'}, 'max-age=7200', '$arg_e=2h: max-age');

$r = get10('/var/a.txt?e=max');
is($r->{headers}{'cache-control'}, 'max-age=315360000', '$arg_e=max');

$r = get10('/var/a.txt?e=bad');
is($r->{status}, 200, '$arg_e=bad: served');
ok(!exists $r->{headers}{expires}, '$arg_e=bad: no Expires');

$r = get10('/var/a.txt?e=off');
ok(!exists $r->{headers}{expires}, '$arg_e=off: no Expires');

$r = get10('/off/in/a.txt');
ok(!exists $r->{headers}{expires}, 'expires off in a nested location');
ok(!exists $r->{headers}{'cache-control'}, 'expires off: no Cache-Control');

$r = get10('/off/inherit/a.txt');
is($r->{headers}{'cache-control'}, 'max-age=3600', 'expires is inherited');

$r = get10('/hour/nope.txt');
is($r->{status}, 404, "missing file: not found");
ok(!exists $r->{headers}{expires}, 'expires: not on a 404');

$r = get10('/hour/dir');
is($r->{status}, 301, 'directory: 301');
is($r->{headers}{'cache-control'}, 'max-age=3600', 'expires: on a 301');

SKIP: {
    skip 'built without not_modified', 1
        unless -e "$Bin/../modules/not_modified.c"
        && $t->has_module('not_modified');

    $r = get10('/hour/a.txt');
    $r = get11('/hour/a.txt', "If-None-Match: $r->{headers}{etag}\r\n");
    is("$r->{status} $r->{headers}{'cache-control'}", '304 max-age=3600',
        'expires: on a 304');
}

# --- add_header --------------------------------------------------------------

$r = get10('/add/a.txt');
is($r->{headers}{'x-a'}, 'a', 'add_header');
is($r->{headers}{'x-uri'}, 'uri=/add/a.txt', 'add_header: variables');
ok(!exists $r->{headers}{'x-empty'}, 'add_header: an empty value adds none');
is($r->{headers}{'x-always'}, 'yes', 'add_header always: on a 200');
ok(!exists $r->{headers}{'x-http'},
    'add_header here: the http level\'s are not inherited');
like(names($r), qr/ETag X-A X-Uri X-Always( Accept-Ranges)?$/, 'add_header: in order, last');

$r = get10('/add/nope.txt');
is($r->{status}, 404, 'add_header: 404');
ok(!exists $r->{headers}{'x-a'}, 'add_header: not on a 404');
is($r->{headers}{'x-always'}, 'yes', 'add_header always: on a 404');

$r = get10('/add/dir');
is($r->{headers}{'x-a'}, 'a', 'add_header: on a 301');

$r = get10('/a.txt');
is($r->{headers}{'x-http'}, 'http', 'add_header: from the http level');

$r = get10('/outer/in/a.txt');
is($r->{headers}{'x-outer'}, 'o', 'add_header: inherited by a location');
ok(!exists $r->{headers}{'x-http'}, 'add_header: only the nearest level\'s');

$r = get10('/outer/own/a.txt');
is($r->{headers}{'x-own'}, 'own', 'add_header: a location\'s own');
ok(!exists $r->{headers}{'x-outer'}, 'add_header: own ones replace the list');

$r = get10('/replace/a.txt');
is($r->{headers}{'last-modified'}, 'Mon, 01 Jan 2001 00:00:00 GMT',
    'add_header Last-Modified: replaces');
is($r->{count}{'last-modified'}, 1, 'add_header Last-Modified: once');
is($r->{headers}{etag}, '"mine"', 'add_header ETag: replaces');
is($r->{count}{etag}, 1, 'add_header ETag: once');

$r = get10('/remove/a.txt');
ok(!exists $r->{headers}{'last-modified'}, 'add_header Last-Modified "": gone');
ok(!exists $r->{headers}{etag}, 'add_header ETag "": gone');

# error_page: the headers of the location that answers, with its status.

$r = get10('/trerr/nope');
is($r->{status}, 404, 'error_page to a file: 404');
is($r->{headers}{'x-always'}, 'yes', 'error_page: the page location\'s always');
ok(!exists $r->{headers}{'x-a'}, 'error_page: not its others on a 404');

# --- add_trailer -------------------------------------------------------------

$r = get11('/tr/a.txt');
is($r->{headers}{'transfer-encoding'}, 'chunked',
    'add_trailer, HTTP/1.1: chunked');
ok(!exists $r->{headers}{'content-length'}, 'add_trailer: no Content-Length');
like($r->{body}, qr/^5\r\ntext\n\r\n0\r\nX-T: t=\/tr\/a\.txt\r\n/,
    'add_trailer: the body, then the trailer with variables');
like($r->{body}, qr/\r\nX-Always: yes\r\n\r\n$/, 'add_trailer: always, last');
unlike($r->{body}, qr/X-Empty/, 'add_trailer: an empty value adds none');
is($r->{headers}{'x-http'}, 'http',
    'add_trailer: add_header still inherited');

$r = get10('/tr/a.txt');
is($r->{headers}{'content-length'}, 5, 'add_trailer, HTTP/1.0: Content-Length');
is($r->{body}, "text\n", 'add_trailer, HTTP/1.0: no trailer');

$r = get11('/tr/nope.txt');
is($r->{status}, 404, 'add_trailer: 404');
like($r->{body}, qr/\r\n0\r\nX-Always: yes\r\n\r\n$/,
    'add_trailer: only always ones on a 404');

# --- errors ------------------------------------------------------------------

sub conf_error {
    my ($directive) = @_;

    $t->write_file('bad.conf', "events { }\nhttp { server { location / {"
        . " $directive } } }\n");
    return $t->run_kiln('-t', '-p', "$d/", '-c', "$d/bad.conf", '-e',
        "$d/check.log")->{stderr};
}

like(conf_error('expires soon;'), qr/"expires" directive invalid value/,
    'expires soon: invalid value');
like(conf_error('expires modified @1h;'),
    qr/daily time cannot be used with "modified" parameter/,
    'expires modified @1h: refused');
like(conf_error('expires @25h;'),
    qr/daily time value must be less than 24 hours/, 'expires @25h: refused');
like(conf_error('add_header X-A a sometimes;'),
    qr/invalid parameter "sometimes"/, 'add_header: only "always" after it');

$t->stop;
