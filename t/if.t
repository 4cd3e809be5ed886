#!/usr/bin/perl
# if.t: the if directive: every operator (a bare variable, = != ~ ~* !~ !~*
# with captures, -f -d -e -x and their ! forms on files made here), if in a
# server and in a location, directives inside if (return, rewrite, set,
# break) and the confs an if block inherits and overrides (root,
# add_header), and its config errors.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;

my $t = Test::Kiln->new->has('rewrite');

$t->write_file_expand('kiln.conf', <<'EOF');
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes 1;

events {
    worker_connections 64;
}

http {
    default_type text/plain;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        if ($http_x_block) {
            return 403;
        }

        if ($arg_srv ~ ^(\w+)-) {
            set $from_server $1;
        }

        location /show/ {
            return 200 "uri=$uri args=$args\n";
        }

        location /var {
            if ($arg_v) {
                return 200 "true\n";
            }
            return 200 "false\n";
        }

        location /eq {
            if ($http_x_a = "x y") {
                return 200 "equal\n";
            }
            if ($http_x_a != "") {
                return 200 "not equal\n";
            }
            return 200 "empty\n";
        }

        location /re {
            if ($arg_p ~ ^(\d+)-(?<tail>\w+)$) {
                return 200 "num=$1 tail=$tail\n";
            }
            return 200 "no\n";
        }

        location /rei {
            if ($arg_p ~* ^abc$) {
                return 200 "caseless\n";
            }
            if ($arg_p ~ ^ABC$) {
                return 200 "case\n";
            }
            return 200 "no\n";
        }

        location /nre {
            set $r "";
            if ($arg_p !~ ^abc$) {
                set $r "${r}A";
            }
            if ($arg_p !~* ^abc$) {
                set $r "${r}B";
            }
            return 200 "r=$r cap=[$1]\n";
        }

        location /t/ {
            root %%TESTDIR%%/html;
            set $r "";
            if (-f $request_filename) {
                set $r "${r}f";
            }
            if (!-f $request_filename) {
                set $r "${r}F";
            }
            if (-d $request_filename) {
                set $r "${r}d";
            }
            if (!-d $request_filename) {
                set $r "${r}D";
            }
            if (-e $request_filename) {
                set $r "${r}e";
            }
            if (!-e $request_filename) {
                set $r "${r}E";
            }
            if (-x $request_filename) {
                set $r "${r}x";
            }
            if (!-x $request_filename) {
                set $r "${r}X";
            }
            return 200 "$r\n";
        }

        location /plain {
            if (-f %%TESTDIR%%/html/t/file) {
                return 200 "literal path\n";
            }
            return 404;
        }

        location /srv {
            return 200 "from_server=$from_server\n";
        }

        location /inh/ {
            root %%TESTDIR%%/html/a;
            if ($arg_alt) {
                root %%TESTDIR%%/html/b;
                add_header X-If yes;
            }
        }

        location /ret/ {
            if ($arg_x = 1) {
                return 201 "one\n";
            }
            return 200 "other\n";
        }

        location /rw/ {
            if ($arg_go) {
                rewrite ^/rw/(.*)$ /show/$1 last;
            }
            return 200 "stayed\n";
        }

        location /ord/ {
            rewrite ^/ord/(.*)$ /ord2/$1;
            if ($uri = /ord2/x) {
                return 200 "saw the new uri\n";
            }
            return 200 "old\n";
        }

        location /bk/ {
            root %%TESTDIR%%/html/a;
            if ($arg_b) {
                break;
            }
            return 200 "not broken\n";
        }
    }
}
EOF

$t->write_file('html/t/file', "f\n");
$t->write_file('html/t/exe', "#!/bin/sh\n");
chmod(0755, $t->testdir . '/html/t/exe') or die "chmod: $!\n";
mkdir($t->testdir . '/html/t/dir') or die "mkdir: $!\n";
$t->write_file('html/a/inh/x.txt', "a\n");
$t->write_file('html/b/inh/x.txt', "b\n");
$t->write_file('html/a/bk/x.txt', "bk a\n");

$t->plan(50);
$t->run;

sub body {
    my ($uri, %o) = @_;
    return parse_response(http_get($uri, %o))->{body};
}

# A bare variable: false when empty or "0".

is(body('/var?v=1'), "true\n", 'variable "1": true');
is(body('/var?v=00'), "true\n", 'variable "00": true');
is(body('/var?v=abc'), "true\n", 'variable "abc": true');
is(body('/var?v=0'), "false\n", 'variable "0": false');
is(body('/var?v='), "false\n", 'variable "": false');
is(body('/var'), "false\n", 'variable not found: false');

# = and !=.

