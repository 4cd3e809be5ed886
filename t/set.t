#!/usr/bin/perl
# set.t: the set directive (values with variables and captures, in server
# and location, read by later directives and by the access log), a set
# variable read before any set (empty, and uninitialized_variable_warn's
# warning), set $args replacing the query, and set's
# config errors ($uri is not changeable).

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

    log_format setlog "$logged|$status";

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        set $srv "server";

        location /chain {
            set $a "x";
            set $b "$a-$uri-${a}y";
            return 200 "$b $srv\n";
        }

        location /override {
            set $srv "location";
            return 200 "$srv\n";
        }

        location /cond {
            set $x 1;
            if ($arg_y) {
                set $x 2;
            }
            return 200 "x=$x\n";
        }

        location ~ ^/cap/(\w+)$ {
            set $c "<$1>";
            return 200 "c=$c\n";
        }

        location /log {
            access_log %%TESTDIR%%/set.log setlog;
            set $logged "n=$arg_n";
            return 200 "ok\n";
        }

        location /setter {
            set $never 1;
            set $never2 1;
            set $logged 1;
            return 200 "set\n";
        }

        location /uninit {
            return 200 "[$never]\n";
        }

        location /args {
            set $args "a=1&b=$arg_x";
            return 200 "$args|$arg_a|$arg_b|$query_string|$is_args\n";
        }

        location /quiet {
            uninitialized_variable_warn off;
            return 200 "[$never2]\n";
        }
    }
}
EOF

$t->plan(20);
$t->run;

sub body {
    my ($uri, %o) = @_;
    return parse_response(http_get($uri, %o))->{body};
}

is(body('/chain'), "x-/chain-xy server\n",
    'set values with variables, read by later directives');
is(body('/override'), "location\n", 'location set after the server\'s');
is(body('/cond'), "x=1\n", 'set, if false');
is(body('/cond?y=1'), "x=2\n", 'set inside a true if');
is(body('/cap/abc'), "c=<abc>\n", 'set from a location capture');

is(body('/log?n=5'), "ok\n", 'set for the access log');
ok(wait_for(sub { $t->read_file('set.log') =~ /^n=5\|200$/m }, 5),
    'access log: the set variable');

is(body('/uninit'), "[]\n", 'uninitialized: empty');
ok(wait_for(sub { $t->read_file('error.log')
    =~ /\[warn\].*using uninitialized "never" variable/ }, 5),
    'uninitialized: warned');
is(body('/args?x=7'), "a=1&b=7|1|7|a=1&b=7|?\n",
    'set $args replaces the query: $arg_, $query_string follow');
is(body('/quiet'), "[]\n", 'uninitialized_variable_warn off: empty');
unlike($t->read_file('error.log'), qr/"never2"/,
    'uninitialized_variable_warn off: no warning');

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

bad('set $uri', 'set $uri /x;', qr/the duplicate "uri" variable/);
bad('set $query_string', 'set $query_string x;',
    qr/the duplicate "query_string" variable/);
bad('no $', 'set foo bar;', qr/invalid variable name "foo"/);
bad('one argument', 'set $a;',
    qr/invalid number of arguments in "set" directive/);
