#!/usr/bin/perl
# conditional.t: conditional requests (RFC 9110 section 13) on static
# files: If-Match, If-Unmodified-Since, If-None-Match, If-Modified-Since in
# the order of section 13.2.2, lists and "*", weak and strong comparison,
# if_modified_since off|exact|before, and what a 304 keeps.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;

my $t = Test::Kiln->new->has('static', 'not_modified_filter');

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
        text/plain  txt;
    }

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        location / {
            root %%TESTDIR%%/html;
        }

        location /off/ {
            root %%TESTDIR%%/html;
            if_modified_since off;
        }

        location /before/ {
            root %%TESTDIR%%/html;
            if_modified_since before;
        }

        location /noetag/ {
            root %%TESTDIR%%/html;
            etag off;
        }
    }
}
EOF

my $mtime = 1700000000;
my $data = "conditional body\n";

for my $f ('f.txt', 'off/f.txt', 'before/f.txt', 'noetag/f.txt') {
    my $p = $t->write_file("html/$f", $data);
    utime($mtime, $mtime, $p) or die "utime: $!\n";
}

$t->plan(65);
$t->run;

my $etag = sprintf('"%x-%x"', $mtime, length $data);
my $lm = http_date($mtime);
my $before = http_date($mtime - 1);
my $after = http_date($mtime + 1);

sub req {
    my ($method, $uri, @headers) = @_;
    my $h = join '', map { "$_\r\n" } @headers;

    return parse_response(
        http("$method $uri HTTP/1.0\r\nHost: localhost\r\n$h\r\n")) // {};
}

sub full {
    my ($r, $name) = @_;

    is($r->{status}, 200, "$name: 200");
    is($r->{body}, $data, "$name: body");
}

# A 304 has no body, to HEAD or GET.
sub not_modified {
    my ($r, $name, $get) = @_;

    is($r->{status}, 304, "$name: 304");
    ok(!exists $r->{headers}{'content-length'}
            && !exists $r->{headers}{'content-type'}
            && !exists $r->{headers}{'accept-ranges'},
        "$name: no Content-Length, Content-Type, Accept-Ranges");

    is($r->{body}, '', "$name: no body" . ($get ? ' (GET)' : ''));
}

# If-None-Match: weak comparison, lists, "*"
my $r = req('GET', '/f.txt', "If-None-Match: $etag");
not_modified($r, 'If-None-Match: the ETag', 1);
is($r->{headers}{etag}, $etag, '304 keeps ETag');
is($r->{headers}{'last-modified'}, $lm, '304 keeps Last-Modified');
ok(exists $r->{headers}{date}, '304 keeps Date');

not_modified(req('GET', '/f.txt', "If-None-Match: \"a\", W/$etag"),
    'If-None-Match: weak in a list', 1);
not_modified(req('GET', '/f.txt', 'If-None-Match: *'), 'If-None-Match: *', 1);
not_modified(req('HEAD', '/f.txt', "If-None-Match: $etag"),
    'If-None-Match, HEAD');
full(req('GET', '/f.txt', 'If-None-Match: "a", "b"'),
    'If-None-Match: other tags');
full(req('GET', '/f.txt', "If-None-Match: \"x,$etag\""),
    'If-None-Match: a comma inside a tag');

# If-Modified-Since (exact, the default)
not_modified(req('GET', '/f.txt', "If-Modified-Since: $lm"),
    'If-Modified-Since: equal', 1);
full(req('GET', '/f.txt', "If-Modified-Since: $after"),
    'If-Modified-Since: later, exact');
full(req('GET', '/f.txt', "If-Modified-Since: $before"),
    'If-Modified-Since: earlier');
full(req('GET', '/f.txt', 'If-Modified-Since: yesterday'),
    'If-Modified-Since: invalid date');
full(req('GET', '/off/f.txt', "If-Modified-Since: $lm"),
    'if_modified_since off');
not_modified(req('GET', '/before/f.txt', "If-Modified-Since: $after"),
    'if_modified_since before: later date', 1);
full(req('GET', '/before/f.txt', "If-Modified-Since: $before"),
    'if_modified_since before: earlier date');

# If-Match: strong comparison, lists, "*"
full(req('GET', '/f.txt', "If-Match: $etag"), 'If-Match: the ETag');
full(req('GET', '/f.txt', "If-Match: \"a\", $etag"), 'If-Match: in a list');
full(req('GET', '/f.txt', 'If-Match: *'), 'If-Match: *');
$r = req('GET', '/f.txt', 'If-Match: "a"');
is($r->{status}, 412, 'If-Match: another tag, 412');
like($r->{body}, qr/412 Precondition Failed/, '412: error page');
is(req('GET', '/f.txt', "If-Match: W/$etag")->{status}, 412,
    'If-Match: a weak tag never matches, 412');

# If-Unmodified-Since
full(req('GET', '/f.txt', "If-Unmodified-Since: $lm"),
    'If-Unmodified-Since: equal');
full(req('GET', '/f.txt', "If-Unmodified-Since: $after"),
    'If-Unmodified-Since: later');
is(req('GET', '/f.txt', "If-Unmodified-Since: $before")->{status}, 412,
    'If-Unmodified-Since: earlier, 412');

# order (RFC 9110 13.2.2)
# nginx 1.22 evaluates If-Unmodified-Since even then (412): RFC 9110 says
# not to, and kiln does not.
if (($ENV{KILN_BINARY} // '') =~ /nginx/) {
    pass('If-Match true, If-Unmodified-Since: nginx differs (412)') for 1 .. 2;
} else {
    full(req('GET', '/f.txt', "If-Match: $etag",
            "If-Unmodified-Since: $before"),
        'If-Match true: If-Unmodified-Since not evaluated');
}
is(req('GET', '/f.txt', 'If-Match: "a"', "If-None-Match: $etag")->{status},
    412, 'If-Match before If-None-Match');
full(req('GET', '/f.txt', 'If-None-Match: "a"', "If-Modified-Since: $lm"),
    'If-None-Match false: If-Modified-Since not evaluated');
not_modified(req('GET', '/f.txt', "If-Match: $etag", "If-None-Match: $etag"),
    'If-Match true, If-None-Match matches', 1);

# unsafe methods: 412 where GET gets 304 (static answers POST with 405
# when no condition fails first)
is(req('POST', '/f.txt', "If-None-Match: $etag")->{status}, 405,
    'POST with If-None-Match: 405 from static before the filter');

# no ETag
not_modified(req('GET', '/noetag/f.txt', 'If-None-Match: *'),
    'etag off: If-None-Match * still 304', 1);
full(req('GET', '/noetag/f.txt', 'If-Match: *'), 'etag off: If-Match * 200');
is(req('GET', '/noetag/f.txt', "If-Match: $etag")->{status}, 412,
    'etag off: If-Match with a tag, 412');

# a 404 is not conditional
is(req('GET', '/missing.txt', 'If-Match: "a"')->{status}, 404,
    'If-Match on a 404: 404');

$t->stop;
