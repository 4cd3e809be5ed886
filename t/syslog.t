#!/usr/bin/perl
# syslog.t: error_log and access_log to "syslog:server=...": RFC 3164
# datagrams received on a loopback UDP socket and a unix datagram socket,
# byte for byte: PRI from facility and severity, the timestamp, the host
# name or none (nohostname), the tag, the message without a newline. An
# error_log's severity follows each message's level. A server that is not
# there costs the request nothing and is not reported in a loop. Then the
# parameters' errors, in nginx's words.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;

use IO::Socket::INET;
use IO::Socket::UNIX;
use Socket qw(SOCK_DGRAM);
use Sys::Hostname;

my $t = Test::Kiln->new;
my $d = $t->testdir;

# kiln's default tag is its own name; nginx's is "nginx".
my $tag = Test::Kiln::binary() =~ /nginx[^\/]*$/ ? 'nginx' : 'kiln';
my $host = lc hostname();

my $udp = IO::Socket::INET->new(Proto => 'udp', LocalAddr => '127.0.0.1',
    LocalPort => port(5140)) or die "udp: $!\n";
my $unix = IO::Socket::UNIX->new(Type => SOCK_DGRAM, Local => "$d/log.sock")
    or die "unix: $!\n";
chmod 0666, "$d/log.sock";

$t->write_file_expand('kiln.conf', <<'EOF');
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
error_log syslog:server=127.0.0.1:%%PORT_5140%%,facility=daemon,tag=errs notice;
worker_processes 1;

events {
    worker_connections 64;
}

http {
    log_format short '$request_uri $status';
    access_log off;

    server {
        listen 127.0.0.1:%%PORT_8080%%;

        location /default/ {
            access_log syslog:server=127.0.0.1:%%PORT_5140%% short;
            return 204;
        }

        location /params/ {
            access_log syslog:server=127.0.0.1:%%PORT_5140%%,facility=local3,severity=warn,tag=Web_1,nohostname short;
            return 204;
        }

        location /unix/ {
            access_log syslog:server=unix:%%TESTDIR%%/log.sock,tag=u short;
            access_log %%TESTDIR%%/unix.log short;
            return 204;
        }

        location /if/ {
            access_log syslog:server=127.0.0.1:%%PORT_5140%%,tag=if short if=$arg_log;
            return 204;
        }

        location /err/ {
            error_log syslog:server=127.0.0.1:%%PORT_5140%%,facility=kern,tag=loc info;
            root %%TESTDIR%%/html;
        }

        location /gone/ {
            access_log syslog:server=127.0.0.1:%%PORT_5141%%,tag=gone short;
            return 204;
        }
    }
}
EOF

$t->write_file('html/index.html', "x\n");

$t->plan(23);
$t->run(wait_ports => ['8080']);

# received(SOCK, REGEX): the first datagram on SOCK matching REGEX, waited
# for (bounded); every datagram read is kept for later checks.

my %got;

