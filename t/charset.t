#!/usr/bin/perl
# charset.t: the charset filter: "; charset=NAME" on the charset_types
# (defaults, lists, "*"), error pages and redirects (none on 301/302),
# charset off, charset from a variable, source_charset equal to charset,
# and the refusal of a pair that no charset_map links (charset_map.t recodes).

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;

my $t = Test::Kiln->new->has('charset', 'static', 'rewrite');
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
        text/html               html;
        text/plain              txt;
        text/css                css;
        application/json        json;
        application/javascript  js;
    }
    access_log off;

    charset utf-8;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;
        root         %%TESTDIR%%/html;

        location / { }

        location /off/ { charset off; }

        location /types/ {
            charset koi8-r;
            charset_types application/json;
            charset_types text/css;
        }

        location /any/ { charset_types *; }

        location /same/ {
            source_charset UTF-8;
        }

        location /var/ { charset $arg_c; }

        location /r301/ { return 301 /x; }
        location /r302/ { return 302 /x; }
        location /r303/ { return 303 /x; }
        location /text/ { return 200 "text"; }
        location /forbidden/ { return 403; }
    }
}
EOF

for my $dir (qw(. off types any same var)) {
    $t->write_file("html/$dir/a.html", "<p>a</p>\n");
    $t->write_file("html/$dir/a.txt", "text\n");
    $t->write_file("html/$dir/a.css", "p { }\n");
    $t->write_file("html/$dir/a.json", "{}\n");
    $t->write_file("html/$dir/a.js", "1;\n");
}

$t->write_file('html/dir/index.html', "x\n");

$t->plan(24);
$t->run;

sub ct {
    my ($uri) = @_;
    my $r = parse_response(http_get($uri));

    return $r ? $r->{headers}{'content-type'} // '(none)' : '(no response)';
}

is(ct('/a.html'), 'text/html; charset=utf-8', 'text/html');
is(ct('/a.txt'), 'text/plain; charset=utf-8', 'text/plain');
is(ct('/a.js'), 'application/javascript; charset=utf-8',
    'application/javascript');
is(ct('/a.css'), 'text/css', 'text/css: not a default type');
is(ct('/a.json'), 'application/json', 'application/json: not either');

is(ct('/nope'), 'text/html; charset=utf-8', 'the 404 page');
is(ct("/forbidden/"), "text/html; charset=utf-8", "a 403 page");
is(ct('/dir'), 'text/html', '301 to the directory: no charset');
is(ct('/r301/'), 'text/html', 'return 301: no charset');
is(ct('/r302/'), 'text/html', 'return 302: no charset');
is(ct('/r303/'), 'text/html; charset=utf-8', 'return 303: charset');
is(ct('/text/'), 'text/plain; charset=utf-8', 'return 200 text');

is(ct('/off/a.html'), 'text/html', 'charset off');

is(ct('/types/a.json'), 'application/json; charset=koi8-r',
    'charset_types: listed');
is(ct('/types/a.css'), 'text/css; charset=koi8-r',
    'charset_types: a second directive adds to the list');
is(ct('/types/a.html'), 'text/html; charset=koi8-r',
    'charset_types: text/html always');
is(ct('/types/a.txt'), 'text/plain', 'charset_types: the defaults replaced');

is(ct('/any/a.css'), 'text/css; charset=utf-8', 'charset_types *');

is(ct('/same/a.txt'), 'text/plain; charset=utf-8',
    'source_charset, the same name in other case');

is(ct('/var/a.txt?c=windows-1251'), 'text/plain; charset=windows-1251',
    'charset $arg_c');

my $r = parse_response(http_get('/var/a.txt'));
ok(!defined $r || $r->{status} == 500,
    'charset $arg_c, no such argument: the response fails');

# A pair nginx would recode through a charset_map: refused.

sub conf_error {
    my ($conf) = @_;

    $t->write_file('bad.conf', "events { }\nhttp { $conf }\n");
    return $t->run_kiln('-t', '-p', "$d/", '-c', "$d/bad.conf", '-e',
        "$d/check.log");
}

my $res = conf_error('charset utf-8; server { location / {'
    . ' source_charset koi8-r; } }');
isnt($res->{exit}, 0, 'charset and another source_charset: refused');
like($res->{stderr},
    qr/no "charset_map" between the charsets "koi8-r" and "utf-8"/,
    'charset and another source_charset: nginx\'s message');

$res = conf_error('charset utf-8; source_charset utf-8; server { }');
is($res->{exit}, 0, 'charset and the same source_charset: accepted');

$t->stop;
