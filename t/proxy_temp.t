#!/usr/bin/perl
# proxy_temp.t: a buffered proxied response the client is slow to take
# spills to a temp file under proxy_temp_path (levels, the warn line, the
# peer finished early, the body byte-identical, Content-Length and chunked,
# a kept-alive peer reused), not with proxy_max_temp_file_size 0 or
# proxy_buffering off, bounded by a small max, gzip (t/copy_filter.t has
# a gzipped body that spilled), a client gone mid-spill; the same for
# FastCGI (fastcgi_temp_path); X-Accel-Buffering from the peer switching
# it; the temp directives' config errors.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use IO::Select;
use IO::Uncompress::Gunzip qw(gunzip $GunzipError);
use Socket qw(:DEFAULT);
use Test::More;
use Test::Kiln;
use Test::Kiln::Backend;

my $t = Test::Kiln->new->has('proxy', 'fastcgi', 'gzip', 'upstream_keepalive');
my $dir = $t->testdir;

my $b = Test::Kiln::Backend->http(port => 'b1');
my $f = Test::Kiln::Backend->fastcgi(port => 'f1', name => 'fc');

# Larger than every socket buffer between the peer and the client: the
# peer can finish writing early only if kiln took the body into a file.
my $BIG = 24 * 1024 * 1024;

$t->write_file_expand('kiln.conf', <<'EOF');
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes 1;

events {
    worker_connections 64;
}

http {
    log_format st '$uri $status';
    access_log %%TESTDIR%%/access.log st;

    upstream ka {
        server 127.0.0.1:%%PORT_b1%%;
        keepalive 4;
    }

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;

        proxy_buffers 4 16k;

        location /big/ {
            proxy_pass http://127.0.0.1:%%PORT_b1%%;
        }

        location /lv/ {
            proxy_temp_path %%TESTDIR%%/lv/ 2 1;
            proxy_temp_file_write_size 64k;
            proxy_pass http://127.0.0.1:%%PORT_b1%%;
        }

        location /nospill/ {
            proxy_max_temp_file_size 0;
            proxy_pass http://127.0.0.1:%%PORT_b1%%;
        }

        location /small/ {
            proxy_max_temp_file_size 64k;
            proxy_pass http://127.0.0.1:%%PORT_b1%%;
        }

        location /off/ {
            proxy_buffering off;
            proxy_pass http://127.0.0.1:%%PORT_b1%%;
        }

        location /gz/ {
            gzip on;
            gzip_http_version 1.0;
            gzip_types text/plain;
            gzip_min_length 0;
            proxy_pass http://127.0.0.1:%%PORT_b1%%;
        }

        location /fcgi/ {
            fastcgi_buffers 4 16k;
            fastcgi_param SCRIPT_NAME $uri;
            fastcgi_pass 127.0.0.1:%%PORT_f1%%;
        }

        location /fnospill/ {
            fastcgi_buffers 4 16k;
            fastcgi_max_temp_file_size 0;
            fastcgi_param SCRIPT_NAME $uri;
            fastcgi_pass 127.0.0.1:%%PORT_f1%%;
        }

        location /ka/ {
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://ka;
        }
    }
}
EOF

$t->plan(47);
$t->run(wait_ports => [8080]);

# A client with a small receive buffer: nothing is read until asked.
sub slow_get {
    my ($uri, %h) = @_;
    my $s;

    socket($s, PF_INET, SOCK_STREAM, 0) or die "socket: $!\n";
    setsockopt($s, SOL_SOCKET, SO_RCVBUF, 4096) or die "SO_RCVBUF: $!\n";
    connect($s, pack_sockaddr_in(port(8080), inet_aton('127.0.0.1')))
        or die "connect: $!\n";
    syswrite($s, "GET $uri HTTP/1.0\r\nHost: localhost\r\n"
        . join('', map { "$_: $h{$_}\r\n" } sort keys %h) . "\r\n");
    return $s;
}

# Read to the close in bounded 16k steps.
sub read_all {
    my ($s) = @_;
    my ($raw, $n, $sel);

    $raw = '';
    $sel = IO::Select->new($s);
    for (1 .. 100000) {
        last unless $sel->can_read(10);
        $n = sysread($s, $raw, 16384, length $raw);
        last unless $n;
    }
    close $s;
    return parse_response($raw);
}

sub drained { $b->stats->{drained} }
sub fdrained { $f->stats->{drained} }

sub temp_lines {
    my ($re) = @_;
    return grep { /an upstream response is buffered to a temporary file $re/ }
        split /\n/, $t->read_file('error.log');
}

my ($s, $r, $d, @l);

# --- spilling ------------------------------------------------------------

$d = drained();
$s = slow_get("/big/length/$BIG");
ok(wait_for(sub { drained() > $d }, 20),
    'the peer finished writing before the client read anything');
