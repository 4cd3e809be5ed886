#!/usr/bin/perl
# variables_upstream.t: the upstream module's variables as a log_format
# writes them: $upstream_addr, _status, _connect_time, _header_time,
# _response_time, _response_length, _bytes_received, _bytes_sent (one
# entry per peer tried, ", " between them, " : " across an internal
# redirect), _cache_status, _http_NAME (repeats joined), _cookie_NAME,
# _trailer_NAME; $request_body and $proxy_add_x_forwarded_for of a proxied
# request, FastCGI exchanges (TCP and unix), and a group with no live peer.
#
# Against nginx 1.22 the two $upstream_http_ joins fail: 1.22 predates
# them (1.23.0).

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use IO::Socket::INET;
use POSIX ();
use Test::More;
use Test::Kiln;
use Test::Kiln::Backend;

my $t = Test::Kiln->new->has('proxy', 'fastcgi', 'log');

my $b1 = Test::Kiln::Backend->http(port => 'b1', name => 'one', record => 1);
my $b2 = Test::Kiln::Backend->http(port => 'b2', name => 'two',
    force => '/status/503');
my $f1 = Test::Kiln::Backend->fastcgi(port => 'f1', name => 'fc');
my $fu = Test::Kiln::Backend->fastcgi(unix => $t->testdir . '/f.sock',
    name => 'fu');

# A backend that answers every request with the same bytes, so that the
# byte counts can be known exactly.

my $raw_head = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
    . "Connection: close\r\nX-Raw: yes\r\n\r\n";
my $raw_body = 'hello';
my $raw_pid = raw_backend('raw', $raw_head . $raw_body);

END { kill 'KILL', $raw_pid if $raw_pid; }

my @names = qw(uri upstream_addr upstream_status upstream_connect_time
    upstream_header_time upstream_response_time upstream_response_length
    upstream_bytes_received upstream_bytes_sent upstream_cache_status
    upstream_http_x_multi upstream_cookie_sid upstream_cookie_other
    upstream_cookie_path upstream_trailer_x upstream_http_x_backend_conn
    request_body);

my $format = join '|', map { "\$$_" } @names;

$t->write_file_expand('kiln.conf', <<"EOF");
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes 1;

events {
    worker_connections 64;
}

http {
    log_format  up  '$format';
    access_log  %%TESTDIR%%/up.log up;

    upstream dead {
        server 127.0.0.1:%%PORT_dead1%%;
        server 127.0.0.1:%%PORT_dead2%%;
    }

    upstream pair {
        server 127.0.0.1:%%PORT_b2%%;
        server 127.0.0.1:%%PORT_b1%%;
    }

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        location /one/ {
            proxy_pass  http://127.0.0.1:%%PORT_b1%%;
        }

        location /raw/ {
            proxy_pass  http://127.0.0.1:%%PORT_raw%%;
        }

        location /pair/ {
            proxy_next_upstream  error http_503;
            proxy_pass           http://pair;
        }

        location /redir/ {
            proxy_intercept_errors  on;
            error_page              404 = /fallback/x;
            proxy_pass              http://127.0.0.1:%%PORT_b1%%;
        }

        location /fallback/ {
            proxy_pass  http://127.0.0.1:%%PORT_b1%%;
        }

        location /head/ {
            add_header  X-Up-Status  \$upstream_status;
            add_header  X-Up-Addr    \$upstream_addr;
            add_header  X-Up-Multi   \$upstream_http_x_multi;
            proxy_pass  http://127.0.0.1:%%PORT_b1%%;
        }

        location /xff/ {
            proxy_set_header  X-F  \$proxy_add_x_forwarded_for;
            proxy_pass        http://127.0.0.1:%%PORT_b1%%;
        }

        location /fcgi/ {
            fastcgi_param  SCRIPT_NAME  \$fastcgi_script_name;
            fastcgi_pass   127.0.0.1:%%PORT_f1%%;
        }

        location /fcgiu/ {
            fastcgi_pass  unix:%%TESTDIR%%/f.sock;
        }

        location /dead/ {
            proxy_pass  http://dead;
        }

        location /static/ {
            return  200 "static\\n";
        }
    }
}
EOF

