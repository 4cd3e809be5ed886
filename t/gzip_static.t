#!/usr/bin/perl
# gzip_static.t: gzip_static on|off|always: FILE.gz sent for FILE with the
# type of FILE and the validators and length of FILE.gz; Vary, HEAD, Range,
# 304, gzip_http_version and gzip_disable; not compressed twice by gzip.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;
use IO::Compress::Gzip qw(gzip $GzipError);

my $t = Test::Kiln->new->has('gzip_static', 'gzip_filter');

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
        text/html  html;
        text/plain txt;
    }

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        root %%TESTDIR%%/html;

        gzip_static on;

        location /vary/ {
            gzip_vary on;
        }

        location /always/ {
            gzip_static always;
            gzip_vary on;
        }

        location /off/ {
            gzip_static off;
        }

        location /gzip/ {
            gzip on;
            gzip_types text/plain;
            gzip_min_length 0;
        }

        location /gzipvary/ {
            gzip on;
            gzip_vary on;
            gzip_types text/plain;
            gzip_min_length 0;
        }

        location /disable/ {
            gzip_disable msie6;
        }

        location /nosf/ {
            sendfile off;
        }

        location /cache/ {
            open_file_cache max=10;
        }
    }
}
EOF

my $text = join('', map { "line $_ of a text that gzip_static serves\n" }
    1 .. 2000);
my $gz;
gzip(\$text => \$gz) or die "gzip: $GzipError";

my $mtime = time() - 86400;
my $gzmtime = $mtime + 3600;

for my $d ('.', qw(vary always off gzip gzipvary disable nosf cache)) {
    $t->write_file("html/$d/a.html", $text);
    $t->write_file("html/$d/a.html.gz", $gz);
    $t->write_file("html/$d/b.txt", $text);
    $t->write_file("html/$d/b.txt.gz", $gz);
    $t->write_file("html/$d/plain.txt", $text);
    utime($mtime, $mtime, map { $t->testdir . "/html/$d/$_" }
        qw(a.html b.txt plain.txt));
    utime($gzmtime, $gzmtime, map { $t->testdir . "/html/$d/$_" }
        qw(a.html.gz b.txt.gz));
}

$t->write_file('html/only.txt.gz', $gz);

$t->plan(48);
$t->run;

