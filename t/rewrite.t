#!/usr/bin/perl
# rewrite.t: the rewrite directive: its flags (none, last, break, redirect,
# permanent, a URL replacement), return after it, the arguments rules, captures (numbered and
# named), escaping, server-level rewrites, the 10-cycle 500, rewrite_log's
# notices, and its config errors.

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

        location /show/ {
            return 200 "uri=$uri args=$args\n";
        }

        location /last/ {
            rewrite ^/last/(.*)$ /show/$1 last;
            return 500 "not reached\n";
        }

        location /brk/ {
            root %%TESTDIR%%/html;
            rewrite ^/brk/(.*)$ /file/$1 break;
            return 500 "not reached\n";
        }

        location /alb/ {
            alias %%TESTDIR%%/html/file/;
            rewrite ^/alb/(.*)$ /alb/$1 break;
        }

        location /none/ {
            rewrite ^/none/(.*)$ /show/$1;
            return 200 "next uri=$uri\n";
        }

        location /none2/ {
            rewrite ^/none2/(.*)$ /show/$1;
            rewrite ^/show/(.*)$ /show/again-$1;
        }

        location /nomatch/ {
            rewrite ^/other/ /show/x last;
            return 200 "no match uri=$uri\n";
        }

        location /redir/ {
            rewrite ^/redir/(.*)$ /target/$1 redirect;
        }

        location /perm/ {
            rewrite ^/perm/(.*)$ /target/$1 permanent;
        }

        location /abs/ {
            rewrite ^/abs/(.*)$ http://example.com/$1;
            return 500 "not reached\n";
        }

        location /abs2/ {
            rewrite ^/abs2/(.*)$ https://example.com/$1?x=1 permanent;
        }

        location /scheme/ {
            rewrite ^ $scheme://example.org$uri;
        }

        location /args/keep {
            rewrite ^ /show/keep last;
        }

        location /args/drop {
            rewrite ^ /show/drop? last;
        }

        location /args/new {
            rewrite ^ /show/new?n=1 last;
        }

        location /args/only {
            rewrite ^ /show/only?n=1? last;
        }

        location /args/rdrop {
            rewrite ^ /target? redirect;
        }

        location ~ ^/cap/ {
            rewrite ^/cap/(?<one>\w+)/(\w+)$ /show/$2/$one last;
        }

        location /esc/ {
            rewrite ^/esc/(.*)$ /show/$1 last;
        }

        location /escr/ {
            rewrite ^/escr/(.*)$ /target/$1 redirect;
        }

        location /esca/ {
            rewrite ^/esca/(.*)$ /show/x?v=$1 last;
        }

        location /loop {
            rewrite ^ /loop last;
        }

        location /zero {
            rewrite ^ $arg_none last;
        }

        location /r200 {
            rewrite ^ /r200-x;
            return 200;
        }

        location /r404 {
            return 404 "";
        }

        location /rl/ {
            rewrite_log on;
            rewrite ^/nomatch$ /x;
            rewrite ^/rl/(.*)$ /show/$1 last;
        }
    }

    server {
        listen       127.0.0.1:%%PORT_8081%%;
        server_name  localhost;

        rewrite ^/old/(.*)$ /new/$1 last;
        rewrite ^/new/stop$ /new/stopped break;

        location /new/ {
            return 200 "srv uri=$uri\n";
        }

        location / {
            return 200 "root uri=$uri\n";
        }
    }
}
EOF

$t->write_file('html/file/a.txt', "file a\n");

$t->plan(52);
$t->expect_errors(qr/"alias" cannot be used in location "\/alb\/"/);
$t->run;

my $p = port(8080);
my $r;

sub get {
    my ($uri, %o) = @_;
    return parse_response(http_get($uri, %o));
}

# Flags.

is(get('/last/a?q=1')->{body}, "uri=/show/a args=q=1\n",
    'last: location searched again, args kept');

$r = get('/brk/a.txt');
is($r->{status}, 200, 'break: served in the same location');
is($r->{body}, "file a\n", 'break: the rewritten URI maps to the file');

is(get('/alb/a.txt')->{status}, 500, 'break in an alias location: 500');
my $alias_re = '\[alert\].*"alias" cannot be used in location "/alb/" '
    . 'where URI was rewritten';
ok(wait_for(sub { $t->read_file('error.log') =~ /$alias_re/ }, 5),
    'break in an alias location: logged as nginx');

is(get('/none/a')->{body}, "next uri=/show/a\n",
    'no flag: the next directive runs with the new URI');
is(get('/none2/a')->{body}, "uri=/show/again-a args=\n",
    'no flag: later rewrites see the new URI, then the location is searched');
is(get('/nomatch/a')->{body}, "no match uri=/nomatch/a\n",
    'no match: the script goes on');

$r = get('/redir/a?q=1');
is($r->{status}, 302, 'redirect: 302');
is($r->{headers}{location}, "http://localhost:$p/target/a?q=1",
    'redirect: absolute Location, args appended');

$r = get('/perm/a');
is($r->{status}, 301, 'permanent: 301');
is($r->{headers}{location}, "http://localhost:$p/target/a",
    'permanent: Location');

