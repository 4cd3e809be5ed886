#!/usr/bin/perl
# access_log_buffer.t: buffered access logs: gzip[=level] (each write one
# gzip member, the file read whole by gzip -dc, the level in the members'
# headers, gzip alone meaning a 64k buffer), flush= with gzip, USR1
# writing the buffer into the file being rotated, a reload's graceful
# worker exit writing it, if= on a buffered log, and the parameter errors.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;

my $t = Test::Kiln->new;
my $d = $t->testdir;

plan(skip_all => 'no gzip in PATH') unless system('gzip -V >/dev/null 2>&1') == 0;

$t->write_file_expand('kiln.conf', <<'EOF');
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes 1;

events {
    worker_connections 64;
}

http {
    log_format short '$uri';
    access_log off;

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        root %%TESTDIR%%/html;

        location /members/ {
            access_log %%TESTDIR%%/members.log.gz short gzip=9 buffer=64;
        }

        location /flush/ {
            access_log %%TESTDIR%%/flush.log.gz short gzip flush=100ms;
        }

        location /rotate/ {
            access_log %%TESTDIR%%/rotate.log.gz short gzip;
        }

        location /reload/ {
            access_log %%TESTDIR%%/reload.log short buffer=64k if=$arg_log;
        }
    }
}
EOF

for my $dir (qw(members flush rotate reload)) {
    $t->write_file("html/$dir/a.html", "a\n");
}

$t->plan(19);
$t->run;

sub get {
    my ($uri) = @_;
    my $r = parse_response(http_get($uri));
    return $r ? $r->{status} : 0;
}

sub size {
    return -s "$d/$_[0]" // 0;
}

# gunzip(NAME): the file decompressed whole (every member), or undef.
sub gunzip {
    my ($name) = @_;
    my $out = `gzip -dc '$d/$name' 2>/dev/null`;
    return $? == 0 ? $out : undef;
}

# gzip=9 buffer=64: "/members/a.html\n" is 16 bytes, so four lines fill
# the buffer and the fifth writes them as one member.

my @st = map { get('/members/a.html') } 1 .. 4;
is("@st", '200 200 200 200', 'four lines in the 64-byte buffer');
is(size('members.log.gz'), 0, 'buffered: nothing in the file yet');
get('/members/a.html');
ok(wait_for(sub { size('members.log.gz') > 0 }), 'the fifth line writes it');

my $first = $t->read_file('members.log.gz');
is(substr($first, 0, 3), "\x1f\x8b\x08", 'a gzip member (deflate)');
is(ord(substr($first, 8, 1)), 2, 'gzip=9: XFL says maximum compression');
is(gunzip('members.log.gz'), "/members/a.html\n" x 4,
    'it decompresses to the four lines');

get('/members/a.html') for 1 .. 4;
ok(wait_for(sub { size('members.log.gz') > length $first }),
    'a second member follows the first');
is(gunzip('members.log.gz'), "/members/a.html\n" x 8,
    'gzip -dc reads the members as one file');

# gzip with flush=: the timer writes the buffer as a member.

get('/flush/a.html');
ok(wait_for(sub { size('flush.log.gz') > 0 }), 'flush= writes the buffer');
is(gunzip('flush.log.gz'), "/flush/a.html\n", 'the line, gzipped');
is(ord(substr($t->read_file('flush.log.gz'), 8, 1)), 4,
    'gzip alone: level 1, XFL says fastest');

# gzip alone is a 64k buffer: kept until USR1, which writes it into the
# file being rotated before the new one opens.

get('/rotate/a.html') for 1 .. 3;
is(size('rotate.log.gz'), 0, 'gzip without buffer=: buffered (64k)');
rename "$d/rotate.log.gz", "$d/rotate.log.gz.1" or die "rename: $!\n";
$t->signal('USR1');
ok(wait_for(sub { -e "$d/rotate.log.gz" && size('rotate.log.gz.1') > 0 }),
    'USR1: the buffer goes to the rotated file, a new file opens');
is(gunzip('rotate.log.gz.1'), "/rotate/a.html\n" x 3,
    'the rotated file has every line');

# A reload: the old worker exits gracefully and writes its buffer; if=
# kept only the lines whose value was true.

get('/reload/a.html?log=1');
get('/reload/a.html?log=0');
get('/reload/a.html?log=');
get('/reload/a.html?log=yes');
is(size('reload.log'), 0, 'buffer=64k: kept in the worker');
$t->signal('HUP');
ok(wait_for(sub { size('reload.log') > 0 }),
    'the old worker writes its buffer as it exits');
is($t->read_file('reload.log'), "/reload/a.html\n/reload/a.html\n",
    'if=: the lines with a true value');

# Configuration errors, in nginx's words.

sub conf_error {
    my ($http) = @_;

    $t->write_file('bad.conf', "events { }\nhttp {\n$http\n"
        . "server { listen 127.0.0.1:1; } }\n");
    my $res = $t->run_kiln('-p', "$d/", '-e', "$d/bad.log", '-c',
        "$d/bad.conf", '-t');
    return $res->{exit} ? $res->{stderr} . $t->read_file('bad.log') : '';
}

my $errs = join '', map { conf_error($_) }
    "access_log $d/x.log combined gzip=0;",
    "access_log $d/x.log combined gzip=10;",
    "access_log $d/x.log combined gzip=1;\naccess_log $d/x.log combined gzip=2;",
    "access_log $d/\$host.log combined gzip;";
like($errs, qr/invalid\ compression\ level\ "0".*
    invalid\ compression\ level\ "10".*
    access_log\ "\Q$d\E\/x\.log"\ already\ defined\ with\ conflicting\ parameters.*
    buffered\ logs\ cannot\ have\ variables\ in\ name/sx,
    'gzip= levels, conflicting gzip levels, gzip with variables');
unlike($errs, qr/zlib/, 'nothing said about zlib');