$t->plan(46);
$t->run(wait_ports => [8080]);

my $p1 = port('b1');
my $p2 = port('b2');
my $time = qr/^\d+\.\d{3}$/;

# entry(URI): the log line of the request for URI, once written.

sub entry {
    my ($uri) = @_;
    my %e;

    wait_for(sub { $t->read_file('up.log') =~ /^\Q$uri\E\|/m }, 5);

    for my $line (split /\n/, $t->read_file('up.log')) {
        my @v = split /\|/, $line, -1;
        next unless $v[0] eq $uri;
        @e{@names} = @v;
    }

    return \%e;
}

# --- one peer ------------------------------------------------------------

my $r = parse_response(http_get('/one/x?header=X-Multi:a&header=X-Multi:b'
    . '&header=Set-Cookie:other%3D1&header=Set-Cookie:sid%3Dabc%3B%20Path%3D%2Fp'));
is($r->{status}, 200, 'proxied: 200');

my $e = entry('/one/x');
is($e->{upstream_addr}, "127.0.0.1:$p1", '$upstream_addr: the peer');
is($e->{upstream_status}, '200', '$upstream_status');
like($e->{upstream_connect_time}, $time, '$upstream_connect_time');
like($e->{upstream_header_time}, $time, '$upstream_header_time');
like($e->{upstream_response_time}, $time, '$upstream_response_time');
ok($e->{upstream_header_time} <= $e->{upstream_response_time},
    'the head came before the end');
is($e->{upstream_response_length}, length($r->{body}),
    '$upstream_response_length: the body');
