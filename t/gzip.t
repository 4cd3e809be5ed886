#!/usr/bin/perl
# gzip.t: the gzip filter: every directive, Accept-Encoding forms, bodies of
# 0 B to 10 MiB decompressed byte for byte, HTTP/1.0, HEAD, 206, 304, ETag,
# Vary, gzip_proxied, gzip_disable, $gzip_ratio, keep-alive, a slow reader.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;
use IO::Uncompress::Gunzip qw(gunzip $GunzipError);

my $t = Test::Kiln->new->has('gzip_filter', 'headers_filter');

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
        application/octet-stream bin;
    }

    log_format ratio "$uri $gzip_ratio";
    access_log %%TESTDIR%%/ratio.log ratio;

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        root %%TESTDIR%%/html;

        gzip on;
        gzip_min_length 0;
        gzip_types text/plain;

        location /dflt/ {
            gzip_min_length 20;
            gzip_types text/html;
        }

        location /min/ {
            gzip_min_length 100;
        }

        location /any/ {
            gzip_types *;
        }

        location /off/ {
            gzip off;
        }

        location /vary/ {
            gzip_vary on;
        }

        location /h10/ {
            gzip_http_version 1.0;
        }

        location /level/ {
            gzip_comp_level 9;
            gzip_buffers 4 1k;
        }

        location /tiny/ {
            gzip_buffers 1 512;
        }

        location /noetag/ {
            etag off;
        }

        location /disable/ {
            gzip_disable msie6 "Foo[0-9]";
        }

        location /px/any/ {
            gzip_proxied any;
        }

        location /px/auth/ {
            gzip_proxied auth;
        }

        location /px/authcc/ {
            gzip_proxied auth;
            add_header Cache-Control public;
        }

        location /px/expired/ {
            gzip_proxied expired;
            expires -1;
        }

        location /px/expired1h/ {
            gzip_proxied expired;
            expires 1h;
        }

        location /px/nocache/ {
            gzip_proxied no-cache;
            add_header Cache-Control "max-age=0, no-cache";
        }

        location /px/nostore/ {
            gzip_proxied no-store;
            add_header Cache-Control no-store;
        }

        location /px/private/ {
            gzip_proxied private no-cache;
            add_header Cache-Control private;
        }

        location /px/public/ {
            gzip_proxied no-cache no-store private;
            add_header Cache-Control public;
        }

        location /px/nolm/ {
            gzip_proxied no_last_modified;
        }

        location /px/noetag/ {
            gzip_proxied no_etag;
        }

        location /px/noetag_off/ {
            gzip_proxied no_etag;
            etag off;
        }

        location /cache/ {
            open_file_cache max=10;
        }

        location /dio/ {
            directio 4k;
        }

        location /nosf/ {
            sendfile off;
        }
    }
}
EOF

# Text and fixed-seed random bytes mixed: deflate has real work to do.
sub body {
    my ($len, $seed) = @_;
    my ($s, $x);

    $s = '';
    $x = $seed // 1;

    while (length($s) < $len) {
        $s .= "line " . length($s) . " of the quick brown fox\n";
        for (1 .. 24) {
            $x = ($x * 1103515245 + 12345) % 2147483648;
            $s .= chr(($x >> 16) & 0xff);
        }
    }

    return substr($s, 0, $len);
}

my @sizes = (0, 1, 8191, 8192, 8193, 16384, 65537, 10 * 1024 * 1024);
my %file;

for my $n (@sizes) {
    $file{$n} = body($n, $n + 1);
    $t->write_file("html/$n.txt", $file{$n});
}

my $page = body(4000, 3);
my $ninety = body(99, 5);

for my $d ('.', qw(dflt min any off vary h10 level noetag disable cache dio nosf),
    map { "px/$_" }
    qw(any auth authcc expired expired1h nocache nostore private public nolm noetag
        noetag_off))
{
    $t->write_file("html/$d/p.txt", $page);
    $t->write_file("html/$d/p.html", $page);
    $t->write_file("html/$d/p.bin", $page);
}