$r = get('/abs/a?q=1');
is($r->{status}, 302, 'http:// replacement: 302');
is($r->{headers}{location}, 'http://example.com/a?q=1',
    'http:// replacement: Location with args');

$r = get('/abs2/a?q=1');
is($r->{status}, 301, 'https:// replacement with permanent: 301');
is($r->{headers}{location}, 'https://example.com/a?x=1&q=1',
    'args joined with & after the replacement\'s own');

$r = get('/scheme/a');
is($r->{status}, 302, '$scheme replacement: 302');
is($r->{headers}{location}, 'http://example.org/scheme/a',
    '$scheme replacement: Location');

# Arguments.

is(get('/args/keep?a=1')->{body}, "uri=/show/keep args=a=1\n", 'args kept');
is(get('/args/drop?a=1')->{body}, "uri=/show/drop args=\n",
    'a last "?" drops the args');
is(get('/args/new?a=1')->{body}, "uri=/show/new args=n=1&a=1\n",
    'the replacement\'s args come first');
is(get('/args/new')->{body}, "uri=/show/new args=n=1\n",
    'the replacement\'s args alone');
is(get('/args/only?a=1')->{body}, "uri=/show/only args=n=1\n",
    '"?...?": only the replacement\'s args');
is(get('/args/rdrop?a=1')->{headers}{location}, "http://localhost:$p/target",
    'redirect with a last "?": no args');

# Captures.

is(get('/cap/first/second')->{body}, "uri=/show/second/first args=\n",
    'numbered and named captures');

# Escaping: the URI is decoded; captures are escaped in args and redirects.

is(get('/esc/a%20b')->{body}, "uri=/show/a b args=\n",
    'internal rewrite: the decoded URI, not escaped again');
is(get('/escr/a%20b%2Fc')->{headers}{location},
    "http://localhost:$p/target/a%20b/c",
    'redirect: captures escaped, then unescaped where safe');
is(get('/esca/a%26b')->{body}, "uri=/show/x args=v=a%26b\n",
    'capture in args escaped when the URI had an escape');
is(get('/esca/a&b')->{body}, "uri=/show/x args=v=a&b\n",
    'capture in args as is when the URI had none');

# The cycle limit, and a zero-length result.

$r = get('/loop');
is($r->{status}, 500, '10 cycles: 500');
ok(wait_for(sub { $t->read_file('error.log')
    =~ /\[error\].*rewrite or internal redirection cycle while processing "\/loop"/
    }, 5), 'cycle: logged as nginx');

is(get('/zero')->{status}, 500, 'zero-length URI: 500');
ok(wait_for(sub { $t->read_file('error.log')
    =~ /\[error\].*the rewritten URI has a zero length/ }, 5),
    'zero length: logged');

# return in the script: after a rewrite; nginx's empty-text rules.

$r = get('/r200');
is($r->{status}, 200, 'return 200 without text: 200');
is($r->{headers}{'content-length'}, '0', 'return 200 without text: empty');
like(get('/r404')->{body}, qr/404 Not Found/, 'return 404 "": the error page');

# rewrite_log.

is(get('/rl/a?z=9')->{body}, "uri=/show/a args=z=9\n", 'rewrite_log: result');
ok(wait_for(sub { $t->read_file('error.log')
    =~ /\[notice\].*"\^\/nomatch\$" does not match "\/rl\/a"/ }, 5),
    'rewrite_log: does not match');
ok(wait_for(sub { $t->read_file('error.log')
    =~ /\[notice\].*"\^\/rl\/\(\.\*\)\$" matches "\/rl\/a"/ }, 5),
    'rewrite_log: matches');
ok(wait_for(sub { $t->read_file('error.log')
    =~ /\[notice\].*rewritten data: "\/show\/a", args: "z=9"/ }, 5),
    'rewrite_log: rewritten data');
unlike($t->read_file('error.log'), qr/"\^\/last\//,
    'rewrite_log off: no notices');

# Server level.

is(get('/old/x', port => 8081)->{body}, "srv uri=/new/x\n",
    'server rewrite, then the location is found');
is(get('/new/stop', port => 8081)->{body}, "srv uri=/new/stopped\n",
    'server rewrite break');
is(get('/other', port => 8081)->{body}, "root uri=/other\n",
    'server rewrite: no match');

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
        $directive
    }
}
EOF
    $t->write_file('bad.conf', $conf);
    my $r = $t->run_kiln('-p', "$d/", '-c', "$d/bad.conf", '-e',
        "$d/bad.log", '-t');
    isnt($r->{exit}, 0, "$name: -t fails");
    like($r->{stderr}, qr/\[emerg\] $re in \Q$d\/bad.conf\E:5/,
        "$name: message, file and line");
}

bad('bad regex', 'rewrite ^(foo /x;',
    qr/pcre2_compile\(\) failed: missing closing parenthesis in "\^\(foo"/);
bad('unknown flag', 'rewrite ^ /x foo;', qr/invalid parameter "foo"/);
bad('empty replacement', 'rewrite ^ "";', qr/empty replacement/);
bad('too many arguments', 'rewrite ^ /x last y;',
    qr/invalid number of arguments in "rewrite" directive/);
