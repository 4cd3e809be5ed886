#!/usr/bin/perl
# config.t: the command line and the config language as nginx words them:
# -t/-T/-q/-g/-v/-V/-h, and errors naming FILE:LINE.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;

my $t = Test::Kiln->new;
my $d = $t->testdir;
my $conf = "$d/kiln.conf";

# -t runs log their errors to their own file: error.log is the server's.
my @targs = ('-p', "$d/", '-c', $conf, '-e', "$d/test.log");

$t->plan(63);

# A good config: both of nginx's success lines, exit 0, nothing on stdout.

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
        listen 127.0.0.1:%%PORT_8080%%;
        location / {
            root %%TESTDIR%%/html;
        }
    }
}
EOF

my $r = $t->run_kiln(@targs, '-t');
is($r->{exit}, 0, '-t good config exits 0');
like($r->{stderr}, qr/the configuration file \Q$conf\E syntax is ok/,
    '-t says syntax is ok');
like($r->{stderr}, qr/configuration file \Q$conf\E test is successful/,
    '-t says test is successful');
unlike($r->{stderr}, qr/\[emerg\]|\[alert\]/, '-t good config: no errors');

# -q: silent on success, still loud on failure.

$r = $t->run_kiln(@targs, '-t', '-q');
is($r->{exit}, 0, '-t -q exits 0');
is($r->{stderr} . $r->{stdout}, '', '-t -q prints nothing on success');

# bad_config(NAME, TEXT, LINE, REGEX): -t fails with exit 1 and REGEX, which
# must be followed by "in FILE:LINE", and the "test failed" line.

sub bad_config {
    my ($name, $text, $line, $re, $file) = @_;
    my ($r, $where);

    $file //= $conf;
    $t->write_file('kiln.conf', $text);
    $r = $t->run_kiln(@targs, '-t');
    $where = "$file:$line";

    is($r->{exit}, 1, "$name: exit 1");
    like($r->{stderr}, qr/\[emerg\] $re in \Q$where\E$/m,
        "$name: message and $where");
    like($r->{stderr}, qr/configuration file \Q$conf\E test failed/,
        "$name: test failed");

    return $r;
}

bad_config('unknown directive', <<'EOF', 3, qr/unknown directive "foo"/);
events {
}
foo;
EOF

bad_config('not allowed here', <<'EOF', 5,
events {
}

http {
    listen 127.0.0.1:80;
}
EOF
    qr/"listen" directive is not allowed here/);

bad_config('invalid number of arguments', <<'EOF', 2,
events {}
worker_processes;
EOF
    qr/invalid number of arguments in "worker_processes" directive/);

bad_config('unexpected }', <<'EOF', 4, qr/unexpected "\}"/);
events {
}
http {}
}
EOF

# At end of file nginx counts the last newline: the line after the last.