$t->write_file('html/min/99.txt', $ninety);
$t->write_file('html/min/100.txt', $ninety . 'x');
$t->write_file('html/dflt/19.html', 'x' x 19);
$t->write_file('html/dflt/20.html', 'x' x 20);
$t->write_file('html/dio/65537.txt', $file{65537});
$t->write_file('html/tiny/65537.txt', $file{65537});
$t->write_file('html/nosf/65537.txt', $file{65537});
$t->write_file('html/cache/8000.txt', $file{8192} . '');

$t->plan(164);
$t->run;

# A request (HTTP/1.1, closed after it unless keep); the body de-chunked
# and, when gzipped, decompressed into {plain}.
sub get {
    my ($uri, %o) = @_;
    my ($req, $r, $plain);

    $req = ($o{method} // 'GET') . " $uri " . ($o{version} // 'HTTP/1.1')
        . "\r\nHost: localhost\r\n";
    $req .= "Accept-Encoding: $o{ae}\r\n" if defined $o{ae};
    $req .= "$_\r\n" for @{ $o{headers} // [] };
    $req .= "Connection: close\r\n\r\n";

    $r = parse_response(http($req, timeout => 30));

    if (($r->{headers}{'transfer-encoding'} // '') eq 'chunked') {
        $r->{body} = dechunk($r->{body});
    }

    $r->{plain} = $r->{body};

    if (($r->{headers}{'content-encoding'} // '') eq 'gzip') {
        $plain = '';
        gunzip(\$r->{body} => \$plain)
            or diag("gunzip $uri: $GunzipError");
        $r->{plain} = $plain;
    }

    return $r;
}

sub gzipped {
    my ($r) = @_;
    return ($r->{headers}{'content-encoding'} // '') eq 'gzip';
}

# sizes: gzipped, chunked, no length, and the same bytes back

for my $n (@sizes) {
    my $r = get("/$n.txt", ae => 'gzip');

    is($r->{status}, 200, "$n B: 200");
    ok(gzipped($r), "$n B: Content-Encoding: gzip");
    is($r->{headers}{'transfer-encoding'}, 'chunked', "$n B: chunked");
    ok(!exists $r->{headers}{'content-length'}, "$n B: no Content-Length");
    ok($r->{plain} eq $file{$n}, "$n B: decompressed body is the file");
}

# the same sizes, uncompressed without Accept-Encoding

for my $n (1, 65537) {
    my $r = get("/$n.txt");

    ok(!gzipped($r), "$n B, no Accept-Encoding: not gzipped");
    is($r->{headers}{'content-length'}, $n, "$n B: Content-Length kept");
    ok($r->{body} eq $file{$n}, "$n B: plain body");
}

# Accept-Encoding forms, as nginx reads them

my %ae = (
    'gzip'                           => 1,
    'GZIP'                           => 1,
    'gzip, deflate, br'              => 1,
    'deflate,gzip'                   => 1,
    'br;q=1.0, gzip;q=0.8, *;q=0.1'  => 1,
    'gzip;q=0.001'                   => 1,
    'gzip; q=1'                      => 1,
    'gzip;q=0'                       => 0,
    'gzip;q=0.000'                   => 0,
    'gzip;q=0, *'                    => 0,
    '*'                              => 0,
    'identity'                       => 0,
    'x-gzip'                         => 0,
    'deflate'                        => 0,
    'gzip;q=1.5'                     => 0,
);

for my $v (sort keys %ae) {
    my $r = get('/65537.txt', ae => $v);
    is(gzipped($r) ? 1 : 0, $ae{$v}, "Accept-Encoding: $v");
    ok($r->{plain} eq $file{65537}, "Accept-Encoding: $v: body");
}

# gzip_min_length (default 20), gzip_types (text/html always, *), gzip off

ok(!gzipped(get('/dflt/19.html', ae => 'gzip')), 'min_length 20: 19 B not');
ok(gzipped(get('/dflt/20.html', ae => 'gzip')), 'min_length 20: 20 B gzipped');
ok(!gzipped(get('/min/99.txt', ae => 'gzip')), 'min_length 100: 99 B not');
ok(gzipped(get('/min/100.txt', ae => 'gzip')), 'min_length 100: 100 B');
ok(!gzipped(get('/dflt/p.txt', ae => 'gzip')), 'types text/html: txt not');
ok(gzipped(get('/dflt/p.html', ae => 'gzip')), 'types text/html: html');
ok(gzipped(get('/p.html', ae => 'gzip')), 'types text/plain: html too');
ok(gzipped(get('/min/p.html', ae => 'gzip')), 'text/html is always listed');
ok(!gzipped(get('/min/p.bin', ae => 'gzip')), 'octet-stream not listed');
ok(gzipped(get('/any/p.bin', ae => 'gzip')), 'gzip_types *: octet-stream');
ok(!gzipped(get('/off/p.txt', ae => 'gzip')), 'gzip off');

# gzip_comp_level 9 with small gzip_buffers: still the same bytes

for my $u ('/level/p.txt') {
    my $r = get($u, ae => 'gzip');
    ok(gzipped($r) && $r->{plain} eq $page, "$u: level 9, 4 1k buffers");
}

# open_file_cache (small files kept in memory), directio, sendfile off, and
# one 512-byte gzip buffer (below postpone_output; a yield every 512 bytes)

for my $c (['/cache/p.txt', $page], ['/cache/8000.txt', $file{8192}],
    ['/dio/65537.txt', $file{65537}], ['/nosf/65537.txt', $file{65537}],
    ['/tiny/65537.txt', $file{65537}])
{
    my ($u, $want) = @$c;
    get($u, ae => 'gzip');
    my $r = get($u, ae => 'gzip');
    ok(gzipped($r), "$u: gzipped");
    ok($r->{plain} eq $want, "$u: decompressed body");
}

# gzip_http_version: 1.1 by default; 1.0 then has no chunks, ends by close

{
    my $r = get('/p.txt', ae => 'gzip', version => 'HTTP/1.0');
    ok(!gzipped($r), 'HTTP/1.0, gzip_http_version 1.1: not gzipped');

    $r = get('/h10/p.txt', ae => 'gzip', version => 'HTTP/1.0');
    ok(gzipped($r), 'HTTP/1.0, gzip_http_version 1.0: gzipped');
    ok(!exists $r->{headers}{'transfer-encoding'}, 'HTTP/1.0: not chunked');
    ok(!exists $r->{headers}{'content-length'}, 'HTTP/1.0: no length');
    ok($r->{plain} eq $page, 'HTTP/1.0: body up to the close');
}

# HEAD: the head a GET would have, without a body

{
    my $r = get('/p.txt', ae => 'gzip', method => 'HEAD');
    is($r->{status}, 200, 'HEAD: 200');
    ok(gzipped($r), 'HEAD: Content-Encoding: gzip');
    ok(!exists $r->{headers}{'content-length'}, 'HEAD: no Content-Length');
    is($r->{body}, '', 'HEAD: no body');
}

# ETag weakened, Accept-Ranges dropped, Last-Modified kept

{
    my $plain = get('/p.txt');
    my $r = get('/p.txt', ae => 'gzip');
    like($plain->{headers}{etag}, qr/^"[0-9a-f]+-[0-9a-f]+"$/, 'strong ETag');
    is($r->{headers}{etag}, 'W/' . $plain->{headers}{etag}, 'ETag weakened');
    is($plain->{headers}{'accept-ranges'}, 'bytes', 'Accept-Ranges plain');
    ok(!exists $r->{headers}{'accept-ranges'}, 'no Accept-Ranges gzipped');
    is($r->{headers}{'last-modified'}, $plain->{headers}{'last-modified'},
        'Last-Modified kept');
    ok(!exists get('/noetag/p.txt', ae => 'gzip')->{headers}{etag},
        'etag off: none');

    # 304: not compressed, no Content-Encoding
    my $nm = get('/p.txt', ae => 'gzip',
        headers => ["If-None-Match: $r->{headers}{etag}"]);
    is($nm->{status}, 304, 'If-None-Match with the weak tag: 304');
    ok(!gzipped($nm), '304: no Content-Encoding');
    is($nm->{body}, '', '304: no body');
}

# Range: kiln answers 206 uncompressed (nginx: 200 gzipped; see docs)

{
    my $r = get('/p.txt', ae => 'gzip', headers => ['Range: bytes=0-9']);
    is($r->{status}, 206, 'Range: 206');
    ok(!gzipped($r), 'Range: 206 not gzipped');
    is($r->{body}, substr($page, 0, 10), 'Range: the plain bytes');
}

# gzip_vary: on any response that could be gzipped

{
    is(get('/vary/p.txt', ae => 'gzip')->{headers}{vary}, 'Accept-Encoding',
        'gzip_vary: gzipped');
    is(get('/vary/p.txt')->{headers}{vary}, 'Accept-Encoding',
        'gzip_vary: not accepted, still Vary');
    ok(!exists get('/vary/p.bin', ae => 'gzip')->{headers}{vary},
        'gzip_vary: type not listed, no Vary');
    ok(!exists get('/p.txt', ae => 'gzip')->{headers}{vary},
        'gzip_vary off: no Vary');
}

# gzip_disable msie6 "Foo[0-9]" (caseless)

{
    my $msie6 = 'Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)';
    my $sv1 = 'Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1; SV1)';

    for my $c ([$msie6, 0], [$sv1, 1], ['Foo1', 0], ['xfoo9x', 0],
        ['Foo', 1], ['Mozilla/5.0', 1])
    {
        my ($ua, $want) = @$c;
        my $r = get('/disable/p.txt', ae => 'gzip',
            headers => ["User-Agent: $ua"]);
        is(gzipped($r) ? 1 : 0, $want, "gzip_disable, User-Agent $ua");
    }

    ok(gzipped(get('/p.txt', ae => 'gzip', headers => ["User-Agent: $msie6"])),
        'no gzip_disable: MSIE 6 gzipped');
}

# gzip_proxied: a request with Via is proxied

{
    my @via = ('Via: 1.1 proxy');
    my @c = (
        ['/p.txt', 0, 'off (default)'],
        ['/px/any/p.txt', 1, 'any'],
        ['/px/auth/p.txt', 1, 'auth, nothing else denies'],
        ['/px/expired/p.txt', 1, 'expired, Expires in the past'],
        ['/px/expired1h/p.txt', 0, 'expired, Expires ahead'],
        ['/px/nocache/p.txt', 1, 'no-cache'],
        ['/px/nostore/p.txt', 1, 'no-store'],
        ['/px/private/p.txt', 1, 'private'],
        ['/px/public/p.txt', 0, 'Cache-Control public'],
        ['/px/nolm/p.txt', 1, 'no_last_modified, static (nginx)'],
        ['/px/noetag/p.txt', 0, 'no_etag, ETag'],
        ['/px/noetag_off/p.txt', 1, 'no_etag, no ETag'],
    );

    for my $c (@c) {
        my ($u, $want, $name) = @$c;
        is(gzipped(get($u, ae => 'gzip', headers => [@via])) ? 1 : 0, $want,
            "gzip_proxied $name");
    }

    ok(!gzipped(get('/px/authcc/p.txt', ae => 'gzip', headers => [@via])),
        'gzip_proxied auth, Cache-Control public, no Authorization');
    ok(gzipped(get('/px/authcc/p.txt', ae => 'gzip',
        headers => [@via, 'Authorization: Basic eDp5'])),
        'gzip_proxied auth, Cache-Control public, Authorization');
    ok(gzipped(get('/px/expired1h/p.txt', ae => 'gzip')),
        'gzip_proxied expired, not proxied');
}

# an error page is compressed too (text/html, 404)

{
    my $r = get('/nothere.txt', ae => 'gzip');
    is($r->{status}, 404, 'missing file: status 404');
    ok(gzipped($r), '404 page gzipped');
    like($r->{plain}, qr/404 Not Found/, '404 page decompressed');
}

# keep-alive: several gzipped responses on one connection

{
    my $req = '';
    $req .= "GET /$_.txt HTTP/1.1\r\nHost: localhost\r\n"
        . "Accept-Encoding: gzip\r\n\r\n" for (8193, 1, 65537);

    my $s = http($req, start => 1);
    for my $n (8193, 1, 65537) {
        my $r = parse_response(read_response($s));
        my ($plain, $body) = ('', dechunk($r->{body}));
        gunzip(\$body => \$plain);
        ok(gzipped($r) && $plain eq $file{$n}, "keep-alive: $n B");
    }
    ok(!wait_closed($s, 0.3), 'keep-alive: still open');
}

# $gzip_ratio: in/out as nginx rounds it; "-" when not compressed

{
    my $r = get('/65537.txt', ae => 'gzip');
    my ($in, $out) = (65537, length $r->{body});
    my $int = int($in / $out);
    my $frac = int($in * 100 / $out) % 100;
    if (int($in * 1000 / $out) % 10 > 4) {
        $frac++;
        ($int, $frac) = ($int + 1, 0) if $frac > 99;
    }
    my $want = sprintf('%d.%02d', $int, $frac);

    get('/65537.txt?plain');
    my $log = '';
    wait_for(sub {
        $log = $t->read_file('ratio.log');
        $log =~ m{/65537\.txt \S+\n.*/65537\.txt \S+\n}s }, 5);
    my @l = grep { m{^/65537\.txt } } split /\n/, $log;
    is($l[-2], "/65537.txt $want", '$gzip_ratio');
    is($l[-1], '/65537.txt -', '$gzip_ratio not compressed');
}

# a slow reader of a big gzipped body does not hold up another client

{
    my $s = http("GET /10485760.txt HTTP/1.1\r\nHost: localhost\r\n"
        . "Accept-Encoding: gzip\r\nConnection: close\r\n\r\n", start => 1);

    my $r = get('/8193.txt', ae => 'gzip');
    ok($r->{plain} eq $file{8193}, 'slow reader: another client served');

    my $raw = http_read($s);
    $r = parse_response($raw);
    my ($plain, $body) = ('', dechunk($r->{body}));
    gunzip(\$body => \$plain);
    ok($plain eq $file{10485760}, 'slow reader: 10 MiB body intact');
}

# configuration errors, in nginx's words

{
    my $d = $t->testdir;

    my $conf_error = sub {
        my ($directive) = @_;
        $t->write_file('bad.conf', "events { }\nhttp { server { location / {"
            . " $directive } } }\n");
        return $t->run_kiln('-t', '-p', "$d/", '-c', "$d/bad.conf", '-e',
            "$d/check.log")->{stderr};
    };

    my $bad = "in \Q$d\E/bad.conf:2";

    like($conf_error->('gzip_comp_level 10;'),
        qr/\[emerg\] value must be between 1 and 9 $bad/, 'comp_level 10');
    like($conf_error->('gzip_comp_level 0;'),
        qr/value must be between 1 and 9 $bad/, 'comp_level 0');
    like($conf_error->('gzip_proxied foo;'),
        qr/\[emerg\] invalid value "foo" $bad/, 'gzip_proxied foo');
    like($conf_error->('gzip_buffers 0 4k;'),
        qr/"gzip_buffers" directive invalid value $bad/, 'gzip_buffers 0 4k');
    like($conf_error->('gzip_http_version 2.0;'),
        qr/invalid value "2.0" $bad/, 'gzip_http_version 2.0');
    like($conf_error->('gzip_disable "(";'),
        qr/pcre2_compile\(\) failed: missing closing parenthesis in "\(" $bad/,
        'gzip_disable: bad regex');
    like($conf_error->('gzip_buffers 4 4k; gzip_buffers 4 4k;'),
        qr/"gzip_buffers" directive is duplicate $bad/, 'gzip_buffers twice');
    like($conf_error->('gzip maybe;'),
        qr/invalid value "maybe" in "gzip" directive, it must be "on" or "off"/,
        'gzip maybe');
}