$r = read_all($s);
is($r->{status}, 200, 'spilled: 200');
ok($r->{body} eq backend_body($BIG), 'spilled: the body byte-identical');

@l = temp_lines(qr{(\S+)});
is(scalar @l, 1, 'one temp file line');
like($l[0] // '', qr{\[warn\] .* while reading upstream},
    'at warn, while reading upstream');
my ($name) = ($l[0] // '') =~ m{temporary file (\S+)};
$name //= '';
like($name, qr{^\Q$dir\E/proxy_temp/(\d)/(\d\d)/\d{7}\2\1$},
    'the default proxy_temp_path, levels 1 2');
my ($l1, $l2) = $name =~ m{/proxy_temp/(\d)/(\d\d)/};
ok(defined $l2 && -d "$dir/proxy_temp/$l1/$l2", 'the level directories made');
ok($name ne '' && !-e $name, 'the file was unlinked at once');

$d = drained();
$s = slow_get("/lv/length/$BIG");
ok(wait_for(sub { drained() > $d }, 20), 'proxy_temp_path: the peer done early');
$r = read_all($s);
ok($r->{body} eq backend_body($BIG), 'proxy_temp_path: the body intact');
@l = temp_lines(qr{\Q$dir\E/lv/(\d\d)/(\d)/\d{7}\2\1 });
is(scalar @l, 1, 'proxy_temp_path with levels 2 1');

# Chunked from an HTTP/1.1 peer, decoded then spilled; the peer is kept.
$d = drained();
$s = slow_get("/ka/chunked/$BIG");
ok(wait_for(sub { drained() > $d }, 20), 'chunked: the peer done early');
$r = read_all($s);
ok($r->{body} eq backend_body($BIG), 'chunked: the decoded body intact');
my $conn = $r->{headers}{'x-backend-conn'} // 'none';
$d = drained();
$r = parse_response(http_get('/ka/length/10'));
is($r->{headers}{'x-backend-conn'}, $conn, 'the peer connection kept alive');
is($r->{body}, backend_body(10), 'and reused');

# The backend counts a response just after its last write, which the
# client may have read before: wait for that count, or it lands in the
# next window and looks like a peer that did not wait (seen under a
# loaded sanitizer run).
wait_for(sub { drained() > $d }, 5);

# --- no spilling ------------------------------------------------------------

my $before = scalar temp_lines(qr{});

$d = drained();
$s = slow_get("/nospill/length/$BIG");
ok(!wait_for(sub { drained() > $d }, 2),
    'max_temp_file_size 0: the peer waits for the client');
$r = read_all($s);
ok($r->{body} eq backend_body($BIG), 'max_temp_file_size 0: body intact');
ok(wait_for(sub { drained() > $d }, 5), 'and the peer finished then');

$s = slow_get("/off/length/$BIG");
$r = read_all($s);
ok($r->{body} eq backend_body($BIG), 'proxy_buffering off: body intact');

is(scalar temp_lines(qr{}), $before,
    'no temp file with max 0 or buffering off');

# gzip may spill now (the copy filter reads the file back for it): the
# count above is taken before it, and the one below after it.
$s = slow_get("/gz/length/$BIG", 'Accept-Encoding' => 'gzip');
$r = read_all($s);
is($r->{headers}{'content-encoding'}, 'gzip', 'gzip: compressed');
my $plain = '';
gunzip(\$r->{body} => \$plain) or diag("gunzip: $GunzipError");
ok($plain eq backend_body($BIG), 'gzip: the body intact');
$before = scalar temp_lines(qr{});

# --- bounded by a small max ---------------------------------------------------

# The three responses above (max 0, off, gzip) counted first, as above.
wait_for(sub { drained() >= $d + 3 }, 5);
$d = drained();
$s = slow_get("/small/length/$BIG");
ok(!wait_for(sub { drained() > $d }, 2),
    'max_temp_file_size 64k: the peer waits for the client');
$r = read_all($s);
ok($r->{body} eq backend_body($BIG), 'max_temp_file_size 64k: body intact');
is(scalar temp_lines(qr{}), $before + 1, 'max_temp_file_size 64k: spilled');

# --- HEAD, a client gone --------------------------------------------------

$r = parse_response(http("HEAD /big/length/$BIG HTTP/1.0\r\n"
    . "Host: localhost\r\n\r\n"));
is($r->{headers}{'content-length'}, $BIG, 'HEAD: the length');
is(scalar temp_lines(qr{}), $before + 1, 'HEAD: nothing spilled');

# One byte more: its own line in the log.
my $GONE = $BIG + 1;
$d = drained();
$s = slow_get("/big/length/$GONE");
ok(wait_for(sub { drained() > $d }, 20), 'a client about to go: all spilled');
close $s;
ok(wait_for(sub { $t->read_file('access.log') =~ m{^/big/length/$GONE \d+$}m },
    20), 'client gone mid-spill: the request ended');
is(join(' ', map { s{^\Q$dir\E/}{}r } grep { -f }
    glob("$dir/proxy_temp/*/*/* $dir/lv/*/*/*")), '', 'no temp file left');
is(parse_response(http_get('/big/length/10'))->{body}, backend_body(10),
    'serving goes on');

# --- FastCGI -----------------------------------------------------------------

$before = scalar temp_lines(qr{});

$d = fdrained();
$s = slow_get("/fcgi/big/$BIG");
ok(wait_for(sub { fdrained() > $d }, 20),
    'FastCGI: the responder finished before the client read anything');
$r = read_all($s);
ok($r->{body} eq backend_body($BIG), 'FastCGI spilled: the body intact');
@l = temp_lines(qr{\Q$dir\E/fastcgi_temp/(\d)/(\d\d)/\d{7}\2\1 });
is(scalar @l, 1, 'FastCGI: the default fastcgi_temp_path, levels 1 2');

$d = fdrained();
$s = slow_get("/fnospill/fcgi/big/$BIG");
ok(!wait_for(sub { fdrained() > $d }, 2),
    'fastcgi_max_temp_file_size 0: the responder waits for the client');
$r = read_all($s);
ok($r->{body} eq backend_body($BIG), 'fastcgi_max_temp_file_size 0: intact');
is(scalar temp_lines(qr{}), $before + 1, 'FastCGI: one temp file in all');

# --- X-Accel-Buffering ------------------------------------------------------

# The peer says how to relay its response: "no" under proxy_buffering on
# (no temp file: the peer waits for the client), "yes" under off.
wait_for(sub { drained() > $d }, 5);
$d = drained();
$s = slow_get("/big/length/$BIG?header=X-Accel-Buffering:no");
ok(!wait_for(sub { drained() > $d }, 2),
    'X-Accel-Buffering: no: the peer waits for the client');
$r = read_all($s);
ok($r->{body} eq backend_body($BIG), 'X-Accel-Buffering: no: body intact');
ok(!exists $r->{headers}{'x-accel-buffering'}, 'X-Accel-Buffering hidden');
wait_for(sub { drained() > $d }, 5);

$d = drained();
$s = slow_get("/off/length/$BIG?header=X-Accel-Buffering:yes");
ok(wait_for(sub { drained() > $d }, 20),
    'X-Accel-Buffering: yes under proxy_buffering off: spilled, the peer done');
$r = read_all($s);
ok($r->{body} eq backend_body($BIG), 'X-Accel-Buffering: yes: body intact');

# --- config errors ----------------------------------------------------------

sub bad_conf {
    my ($loc) = @_;

    $t->write_file('bad.conf', "error_log $dir/bad.log;\n"
        . "pid $dir/bad.pid;\nevents { }\nhttp {\n server {\n"
        . "  listen 127.0.0.1:" . port(8080) . ";\n  $loc\n }\n}\n");

    return $t->run_kiln('-t', '-p', "$dir/", '-c', "$dir/bad.conf", '-e',
        "$dir/bad.log")->{stderr};
}

like(bad_conf('proxy_temp_file_write_size 1k;'),
    qr/"proxy_temp_file_write_size" must be equal to or greater than the maximum of the value of "proxy_buffer_size" and one of the "proxy_buffers" in \S+bad\.conf:/,
    'proxy_temp_file_write_size too small');
like(bad_conf('proxy_max_temp_file_size 1k;'),
    qr/"proxy_max_temp_file_size" must be equal to zero to disable temporary files usage or must be equal to or greater than the maximum of the value of "proxy_buffer_size" and one of the "proxy_buffers" in \S+bad\.conf:/,
    'proxy_max_temp_file_size too small');
like(bad_conf('proxy_temp_path t 5 5 1;')
    . bad_conf('proxy_temp_path t 0;')
    . bad_conf('proxy_temp_path t; proxy_temp_path u;'),
    qr/"proxy_temp_path" directive invalid value in .*"proxy_temp_path" directive invalid value in .*"proxy_temp_path" directive is duplicate in/s,
    'proxy_temp_path: levels too long, a zero level, a duplicate');
like(bad_conf('fastcgi_buffers 4 8k; fastcgi_temp_file_write_size 4k;'),
    qr/"fastcgi_temp_file_write_size" must be equal to or greater than the maximum of the value of "fastcgi_buffer_size" and one of the "fastcgi_buffers" in \S+bad\.conf:/,
    'fastcgi_temp_file_write_size too small');
like(bad_conf('fastcgi_max_temp_file_size 1k;'),
    qr/"fastcgi_max_temp_file_size" must be equal to zero to disable temporary files usage or must be equal to or greater than the maximum of the value of "fastcgi_buffer_size" and one of the "fastcgi_buffers" in \S+bad\.conf:/,
    'fastcgi_max_temp_file_size too small');
