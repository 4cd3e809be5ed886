#!/usr/bin/perl
# map.t: the map module: exact keys (without case), default or none,
# hostnames with every wildcard form and their precedence, regexes in
# order with captures and named captures, values with variables, include
# in the block, volatile, 5000 keys, map_hash_*_size, configuration errors.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;

my $t = Test::Kiln->new->has('map', 'rewrite', 'log');
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

    map_hash_max_size 4096;
    map_hash_bucket_size 128;

    log_format m '$uri k=$arg_k exact=$exact nodefault="$nodefault"';

    map $arg_k $exact {
        default                   dflt;
        foo                       FOO;
        Bar                       bar-value;
        \default                  literal-default;
        \~tilde                   tilde;
        re5                       exact-re5;
        var                       "uri=$uri args=$args";
        include                   map-inc.conf;
        ~^re(\d+)$                "re-$1";
        ~^re                      re-other;
        ~*^CI-(?<word>[a-z]+)$    "ci-$word";
    }

    map $http_x_key $header {
        "two words"               spaced;
    }

    map $arg_k $nodefault {
        foo                       FOO;
    }

    map $arg_e $emptykey {
        ""                        empty-key;
        default                   not-empty;
    }

    map $arg_e $emptyre {
        ~^$                       matched-empty;
        default                   dflt;
    }

    map $exact $chained {
        FOO                       chained-foo;
        default                   "chained-$exact";
    }

    map "$arg_a:$arg_b" $combo {
        1:2                       one-two;
        default                   "other-$arg_a";
    }

    map $host $hn {
        hostnames;
        default                   none;
        www.example.com           exact;
        .example.com              dot;
        *.sub.example.com         head-long;
        *.org                     org;
        www.example.*             tail;
        www.test.*                tail-long;
        www.*                     tail-short;
        ~^(?<first>[^.]+)\.regex\.net$  "re-$first";
        ~\.net$                   net-last;
        ~^www\.                   regex-www;
    }

    map $arg_h $trailing {
        hostnames;
        example.com               yes;
        default                   no;
    }

    map $arg_h $nohostnames {
        *.example.com             literal-star;
        .example.com              literal-dot;
        default                   no;
    }

    map $uri $vol {
        volatile;
        /first                    first;
        /second                   second;
        default                   other;
    }

    map $uri $nonvol {
        /first                    first;
        /second                   second;
        default                   other;
    }

    map $arg_k $twice {
        foo                       first-map;
    }

    map $arg_k $twice {
        foo                       second-map;
    }

    map $arg_k $big {
        default                   big-default;
        include                   big.map;
    }

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        location /exact {
            access_log %%TESTDIR%%/map.log m;
            return 200 "[$exact]";
        }

        location /header {
            return 200 "[$header]";
        }

        location /nodefault {
            return 200 "[$nodefault]";
        }

        location /empty {
            return 200 "[$emptykey] [$emptyre]";
        }

        location /named {
            return 200 "[$exact] [$word]";
        }

        location /chained {
            return 200 "[$chained]";
        }

        location /combo {
            return 200 "[$combo]";
        }

        location /host {
            return 200 "[$hn] [$first]";
        }

        location /trailing {
            return 200 "[$trailing] [$nohostnames]";
        }

        location /first {
            try_files /nonexistent-$vol-$nonvol /second;
        }

        location /second {
            return 200 "vol=$vol nonvol=$nonvol";
        }

        location /twice {
            return 200 "[$twice]";
        }

        location /big {
            return 200 "[$big]";
        }
    }
}
EOF

$t->write_file('map-inc.conf', "inc1   from-include;\nInc2 \"inc-\$arg_x\";\n");

my $big = '';
$big .= "/k$_  v$_;\n" for 0 .. 4999;
$t->write_file('big.map', $big);

$t->plan(68);
$t->run;

