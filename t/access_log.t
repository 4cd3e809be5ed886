#!/usr/bin/perl
# access_log.t: the log module: the default "combined" line byte for byte,
# log_format with variables and escape=json|none, access_log off, two logs
# in one location, buffer= (flushed when full, after flush=, at exit),
# if=, and rotation by USR1 losing no line. Then paths with variables
# (a file per value, opened by the worker, ".." refused) and
# open_log_file_cache (a renamed file keeps its lines until valid=).

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;
use Time::HiRes qw(time);

my $t = Test::Kiln->new->has('log', 'static');
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
    log_format  custom  '$request_method $uri $args [$http_x_test] $status'
                        ' ${status}x';
    log_format  json    escape=json
                        '{"ua":"$http_user_agent","x":"$http_x_test",'
                        '"none":"$http_x_none","bin":"$binary_remote_addr"}';
    log_format  raw     escape=none '[$http_x_test] [$http_x_none]';
    log_format  short   '$uri';

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;
        root         %%TESTDIR%%/html;

        # no format: combined
        access_log   logs/access.log;

        location /custom/ {
            access_log  %%TESTDIR%%/custom.log custom;
        }

        location /json/ {
            access_log  %%TESTDIR%%/json.log json;
            access_log  %%TESTDIR%%/raw.log raw;
        }

        location /off/ {
            access_log  off;
        }

        location /two/ {
            access_log  %%TESTDIR%%/two.log short;
            access_log  %%TESTDIR%%/two.log custom;
            access_log  %%TESTDIR%%/two_combined.log;
        }

        location /if/ {
            access_log  %%TESTDIR%%/if.log short if=$arg_log;
        }

        location /flush/ {
            access_log  %%TESTDIR%%/flush.log short buffer=4k flush=2s;
        }

        location /full/ {
            access_log  %%TESTDIR%%/full.log short buffer=64;
        }

        location /exit/ {
            access_log  %%TESTDIR%%/exit.log short buffer=64k;
        }
    }

    server {
        listen       127.0.0.1:%%PORT_8081%%;
        server_name  localhost;
        root         %%TESTDIR%%/html;

        # no access_log here or above: kiln's compiled-in default,
        # logs/access.log under the prefix (Debian's nginx has its own)
    }
}
EOF

$t->write_file('html/index.html', "hello\n");

for my $dir (qw(custom json off two if flush full exit)) {
    $t->write_file("html/$dir/a.html", "$dir\n");
}

$t->plan(59);
$t->run;

my $time = qr{\d\d/(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}};

sub lines {
    my ($file) = @_;

    return split /\n/, $t->read_file($file);
}

sub get {
    my ($uri, %h) = @_;
    my $port = delete $h{port} // 8080;
    my $head = join '', map { "$_: $h{$_}\r\n" } sort keys %h;

    return parse_response(
        http("GET $uri HTTP/1.0\r\nHost: localhost\r\n$head\r\n",
            port => $port)) // {};
}

# The default path, and the combined format byte for byte.

is(get('/index.html?default-path', port => 8081)->{status}, 200,
    'a server with no access_log: 200');
ok(grep({ /"GET \/index\.html\?default-path HTTP\/1\.0" 200 6 "-" "-"$/ }
        lines('logs/access.log')),
    'no access_log anywhere: logs/access.log under the prefix, combined');


my $r = get('/index.html?a=1&b=%20', 'Referer' => 'http://ref.example/p?q=1',
    'User-Agent' => "agent \"quoted\" \\ \xc3\xa9 end",
    'Authorization' => 'Basic YWxpY2U6c2VjcmV0');
is($r->{status}, 200, 'GET with the default log: 200');

my ($line) = grep { /index\.html\?a=1/ } lines('logs/access.log');
like($line // '', qr{^127\.0\.0\.1 - alice \[$time\] "GET /index\.html\?a=1&b=%20 HTTP/1\.0" 200 6 "http://ref\.example/p\?q=1" "agent \\x22quoted\\x22 \\x5C \\xC3\\xA9 end"$},
    'default: logs/access.log in nginx\'s combined format, escaped');