bad_config('unexpected end of file', <<'EOF', 5,
events {
}
http {
    server {
EOF
    qr/unexpected end of file, expecting "\}"/);

bad_config('missing ; before a block', <<'EOF', 2,
worker_processes 1
events {
}
EOF
    qr/directive "worker_processes" is not terminated by ";"/);

bad_config('missing ; at end of file', <<'EOF', 4,
events {
}
worker_processes 1
EOF
    qr/unexpected end of file, expecting ";" or "\}"/);

bad_config('include of a missing file', <<"EOF", 3,
events {
}
include $d/missing.conf;
EOF
    qr/open\(\) "\Q$d\E\/missing.conf" failed/
    . qr/ \(2: No such file or directory\)/);

# An error inside an included file names that file and its line.

$t->write_file('inc/bad.conf', "\n\nbar on;\n");
bad_config('error in an included file', <<'EOF', 3,
events {
}
include inc/bad.conf;
EOF
    qr/unknown directive "bar"/, "$d/inc/bad.conf");

# include with a glob: matches are read in sorted order (-T dumps each file
# after "# configuration file PATH:"); a glob that matches nothing is fine.

$t->write_file('conf.d/b.conf', "worker_rlimit_nofile 1000;\n");
$t->write_file('conf.d/a.conf', "# a.conf\nworker_processes 1;\n");
$t->write_file('kiln.conf', <<'EOF');
events {
}
include conf.d/*.conf;
include nothing.d/*.conf;
EOF

$r = $t->run_kiln(@targs, '-T');
is($r->{exit}, 0, '-T with glob include exits 0');
like($r->{stderr}, qr/test is successful/, '-T says test is successful');

my @files = $r->{stdout} =~ /^# configuration file (\S+):$/mg;
is_deeply(\@files, [$conf, "$d/conf.d/a.conf", "$d/conf.d/b.conf"],
    '-T dumps the main file, then the glob matches sorted');
my $a_conf = "# configuration file $d/conf.d/a.conf:\n"
    . "# a.conf\nworker_processes 1;\n";
like($r->{stdout}, qr/^\Q$a_conf\E/m,
    '-T dumps a file\'s contents after its header');
like($r->{stdout}, qr/^include nothing.d\/\*.conf;$/m,
    '-T dumps the main file verbatim');

# Directives from included files count: b.conf's duplicate is caught.

$t->write_file('conf.d/c.conf', "worker_processes 2;\n");
bad_config('duplicate across included files', <<'EOF', 1,
events {
}
include conf.d/*.conf;
EOF
    qr/"worker_processes" directive is duplicate/, "$d/conf.d/c.conf");
unlink "$d/conf.d/c.conf";

# -g: directives appended to main; a duplicate of a config directive is an
# error at the config's line, a duplicate inside -g is "in command line".

$t->write_file('kiln.conf', "events {\n}\n");

$r = $t->run_kiln(@targs, '-t', '-g', 'worker_processes 3;');
is($r->{exit}, 0, '-g worker_processes 3: -t exits 0');
like($r->{stderr}, qr/test is successful/, '-g: test is successful');

$t->write_file('kiln.conf', "events {\n}\nworker_processes 1;\n");
$r = $t->run_kiln(@targs, '-t', '-g', 'worker_processes 3;');
is($r->{exit}, 1, '-g duplicate of a config directive: exit 1');
like($r->{stderr},
    qr/\[emerg\] "worker_processes" directive is duplicate in \Q$conf\E:3$/m,
    '-g duplicate: is duplicate, at the config line');

$t->write_file('kiln.conf', "events {\n}\n");
$r = $t->run_kiln(@targs, '-t', '-g',
    'worker_processes 3; worker_processes 2;');
is($r->{exit}, 1, 'duplicate inside -g: exit 1');
like($r->{stderr},
    qr/\[emerg\] "worker_processes" directive is duplicate in command line/,
    'duplicate inside -g: in command line');

$r = $t->run_kiln(@targs, '-t', '-g', 'foo;');
is($r->{exit}, 1, 'unknown directive in -g: exit 1');
like($r->{stderr}, qr/\[emerg\] unknown directive "foo" in command line/,
    'unknown directive in -g: in command line');

# -q does not hide errors.

$t->write_file('kiln.conf', "events {\n}\nfoo;\n");
$r = $t->run_kiln(@targs, '-t', '-q');
is($r->{exit}, 1, '-t -q bad config: exit 1');
like($r->{stderr}, qr/unknown directive "foo"/, '-t -q still prints errors');

# -v, -V, -h: print and exit 0 without reading any config.

$r = $t->run_kiln('-v');
is($r->{exit}, 0, '-v exits 0');
like($r->{stdout} . $r->{stderr}, qr/^kiln version: kiln\/\d+\.\d+\.\d+$/m,
    '-v prints the version');

$r = $t->run_kiln('-V');
is($r->{exit}, 0, '-V exits 0');
like($r->{stdout} . $r->{stderr}, qr/^kiln version: kiln\/\d+\.\d+\.\d+$/m,
    '-V prints the version');
like($r->{stdout} . $r->{stderr}, qr/^configure arguments:/m,
    '-V prints the configure arguments');

$r = $t->run_kiln('-h');
is($r->{exit}, 0, '-h exits 0');
like($r->{stdout} . $r->{stderr}, qr/^Usage: kiln /m, '-h prints usage');
like($r->{stdout} . $r->{stderr}, qr/^\s+-t\s+: test configuration/m,
    '-h lists -t');

$r = $t->run_kiln('-Z');
is($r->{exit}, 1, 'unknown option exits 1');
like($r->{stderr}, qr/invalid option: "Z"/, 'unknown option is named');

# -g really reaches the running server: three workers.

$t->write_file_expand('kiln.conf', <<'EOF');
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;

events {
    worker_connections 64;
}

http {
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        location / {
            root %%TESTDIR%%/html;
        }
    }
}
EOF
$t->write_file('html/index.html', "ok\n");

$t->run(args => ['-g', 'worker_processes 3;']);
ok(wait_for(sub { $t->worker_pids == 3 }), '-g worker_processes 3 runs 3');
like(http_get('/'), qr/^HTTP\/1\.1 200 .*\r\n\r\nok\n\z/s,
    'the server started with -g serves');
$t->stop;
