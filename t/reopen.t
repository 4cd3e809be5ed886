#!/usr/bin/perl
# reopen.t: log rotation: after "mv error.log error.log.1", USR1 (or
# kiln -s reopen) makes the master and every worker write to a new
# error.log, and the rotated file gets nothing more.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;

my $t = Test::Kiln->new;
my $d = $t->testdir;

$t->write_file_expand('kiln.conf', <<'EOF');
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
            root %%TESTDIR%%/html;
        }
    }
}
EOF

$t->write_file('html/index.html', "index\n");

$t->plan(20);
$t->run;

my $master = $t->master_pid;

ok(wait_for(sub { $t->children($master) == 2 }), 'two workers');

sub procs {
    return ($master, $t->children($master));
}

# holding(PATH): the kiln processes that have PATH open.

sub holding {
    my ($path) = @_;

    return grep {
        my $fds = $t->fds($_);
        grep { $_ eq $path } values %$fds;
    } procs();
}

# missing(TAG, N): N requests for missing files; each makes a worker log
# 'open() ".../TAG-i.html" failed' at [error]. Spread over the workers by
# using a connection each.

sub missing {
    my ($tag, $n) = @_;
    my $st = '';

    for my $i (1 .. $n) {
        my $r = parse_response(http_get("/$tag-$i.html")) // {};
        $st .= " $tag-$i:" . ($r->{status} // 'none')
            if ($r->{status} // 0) != 404;
    }

    return $st;
}

# unchanged(FILE, BEFORE, NAME): FILE still holds just BEFORE.

sub unchanged {
    my ($file, $before, $name) = @_;
    my $now = $t->read_file($file);

    ok($now eq $before, $name) or diag("added to $file:\n"
        . (substr($now, 0, length $before) eq $before
            ? substr($now, length $before) : $now));
}

sub logged {
    my ($file, $tag, $n) = @_;
    my $log = $t->read_file($file);

    return !grep {
        $log !~ /\[error\].*open\(\) "[^"]*\/\Q$tag-$_\E\.html" failed/
    } 1 .. $n;
}

is(missing('before', 4), '', 'requests for missing files: 404');
ok(logged('error.log', 'before', 4), 'workers log the failed open()s');

# Rotate by USR1.

rename "$d/error.log", "$d/error.log.1" or die "rename: $!\n";
$t->signal('USR1');

ok(wait_for(sub { -e "$d/error.log" }), 'USR1: a new error.log is created');
ok(wait_for(sub { !holding("$d/error.log.1") }, 5),
    'USR1: no kiln process keeps error.log.1 open (stderr included)')
    or diag('still open in: ' . join(' ', holding("$d/error.log.1")));
is(scalar(holding("$d/error.log")), 3,
    'USR1: the master and both workers have the new error.log open');

my $old = $t->read_file('error.log.1');

is(missing('after', 8), '', 'requests after the reopen: 404');
ok(wait_for(sub { logged('error.log', 'after', 8) }),
    'the workers log to the new error.log');
unchanged('error.log.1', $old, 'nothing more in error.log.1');
like($old, qr/reopening logs/, 'the master logged the reopen');

# A second USR1 with nothing renamed: the master's line about it is
# written before it reopens, so it proves the master writes to the new file.

$t->signal('USR1');
ok(wait_for(sub {
        my @n = $t->read_file('error.log')
            =~ /\b$master#\d+: .*reopening logs/g;
        @n >= 1;
    }), 'the master writes to the new error.log');
unchanged('error.log.1', $old, 'still nothing more in error.log.1');

# Every process done with that reopen before the next rename (else a late
# worker would try to create the file, as nobody, after it was renamed).
ok(wait_for(sub {
        my $all = $t->read_file('error.log.1') . $t->read_file('error.log');
        !grep {
            my @n = $all =~ /\b$_#\d+: .*reopening logs/g;
            @n < 2;
        } procs();
    }), 'the second reopen is done everywhere');

# Rotate by kiln -s reopen.

rename "$d/error.log", "$d/error.log.2" or die "rename: $!\n";
my $r = $t->run_kiln($t->kiln_args, '-s', 'reopen');
is($r->{exit}, 0, '-s reopen exits 0');

ok(wait_for(sub { -e "$d/error.log" }), '-s reopen: a new error.log');
ok(wait_for(sub { !holding("$d/error.log.2") }, 5),
    '-s reopen: no kiln process keeps error.log.2 open');

$old = $t->read_file('error.log.2');
is(missing('third', 8), '', 'requests after -s reopen: 404');
ok(wait_for(sub { logged('error.log', 'third', 8) }),
    '-s reopen: the workers log to the new error.log');
unchanged('error.log.2', $old, '-s reopen: nothing more in error.log.2');

# Reopened files stay usable by workers that no longer run as root.

my @w = $t->children($master);
ok(@w && !grep({ !$t->alive($_) } @w), 'the same workers all along');

$t->stop;

# The harness checks error.log: the earlier lines are in the rotated files.
$t->write_file('error.log', $t->read_file('error.log.1')
    . $t->read_file('error.log.2') . $t->read_file('error.log'));