$r = get('/missing.html');
is($r->{status}, 404, 'missing: 404');
($line) = grep { /missing\.html/ } lines('logs/access.log');
my $len = length $r->{body};
like($line // '', qr{^127\.0\.0\.1 - - \[$time\] "GET /missing\.html HTTP/1\.0" 404 $len "-" "-"$},
    'combined: a 404 with its page\'s length, "-" for absent fields');

# A custom format: literals, several variables, ${name}.

get('/custom/a.html?x=1', 'X-Test' => 'hello');
get('/custom/none.html');
is($t->read_file('custom.log'),
    "GET /custom/a.html x=1 [hello] 200 200x\n"
    . "GET /custom/none.html - [-] 404 404x\n",
    'log_format with variables, in request order');

# escape=json and escape=none.

get('/json/a.html', 'User-Agent' => "a\"b\\c\td\xc3\xa9",
    'X-Test' => '</x>');
is($t->read_file('json.log'),
    "{\"ua\":\"a\\\"b\\\\c\\td\xc3\xa9\",\"x\":\"</x>\",\"none\":\"\","
    . "\"bin\":\"\x7f\\u0000\\u0000\\u0001\"}\n",
    'escape=json: quote, backslash and controls escaped; absent is empty');
is($t->read_file('raw.log'), "[</x>] []\n",
    'escape=none: bytes as they are; absent is empty');

# access_log off in one location.

get('/off/a.html');
get('/index.html?after-off');
ok(!grep({ m{/off/} } lines('logs/access.log')), 'access_log off: not logged');
ok(grep({ /after-off/ } lines('logs/access.log')),
    'the server level still logs');

# Two formats into one file, and a third log.

get('/two/a.html', 'X-Test' => 't');
is($t->read_file('two.log'), "/two/a.html\nGET /two/a.html - [t] 200 200x\n",
    'two access_logs to one file: both lines, in order');
like($t->read_file('two_combined.log'),
    qr{^127\.0\.0\.1 - - \[$time\] "GET /two/a\.html HTTP/1\.0" 200 4 "-" "-"\n$},
    'and the third, combined by default');
ok(!grep({ m{/two/} } lines('logs/access.log')),
    'a location with its own logs does not use the default');

# if=: logged unless the value is empty or "0".

get("/if/a.html?log=$_") for qw(1 0 yes);
get('/if/a.html');
get('/if/a.html?log=');
is($t->read_file('if.log'), "/if/a.html\n/if/a.html\n",
    'if=$arg_log: only "1" and "yes" are logged');

# buffer= with flush=: written after the flush time, not before.

my $t0 = time();
get('/flush/a.html');
my $early = $t->read_file('flush.log');
my $soon = time() - $t0 < 1.5;

SKIP: {
    skip 'the machine took over 1.5s: too late to see the buffer', 1
        unless $soon;
    is($early, '', 'buffer=4k flush=2s: nothing written at once');
}

ok(wait_for(sub { $t->read_file('flush.log') eq "/flush/a.html\n" }, 6),
    'flush=2s: the line is written by the flush timer');
cmp_ok(time() - $t0, '>=', 1.5, 'not before the flush time');

# buffer=64: lines go out when the next one would not fit.

get('/full/a.html') for 1 .. 5;    # 13 bytes a line: 4 fit
is($t->read_file('full.log'), "/full/a.html\n" x 4,
    'buffer=64: a full buffer is written in one piece when the next line '
    . 'does not fit');

# Rotation: mv the log, USR1, nothing lost.

my $master = $t->master_pid;

# holding(PATH): kiln processes with PATH open.
sub holding {
    my ($path) = @_;
    my @h;

    for my $pid ($master, $t->children($master)) {
        opendir(my $dh, "/proc/$pid/fd") or next;
        for my $fd (grep { /^\d+$/ } readdir $dh) {
            my $to = readlink "/proc/$pid/fd/$fd";
            push @h, $pid if defined $to && $to eq $path;
        }
        closedir $dh;
    }

    return @h;
}

my %seen;

sub tagged {
    my ($file) = @_;

    return map { /[?&]n=(\d+)/ ? $1 : () } lines($file);
}

get("/index.html?n=$_") for 1 .. 5;

rename "$d/logs/access.log", "$d/logs/access.log.1" or die "rename: $!\n";
get("/index.html?n=$_") for 6 .. 8;    # to the renamed file, still open
$t->signal('USR1');
get("/index.html?n=$_") for 9 .. 11;   # either file, as the reopen goes

