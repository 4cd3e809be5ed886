#!/usr/bin/perl
# memcheck.t: kiln with master_process off under valgrind memcheck, serving
# a mix of static and engine requests N times, then 4N times: no memory
# error, nothing definitely or indirectly lost, and still-reachable memory
# at exit that does not grow with the number of requests.
#
# Not in t/*.t: it needs valgrind, a C compiler (for nojit.so) and the
# plain build (ASan binaries do not run under valgrind). About 15 s here.
# Run it as
#
#     make && prove -I t/lib t/memcheck/         (the lead's `make memcheck`)
#
# KILN_BINARY picks the binary as for the other tests; the test runs it
# through t/memcheck/valgrind-kiln, with nojit.so preloaded (nojit.c says
# why). MEMCHECK_ROUNDS sets N (default 20); TEST_KILN_LEAVE=1 keeps
# valgrind's reports, TESTDIR/valgrind-N.log; CC builds nojit.so (cc).
# KILN_BINARY=/usr/sbin/nginx MEMCHECK_ROUNDS=1 TEST_KILN_TIMEOUT=5 runs
# nginx instead: it answers 400 for 431 and 405 for 501 (docs/directives.md),
# lingers 5 s after its 501, and loses 80 bytes at exit (its environment
# and a PCRE2 compile context), the same 80 bytes for N and 4N.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/../lib";

# valgrind runs kiln about 30 times slower: one exchange may take seconds.
BEGIN { $ENV{TEST_KILN_TIMEOUT} ||= 30; }

use Test::More;
use Test::Kiln;

my $ROUNDS = $ENV{MEMCHECK_ROUNDS} || 20;

my $t = Test::Kiln->new;
my $d = $t->testdir;

# The real binary, then the wrapper in its place for run().
$ENV{KILN_MEMCHECK_BINARY} = Test::Kiln::binary();
$ENV{KILN_BINARY} = "$Bin/valgrind-kiln";

# Fail early and say why, rather than "kiln did not start".
die "memcheck.t: valgrind is not installed\n"
    unless grep { -x "$_/valgrind" } split /:/, $ENV{PATH};
die "memcheck.t: $ENV{KILN_MEMCHECK_BINARY} is built with a sanitizer, "
    . "which valgrind cannot run: use the plain build\n"
    if $t->read_file($ENV{KILN_MEMCHECK_BINARY})
        =~ /__asan_init|__ubsan_handle/;

# PCRE2 without JIT (nojit.c says why).
my $cc = $ENV{CC} || 'cc';
system($cc, '-shared', '-fPIC', '-o', "$d/nojit.so", "$Bin/nojit.c") == 0
    or die "$cc nojit.c failed\n";
$ENV{KILN_MEMCHECK_PRELOAD} = "$d/nojit.so";

$t->write_file_expand('kiln.conf', <<'EOF');
daemon off;
master_process off;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;

events {
    worker_connections 64;
}

http {
    types {
        text/html   html;
        text/plain  txt;
    }
    default_type  application/octet-stream;

    log_format  short  '$remote_addr "$request" $status $body_bytes_sent '
                       '"$http_user_agent" $arg_x $request_time';
    access_log  %%TESTDIR%%/access.log short buffer=4k;

    open_file_cache        max=8 inactive=60s;
    open_file_cache_errors on;

    client_header_buffer_size    1k;
    large_client_header_buffers  2 1k;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;
        root         %%TESTDIR%%/html;

        error_page 404 /404.html;

        location / {
        }

        location /auto/ {
            autoindex on;
        }

        location /json/ {
            alias %%TESTDIR%%/html/auto/;
            autoindex on;
            autoindex_format json;
        }

        location /vlog/ {
            open_log_file_cache  max=2;
            access_log  %%TESTDIR%%/vlogs/$arg_v.log short;
            alias %%TESTDIR%%/html/;
        }

        location /vlog_uncached/ {
            access_log  %%TESTDIR%%/vlogs/u-$arg_v.log short;
            alias %%TESTDIR%%/html/;
        }

        location /try/ {
            try_files $uri $uri/ /small.html;
        }

        location ~ ^/re/(\w+)/(.*)$ {
            return 200 "re $1 $2\n";
        }

        location /ret {
            return 301 /small.html;
        }

        location /named {
            error_page 404 = @fallback;
        }

        location @fallback {
            return 200 "fallback $uri\n";
        }
    }
}
EOF