sub get {
    my ($uri, %o) = @_;
    my ($req, $r);

    $req = ($o{method} // 'GET') . " $uri " . ($o{version} // 'HTTP/1.1')
        . "\r\nHost: localhost\r\n";
    $req .= "Accept-Encoding: $o{ae}\r\n" if defined $o{ae};
    $req .= "$_\r\n" for @{ $o{headers} // [] };
    $req .= "Connection: close\r\n\r\n";

    $r = parse_response(http($req, timeout => 10));

    if (($r->{headers}{'transfer-encoding'} // '') eq 'chunked') {
        $r->{body} = dechunk($r->{body});
    }

    return $r;
}

my $etag = sprintf('"%x-%x"', $gzmtime, length $gz);

# on: FILE.gz for a client that accepts gzip

{
    my $r = get('/a.html', ae => 'gzip');
    is($r->{status}, 200, 'on: 200');
    is($r->{headers}{'content-encoding'}, 'gzip', 'on: Content-Encoding');
    is($r->{headers}{'content-type'}, 'text/html', 'on: type of FILE');
    is($r->{headers}{'content-length'}, length $gz, 'on: length of FILE.gz');
    is($r->{headers}{'last-modified'}, http_date($gzmtime),
        'on: Last-Modified of FILE.gz');
    is($r->{headers}{etag}, $etag, 'on: ETag of FILE.gz');
    ok($r->{body} eq $gz, 'on: the bytes of FILE.gz');
    ok(!exists $r->{headers}{vary}, 'on: no Vary without gzip_vary');

    is(get('/b.txt', ae => 'gzip')->{headers}{'content-type'}, 'text/plain',
        'on: text/plain of b.txt');
}

{
    my $r = get('/a.html');
    ok(!exists $r->{headers}{'content-encoding'}, 'no Accept-Encoding: FILE');
    ok($r->{body} eq $text, 'no Accept-Encoding: plain body');
    is($r->{headers}{'last-modified'}, http_date($mtime),
        'no Accept-Encoding: Last-Modified of FILE');

    $r = get('/a.html', ae => 'gzip;q=0');
    ok($r->{body} eq $text, 'gzip;q=0: FILE');

    $r = get('/plain.txt', ae => 'gzip');
    ok(!exists $r->{headers}{'content-encoding'} && $r->{body} eq $text,
        'no FILE.gz: FILE');

    $r = get('/only.txt', ae => 'gzip');
    is($r->{status}, 200, 'only FILE.gz: 200');
    ok($r->{body} eq $gz, 'only FILE.gz: sent');
    is(get('/only.txt')->{status}, 404, 'only FILE.gz, no gzip: 404');
}

# gzip_vary: with "on", whenever FILE.gz exists

{
    is(get('/vary/a.html', ae => 'gzip')->{headers}{vary}, 'Accept-Encoding',
        'gzip_vary: Vary with FILE.gz');
    my $r = get('/vary/a.html');
    is($r->{headers}{vary}, 'Accept-Encoding', 'gzip_vary: Vary with FILE');
    ok($r->{body} eq $text, 'gzip_vary: FILE without gzip');
    ok(!exists get('/vary/plain.txt', ae => 'gzip')->{headers}{vary},
        'gzip_vary: no FILE.gz, no Vary');
}

# always: whatever the client says, and no Vary

{
    my $r = get('/always/a.html');
    is($r->{headers}{'content-encoding'}, 'gzip', 'always: gzip');
    ok($r->{body} eq $gz, 'always: FILE.gz');
    ok(!exists $r->{headers}{vary}, 'always: no Vary');

    $r = get('/always/a.html', version => 'HTTP/1.0');
    ok($r->{body} eq $gz, 'always: HTTP/1.0 too');
}

# off

{
    my $r = get('/off/a.html', ae => 'gzip');
    ok(!exists $r->{headers}{'content-encoding'}, 'off: no Content-Encoding');
    ok($r->{body} eq $text, 'off: FILE');
}

# with gzip on: FILE.gz is not compressed again; FILE without .gz is

{
    my $r = get('/gzip/b.txt', ae => 'gzip');
    is($r->{headers}{'content-encoding'}, 'gzip', 'gzip on: gzip');
    ok($r->{body} eq $gz, 'gzip on: FILE.gz as it is');
    is($r->{headers}{'content-length'}, length $gz, 'gzip on: length kept');

    $r = get('/gzip/plain.txt', ae => 'gzip');
    is($r->{headers}{'transfer-encoding'}, 'chunked',
        'gzip on, no FILE.gz: compressed by the filter');
}

# gzip_static finds FILE.gz but the client refuses gzip (Vary), then the
# gzip filter sees FILE (Vary again in its header filter): one Vary

{
    my $r = get('/gzipvary/b.txt');
    ok(!exists $r->{headers}{'content-encoding'},
        'gzip on, gzip_vary, FILE.gz, gzip refused: FILE');
    is($r->{count}{vary}, 1, 'gzip on, gzip_vary, gzip refused: Vary once');
}

# HEAD, Range, 304

{
    my $r = get('/a.html', ae => 'gzip', method => 'HEAD');
    is($r->{headers}{'content-encoding'}, 'gzip', 'HEAD: gzip');
    is($r->{headers}{'content-length'}, length $gz, 'HEAD: length');
    is($r->{body}, '', 'HEAD: no body');

    $r = get('/a.html', ae => 'gzip', headers => ['Range: bytes=0-9']);
    is($r->{status}, 200, 'Range: 200, as nginx');
    ok($r->{body} eq $gz, 'Range: the whole FILE.gz');
    ok(!exists $r->{headers}{'accept-ranges'}, 'FILE.gz: no Accept-Ranges');

    $r = get('/a.html', ae => 'gzip', headers => ["If-None-Match: $etag"]);
    is($r->{status}, 304, 'If-None-Match FILE.gz: 304');
}

# gzip_http_version (1.1) and gzip_disable apply to "on"

{
    my $r = get('/a.html', ae => 'gzip', version => 'HTTP/1.0');
    ok($r->{body} eq $text, 'HTTP/1.0: FILE');

    $r = get('/disable/a.html', ae => 'gzip',
        headers => ['User-Agent: Mozilla/4.0 (compatible; MSIE 6.0; Win)']);
    ok($r->{body} eq $text, 'gzip_disable msie6: FILE');

    $r = get('/disable/a.html', ae => 'gzip',
        headers => ['User-Agent: Mozilla/5.0']);
    ok($r->{body} eq $gz, 'gzip_disable msie6, another agent: FILE.gz');
}

# sendfile off, open_file_cache

for my $d (qw(nosf cache)) {
    get("/$d/a.html", ae => 'gzip');
    my $r = get("/$d/a.html", ae => 'gzip');
    is($r->{headers}{'content-encoding'}, 'gzip', "$d: gzip");
    ok($r->{body} eq $gz, "$d: FILE.gz");
}

# POST is not for gzip_static: static answers it

is(get('/a.html', ae => 'gzip', method => 'POST')->{status}, 405, 'POST: 405');