sub received {
    my ($s, $re) = @_;
    my ($m, @hit);

    $s->blocking(0);
    wait_for(sub {
        while (defined $s->recv($m, 65536) && length $m) {
            push @{$got{$s}}, $m;
        }
        @hit = grep { /$re/ } @{$got{$s} // []};
        return scalar @hit;
    });

    return $hit[0] // '';
}

sub status {
    my ($uri) = @_;
    my $r = parse_response(http_get($uri));
    return $r ? $r->{status} : 0;
}

my $ts = qr/(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ 1-3]\d \d\d:\d\d:\d\d/;

# error_log at notice, facility daemon: the master's notices come, with
# PRI 3 * 8 + 5, the whole error line after the header, no newline.

like(received($udp, qr/start worker process \d/),
    qr/^<29>$ts \Q$host\E errs: \d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d \[notice\] \d+#\d+: start worker process \d+$/,
    'error_log syslog: <daemon.notice>, timestamp, host, tag, the line');

# The access_log defaults: local7, info, the host name, the default tag.

is(status('/default/a?q=1'), 204, 'GET /default/: 204');
like(received($udp, qr{/default/a}),
    qr/^<190>$ts \Q$host\E \Q$tag\E: \/default\/a\?q=1 204$/,
    'access_log syslog: local7.info, timestamp, host, default tag, line');

# Every parameter: local3.warn = 19 * 8 + 4, no host name, the tag as
# written (letters keep their case).

is(status('/params/b'), 204, 'GET /params/: 204');
like(received($udp, qr{/params/b}), qr/^<156>$ts Web_1: \/params\/b 204$/,
    'facility=local3,severity=warn,tag=Web_1,nohostname');

# A unix datagram socket, and a file log next to it.

is(status('/unix/c'), 204, 'GET /unix/: 204');
like(received($unix, qr{/unix/c}), qr/^<190>$ts \Q$host\E u: \/unix\/c 204$/,
    'server=unix:PATH');
ok(wait_for(sub { $t->read_file('unix.log') eq "/unix/c 204\n" }),
    'the file log next to it has the line too');

# if=: the line is sent unless the value is empty or "0".

is(status('/if/no?log=0'), 204, 'if= "0": 204');
is(status('/if/yes?log=1'), 204, 'if= "1": 204');
like(received($udp, qr{ if: /if/yes}), qr/ if: \/if\/yes\?log=1 204$/,
    'if=: a true value is sent');
ok(!grep({ m{/if/no} } @{$got{$udp}}), 'if=: "0" is not');

# A location's error_log: an [error] line at kern.err, PRI 3; an [info]
# one at kern.info, PRI 6 (the level sets the severity).

is(status('/err/missing.html'), 404, 'a missing file: 404');
like(received($udp, qr/ loc: .*\[error\]/),
    qr/^<3>$ts \Q$host\E loc: \S+ \S+ \[error\] \d+#\d+: \*\d+ open\(\) "\Q$d\E\/html\/err\/missing\.html" failed \(2: No such file or directory\)/,
    'a location error_log: <kern.err>, the error line');
ok(!grep({ / errs: .*missing\.html/ } @{$got{$udp}}),
    'not in the main error_log: the location has its own');

# Nobody at the server: requests are answered, the failure is logged, and
# not once per line.

my @st = map { status("/gone/$_") } 1 .. 6;
is("@st", '204 204 204 204 204 204', 'no syslog server: requests still 204');
ok(wait_for(sub { $t->read_file('error.log') =~ /send\(\) to syslog/ }),
    'the failed send is logged');
my @fails = $t->read_file('error.log') =~ /(send\(\) to syslog)/g;
cmp_ok(scalar @fails, '<', 6, 'not for every line');

# Configuration errors, in nginx's words.

sub conf_error {
    my ($conf) = @_;

    $t->write_file('bad.conf', "events { }\n$conf\n");
    my $res = $t->run_kiln('-p', "$d/", '-e', "$d/bad.log", '-c',
        "$d/bad.conf", '-t');
    return $res->{exit} ? $res->{stderr} . $t->read_file('bad.log') : '';
}

like(conf_error("error_log syslog:facility=local1;"),
    qr/no syslog server specified in \Q$d\E\/bad\.conf:2/,
    'no server= : refused');

my $errs = join '', map { conf_error($_) }
    "error_log syslog:server=127.0.0.1,facility=local9;",
    "error_log syslog:server=127.0.0.1,severity=warning;",
    "http { access_log syslog:server=127.0.0.1,tag=a-b; }",
    "http { access_log syslog:server=127.0.0.1,server=127.0.0.2; }",
    "http { access_log syslog:server=127.0.0.1,foo=1; }",
    "http { access_log syslog:server=127.0.0.1 combined buffer=4k; }";
like($errs, qr/unknown\ syslog\ facility\ "local9".*
    unknown\ syslog\ severity\ "warning".*
    syslog\ "tag"\ only\ allows\ alphanumeric\ characters\ and\ underscore.*
    duplicate\ syslog\ "server".*
    unknown\ syslog\ parameter\ "foo=1".*
    logs\ to\ syslog\ cannot\ be\ buffered/sx,
    'each bad parameter, named');

# error_log syslog: alone in the main context: the default error log file
# (-e) is still opened, at "error", as nginx does.

my $t2 = Test::Kiln->new;
my $d2 = $t2->testdir;

$t2->write_file_expand('kiln.conf', <<'EOF2');
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log syslog:server=127.0.0.1:%%PORT_5140%%,tag=only info;
worker_processes 1;

events {
    worker_connections 64;
}

http {
    access_log off;

    server {
        listen 127.0.0.1:%%PORT_8081%%;
        root %%TESTDIR%%/html;
    }
}
EOF2

$t2->run(wait_ports => ['8081']);

my $r = parse_response(http_get('/nothing.html', port => 8081));
is($r ? $r->{status} : 0, 404, 'syslog-only error_log: a missing file, 404');
like(received($udp, qr/ only: .*nothing\.html/),
    qr/^<187>$ts \Q$host\E only: \S+ \S+ \[error\] .*"\Q$d2\E\/html\/nothing\.html" failed/,
    'the error goes to syslog');
ok(wait_for(sub { $t2->read_file('error.log') =~ /nothing\.html" failed/ }),
    'and to the default error log file');

# Stopped while the listeners are still there: their last notices arrive.
$t2->stop;
$t->stop;