my $small = "small file\n";
my $large = join('', map { sprintf("%07d\n", $_) } 0 .. 32767);   # 256 KiB
my $mtime = 1700000000;

$t->write_file('html/small.html', $small);
$t->write_file('html/large.bin', $large);
$t->write_file('html/404.html', "custom 404\n");
$t->write_file('html/dir/index.html', "dir index\n");
$t->write_file('html/auto/a.txt', "a\n");
$t->write_file('html/auto/b <&>.txt', "b\n");
$t->write_file('html/noindex/x.txt', "x\n");
mkdir "$d/vlogs";
utime($mtime, $mtime, "$d/html/small.html");

my $ims = http_date($mtime);
my $etag = sprintf('"%x-%x"', $mtime, length $small);
my $long_uri = '/' . ('u' x 2048);
my $long_header = 'X-Long: ' . ('h' x 2048);

# [request bytes, expected status, check of the whole parsed response]
my @requests = (
    ["GET /small.html HTTP/1.0\r\nHost: localhost\r\n\r\n", 200,
        sub { $_[0]{body} eq $small }],
    ["HEAD /small.html HTTP/1.0\r\nHost: localhost\r\n\r\n", 200,
        sub { $_[0]{body} eq '' }],
    ["GET /large.bin?x=1 HTTP/1.0\r\nHost: localhost\r\n\r\n", 200,
        sub { $_[0]{body} eq $large }],
    ["GET /large.bin HTTP/1.0\r\nHost: localhost\r\nRange: bytes=8-15\r\n\r\n",
        206, sub { $_[0]{body} eq "0000001\n" }],
    ["GET /large.bin HTTP/1.0\r\nHost: localhost\r\n"
        . "Range: bytes=0-3,-4\r\n\r\n", 206,
        sub { $_[0]{headers}{'content-type'} =~ m{^multipart/byteranges}
            && $_[0]{body} =~ /0000.*767\n/s }],
    ["GET /large.bin HTTP/1.0\r\nHost: localhost\r\n"
        . "Range: bytes=999999-\r\n\r\n", 416, sub { 1 }],
    ["GET /small.html HTTP/1.0\r\nHost: localhost\r\n"
        . "If-Modified-Since: $ims\r\n\r\n", 304, sub { 1 }],
    ["GET /small.html HTTP/1.0\r\nHost: localhost\r\n"
        . "If-None-Match: \"x\", $etag\r\n\r\n", 304, sub { 1 }],
    ["GET /large.bin HTTP/1.0\r\nHost: localhost\r\nRange: bytes=0-1\r\n"
        . "If-Range: \"other\"\r\n\r\n", 200,
        sub { $_[0]{body} eq $large }],
    ["GET /missing HTTP/1.0\r\nHost: localhost\r\n\r\n", 404,
        sub { $_[0]{body} eq "custom 404\n" }],
    ["GET /named/missing HTTP/1.0\r\nHost: localhost\r\n\r\n", 200,
        sub { $_[0]{body} eq "fallback /named/missing\n" }],
    ["GET /noindex/ HTTP/1.0\r\nHost: localhost\r\n\r\n", 403, sub { 1 }],
    ["GET / HTTP/1.1\r\n\r\n", 400, sub { 1 }],
    ["POST /small.html HTTP/1.0\r\nHost: localhost\r\n"
        . "Content-Length: 5\r\n\r\nhello", 405, sub { 1 }],
    ["GET $long_uri HTTP/1.0\r\nHost: localhost\r\n\r\n", 414, sub { 1 }],
    ["GET / HTTP/1.0\r\nHost: localhost\r\n$long_header\r\n\r\n", 431,
        sub { 1 }],
    ["FOO / HTTP/1.1\r\nHost: localhost\r\n\r\n", 501, sub { 1 }],
    ["POST /re/a/b HTTP/1.1\r\nHost: localhost\r\n"
        . "Transfer-Encoding: gzip\r\n\r\n", 501, sub { 1 }],
    ["GET /dir HTTP/1.0\r\nHost: localhost\r\n\r\n", 301,
        sub { $_[0]{headers}{location} =~ m{/dir/$} }],
    ["GET /dir/ HTTP/1.0\r\nHost: localhost\r\n\r\n", 200,
        sub { $_[0]{body} eq "dir index\n" }],
    ["GET /auto/ HTTP/1.0\r\nHost: localhost\r\n\r\n", 200,
        sub { $_[0]{body} =~ /a\.txt.*b &lt;&amp;&gt;\.txt/s }],
    ["GET /json/ HTTP/1.0\r\nHost: localhost\r\n\r\n", 200,
        sub { $_[0]{body} =~ /"name":"b <&>\.txt"/ }],
    (map {
        ["GET /vlog/small.html?v=$_ HTTP/1.0\r\nHost: localhost\r\n\r\n",
            200, sub { $_[0]{body} eq $small }],
        ["GET /vlog_uncached/small.html?v=$_ HTTP/1.0\r\n"
            . "Host: localhost\r\n\r\n", 200, sub { $_[0]{body} eq $small }]
    } qw(a b c)),
    ["GET /try/nothing HTTP/1.0\r\nHost: localhost\r\n\r\n", 200,
        sub { $_[0]{body} eq $small }],
    ["GET /re/abc/d%20e HTTP/1.0\r\nHost: localhost\r\n\r\n", 200,
        sub { $_[0]{body} eq "re abc d e\n" }],
    ["GET /ret HTTP/1.0\r\nHost: localhost\r\n\r\n", 301,
        sub { $_[0]{headers}{location} =~ m{/small\.html$} }],
);

