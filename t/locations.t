#!/usr/bin/perl
# locations.t: which location serves a URI: "=", "^~", the longest prefix,
# "~" and "~*" in order of appearance, "^~" skipping regexes, a regex over
# a prefix, nested prefix and regex locations, named locations (only
# reachable internally) and "internal".

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;

my $t = Test::Kiln->new->has('static', 'index');

# Each location has its own root; the file a URI maps to there holds the
# root's name, so the body says which location served it.

$t->write_file_expand('kiln.conf', <<'EOF');
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes 1;

events {
    worker_connections 64;
}

http {
    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        location / {
            root %%TESTDIR%%/root;
        }

        location = /exact {
            root %%TESTDIR%%/eq;
        }

        location = /exact.php {
            root %%TESTDIR%%/eq;
        }

        location /a/ {
            root %%TESTDIR%%/pa;
        }

        location /a/b/ {
            root %%TESTDIR%%/pab;
        }

        location /ab {
            root %%TESTDIR%%/pab2;
        }

        location ^~ /static/ {
            root %%TESTDIR%%/caret;
        }

        location /static/deep/ {
            root %%TESTDIR%%/deep;
        }

        location ~ \.php$ {
            root %%TESTDIR%%/re_php;
        }

        location ~* \.JPG$ {
            root %%TESTDIR%%/re_jpg;
        }

        location ~ ^/a/b/.*\.txt$ {
            root %%TESTDIR%%/re_abtxt;
        }

        location ~ ^/order {
            root %%TESTDIR%%/re_order1;
        }

        location ~ ^/ord {
            root %%TESTDIR%%/re_order2;
        }

        location ~ ^/Case/ {
            root %%TESTDIR%%/re_case;
        }

        location /n/ {
            root %%TESTDIR%%/n;

            location /n/inner/ {
                root %%TESTDIR%%/n_inner;
            }

            location ~ \.html$ {
                root %%TESTDIR%%/n_re;
            }
        }

        location /int/ {
            internal;
            root %%TESTDIR%%/int;
        }

        location /err/ {
            root        %%TESTDIR%%/nothing;
            error_page  404 /int/page.txt;
        }

        location /tonamed/ {
            root        %%TESTDIR%%/nothing;
            error_page  404 @named;
        }

        location @named {
            root %%TESTDIR%%/named;
        }
    }
}
EOF

my %files = (
    'root/index.html'          => 1,
    'root/exact/x'             => 1,
    'root/exactly'             => 1,
    'root/a'                   => 1,
    'root/x.jpeg'              => 1,
    'root/@named'              => 1,
    'root/order.txt'           => 1,
    'root/case/x.txt'          => 1,
    'root/int.txt'             => 1,
    'eq/exact'                 => 1,
    'eq/exact.php'             => 1,
    'pa/a/x.txt'               => 1,
    'pa/a/b.txt'               => 1,
    'pab/a/b/x.html'           => 1,
    'pab2/abc'                 => 1,
    'caret/static/x.php'       => 1,
    'caret/static/x.txt'       => 1,
    'deep/static/deep/x.txt'   => 1,
    're_php/x.php'             => 1,
    're_php/a/x.php'           => 1,
    're_php/static/deep/x.php' => 1,
    're_php/n/x.php'           => 1,
    're_php/exact/x.php'       => 1,
    're_jpg/x.jpg'             => 1,
    're_jpg/x.JPG'             => 1,
    're_jpg/x.Jpg'             => 1,
    're_abtxt/a/b/x.txt'       => 1,
    're_order1/order.html'     => 1,
    're_order2/ord.html'       => 1,
    're_case/Case/x.txt'       => 1,
    'n/n/x.txt'                => 1,
    'n_inner/n/inner/x.txt'    => 1,
    'n_re/n/x.html'            => 1,
    'n_re/n/inner/x.html'      => 1,
    'int/int/page.txt'         => 1,
    'named/tonamed/missing'    => 1,
);

for my $f (keys %files) {
    (my $root = $f) =~ s{/.*}{};
    $t->write_file($f, "$root\n");
}

$t->plan(56);
$t->run;

# loc(URI): the name of the root that served URI, or "status N".

