#!/usr/bin/perl
# proxy_cookie.t: proxy_cookie_domain, proxy_cookie_path and
# proxy_cookie_flags on the Set-Cookie fields of a proxied response: text
# and regex rules, variables, the first match winning, "off", values
# rebuilt with "; " only when a rule applied. The peer is a second server
# of the same kiln (add_header Set-Cookie $arg_c), as in nginx's tests.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;

my $t = Test::Kiln->new->has('proxy', 'headers');

$t->write_file_expand('kiln.conf', <<'EOF');
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes 1;

events {
    worker_connections 64;
}

http {
    access_log off;

    server {
        listen 127.0.0.1:%%PORT_8080%%;

        location / {
            proxy_pass http://127.0.0.1:%%PORT_8081%%;

            proxy_cookie_domain .example.org .kiln.test;
            proxy_cookie_domain ~^(.*)\.COM$ $1.net;
            proxy_cookie_domain $arg_from $arg_to;
            proxy_cookie_path /app/ /;
            proxy_cookie_path ~*^/X(.*)$ /y$1;

            proxy_cookie_flags a secure httponly samesite=none;
            proxy_cookie_flags Bb samesite=lax;
            proxy_cookie_flags c secure;
            proxy_cookie_flags d nosecure nohttponly nosamesite;
            proxy_cookie_flags ~^x samesite=strict httponly;
            proxy_cookie_flags v $arg_f1 $arg_f2;

            location /off/ {
                proxy_pass http://127.0.0.1:%%PORT_8081%%;
                proxy_cookie_domain off;
                proxy_cookie_path off;
                proxy_cookie_flags off;
            }
        }

        location /plain/ {
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_8081%%;

        location / {
            add_header Set-Cookie $arg_c;
            add_header Set-Cookie $arg_d;
            return 200 "backend\n";
        }
    }
}
EOF

$t->plan(26);
$t->run;

# The Set-Cookie fields of a response to URI, in order.
sub cookies {
    my ($uri) = @_;
    my $raw = http_get($uri);
    return join(' | ', $raw =~ /^Set-Cookie: ([^\r\n]*)\r?$/mgi);
}

# --- proxy_cookie_domain ------------------------------------------------

is(cookies('/?c=z=1;domain=.example.org'), 'z=1; domain=.kiln.test',
    'domain: the leading dot kept aside, the replacement\'s dropped');
is(cookies('/?c=z=1;Domain=EXAMPLE.org'), 'z=1; Domain=kiln.test',
    'domain: compared without case');
is(cookies('/?c=z=1;domain=b.example.org'), 'z=1;domain=b.example.org',
    'domain: a text rule matches the whole name; unchanged bytes kept');
is(cookies('/?c=z=1;domain=a.b.com'), 'z=1; domain=a.b.net',
    'domain: regex without case, with captures');
is(cookies('/?c=z=1;domain=v.test&from=v.test&to=w.test'),
    'z=1; domain=w.test', 'domain: variables');

# --- proxy_cookie_path --------------------------------------------------

is(cookies('/?c=z=1;path=/app/x'), 'z=1; path=/x', 'path: the prefix replaced');
is(cookies('/?c=z=1;path=/APP/'), 'z=1;path=/APP/', 'path: case counts');
is(cookies('/?c=z=1;path=/Xq'), 'z=1; path=/yq', 'path: ~* regex');
is(cookies('/?c=z=1;;domain=example.org;'), 'z=1; ; domain=kiln.test; ',
    'empty attributes stay, as nginx');
is(cookies('/?c=z;domain=example.org'), 'z;domain=example.org',
    'not a cookie (no =): left alone');
is(cookies('/?c=z=1;domain=example.org&d=y=2;path=/app/a'),
    'z=1; domain=kiln.test | y=2; path=/a', 'each Set-Cookie rewritten');

# --- proxy_cookie_flags -------------------------------------------------

is(cookies('/?c=a=1'), 'a=1; Secure; HttpOnly; SameSite=None', 'flags added');
is(cookies('/?c=A=1;secure'), 'A=1; secure; HttpOnly; SameSite=None',
    'flags: the name without case; a flag present is kept');
is(cookies('/?c=a=1;SameSite=strict;secure=yes'),
    'a=1; SameSite=None; secure=yes; HttpOnly', 'flags: samesite replaced');
is(cookies('/?c=bb=1'), 'bb=1; SameSite=Lax', 'flags: samesite=lax');
is(cookies('/?c=c=1;secure;HttpOnly'), 'c=1; secure; HttpOnly',
    'flags: a matching rule rebuilds the value');
is(cookies('/?c=d=1;secure;httponly;samesite=lax;path=/p'), 'd=1; path=/p',
    'flags: no* remove');
is(cookies('/?c=xyz=1'), 'xyz=1; HttpOnly; SameSite=Strict',
    'flags: regex name');
is(cookies('/?c=v=1&f1=secure&f2=samesite=lax'), 'v=1; Secure; SameSite=Lax',
    'flags: variables');
is(cookies('/?c=nx=1;samesite=none'), 'nx=1;samesite=none',
    'flags: no rule, no change');
is(cookies('/?c=a=1;domain=example.org;path=/app/'),
    'a=1; domain=kiln.test; path=/; Secure; HttpOnly; SameSite=None',
    'domain, path and flags together');

# --- off and no rules ---------------------------------------------------

is(cookies('/off/?c=a=1;domain=example.org;path=/app/'),
    'a=1;domain=example.org;path=/app/', 'off: inherited rules cancelled');
is(cookies('/plain/?c=a=1;domain=example.org'), 'a=1;domain=example.org',
    'no rules: as sent');

# --- configuration errors ---------------------------------------------------

sub bad_conf {
    my ($loc) = @_;
    my $d = $t->testdir;

    $t->write_file('bad.conf', "error_log $d/bad.log;\n"
        . "pid $d/bad.pid;\nevents { }\nhttp {\n server {\n"
        . "  listen 127.0.0.1:" . port(8080) . ";\n  $loc\n }\n}\n");

    return $t->run_kiln('-t', '-p', "$d/", '-c', "$d/bad.conf", '-e',
        "$d/bad.log")->{stderr};
}

like(bad_conf('location / { proxy_cookie_flags a secure bogus; }'),
    qr/invalid parameter "bogus" in \S+bad\.conf:7/, 'flags: an unknown flag');
like(bad_conf('location / { proxy_cookie_domain a; }'),
    qr/invalid parameter/, 'domain: one argument other than off');
like(bad_conf('location / { proxy_cookie_path ~( /; }'),
    qr/pcre|regex|compile/i, 'path: a bad regex');
