#!/usr/bin/perl
# charset_map.t: recoding with charset_map and the koi-win, koi-utf and
# win-utf files of conf/: single-byte to single-byte (length kept, ranges
# still served), to and from UTF-8 (no length, "&#N;" for what the charset
# lacks, sequences cut between buffers), override_charset on a proxied
# response, gzip after recoding, a charset from a variable, and the
# config errors of charset_map.

use strict;
use warnings;
use utf8;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Encode qw(decode encode);
use IO::Uncompress::Gunzip qw(gunzip);
use Test::More;
use Test::Kiln;

my $t = Test::Kiln->new->has('charset_filter');
my $d = $t->testdir;
my $conf = "$Bin/../conf";
my $is_nginx = ($ENV{KILN_BINARY} // '') =~ /nginx/;

$t->plan(33);

my $text = "Съешь же ещё этих мягких французских булок, да выпей чаю.\n";
my $koi = encode('koi8-r', $text);
my $cp1251 = encode('cp1251', $text);
my $utf8 = encode('UTF-8', $text);

mkdir "$d/html";
$t->write_file('html/koi.txt', $koi);
$t->write_file('html/utf.txt', encode('UTF-8', "Да \x{2713} нет\n"));
$t->write_file('html/bad.txt', "ok \xe2\x82 x\xff y\n");

# Long enough to cross the file reader's buffers at odd places: a
# two-byte sequence is cut wherever a buffer ends.
my $long = ("ж" x 50000) . "\n";
$t->write_file('html/long.txt', encode('UTF-8', 'a' . $long));

$t->write_file_expand('kiln.conf', <<"EOF");
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes 1;

events {
    worker_connections 64;
}

http {
    include $conf/koi-win;
    include $conf/koi-utf;
    include $conf/win-utf;

    access_log off;
    default_type text/plain;
    output_buffers 1 4k;

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        root %%TESTDIR%%/html;

        location = /koi.txt {
            source_charset koi8-r;
            charset utf-8;
        }

        location = /k2w {
            alias %%TESTDIR%%/html/koi.txt;
            source_charset koi8-r;
            charset windows-1251;
        }

        location = /utf.txt {
            source_charset utf-8;
            charset windows-1251;
        }

        location = /bad.txt {
            source_charset utf-8;
            charset windows-1251;
        }

        location = /long.txt {
            source_charset utf-8;
            charset koi8-r;
        }

        location = /var {
            alias %%TESTDIR%%/html/koi.txt;
            source_charset koi8-r;
            charset \$arg_c;
        }

        location = /gz {
            alias %%TESTDIR%%/html/koi.txt;
            source_charset koi8-r;
            charset utf-8;
            gzip on;
            gzip_min_length 1;
            gzip_types text/plain;
        }

        location = /proxied {
            proxy_pass http://127.0.0.1:%%PORT_8081%%/koi.txt;
            charset utf-8;
            override_charset on;
        }

        location = /proxied-off {
            proxy_pass http://127.0.0.1:%%PORT_8081%%/koi.txt;
            charset utf-8;
        }

        location /xac/ {
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_8081%%;
        root %%TESTDIR%%/html;
        charset koi8-r;

        location /xac/ {
            alias %%TESTDIR%%/html/;
            add_header X-Accel-Charset windows-1251;
        }
    }
}
EOF

$t->run;

sub get {
    my ($uri, @h) = @_;
    my $extra = join('', map { "$_\r\n" } @h);
    return parse_response(http("GET $uri HTTP/1.1\r\nHost: x\r\n$extra"
        . "Connection: close\r\n\r\n"));
}

sub body {
    my ($r) = @_;
    return $r->{headers}{'transfer-encoding'} ? dechunk($r->{body})
        : $r->{body};
}

# --- single-byte to UTF-8 ---------------------------------------------------

my $r = get('/koi.txt');
is($r->{headers}{'content-type'}, 'text/plain; charset=utf-8',
    'koi8-r to utf-8: labelled utf-8');
is(body($r), $utf8, 'koi8-r to utf-8: the text in UTF-8');
ok(!defined $r->{headers}{'content-length'},
    'koi8-r to utf-8: no Content-Length (the length changed)');

$r = get('/koi.txt', 'Range: bytes=0-3');
is($r->{status}, 200, 'koi8-r to utf-8: a Range request gets the whole');

# --- between single-byte charsets ------------------------------------------

$r = get('/k2w');
is($r->{headers}{'content-type'}, 'text/plain; charset=windows-1251',
    'koi8-r to windows-1251: labelled');
is(body($r), $cp1251, 'koi8-r to windows-1251: the bytes recoded');
is($r->{headers}{'content-length'}, length($cp1251),
    'koi8-r to windows-1251: Content-Length kept');

$r = get('/k2w', 'Range: bytes=2-5');
is($r->{status}, 206, 'koi8-r to windows-1251: ranges still served');
is($r->{body}, substr($cp1251, 2, 4), 'koi8-r to windows-1251: the range');

# --- UTF-8 to single-byte ----------------------------------------------------

$r = get('/utf.txt');
is(body($r), encode('cp1251', "Да ") . '&#10003;' . encode('cp1251', " нет\n"),
    'utf-8 to windows-1251: a missing character as &#N;');

$r = get('/long.txt');
is(length(body($r)), 50002, 'utf-8 to koi8-r, cut between buffers: length');
ok(body($r) eq 'a' . encode('koi8-r', $long),
    'utf-8 to koi8-r, cut between buffers: every character');

SKIP: {
    skip 'nginx swallows the byte after an invalid sequence', 1 if $is_nginx;

    $r = get('/bad.txt');
    is(body($r), "ok ? x? y\n",
        'invalid UTF-8: one ? per maximal subpart, the text after kept');
}

# --- a charset from a variable ----------------------------------------------

$r = get('/var?c=windows-1251');
is(body($r), $cp1251, 'charset $arg_c: windows-1251');
$r = get('/var?c=UTF-8');
is(body($r), $utf8, 'charset $arg_c: UTF-8 in another case');
$r = get('/var?c=koi8-r');
is(body($r), $koi, 'charset $arg_c: the source itself, unchanged');
$r = get('/var?c=iso-8859-5');
is(body($r), $koi, 'charset $arg_c, no map: the body unchanged');
like($t->read_file('error.log'),
    qr/no "charset_map" between the charsets "koi8-r" and "iso-8859-5"/,
    'charset $arg_c, no map: logged');

# --- gzip after recoding -----------------------------------------------------

$r = get('/gz', 'Accept-Encoding: gzip');
is($r->{headers}{'content-encoding'}, 'gzip', 'recoded and gzipped');
my $plain;
gunzip(\ body($r) => \$plain);
is($plain, $utf8, 'gzip compressed the recoded text');

# --- a proxied response that names its charset -----------------------------

$r = get('/proxied');
is($r->{headers}{'content-type'}, 'text/plain; charset=utf-8',
    'override_charset on: relabelled');
is(body($r), $utf8, 'override_charset on: recoded from the peer\'s koi8-r');

$r = get('/proxied-off');
is($r->{headers}{'content-type'}, 'text/plain; charset=koi8-r',
    'override_charset off: the peer\'s charset kept');
is(body($r), $koi, 'override_charset off: the body unchanged');

# --- X-Accel-Charset: the application names the charset to send --------

$r = get('/xac/koi.txt');
is($r->{headers}{'content-type'}, 'text/plain; charset=windows-1251',
    'X-Accel-Charset: labelled with the charset the application asked for');
is(body($r), $cp1251, 'X-Accel-Charset: recoded from the peer\'s koi8-r');
ok(!exists $r->{headers}{'x-accel-charset'}, 'X-Accel-Charset: hidden');

# --- config errors -----------------------------------------------------------

sub refused {
    my ($name, $text, $re) = @_;

    $t->write_file('bad.conf', "events { }\nhttp {\n$text\n}\n");
    my $r = $t->run_kiln('-t', '-p', "$d/", '-c', "$d/bad.conf", '-e',
        "$d/check.log");

    isnt($r->{exit}, 0, "$name: refused");
    like($r->{stderr}, $re, "$name: the message");
}

refused('duplicate map',
    "charset_map a b { 80 81; }\ncharset_map b a { 81 80; }",
    qr/duplicate "charset_map" between "b" and "a" in \S+:4/);
refused('a value past a byte', "charset_map a b { 80 100; }",
    qr/invalid value "100" in \S+:3/);
refused('an invalid UTF-8 value', "charset_map a utf-8 { 80 C0; }",
    qr/invalid value "C0" in \S+:3/);

$t->done;