sub loc {
    my ($uri) = @_;
    my $r = parse_response(http_get($uri)) // {};

    return 'status ' . ($r->{status} // 'none')
        unless ($r->{status} // 0) == 200;

    (my $b = $r->{body}) =~ s/\n\z//;
    return $b;
}

# "=": only the exact URI.

is(loc('/exact'), 'eq', '= /exact');
is(loc('/exact/x'), 'root', '= /exact does not take /exact/x');
is(loc('/exactly'), 'root', '= /exact does not take /exactly');
is(loc('/exact?x=1'), 'eq', '= /exact with a query string');
is(loc('/exact.php'), 'eq', '= wins over a matching regex');
is(loc('/x/../exact'), 'eq', '= matches the normalised URI');
is(loc('/%65xact'), 'eq', '= matches the decoded URI');

# Prefixes: the longest wins, whatever the order.

is(loc('/a/x.txt'), 'pa', 'prefix /a/');
is(loc('/a/b.txt'), 'pa', '/a/b.txt is not under /a/b/');
is(loc('/a/b/x.html'), 'pab', 'longest prefix /a/b/');
is(loc('/a'), 'root', '/a is not under /a/');
is(loc('/abc'), 'pab2', 'prefix /ab takes /abc');
is(loc('/int.txt'), 'root', '/ takes what nothing else does');

# Regexes: checked after the longest prefix, in order of appearance; the
# first match wins over the prefix.

is(loc('/x.php'), 're_php', '~ \.php$');
is(loc('/a/x.php'), 're_php', 'regex over the prefix /a/');
is(loc('/exact/x.php'), 're_php', 'regex over /');
is(loc('/a/b/x.txt'), 're_abtxt', 'regex over the longer prefix /a/b/');
is(loc('/x.PHP'), 'status 404', '~ is case-sensitive');
is(loc('/x.jpg'), 're_jpg', '~* \.JPG$ takes .jpg');
is(loc('/x.JPG'), 're_jpg', '~* \.JPG$ takes .JPG');
is(loc('/x.Jpg'), 're_jpg', '~* \.JPG$ takes .Jpg');
is(loc('/x.jpeg'), 'root', '~* \.JPG$ does not take .jpeg');
is(loc('/order.html'), 're_order1', 'two regexes match: the first written');
is(loc('/ord.html'), 're_order2', 'only the second regex matches');
is(loc('/order.txt'), 'status 404',
    'the regex wins even if only the prefix root has the file');
is(loc('/Case/x.txt'), 're_case', '~ ^/Case/');
is(loc('/case/x.txt'), 'root', '~ ^/Case/ does not take /case/');
is(loc('/x.ph%70'), 're_php', 'regex matches the decoded URI');

# ^~: the longest prefix being ^~ skips the regexes.

is(loc('/static/x.php'), 'caret', '^~ skips the regexes');
is(loc('/static/x.txt'), 'caret', '^~ prefix');
is(loc('/static/deep/x.txt'), 'deep', 'a longer plain prefix under ^~');
is(loc('/static/deep/x.php'), 're_php',
    'the longest prefix is not ^~: regexes are checked');

# Nested locations: a nested prefix, a nested regex (checked before the
# outer ones), and outer regexes when no nested one matches.

is(loc('/n/x.txt'), 'n', 'outer prefix /n/');
is(loc('/n/inner/x.txt'), 'n_inner', 'nested prefix /n/inner/');
is(loc('/n/x.html'), 'n_re', 'nested regex');
is(loc('/n/inner/x.html'), 'n_re', 'nested regex over the nested prefix');
is(loc('/n/x.php'), 're_php', 'outer regex under a nested location');
is(loc('/x.html'), 'status 404', 'nested regex is not seen outside /n/');

# internal: 404 from outside, served through error_page (which keeps the
# 404 status).

is(loc('/int/page.txt'), 'status 404', 'internal location: 404 from outside');

my $r = parse_response(http_get('/err/missing')) // {};
is($r->{status}, 404, 'error_page to an internal location: status 404');
is($r->{body}, "int\n", 'error_page to an internal location: its file');

$r = parse_response(http_get('/int/')) // {};
is($r->{status}, 404, 'internal location, directory: 404');
like($r->{body}, qr{<title>404 Not Found</title>}, 'internal: the 404 page');

# Named locations: only through error_page; "/@named" is a plain URI.

$r = parse_response(http_get('/tonamed/missing')) // {};
is($r->{status}, 404, 'error_page to @named: status 404');
is($r->{body}, "named\n", 'error_page to @named: served by @named');

is(loc('/@named'), 'root', '/@named from outside is the / location');
is(loc('/%40named'), 'root', '/%40named from outside is the / location');

# HEAD follows the same choice.

my $raw = http_head('/x.php');
$r = parse_response($raw) // {};
is($r->{status}, 200, 'HEAD /x.php: 200');
is($r->{headers}{'content-length'}, 7, 'HEAD: length of re_php/x.php');
like($raw, qr/\r\n\r\n\z/, 'HEAD: no body');

# The same choices over one keep-alive connection, in one write.

my @uris = ('/index.html', '/a/b/x.html', '/x.php', '/static/x.php',
    '/n/x.html', '/exact', '/x.JPG', '/n/inner/x.txt');
my @want = qw(root pab re_php caret n_re eq re_jpg n_inner);

my $s = http(join('', map { "GET $_ HTTP/1.1\r\nHost: localhost\r\n\r\n" }
    @uris), start => 1);
my @got = map {
    my $rr = parse_response(read_response($s)) // {};
    (my $b = $rr->{body} // '') =~ s/\n\z//;
    $b;
} @uris;
is_deeply(\@got, \@want, 'pipelined: each request finds its location');
close $s;

# Query strings never take part in matching.

is(loc('/x.txt?a.php'), 'status 404', 'query string not matched by regex');
is(loc('/static/x.txt?x=/a/b/'), 'caret', 'query string not matched by prefix');

# A URI outside every prefix but "/" goes to "/".

is(loc('/nope/x'), 'status 404', 'nothing there: 404 from /');
is(loc('/a/../a/x.txt'), 'pa', 'normalised before matching');
is(loc('/a//b//x.html'), 'pab', 'slashes merged before matching');

$t->stop;