ok(wait_for(sub { -e "$d/logs/access.log" }), 'USR1: a new access.log');
ok(wait_for(sub { !holding("$d/logs/access.log.1") }),
    'USR1: no kiln process holds the rotated file');
ok(scalar(holding("$d/logs/access.log")), 'the worker holds the new file');

my $old = $t->read_file('logs/access.log.1');
get("/index.html?n=$_") for 12 .. 16;

is(join(',', sort { $a <=> $b } tagged('logs/access.log.1'),
        tagged('logs/access.log')),
    join(',', 1 .. 16), 'every request logged once across the two files');
is($t->read_file('logs/access.log.1'), $old,
    'the rotated file gets nothing after the reopen');
is(join(',', grep { $_ >= 12 } tagged('logs/access.log')), '12,13,14,15,16',
    'requests after the reopen are in the new file');
ok((grep { $_ == 1 } tagged('logs/access.log.1'))
    && (grep { $_ == 8 } tagged('logs/access.log.1')),
    'requests before USR1 are in the rotated file');

# buffer=64k without flush: kept until the worker exits.

get('/exit/a.html');
is($t->read_file('exit.log'), '', 'buffer=64k: kept in the worker');
ok($t->stop, 'kiln stops');
is($t->read_file('exit.log'), "/exit/a.html\n", 'written at worker exit');
is($t->read_file('full.log'), "/full/a.html\n" x 5,
    'the rest of buffer=64 too');

# Configuration errors, in nginx's words.

sub conf_error {
    my ($http) = @_;

    $t->write_file('bad.conf', "events { }\nhttp {\n$http\n"
        . "server { listen 127.0.0.1:1; } }\n");
    my $res = $t->run_kiln('-p', "$d/", '-e', "$d/bad.log", '-c',
        "$d/bad.conf", '-t');
    return ($res->{exit}, $res->{stderr} . $t->read_file('bad.log'));
}

my ($rc, $err) = conf_error("access_log $d/x.log nosuch;");
ok($rc && $err =~ /unknown log format "nosuch"/, 'unknown log format');

($rc, $err) = conf_error("log_format combined '\$uri';");
ok($rc && $err =~ /duplicate "log_format" name "combined"/,
    'combined is predefined');

($rc, $err) = conf_error("log_format f 'a \$ b';");
ok($rc && $err =~ /invalid parameter "\$ b"/, 'a lone \$');

($rc, $err) = conf_error("log_format f 'x\${uri';");
ok($rc && $err =~ /the closing bracket in "uri" variable is missing/,
    'an unclosed \${');

($rc, $err) = conf_error("log_format f '\$nosuchvar'; access_log $d/x.log f;");
ok($rc && $err =~ /unknown "nosuchvar" variable/, 'an unknown variable');

($rc, $err) = conf_error("access_log $d/x.log combined flush=1s;");
ok($rc && $err =~ /no buffer is defined for access_log/,
    'flush= needs buffer=');

($rc, $err) = conf_error("access_log $d/x.log combined buffer=1k;"
    . "access_log $d/x.log combined buffer=2k;");
ok($rc && $err =~ /already defined with conflicting parameters/,
    'one file, two buffer sizes');

($rc, $err) = conf_error("access_log off combined;");
ok($rc && $err =~ /invalid parameter "combined"/, 'off takes nothing more');

($rc, $err) = conf_error("access_log $d/\$host.log combined buffer=1k;");
ok($rc && $err =~ /buffered logs cannot have variables in name/,
    'buffer= with variables in the path');

($rc, $err) = conf_error('open_log_file_cache max=x;');
ok($rc && $err =~ /invalid "open_log_file_cache" parameter "max=x"/,
    'open_log_file_cache: a bad max');

($rc, $err) = conf_error('open_log_file_cache inactive=1s;');
ok($rc && $err =~ /"open_log_file_cache" must have "max" parameter/,
    'open_log_file_cache: max is required');

($rc, $err) = conf_error('open_log_file_cache max=1; open_log_file_cache off;');
ok($rc && $err =~ /"open_log_file_cache" directive is duplicate/,
    'open_log_file_cache: once a level');

# Paths with variables: a second run. The worker opens the files, so as
# root (workers are nobody) their folder must be writable by anyone.

