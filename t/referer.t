#!/usr/bin/perl
# referer.t: the referer module: valid_referers with none, blocked,
# server_names (plain, wildcard and regex server names), exact names
# without case, ports, "*.x", ".x" and "x.*" wildcards (the most specific
# first), a URI prefix, ~regexes (caseless, after the scheme), inheritance
# from the server, a location without any, and configuration errors.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;

my $t = Test::Kiln->new->has('referer', 'rewrite');
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
    default_type text/plain;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost www.Site.test *.wild.test ~^re\d+\.test$;

        referer_hash_max_size     4096;
        referer_hash_bucket_size  128;

        valid_referers  none example.com;

        location /inherit {
            return 200 "[$invalid_referer]";
        }

        location /list {
            valid_referers  blocked Exact.Test *.head.test .dot.test
                            tail.*  example.org/gallery/
                            ~\.regex\.test/ok;
            valid_referers  second.test;
            return 200 "[$invalid_referer]";
        }

        location /names {
            valid_referers  server_names;
            return 200 "[$invalid_referer]";
        }

        location /precedence {
            valid_referers  *.a.test/head/ www.a.*/tail/ exact.a.test/exact/;
            return 200 "[$invalid_referer]";
        }
    }

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  other;

        location / {
            return 200 "[$invalid_referer]";
        }
    }
}
EOF

$t->plan(43);
$t->run;

sub ref_is {
    my ($uri, $referer, $want, $name, $host) = @_;
    my $h = defined $referer ? "Referer: $referer\r\n" : '';
    $host //= 'localhost';
    my $r = parse_response(http("GET $uri HTTP/1.0\r\nHost: $host\r\n$h\r\n"));
    is(($r->{status} // 0) == 200 ? $r->{body} : 'failed', $want, $name);
}

# Inherited from the server: none and one name.
ref_is('/inherit', undef, '[]', 'none: no field');
ref_is('/inherit', 'http://example.com/', '[]', 'listed name');
ref_is('/inherit', 'http://EXAMPLE.com:8080/x', '[]', 'case and port');
ref_is('/inherit', 'https://example.com', '[]', 'https, no path');
ref_is('/inherit', 'http://example.net/', '[1]', 'other name');
ref_is('/inherit', 'http://sub.example.com/', '[1]', 'no subdomains');
ref_is('/inherit', 'example.com', '[1]', 'no scheme, no blocked');
ref_is('/inherit', '', '[1]', 'empty field');
ref_is('/', 'http://example.com/', '[]', 'no valid_referers: always valid',
    'other');

# The list of /list.
ref_is('/list', undef, '[1]', 'no field, no none');
ref_is('/list', 'blocked-by-firewall', '[]', 'blocked: no scheme');
ref_is('/list', 'ftp://x.test/', '[]', 'blocked: another scheme');
ref_is('/list', 'http://exact.test/', '[]', 'exact, lowercased');
ref_is('/list', 'http://a.head.test/', '[]', '*.x: subdomain');
ref_is('/list', 'http://head.test/', '[1]', '*.x: not the name');
ref_is('/list', 'http://dot.test/', '[]', '.x: the name');
ref_is('/list', 'http://a.b.dot.test/', '[]', '.x: subdomains');
ref_is('/list', 'http://xdot.test/', '[1]', '.x: not a mere suffix');
ref_is('/list', 'http://tail.com/', '[]', 'x.*');
ref_is('/list', 'http://example.org/gallery/pic', '[]', 'URI prefix');
ref_is('/list', 'http://example.org/other', '[1]', 'URI prefix: other');
ref_is('/list', 'http://example.org:81/gallery/', '[]',
    'URI prefix after a port');
ref_is('/list', 'http://WWW.Regex.TEST/ok', '[]', 'regex, caseless');
ref_is('/list', 'http://regex.test/ok', '[1]', 'regex: no match');
ref_is('/list', 'http://second.test/', '[]', 'a second valid_referers');
ref_is('/list', 'http://' . ('a' x 300) . '.head.test/', '[1]',
    'host over 255 bytes');

# server_names.
ref_is('/names', 'http://localhost/', '[]', 'server_names: plain');
ref_is('/names', 'http://www.site.test/', '[]',
    'server_names: mixed-case name');
ref_is('/names', 'http://x.wild.test/', '[]', 'server_names: wildcard');
ref_is('/names', 'http://re42.test/', '[]', 'server_names: regex');
ref_is('/names', 'http://re42.test.evil/', '[1]', 'server_names: regex anchored');
ref_is('/names', 'http://example.com/', '[1]',
    'own list replaces the inherited one');

# Exact, then the longest leading wildcard, then trailing.
ref_is('/precedence', 'http://exact.a.test/exact/', '[]', 'exact first');
ref_is('/precedence', 'http://exact.a.test/head/', '[1]',
    'exact wins over the wildcard');
ref_is('/precedence', 'http://www.a.test/head/', '[]',
    'leading wildcard before trailing');
ref_is('/precedence', 'http://www.a.org/tail/', '[]', 'trailing wildcard');

# Configuration errors, in nginx's words and places.

sub conf_error {
    my ($loc) = @_;

    $t->write_file('bad.conf', "events { }\nhttp {\nserver {\n"
        . "listen 127.0.0.1:1;\nlocation / {\n$loc\n}\n}\n}\n");
    my $res = $t->run_kiln('-p', "$d/", '-e', "$d/bad.log", '-c',
        "$d/bad.conf", '-t');
    return ($res->{exit}, $res->{stderr} . $t->read_file('bad.log'));
}

my ($rc, $err) = conf_error('valid_referers none blocked;');
ok($rc && $err =~ /the "none" or "blocked" referers are specified in the "valid_referers" directive without any valid referer/,
    'none and blocked alone') or diag($err);

($rc, $err) = conf_error('valid_referers a*b.com;');
ok($rc && $err =~ /invalid hostname or wildcard "a\*b.com" in \S+bad.conf:6/,
    'invalid wildcard') or diag($err);

($rc, $err) = conf_error('valid_referers a.com A.com;');
ok($rc && $err =~ /conflicting parameter "a.com" in \S+bad.conf:6/,
    'the same name twice, without case') or diag($err);

($rc, $err) = conf_error('valid_referers .a.com *.a.com;');
ok($rc && $err =~ /conflicting parameter "\*.a.com" in \S+bad.conf:6/,
    '".a.com" and "*.a.com"') or diag($err);

($rc, $err) = conf_error('valid_referers "~";');
ok($rc && $err =~ /empty regex in "~" in \S+bad.conf:6/, 'empty regex')
    or diag($err);

($rc, $err) = conf_error('valid_referers "";');
ok($rc && $err =~ /invalid referer "" in \S+bad.conf:6/, 'empty referer')
    or diag($err);

($rc, $err) = conf_error('valid_referers ~(x;');
ok($rc && $err =~ /pcre2_compile\(\) failed: missing closing parenthesis in "\(x" in \S+bad.conf:6/,
    'bad regex') or diag($err);
