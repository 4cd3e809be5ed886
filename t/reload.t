#!/usr/bin/perl
# reload.t: HUP and -s reload: new workers serve the new config, old ones
# exit, a broken config keeps the old workers serving, listeners are added
# and removed, and no request fails while reloading.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;

my $t = Test::Kiln->new;
my $d = $t->testdir;

# conf(ROOT, EXTRA_HTTP, EXTRA_MAIN): the config with location / serving
# html/ROOT; EXTRA_HTTP goes inside http {}, EXTRA_MAIN at the end.

sub conf {
    my ($root, $http, $main) = @_;

    $http //= '';
    $main //= '';

    $t->write_file_expand('kiln.conf', <<"EOF");
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes 2;

events {
    worker_connections 64;
}

http {
    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        location / {
            root %%TESTDIR%%/$root;
        }

        location /new/ {
            root %%TESTDIR%%/newroot;
        }
    }
$http}
$main
EOF
}

$t->write_file('one/index.html', "one\n");
$t->write_file('two/index.html', "two\n");
$t->write_file('newroot/new/index.html', "new\n");

# The broken reload is on purpose: its [emerg] and [alert] are expected.
$t->expect_errors(qr/unknown directive "foo"/, qr/reload failed/);

$t->plan(31);

conf('one');
$t->run;

my $master = $t->master_pid;

sub body {
    my ($uri, $port) = @_;
    my $r = parse_response(http_get($uri, port => $port // 8080)) // {};

    return ($r->{status} // 0) == 200 ? $r->{body} : "status "
        . ($r->{status} // 'none');
}

sub gone {
    my (@pids) = @_;

    return !grep { $t->alive($_) } @pids;
}

# serve_until(COND, OK_BODIES, TIMEOUT): request / in a loop until COND is
# true (bounded); returns the bodies that were not in OK_BODIES.

sub serve_until {
    my ($cond, $ok, $timeout) = @_;
    my (@bad, %ok, $n);

    %ok = map { $_ => 1 } @$ok;

    wait_for(sub {
        my $b = body('/');
        push @bad, $b unless $ok{$b};
        $n++;
        return $cond->();
    }, $timeout // 10);

    return @bad;
}

ok(wait_for(sub { $t->worker_pids == 2 }), 'two workers');
is(body('/'), "one\n", 'first config serves one/');
is(body('/new/'), "new\n", 'first config serves /new/');

# A good reload by HUP.

my @old = $t->worker_pids;
conf('two');
$t->signal('HUP');

my @bad = serve_until(sub { gone(@old) && body('/') eq "two\n" },
    ["one\n", "two\n"]);
is("@bad", '', 'HUP: every request during the reload answered');
ok(gone(@old), 'HUP: the old workers exit');
is(body('/'), "two\n", 'HUP: the new config serves two/');
ok(wait_for(sub { $t->worker_pids == 2 }), 'HUP: two new workers');
is($t->read_pid, $master, 'HUP: same master, same pid file');
like($t->read_file('error.log'), qr/\[notice\].*reconfiguring/,
    'error log: reconfiguring');

@bad = ();
for (1 .. 20) {
    my $b = body('/');
    push @bad, $b if $b ne "two\n";
}
is("@bad", '', 'HUP: 20 more requests, all from the new config');

# A broken config: the error is logged with file:line and the old workers
# keep serving the old config.

@old = $t->worker_pids;
conf('one', '', "foo bar;\n");
my @lines = split /\n/, $t->read_file('kiln.conf');
my ($broken_line) = grep { $lines[$_ - 1] =~ /^foo bar;/ } 1 .. @lines;

$t->signal('HUP');
my $where = "$d/kiln.conf:$broken_line";
ok(wait_for(sub { $t->read_file('error.log')
        =~ /\[emerg\].*unknown directive "foo" in \Q$where\E$/m }),
    "broken reload: error log names kiln.conf:$broken_line");
is(body('/'), "two\n", 'broken reload: the old config still serves');
ok(!gone(@old), 'broken reload: the old workers are still there');
is(join(' ', $t->worker_pids), join(' ', @old),
    'broken reload: no workers started or stopped');
is($t->read_pid, $master, 'broken reload: the master is unchanged');

@bad = ();
for (1 .. 10) {
    my $b = body('/');
    push @bad, $b if $b ne "two\n";
}
is("@bad", '', 'broken reload: 10 more requests, all from the old config');

# kiln -s reload: a new listener on another port.

conf('one', <<'EOF');

    server {
        listen       127.0.0.1:%%PORT_8081%%;
        server_name  localhost;

        location / {
            root %%TESTDIR%%/two;
        }
    }
EOF

my $r = $t->run_kiln($t->kiln_args, '-s', 'reload');
is($r->{exit}, 0, '-s reload exits 0');

@bad = serve_until(sub { gone(@old) && body('/') eq "one\n" },
    ["one\n", "two\n"]);
is("@bad", '', '-s reload: every request during the reload answered');
is(body('/'), "one\n", '-s reload: the fixed config serves one/');
ok(wait_for(sub { body('/', 8081) eq "two\n" }), '-s reload: new port serves');
ok(wait_for(sub { $t->worker_pids == 2 }), '-s reload: two workers');

# Removing that listener closes its port; 8080 stays.

@old = $t->worker_pids;
conf('one');
$t->signal('HUP');
@bad = serve_until(sub { gone(@old) }, ["one\n"]);
is("@bad", '', 'listener removed: 8080 kept answering');
ok(wait_for(sub { !defined http_connect(port => 8081, timeout => 1) }),
    'listener removed: 8081 is closed');
is(body('/'), "one\n", 'listener removed: 8080 serves');

# Several reloads in a row, while requests keep coming.

@old = $t->worker_pids;
for my $i (1 .. 5) {
    conf($i % 2 ? 'two' : 'one');
    $t->signal('HUP');
    my @b = serve_until(sub { 0 }, ["one\n", "two\n"], 0.2);
    push @bad, @b;
}
conf('two');
$t->signal('HUP');
push @bad, serve_until(sub {
    gone(@old) && $t->worker_pids == 2 && body('/') eq "two\n";
}, ["one\n", "two\n"], 15);

is("@bad", '', 'rapid reloads: every request answered');
ok(gone(@old), 'rapid reloads: the first workers are gone');
ok(wait_for(sub { $t->worker_pids == 2 }, 10),
    'rapid reloads: settles at two workers');
is(body('/'), "two\n", 'rapid reloads: the last config serves');
ok($t->alive($master), 'rapid reloads: the master is up');

# A HUP with an unchanged config still replaces the workers, as nginx does.

@old = $t->worker_pids;
$t->signal('HUP');
ok(wait_for(sub { gone(@old) && $t->worker_pids == 2 }),
    'HUP without changes: workers replaced');
is(body('/'), "two\n", 'HUP without changes: same content');

$t->stop;
