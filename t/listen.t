#!/usr/bin/perl
# listen.t: listen on unix sockets (variables, mode, the file removed at
# exit and when a reload drops it), port ranges, so_keepalive=, and the
# parameters and directives kiln refuses with the reason.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use IO::Socket::UNIX;
use Test::More;
use Test::Kiln;

my $t = Test::Kiln->new;
my $d = $t->testdir;
my $sock = "$d/s.sock";
my $is_nginx = ($ENV{KILN_BINARY} // '') =~ /nginx/;

$t->plan(33);

port_range('9000', 3);

my $conf = <<'EOF';
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes 2;

events {
    worker_connections 64;
}

http {
    access_log %%TESTDIR%%/access.log;

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        %%UNIX%%
        listen 127.0.0.1:%%PORT_9000%%-%%PORT_9000_2%%;
        listen 127.0.0.1:%%PORT_8081%% so_keepalive=30s::;

        location / {
            return 200 "ra=[$remote_addr] rp=[$remote_port] sa=[$server_addr] sp=[$server_port]\n";
        }

        location /dir {
            root %%TESTDIR%%/html;
        }
    }
}
EOF

sub write_conf {
    my ($unix) = @_;
    (my $c = $conf) =~ s/%%UNIX%%/$unix ? "listen unix:%%TESTDIR%%\/s.sock;" : ''/e;
    $t->write_file_expand('kiln.conf', $c);
}

sub unix_get {
    my ($uri) = @_;
    my ($s, $buf, $n);

    $s = IO::Socket::UNIX->new(Type => SOCK_STREAM, Peer => $sock)
        or return "connect: $!";
    print $s "GET $uri HTTP/1.0\r\nHost: localhost\r\n\r\n";
    local $/;
    $buf = <$s>;
    return $buf // '';
}

mkdir "$d/html";
mkdir "$d/html/dir";
$t->write_file('html/dir/index.html', "in dir\n");

write_conf(1);
$t->run;

# --- unix sockets ----------------------------------------------------------

ok(-S $sock, 'unix: the socket file exists');
is((stat $sock)[2] & 0777, 0666, 'unix: mode 0666, as nginx');

my $r = parse_response(unix_get('/vars'));
is($r->{status}, 200, 'unix: request answered');
is($r->{body}, "ra=[unix:] rp=[] sa=[unix:$sock] sp=[]\n",
    'unix: $remote_addr unix:, no ports, $server_addr the path');

$r = parse_response(unix_get('/dir'));
is($r->{status}, 301, 'unix: directory redirect');
like($r->{headers}{location} // '', qr{^http://localhost/dir/$},
    'unix: the redirect has no port');

$r = parse_response(unix_get('/dir/'));
is($r->{body}, "in dir\n", 'unix: a file served');

like($t->read_file('access.log'), qr/^unix: - - \[/m,
    'unix: the access log says unix:');

# TCP still answers beside it.
$r = parse_response(http_get('/x'));
like($r->{body}, qr/^ra=\[127\.0\.0\.1\] rp=\[\d+\] sa=\[127\.0\.0\.1\] /,
    'tcp: beside the unix listener');

# --- port ranges -------------------------------------------------------------

for my $label ('9000', '9000_1', '9000_2') {
    my $p = port($label);
    $r = parse_response(http_get('/r', port => $label));
    is($r->{status}, 200, "range: port $label answers");
    like($r->{body}, qr/sp=\[$p\]/, "range: \$server_port $label");
}

# --- so_keepalive -----------------------------------------------------------

{
    my $c = http_connect(port => '8081');
    my $lport = $c->sockport;
    my $p = port('8081');

    # the server's end of this connection: keepalive timer set from 30s
    my $out = '';
    wait_for(sub {
        $out = `ss -tno state established '( sport = :$p and dport = :$lport )' 2>/dev/null`;
        $out =~ /timer:/;
    });
    like($out, qr/timer:\(keepalive,(\d+)sec/,
        'so_keepalive=30s:: arms the keepalive timer at 30s');
    close $c;
}

# --- a reload that drops the unix listener removes its file -----------------

write_conf(0);
$t->signal('HUP');
ok(wait_for(sub { !-e $sock }), 'reload without the unix listener: file removed');

$r = parse_response(http_get('/after'));
is($r->{status}, 200, 'tcp after the reload');

write_conf(1);
$t->signal('HUP');
ok(wait_for(sub { -S $sock }), 'reload with it again: file back');
ok(wait_for(sub { parse_response(unix_get('/again'))->{status} // 0 == 200 }),
    'unix answers after the reload');

# --- a stop removes it ------------------------------------------------------

$t->stop;
ok(!-e $sock, 'stop: the socket file is removed');

# --- refused, with the reason -----------------------------------------------

my @targs = ('-p', "$d/", '-c', "$d/kiln.conf", '-e', "$d/test.log");

sub refused {
    my ($name, $text, $re) = @_;

    $t->write_file('kiln.conf', "events { }\nhttp {\n$text\n}\n");
    my $r = $t->run_kiln(@targs, '-t');

    is($r->{exit}, 1, "$name: refused");
    like($r->{stderr}, qr/\[emerg\] $re.* in \Q$d\/kiln.conf\E:\d+$/m,
        "$name: says why");
}

SKIP: {
    skip 'kiln\'s own messages', 10 if $is_nginx;

    refused('listen ssl without a certificate',
        'server { listen 127.0.0.1:1 ssl; }',
        qr/no "ssl_certificate" is defined for the "listen \.\.\. ssl" directive/);
    refused('listen http2', 'server { listen 127.0.0.1:1 http2; }',
        qr/invalid parameter "http2": HTTP\/2 is not supported/);
    refused('ssl_ocsp_cache', 'ssl_ocsp_cache shared:x:1m;',
        qr/"ssl_ocsp_cache" directive is refused: OCSP checks of client certificates are not supported/);
    refused('proxy_cache_path', 'proxy_cache_path /tmp/c keys_zone=c:1m;',
        qr/unknown directive "proxy_cache_path": response caching is not/);
    refused('timer_resolution', '}' . "\n" . 'timer_resolution 100ms;'
        . "\n" . 'http {',
        qr/unknown directive "timer_resolution": timer_resolution is not/);
}

refused('range reversed', 'server { listen 127.0.0.1:2000-1999; }',
    qr/invalid port range in "127\.0\.0\.1:2000-1999"/);

$t->done;