# Keep-alive: a pipelined batch with a chunked and a Content-Length body to
# discard, then one more request on the same connection.
sub keepalive {
    my ($bad) = @_;
    my ($s, @want, $r);

    $s = http("GET /small.html HTTP/1.1\r\nHost: localhost\r\n\r\n"
        . "POST /re/x/y HTTP/1.1\r\nHost: localhost\r\n"
        . "Transfer-Encoding: chunked\r\n\r\n"
        . "5\r\nhello\r\n3;ext=1\r\nabc\r\n0\r\nTrailer: t\r\n\r\n"
        . "POST /re/p/q HTTP/1.1\r\nHost: localhost\r\n"
        . "Content-Length: 10\r\n\r\n0123456789", start => 1);

    @want = ([200, $small], [200, "re x y\n"], [200, "re p q\n"]);

    for my $w (@want) {
        $r = parse_response(read_response($s));
        push @$bad, "keep-alive: $r->{status}"
            unless $r->{status} == $w->[0] && $r->{body} eq $w->[1];
    }

    # HEAD, then a body sent only after 100 Continue
    http("HEAD /large.bin HTTP/1.1\r\nHost: localhost\r\n\r\n"
        . "POST /re/e/f HTTP/1.1\r\nHost: localhost\r\n"
        . "Expect: 100-continue\r\nContent-Length: 5\r\n\r\n",
        socket => $s, start => 1);
    $r = parse_response(read_response($s, head => 1));
    push @$bad, "keep-alive HEAD: $r->{status}"
        unless $r->{status} == 200 && $r->{body} eq ''
        && $r->{headers}{'content-length'} == length $large;
    $r = read_response($s, head => 1);
    push @$bad, 'keep-alive: no 100 Continue'
        unless $r =~ m{^HTTP/1\.1 100 };

    http("hello", socket => $s, start => 1);
    $r = parse_response(read_response($s));
    push @$bad, "keep-alive after 100: $r->{status}"
        unless $r->{status} == 200 && $r->{body} eq "re e f\n";

    http("GET /dir/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        socket => $s, start => 1);
    $r = parse_response(http_read($s));
    push @$bad, "keep-alive last: $r->{status}"
        unless $r->{status} == 200 && $r->{body} eq "dir index\n";

    # a client that leaves half-way through its headers
    $s = http("GET /small.html HTTP/1.1\r\nHost: loc", start => 1);
    close $s;

    return 7;
}

sub drive {
    my ($rounds) = @_;
    my (@bad, $n, $r);

    $n = 0;

    for my $i (1 .. $rounds) {
        for my $q (@requests) {
            $r = parse_response(http($q->[0]));
            $n++;
            next if defined $r->{status} && $r->{status} == $q->[1]
                && $q->[2]->($r);
            push @bad, (split /\r\n/, $q->[0])[0] . ': '
                . ($r->{status} // 'no response');
        }

        $n += keepalive(\@bad);
    }

    return ($n, \@bad);
}

# valgrind's closing summary, in bytes (0 when it says no leak is possible).
sub summary {
    my ($log) = @_;
    my %s;

    $s{errors} = $log =~ /ERROR SUMMARY: (\d+) errors/ ? $1 : undef;

    for my $kind ('definitely lost', 'indirectly lost', 'possibly lost',
        'still reachable')
    {
        if ($log =~ /\Q$kind\E: ([\d,]+) bytes in ([\d,]+) blocks/) {
            ($s{$kind}, $s{"$kind blocks"}) = map { tr/,//dr } $1, $2;
        } elsif ($log =~ /All heap blocks were freed/) {
            ($s{$kind}, $s{"$kind blocks"}) = (0, 0);
        }
    }

    return \%s;
}

sub memcheck {
    my ($rounds) = @_;
    my ($log, $n, $bad, $s, $status);

    $log = "$d/valgrind-$rounds.log";
    $ENV{KILN_MEMCHECK_LOG} = $log;

    $t->run(timeout => 120);
    ($n, $bad) = drive($rounds);

    $t->signal('QUIT');
    ok($t->wait_exit(120), "$rounds rounds: kiln exits on QUIT");
    $status = $t->{child_status};

    is(scalar @$bad, 0, "$rounds rounds: $n responses as expected")
        or diag(join("\n", @$bad[0 .. ($#$bad < 9 ? $#$bad : 9)]));

    $s = summary($t->read_file($log));

    is($status, 0, "$rounds rounds: exit status 0 (99: valgrind errors)");
    is($s->{errors}, 0, "$rounds rounds: ERROR SUMMARY: 0 errors")
        or diag($t->read_file($log));
    is($s->{'definitely lost'}, 0, "$rounds rounds: definitely lost 0");
    is($s->{'indirectly lost'}, 0, "$rounds rounds: indirectly lost 0");

    diag(sprintf('%d rounds, %d responses: still reachable %s bytes in %s '
        . 'blocks, possibly lost %s', $rounds, $n,
        map { $_ // '?' } @$s{'still reachable', 'still reachable blocks',
            'possibly lost'}))
        if $ENV{TEST_VERBOSE};

    return $s;
}

$t->plan(15);

my $few = memcheck($ROUNDS);
my $many = memcheck(4 * $ROUNDS);

# Whatever stays allocated at exit is set up once, not per request: the
# cycle's pools, PCRE2's match data, and the open_file_cache entries
# (max=8 here). The event loop's stash of request pools, whose size depends
# on how many requests overlapped last, is freed at exit. valgrind counts a cached entry as possibly lost when the
# cache holds it only by its rbtree and queue links (pointers inside the
# block) and as still reachable when some pointer to its start happens to
# remain: which one depends on the layout, so the two kinds are compared
# added up, bytes and blocks.
sub held {
    my ($s, $unit) = @_;
    return ($s->{"still reachable$unit"} // 0) + ($s->{"possibly lost$unit"}
        // 0);
}

is(held($many, ''), held($few, ''),
    "still reachable + possibly lost bytes: the same after $ROUNDS and "
    . 4 * $ROUNDS . ' rounds');
is(held($many, ' blocks'), held($few, ' blocks'),
    'still reachable + possibly lost blocks: the same');
ok(defined $many->{'still reachable'} && defined $few->{'still reachable'},
    'valgrind reported what stays allocated');