mkdir "$d/vlogs";
chmod 0777, "$d/vlogs";

$t->write_file_expand('kiln.conf', <<'EOF');
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes 1;

events {
    worker_connections 64;
}

http {
    log_format  tag  '$arg_n';

    server {
        listen       127.0.0.1:%%PORT_8082%%;
        server_name  localhost;
        root         %%TESTDIR%%/html;

        access_log   vlogs/host-$host.log tag;

        location /arg/ {
            access_log  vlogs/$arg_x.log tag;
        }

        location /cached/ {
            open_log_file_cache  max=4 valid=2s;
            access_log  %%TESTDIR%%/vlogs/c-$arg_x.log tag;
        }

        location /uncached/ {
            access_log  %%TESTDIR%%/vlogs/u-$arg_x.log tag;
        }
    }
}
EOF

$t->write_file("html/$_/a.html", "$_\n") for qw(arg cached uncached);
$t->run;
$master = $t->master_pid;

sub vget {
    my ($uri, $host) = @_;

    return parse_response(
        http("GET $uri HTTP/1.0\r\nHost: " . ($host // 'localhost')
            . "\r\n\r\n", port => 8082)) // {};
}

is(vget('/index.html?n=1', 'a.example')->{status}, 200, 'variable path: 200');
vget('/index.html?n=2', 'b.example');
vget('/index.html?n=3', 'a.example');
is($t->read_file('vlogs/host-a.example.log'), "1\n3\n",
    'a file per $host, relative to the prefix');
is($t->read_file('vlogs/host-b.example.log'), "2\n", 'and the other host');

SKIP: {
    skip 'not root: the worker runs as this user', 1 if $> != 0;
    isnt((stat "$d/vlogs/host-a.example.log")[4], 0,
        'created by the worker, as its user');
}

vget('/arg/a.html?x=one&n=4');
is($t->read_file('vlogs/one.log'), "4\n", '$arg_x names the file');

is(vget('/arg/a.html?x=../escaped&n=5')->{status}, 200,
    'a ".." value: the request is served');
ok(!-e "$d/escaped.log", 'a ".." value: nothing written outside');
ok(wait_for(sub { $t->read_file('error.log')
        =~ /invalid access_log path "[^"]*\/vlogs\/\.\.\/escaped\.log"/ }),
    'a ".." value: the refusal logged');

# open_log_file_cache off (the default): each line opens the path anew.

vget('/uncached/a.html?x=u&n=1');
rename "$d/vlogs/u-u.log", "$d/vlogs/u-u.log.1" or die "rename: $!\n";
vget('/uncached/a.html?x=u&n=2');
is($t->read_file('vlogs/u-u.log.1') . '|' . $t->read_file('vlogs/u-u.log'),
    "1\n|2\n", 'no cache: a renamed file gets nothing more');
ok(!holding("$d/vlogs/u-u.log"), 'no cache: the file is not kept open');

# valid=2s: the cached descriptor outlives a rename until valid expires.

my $t1 = time();
vget('/cached/a.html?x=r&n=1');
ok(scalar(holding("$d/vlogs/c-r.log")), 'cached: the worker keeps the file');
rename "$d/vlogs/c-r.log", "$d/vlogs/c-r.log.1" or die "rename: $!\n";
vget('/cached/a.html?x=r&n=2');
my $quick = time() - $t1 < 0.9;

my $n = 2;
ok(wait_for(sub { vget('/cached/a.html?x=r&n=' . ++$n);
        -e "$d/vlogs/c-r.log" }, 8, 0.2),
    'cached: reopened once valid has passed');
my $took = time() - $t1;

SKIP: {
    skip 'the machine was too slow to see the cached descriptor', 2
        unless $quick;
    like($t->read_file('vlogs/c-r.log.1'), qr/^1\n2\n/,
        'cached: lines go to the renamed file until then');
    cmp_ok($took, '>=', 0.9, 'not before valid');
}

is(join(',', lines('vlogs/c-r.log.1'), lines('vlogs/c-r.log')),
    join(',', 1 .. $n), 'cached: every line once, across the two files');
ok(wait_for(sub { !holding("$d/vlogs/c-r.log.1") }),
    'cached: the renamed file is closed');

ok($t->stop, 'kiln stops again');