sub body {
    my ($uri, %o) = @_;
    my $r = parse_response(http_get($uri, %o));
    return ($r->{status} // 0) == 200 ? $r->{body} : "status $r->{status}";
}

# Exact keys, the default, and keys that look like syntax.

is(body('/exact?k=foo'), '[FOO]', 'exact key');
is(body('/exact?k=FOO'), '[FOO]', 'exact keys match without case');
is(body('/exact?k=bar'), '[bar-value]', 'keys are lowercased');
like(http("GET /header HTTP/1.0\r\nX-Key: Two Words\r\n\r\n"),
    qr/\r\n\r\n\[spaced\]\z/, 'quoted key with a space');
is(body('/exact?k=default'), '[literal-default]', '\default is a key');
is(body('/exact?k=~tilde'), '[tilde]', '\~ is a literal ~');
is(body('/exact?k=nothing'), '[dflt]', 'no key: the default');
is(body('/exact'), '[dflt]', 'empty source: the default');
is(body('/exact?k=var&x=1'), '[uri=/exact args=k=var&x=1]',
    'value with variables');
is(body('/nodefault?k=foo'), '[FOO]', 'map without default: key');
is(body('/nodefault?k=bar'), '[]', 'map without default: empty value');

# include inside the block.

is(body('/exact?k=inc1'), '[from-include]', 'included key');
is(body('/exact?k=inc2&x=y'), '[inc-y]', 'included key, value with variable');

# Regexes: after exact keys, in order, with captures.

is(body('/exact?k=re5'), '[exact-re5]', 'exact key before regex');
is(body('/exact?k=re12'), '[re-12]', 'regex with capture');
is(body('/exact?k=rex'), '[re-other]', 'regexes in order: the second');
is(body('/exact?k=xre1'), '[dflt]', 'anchored regex: no match');
is(body('/named?k=ci-HELLO'), '[ci-HELLO] [HELLO]',
    '~* caseless; named capture in value and as a variable');
is(body('/named?k=cI-a1'), '[dflt] []', 'no match: named capture empty');

# Empty strings.

is(body('/empty'), '[empty-key] [dflt]',
    'empty source: "" key matches; regexes are not tried');
is(body('/empty?e=x'), '[not-empty] [dflt]', 'non-empty source');

# Maps of maps, and a source with several variables.

is(body('/chained?k=foo'), '[chained-foo]', 'map of a map');
is(body('/chained?k=zzz'), '[chained-dflt]', 'map of a map, default');
is(body('/combo?a=1&b=2'), '[one-two]', 'complex source');
is(body('/combo?a=3&b=2'), '[other-3]', 'complex source: default');

# hostnames: exact, then the longest leading wildcard, then the longest
# trailing one, then regexes in order.

my %hosts = (
    'www.example.com'      => '[exact] []',
    'WWW.Example.COM'      => '[exact] []',
    'www.example.com.'     => '[exact] []',
    'example.com'          => '[dot] []',
    'a.example.com'        => '[dot] []',
    'a.b.example.com'      => '[dot] []',
    'sub.example.com'      => '[dot] []',
    'x.sub.example.com'    => '[head-long] []',
    'y.x.sub.example.com'  => '[head-long] []',
    'www.example.org'      => '[org] []',
    'org'                  => '[none] []',
    'www.example.co.uk'    => '[tail] []',
    'www.example'          => '[tail-short] []',
    'www.test.com'         => '[tail-long] []',
    'www.foo.com'          => '[tail-short] []',
    'a.regex.net'          => '[re-a] [a]',
    'b.c.net'              => '[net-last] []',
    'wwwx.io'              => '[none] []',
    'unknown.io'           => '[none] []',
);

for my $h (sort keys %hosts) {
    is(body('/host', host => $h), $hosts{$h}, "hostnames: $h");
}

is(body('/trailing?h=example.com.'), '[yes] [no]',
    'hostnames: a trailing dot is dropped');
is(body('/trailing?h=a.example.com'), '[no] [no]',
    'without hostnames, wildcards are literal keys');
is(body('/trailing?h=*.example.com'), '[no] [literal-star]',
    'without hostnames: "*.example.com" is a key');

# volatile: computed again at each use; the other map keeps the value it
# had before the internal redirect.

is(body('/first'), 'vol=second nonvol=first',
    'volatile map computed again after a redirect');

# A variable mapped twice: the later map.

is(body('/twice?k=foo'), '[second-map]', 'the later map of a variable wins');

# 5000 keys.

is(body('/big?k=/k0'), '[v0]', '5000 keys: the first');
is(body('/big?k=/k2500'), '[v2500]', '5000 keys: one in the middle');
is(body('/big?k=/k4999'), '[v4999]', '5000 keys: the last');
is(body('/big?k=/k5000'), '[big-default]', '5000 keys: absent');

# The access log sees the same values.

ok(wait_for(sub { $t->read_file('map.log') =~ /k=var / }), 'access log');
like($t->read_file('map.log'),
    qr{^/exact k=bar exact=bar-value nodefault=""$}m,
    'access log: mapped value; empty value of the other map');

# Configuration errors, in nginx's words and places.

sub conf_error {
    my ($http) = @_;

    $t->write_file('bad.conf', "events { }\nhttp {\n$http\n"
        . "server { listen 127.0.0.1:1; } }\n");
    my $res = $t->run_kiln('-p', "$d/", '-e', "$d/bad.log", '-c',
        "$d/bad.conf", '-t');
    return ($res->{exit}, $res->{stderr} . $t->read_file('bad.log'));
}

my ($rc, $err) = conf_error("map \$uri \$a {\n a 1;\n A 2;\n}");
ok($rc && $err =~ /conflicting parameter "a" in \Q$d\E\/bad.conf:5/,
    'duplicate key, without case') or diag($err);

($rc, $err) = conf_error("map \$uri \$a {\n hostnames;\n .a.com 1;\n"
    . " *.a.com 2;\n}");
ok($rc && $err =~ /conflicting parameter "\*.a.com" in \S+bad.conf:6/,
    '".a.com" and "*.a.com" conflict') or diag($err);

($rc, $err) = conf_error("map \$uri \$a { hostnames; a*.com 1; }");
ok($rc && $err =~ /invalid hostname or wildcard "a\*.com" in \S+bad.conf:3/,
    'invalid wildcard') or diag($err);

($rc, $err) = conf_error("map \$uri \$a {\n ~(a 1;\n}");
ok($rc && $err =~ /pcre2_compile\(\) failed: missing closing parenthesis in "\(a" in \S+bad.conf:4/,
    'bad regex, with file:line') or diag($err);

# nginx names the include line of the outer file; kiln the included
# file's own line (docs/directives.md, "Where kiln differs from nginx").
$t->write_file('bad-inc.map', "a 1;\n~(b 2;\n");
($rc, $err) = conf_error("map \$uri \$a {\n include $d/bad-inc.map;\n}");
ok($rc && $err =~ /missing closing parenthesis in "\(b" in \Q$d\E\/bad-inc.map:2/,
    'bad regex in an included file: its file:line') or diag($err);

$t->write_file('dup-inc.map', "a 1;\n\nA 2;\n");
($rc, $err) = conf_error("map \$uri \$a {\n include $d/dup-inc.map;\n}");
ok($rc && $err =~ /conflicting parameter "a" in \Q$d\E\/dup-inc.map:3/,
    'duplicate key in an included file: its file:line') or diag($err);

($rc, $err) = conf_error("map \$uri \$a { a \$nope; }");
ok($rc && $err =~ /\[emerg\] unknown "nope" variable$/m,
    'unknown variable in a value') or diag($err);

($rc, $err) = conf_error("map \$uri \$a { default 1; default 2; }");
ok($rc && $err =~ /duplicate default map parameter in \S+bad.conf:3/,
    'duplicate default') or diag($err);

($rc, $err) = conf_error("map \$uri \$a { a b c; }");
ok($rc && $err =~ /invalid number of the map parameters in \S+bad.conf:3/,
    'three words') or diag($err);

($rc, $err) = conf_error("map \$uri a { a b; }");
ok($rc && $err =~ /invalid variable name "a" in \S+bad.conf:3/,
    'map to a name without $') or diag($err);

($rc, $err) = conf_error("map \$uri \$uri { a b; }");
ok($rc && $err =~ /the duplicate "uri" variable in \S+bad.conf:3/,
    'map to a core variable') or diag($err);

($rc, $err) = conf_error("server { map \$uri \$a { a b; } }");
ok($rc && $err =~ /"map" directive is not allowed here in \S+bad.conf:3/,
    'map in server') or diag($err);

($rc, $err) = conf_error("map_hash_bucket_size abc;");
ok($rc && $err =~ /"map_hash_bucket_size" directive invalid number/,
    'map_hash_bucket_size with a bad number') or diag($err);