sub with_xa {
    my ($v) = @_;
    return parse_response(http("GET /eq HTTP/1.0\r\nHost: localhost\r\n"
        . "X-A: $v\r\n\r\n"))->{body};
}

is(with_xa('x y'), "equal\n", '= with a quoted value');
is(with_xa('x'), "not equal\n", '!=');
is(body('/eq'), "empty\n", '!= "" on an empty variable: false');

# ~ ~* !~ !~*, with captures.

is(body('/re?p=12-ab'), "num=12 tail=ab\n", '~: numbered and named captures');
is(body('/re?p=x-ab'), "no\n", '~: no match');
is(body('/rei?p=ABC'), "caseless\n", '~*: caseless match');
is(body('/rei?p=abc'), "caseless\n", '~*: same case');
is(body('/nre?p=abc'), "r= cap=[]\n", '!~ and !~*: both false on a match');
is(body('/nre?p=ABC'), "r=A cap=[]\n", '!~ true, !~* false');
is(body('/nre?p=zz'), "r=AB cap=[]\n", '!~ and !~*: both true');

# File tests.

is(body('/t/file'), "fDeX\n", 'a file: -f !-d -e !-x');
is(body('/t/dir'), "Fdex\n", 'a directory: !-f -d -e -x');
is(body('/t/exe'), "fDex\n", 'an executable file: -f !-d -e -x');
is(body('/t/missing'), "FDEX\n", 'a missing file: all the ! forms');
is(body('/t/file/below'), "FDEX\n", 'a path through a file (ENOTDIR)');
is(body('/plain'), "literal path\n", '-f on a literal path');

# if in a server.

my $r = parse_response(http_get('/show/a', host => 'localhost'));
is($r->{status}, 200, 'server if false: the location answers');
$r = parse_response(http("GET /show/a HTTP/1.0\r\nHost: localhost\r\n"
    . "X-Block: 1\r\n\r\n"));
is($r->{status}, 403, 'server if true: its return');
is(body('/srv?srv=abc-1'), "from_server=abc\n",
    'server if: set from its capture, read in the location');

# Confs inside if: root and add_header override the location's.

$r = parse_response(http_get('/inh/x.txt'));
is($r->{body}, "a\n", 'if false: the location\'s root');
ok(!exists $r->{headers}{'x-if'}, 'if false: no header');
$r = parse_response(http_get('/inh/x.txt?alt=1'));
is($r->{body}, "b\n", 'if true: the root inside if');
is($r->{headers}{'x-if'}, 'yes', 'if true: add_header inside if');

# Directives inside if.

$r = parse_response(http_get('/ret/?x=1'));
is($r->{status}, 201, 'return inside if: status');
is($r->{body}, "one\n", 'return inside if: text');
is(body('/ret/?x=2'), "other\n", 'return after the if');
is(body('/rw/a?go=1'), "uri=/show/a args=go=1\n", 'rewrite last inside if');
is(body('/rw/a'), "stayed\n", 'rewrite inside a false if: skipped');
is(body('/ord/x'), "saw the new uri\n", 'if after a rewrite sees the new URI');
is(body('/ord/y'), "old\n", 'if after a rewrite: false');
is(body('/bk/x.txt?b=1'), "bk a\n", 'break inside if: the file, inherited root');
is(body('/bk/x.txt'), "not broken\n", 'no break: the return');

$t->stop;

# Config errors, with FILE:LINE.

my $d = $t->testdir;

sub bad {
    my ($name, $directive, $re) = @_;
    my $conf = <<"EOF";
events { }
http {
    server {
        listen 127.0.0.1:1;
        location / {
            $directive
        }
    }
}
EOF
    $t->write_file('bad.conf', $conf);
    my $r = $t->run_kiln('-p', "$d/", '-c', "$d/bad.conf", '-e',
        "$d/bad.log", '-t');
    isnt($r->{exit}, 0, "$name: -t fails");
    like($r->{stderr}, qr/\[emerg\] $re in \Q$d\/bad.conf\E:6/,
        "$name: message, file and line");
}

bad('unknown operator', 'if ($a % b) { }', qr/unexpected "%" in condition/);
bad('no variable', 'if (foo) { }', qr/invalid condition "foo"/);
bad('bad file test', 'if (-q /x) { }', qr/invalid condition "-q"/);
bad('bad regex', 'if ($uri ~ "(") { }',
    qr/pcre2_compile\(\) failed: missing closing parenthesis in "\("/);
bad('nested if', 'if ($a) { if ($b) { } }',
    qr/"if" directive is not allowed here/);
bad('location in if', 'if ($a) { location /x { } }',
    qr/"location" directive is not allowed here/);