is($e->{upstream_bytes_sent},
    length($b1->received($r->{headers}{'x-backend-conn'} // 0)),
    '$upstream_bytes_sent: what the peer read');
is($e->{upstream_cache_status}, '-', '$upstream_cache_status: no cache');
is($e->{upstream_http_x_multi}, 'a, b',
    '$upstream_http_: repeated fields joined (nginx >= 1.23)');
is($e->{upstream_cookie_sid}, 'abc', '$upstream_cookie_: the value');
is($e->{upstream_cookie_other}, '1', '$upstream_cookie_: another field');
is($e->{upstream_cookie_path}, '-',
    '$upstream_cookie_: an attribute is not a cookie (RFC 6265)');
is($e->{upstream_trailer_x}, '-', '$upstream_trailer_: none kept');
is($e->{upstream_http_x_backend_conn}, $r->{headers}{'x-backend-conn'},
    '$upstream_http_: a single field');

# --- exact byte counts ---------------------------------------------------

$r = parse_response(http_get('/raw/x'));
is($r->{body}, $raw_body, 'raw backend: its body');

$e = entry('/raw/x');
is($e->{upstream_bytes_received}, length($raw_head . $raw_body),
    '$upstream_bytes_received: head and body');
is($e->{upstream_response_length}, length($raw_body),
    '$upstream_response_length: the body only');

# --- the next peer --------------------------------------------------------

$r = parse_response(http_get('/pair/x'));
is($r->{headers}{'x-backend'}, 'one', 'next upstream: the second answered');

$e = entry('/pair/x');
is($e->{upstream_addr}, "127.0.0.1:$p2, 127.0.0.1:$p1",
    '$upstream_addr: both, comma-separated');
is($e->{upstream_status}, '503, 200', '$upstream_status: both');
like($e->{upstream_response_time}, qr/^\d+\.\d{3}, \d+\.\d{3}$/,
    '$upstream_response_time: both');
like($e->{upstream_bytes_sent}, qr/^[1-9]\d*, [1-9]\d*$/,
    '$upstream_bytes_sent: both');

# --- an internal redirect to another exchange ----------------------------

$r = parse_response(http_get('/redir/status/404'));
is($r->{status}, 200, 'error_page = after an intercepted 404: 200');

$e = entry('/fallback/x');
is($e->{upstream_addr}, "127.0.0.1:$p1 : 127.0.0.1:$p1",
    '$upstream_addr: " : " between the exchanges');
is($e->{upstream_status}, '404 : 200', '$upstream_status: " : " too');
like($e->{upstream_header_time}, qr/^\d+\.\d{3} : \d+\.\d{3}$/,
    '$upstream_header_time: " : " too');

# --- in a response header --------------------------------------------------

$r = parse_response(http_get('/head/x?header=X-Multi:c&header=X-Multi:d'));
is($r->{headers}{'x-up-status'}, '200', 'add_header $upstream_status');
is($r->{headers}{'x-up-addr'}, "127.0.0.1:$p1", 'add_header $upstream_addr');
is($r->{headers}{'x-up-multi'}, 'c, d', 'add_header $upstream_http_');

# --- no upstream -------------------------------------------------------------

http_get('/static/x');
$e = entry('/static/x');
is(join('|', @{$e}{qw(upstream_addr upstream_status upstream_response_time
    upstream_http_x_multi)}), '-|-|-|-', 'no exchange: every one empty');

# --- the request body, the forwarded-for list ------------------------------

my $body = 'name=value&x=1';
$r = parse_response(http("POST /one/post HTTP/1.0\r\nHost: localhost\r\n"
    . "Content-Length: " . length($body) . "\r\n\r\n$body"));
is(parse_echo($r->{body})->{body_length}, length($body), 'POST proxied');
is(entry('/one/post')->{request_body}, $body,
    '$request_body: the body read into memory');

$r = parse_response(http("GET /xff/x HTTP/1.0\r\nHost: localhost\r\n"
    . "X-Forwarded-For: 10.0.0.1\r\nX-Forwarded-For: 10.0.0.2\r\n\r\n"));
is(parse_echo($r->{body})->{header}{'x-f'}, '10.0.0.1, 10.0.0.2, 127.0.0.1',
    '$proxy_add_x_forwarded_for: every field, then the client');

# --- FastCGI -----------------------------------------------------------------

$r = parse_response(http_get('/fcgi/s.php'));
is($r->{status}, 200, 'FastCGI: 200');

$e = entry('/fcgi/s.php');
is($e->{upstream_addr} . ' ' . $e->{upstream_status},
    "127.0.0.1:" . port('f1') . " 200", 'FastCGI: $upstream_addr, _status');
is($e->{upstream_http_x_backend_conn}, $r->{headers}{'x-backend-conn'},
    'FastCGI: $upstream_http_ from the CGI head');

$r = parse_response(http_get('/fcgiu/s.php'));
is($r->{status}, 200, 'FastCGI on a unix socket: 200');
is(entry('/fcgiu/s.php')->{upstream_addr}, 'unix:' . $t->testdir . '/f.sock',
    '$upstream_addr: unix:PATH');

# --- no live peer ------------------------------------------------------------

my ($d1, $d2) = (port('dead1'), port('dead2'));

$r = parse_response(http_get('/dead/1'));
is($r->{status}, 502, 'both peers refuse: 502');

$e = entry('/dead/1');
is(join(' ', sort split /, /, $e->{upstream_addr}),
    join(' ', sort "127.0.0.1:$d1", "127.0.0.1:$d2"),
    '$upstream_addr: both tried');
is($e->{upstream_status}, '502, 502', '$upstream_status: 502 each');
is($e->{upstream_connect_time}, '-, -', '$upstream_connect_time: never');

$r = parse_response(http_get('/dead/2'));
is($r->{status}, 502, 'no live peer: 502');
is(entry('/dead/2')->{upstream_addr}, 'dead',
    '$upstream_addr: the group\'s name when no peer is live');

###############################################################################

# raw_backend(LABEL, BYTES): a process on port(LABEL) that reads each
# request head and answers BYTES, then closes.

sub raw_backend {
    my ($label, $bytes) = @_;

    my $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
        LocalPort => port($label), Listen => 16, ReuseAddr => 1)
        or die "listen: $!";

    my $pid = fork() // die "fork: $!";

    if ($pid == 0) {
        $SIG{PIPE} = 'IGNORE';

        while (my $c = $l->accept) {
            my $buf = '';

            while ($buf !~ /\r\n\r\n/) {
                my $n = sysread($c, $buf, 4096, length $buf);
                last unless $n;
            }

            syswrite($c, $bytes) if $buf =~ /\r\n\r\n/;
            close $c;
        }

        POSIX::_exit(0);
    }

    close $l;

    return $pid;
}
