#!/usr/bin/perl
# autoindex.t: directory listings in html (exact and rounded sizes, local
# time), xml, json and jsonp, compared byte for byte with nginx 1.22's for
# the same files: order (directories first, then bytes), escaping, long
# and UTF-8 names, links; index files win; methods; errors.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;

my $t = Test::Kiln->new->has('static', 'index', 'autoindex');
my $d = $t->testdir;

my $conf = <<'EOF';
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes 1;

events {
    worker_connections 64;
}

http {
    default_type text/plain;
    root %%TESTDIR%%/html;
    autoindex on;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        location /round/ {
            alias %%TESTDIR%%/html/list/;
            autoindex_exact_size off;
        }

        location /local/ {
            alias %%TESTDIR%%/html/list/;
            autoindex_localtime on;
        }

        location /xml/ {
            alias %%TESTDIR%%/html/list/;
            autoindex_format xml;
        }

        location /json/ {
            alias %%TESTDIR%%/html/list/;
            autoindex_format json;
        }

        location /jsonp/ {
            alias %%TESTDIR%%/html/list/;
            autoindex_format jsonp;
        }

        location /off/ {
            autoindex off;
        }

        location /utf/ {
            %%CHARSET%%
        }
    }
}
EOF

# With charset utf-8, names are cut at 50 characters, not bytes.
my $charset = $t->has_module('charset_filter');
$conf =~ s/%%CHARSET%%/$charset ? 'charset utf-8;' : ''/e;
$t->write_file_expand('kiln.conf', $conf);

my $mtime = 1795860000;    # 2026-11-28 10:00:00 GMT

sub file {
    my ($name, $content) = @_;
    my $path = $t->write_file("html/$name", $content);

    utime($mtime, $mtime, $path) or die "utime($path): $!\n";
    $mtime += 3600 * 24 + 61;
    return $path;
}

sub dir {
    my ($name) = @_;
    my $path = "$d/html/$name";

    mkdir $path unless -d $path;
    utime($mtime, $mtime, $path) or die "utime($path): $!\n";
    $mtime += 3600 * 24 + 61;
}

file('list/a.txt', "a\n");
file('list/B.txt', "bb\n");
file('list/<b>&"q".txt', "html\n");
file("list/sp ace!'()*~_-.txt", "uri\n");
file('list/' . ('n' x 49) . '.txt', "long\n");
file('list/' . ('x' x 50), "fifty\n");
file('list/' . ('y' x 47) . '<>&', "long html\n");
file("list/caf\xc3\xa9.txt", "utf-8\n");
file('list/ten.bin', 'z' x 10000);
file('list/small.bin', 'z' x 9999);
file('list/mid.bin', 'z' x (1024 * 1024 - 1));
file('list/.hidden', "hidden\n");
file('list/sub/f.txt', "f\n");
file('list/' . ('d' x 49) . '/f.txt', "f\n");
file('list/empty dir/.keep', '');
file('list/withindex/index.html', "the index\n");
file('list/zdir/f.txt', "f\n");
dir('list/sub');
dir('list/' . ('d' x 49));
dir('list/empty dir');
dir('list/zdir');
dir('list/withindex');
symlink("$d/html/list/sub", "$d/html/list/link-to-dir") or die "symlink: $!";
symlink("$d/html/list/nowhere", "$d/html/list/dangling") or die "symlink: $!";
truncate($t->write_file('html/list/sparse.bin', ''), 3 * 1024 * 1024 + 1);
utime($mtime, $mtime, "$d/html/list/sparse.bin");
system('touch', '-h', '-d', '@1795860000', "$d/html/list/dangling",
    "$d/html/list/link-to-dir");
file('utf/' . ("caf\xc3\xa9-" x 11) . 'x', "x\n");
file('utf/' . ("\xc3\xa9" x 49), "x\n");
file('utf/' . ("\xc3\xa9" x 50), "x\n");
file('utf/' . ("\xc3\xa9" x 51), "x\n");
file('utf/' . "bad\xffname", "x\n");
file('utf/' . ("<\xc3\xa9>" x 20), "x\n");
dir('utf');
file('off/a.txt', "a\n");
file('list2/only.txt', "only\n");
file('esc<&>/x.txt', "x\n");
file('noread/x.txt', "x\n");
chmod 0000, "$d/html/noread";
dir('list2');

$t->plan(24);
$ENV{TZ} = 'Asia/Tokyo';
$t->run;

sub get {
    my ($uri) = @_;

    return parse_response(http_get($uri)) // {};
}

my $dump = $ENV{AUTOINDEX_DUMP};

sub same {
    my ($uri, $name) = @_;
    my $r = get($uri);
    my $file = $uri;

    $file =~ s/[^a-z0-9]+/_/g;

    if ($dump) {
        open(my $fh, '>', "$dump/$file") or die "$dump/$file: $!";
        print $fh $r->{body};
        close $fh;
    }

    my $want = $t->read_file("$Bin/autoindex/$file");

    is($r->{body}, $want, $name);
    return $r;
}

my $r = same('/list/', 'html listing');
is($r->{headers}{'content-type'}, 'text/html', 'html: Content-Type');
is($r->{headers}{'content-length'}, undef, 'html: no Content-Length');

same('/round/', 'html listing, rounded sizes');
same('/local/', 'html listing, local time');

$r = same('/xml/', 'xml listing');
is($r->{headers}{'content-type'}, 'text/xml; charset=utf-8',
    'xml: Content-Type');

$r = same('/json/', 'json listing');
is($r->{headers}{'content-type'}, 'application/json', 'json: Content-Type');

$r = same('/jsonp/?callback=cb.x_1', 'jsonp listing');
is($r->{headers}{'content-type'}, 'application/javascript',
    'jsonp: Content-Type');

$r = same('/jsonp/', 'jsonp without callback is json');
is($r->{headers}{'content-type'}, 'application/json',
    'jsonp without callback: Content-Type');

is(get('/jsonp/?callback=a(b)')->{status}, 400, 'jsonp: invalid callback');

SKIP: {
    skip 'no charset module', 1 unless $charset;

    same('/utf/', 'utf-8 names: cut at 50 characters');
}

same('/list2/', 'a listing of one file');
same('/esc%3C%26%3E/', 'an escaped URI in the title');
is(get('/list/none/')->{status}, 404, 'a missing directory: 404');

is(get('/list/withindex/')->{body}, "the index\n", 'an index file wins');
is(get('/off/')->{status}, 403, 'autoindex off: 403');

# Workers started by root run as nobody, as nginx's: they cannot read it.
is(get('/noread/')->{status}, 403, 'a directory that cannot be read: 403');
chmod 0755, "$d/html/noread";
is(get('/list/a.txt/')->{status}, 404, 'a file as a directory: 404');

$r = parse_response(http("HEAD /list/ HTTP/1.0\r\nHost: localhost\r\n\r\n"));
is($r->{body}, '', 'HEAD: no body');

$r = parse_response(http("POST /list/ HTTP/1.0\r\nHost: localhost\r\n"
    . "Content-Length: 0\r\n\r\n"));
is($r->{status}, 403, 'POST: not listed');
