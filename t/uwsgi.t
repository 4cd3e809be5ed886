#!/usr/bin/perl
# uwsgi.t: uwsgi_pass to a real uWSGI (Debian's uwsgi with its python3
# plugin, started here on loopback) running a small WSGI app: params
# (uwsgi_params, if_not_empty, HTTP_* fields and a param replacing one,
# inheritance), request bodies (length and chunked, buffered and not),
# large responses through small buffers, unbuffered and spilled to a temp
# file, HEAD, the app's status, intercept_errors, hide_header, a pass with
# variables and with the uwsgi:// prefix, next_upstream past a dead peer,
# a read timeout (504); the packet itself (modifier1, modifier2, datasize,
# the vars in order; too big: 500) from a Perl peer that reads it; the
# shared upstream settings (uwsgi_bind and X-Accel-Redirect with
# uwsgi_ignore_headers to a Perl peer, uwsgi_force_ranges,
# uwsgi_limit_rate, uwsgi_ignore_client_abort, uwsgi_socket_keepalive seen
# with ss); and the directives kiln refuses (cache, TLS, store).

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Digest::SHA qw(sha1_hex);
use IO::Socket::INET;
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(time);
use Test::More;
use Test::Kiln;
use Test::Kiln::CgiPeer;

my $t = Test::Kiln->new->has('uwsgi', 'rewrite');
my $dir = $t->testdir;

plan(skip_all => 'no uwsgi with its python3 plugin')
    unless -x '/usr/bin/uwsgi'
    && glob('/usr/lib/uwsgi/plugins/python3*_plugin.so');

my $nginx = Test::Kiln::binary() =~ m{nginx$};

# The WSGI app: by PATH_INFO's first segment, /status/N, /big/N (N bytes
# of 'x' with Content-Length), /slow/MS (then the echo), else the echo:
# the CGI variables as NAME=VALUE lines, then the body's length and SHA-1.
$t->write_file('app.py', <<'EOF');
import hashlib, time

def application(env, start_response):
    path = env.get('PATH_INFO', '')
    parts = path.split('/')
    body = env['wsgi.input'].read()

    if path.startswith('/status/'):
        start_response(parts[2] + ' From App', [('Content-Type', 'text/plain')])
        return [b'app status\n']

    if path.startswith('/big/'):
        n = int(parts[2])
        start_response('200 OK', [('Content-Type', 'text/plain'),
                                  ('Content-Length', str(n))])
        def gen(left=n):
            while left > 0:
                k = min(left, 65536)
                left -= k
                yield b'x' * k
        return gen()

    if path.startswith('/slow/'):
        time.sleep(int(parts[2]) / 1000.0)

    lines = ['%s=%s' % (k, env[k]) for k in sorted(env) if k.isupper()]
    lines.append('body-length=%d' % len(body))
    lines.append('body-sha1=%s' % hashlib.sha1(body).hexdigest())
    out = ('\n'.join(lines) + '\n').encode()
    start_response('200 OK', [('Content-Type', 'text/plain'),
                              ('X-App', 'echo')])
    return [out]
EOF

# uWSGI in one process with threads (a slow request blocks no other), on
# a port and a unix socket, killed by its pid at the end. Its port is taken before the fork.
my $uport = port('uw');
my $upid = fork();
die "fork: $!\n" unless defined $upid;

if ($upid == 0) {
    open(STDOUT, '>', "$dir/uwsgi.log");
    open(STDERR, '>&', \*STDOUT);
    { exec('/usr/bin/uwsgi', '--plugin', 'python3', '--socket',
        "127.0.0.1:$uport", '--socket', "$dir/u.sock", '--chmod-socket=666',
        '--wsgi-file', "$dir/app.py",
        '--processes', '1', '--threads', '4', '--disable-logging',
        '--buffer-size', '65535') };
    POSIX::_exit(127);
}

END {
    local $?;    # the test's exit status, not uWSGI's
    if ($upid) { kill 'KILL', $upid; waitpid($upid, 0); }
}

ok(wait_for(sub {
    -S "$dir/u.sock" && IO::Socket::INET->new(PeerAddr => "127.0.0.1:$uport")
}, 20), 'uWSGI listens') or BAIL_OUT('uWSGI did not start: '
    . $t->read_file('uwsgi.log'));

# The Perl peer: answers with what it read of the packet.
my $raw = Test::Kiln::CgiPeer->start(port => 'raw', proto => 'uwsgi',
    handler => sub {
        my ($q) = @_;
        return "Status: 200 OK\r\nContent-Type: text/plain\r\n\r\n"
            . "head=" . unpack('H*', $q->{head}) . "\n"
            . "m1=$q->{modifier1} m2=$q->{modifier2} size=$q->{datasize}\n"
            . join('', map { "$_=$q->{vars}{$_}\n" } @{$q->{order}})
            . "body=$q->{body}\n";
    });

# Another: an X-Accel-Redirect for /xa..., else the address kiln came from.
my $rx = Test::Kiln::CgiPeer->start(port => 'rx', proto => 'uwsgi',
    handler => sub {
        my ($q) = @_;
        return "X-Accel-Redirect: /dst?a=b\r\n\r\nfrom peer\n"
            if ($q->{vars}{PATH_INFO} // '') =~ m{^/xa};
        return "Status: 200 OK\r\n\r\naddr=$q->{addr}\n";
    });

open(my $fh, '<', "$Bin/../conf/uwsgi_params") or die "uwsgi_params: $!\n";
$t->write_file('uwsgi_params', do { local $/; <$fh> });
close $fh;

my $conf = <<'EOF';
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes 1;

events {
    worker_connections 64;
}

http {
    log_format st '$uri $status';
    access_log %%TESTDIR%%/access.log st;

    upstream retry {
        server 127.0.0.1:%%PORT_dead%%;
        server 127.0.0.1:%%PORT_uw%%;
    }

    upstream once {
        server 127.0.0.1:%%PORT_dead%%;
        server 127.0.0.1:%%PORT_uw%%;
    }

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;

        uwsgi_param X_SRV srv;
        client_body_buffer_size 1k;

        location / {
            include uwsgi_params;
            uwsgi_param X_EMPTY $arg_e if_not_empty;
            uwsgi_param X_KEPT $arg_e;
            uwsgi_param HTTP_X_OVER set;
            uwsgi_pass 127.0.0.1:%%PORT_uw%%;
        }

        location /unix/ {
            include uwsgi_params;
            uwsgi_pass unix:%%TESTDIR%%/u.sock;
        }

        location /inherit/ {
            uwsgi_pass 127.0.0.1:%%PORT_uw%%;
        }

        location /stream/ {
            include uwsgi_params;
            uwsgi_request_buffering off;
            uwsgi_pass uwsgi://127.0.0.1:%%PORT_uw%%;
        }

        location /nobody/ {
            # no CONTENT_LENGTH: the app would wait for the body
            uwsgi_param PATH_INFO $uri;
            uwsgi_param REQUEST_METHOD $request_method;
            uwsgi_pass_request_body off;
            uwsgi_pass_request_headers off;
            uwsgi_pass 127.0.0.1:%%PORT_uw%%;
        }

        location /big/ {
            include uwsgi_params;
            uwsgi_buffers 4 4k;
            uwsgi_busy_buffers_size 8k;
            uwsgi_temp_path %%TESTDIR%%/uwt 1;
            uwsgi_pass 127.0.0.1:%%PORT_uw%%;
        }

        location /unbuf/ {
            include uwsgi_params;
            uwsgi_buffering off;
            uwsgi_param PATH_INFO /big/1000000;
            uwsgi_pass 127.0.0.1:%%PORT_uw%%;
        }

        location /status/ {
            include uwsgi_params;
            uwsgi_hide_header X-App;
            uwsgi_pass 127.0.0.1:%%PORT_uw%%;
        }

        location /icpt/ {
            include uwsgi_params;
            uwsgi_param PATH_INFO /status/404;
            uwsgi_intercept_errors on;
            error_page 404 /page404;
            uwsgi_pass 127.0.0.1:%%PORT_uw%%;
        }

        location = /page404 {
            return 404 "our page\n";
        }

        location /var/ {
            include uwsgi_params;
            set $up 127.0.0.1:%%PORT_uw%%;
            uwsgi_pass uwsgi://$up;
        }

        location /retry/ {
            include uwsgi_params;
            uwsgi_next_upstream error timeout;
            uwsgi_pass retry;
        }

        location /once/ {
            include uwsgi_params;
            uwsgi_next_upstream_tries 1;
            uwsgi_pass once;
        }

        location /slow/ {
            include uwsgi_params;
            uwsgi_read_timeout 300ms;
            uwsgi_pass 127.0.0.1:%%PORT_uw%%;
        }

        location /raw/ {
            uwsgi_modifier1 5;
            uwsgi_modifier2 7;
            uwsgi_pass_request_headers off;
            uwsgi_param REQUEST_METHOD $request_method;
            uwsgi_param CONTENT_LENGTH $content_length;
            uwsgi_param EMPTY "";
            uwsgi_pass 127.0.0.1:%%PORT_raw%%;
        }

        location /toobig/ {
            set $b %%BIG%%;
            uwsgi_param BIG $b$b$b$b$b$b$b$b$b$b$b$b$b$b$b$b$b;
            uwsgi_pass 127.0.0.1:%%PORT_raw%%;
        }

        location /bind/ {
            include uwsgi_params;
            uwsgi_bind 127.0.0.2;
            uwsgi_pass 127.0.0.1:%%PORT_rx%%;
        }

        location /nobind/ {
            include uwsgi_params;
            uwsgi_pass 127.0.0.1:%%PORT_rx%%;
        }

        location /xa {
            include uwsgi_params;
            uwsgi_pass 127.0.0.1:%%PORT_rx%%;

            location /xaign/ {
                include uwsgi_params;
                uwsgi_ignore_headers X-Accel-Redirect;
                uwsgi_pass 127.0.0.1:%%PORT_rx%%;
            }
        }

        location /dst {
            return 200 "dst $uri $args\n";
        }

        location /ranges/ {
            include uwsgi_params;
            uwsgi_param PATH_INFO /big/100;
            uwsgi_force_ranges on;
            uwsgi_pass 127.0.0.1:%%PORT_uw%%;
        }

        location /noranges/ {
            include uwsgi_params;
            uwsgi_param PATH_INFO /big/100;
            uwsgi_pass 127.0.0.1:%%PORT_uw%%;
        }

        location /rate/ {
            include uwsgi_params;
            uwsgi_param PATH_INFO /big/102400;
            uwsgi_limit_rate 40k;
            uwsgi_pass 127.0.0.1:%%PORT_uw%%;
        }

        location /abort/ {
            include uwsgi_params;
            uwsgi_param PATH_INFO /slow/300;
            uwsgi_pass 127.0.0.1:%%PORT_uw%%;
        }

        location /ignore/ {
            include uwsgi_params;
            uwsgi_param PATH_INFO /slow/300;
            uwsgi_ignore_client_abort on;
            uwsgi_pass 127.0.0.1:%%PORT_uw%%;
        }

        location /ska/ {
            include uwsgi_params;
            uwsgi_param PATH_INFO /slow/1500;
            uwsgi_socket_keepalive on;
            uwsgi_pass 127.0.0.1:%%PORT_uw%%;
        }

        location /noka/ {
            include uwsgi_params;
            uwsgi_param PATH_INFO /slow/1500;
            uwsgi_pass 127.0.0.1:%%PORT_uw%%;
        }
    }
}
EOF

# 17 x 4000 bytes of one value (nginx reads at most 4 KiB a token): over
# the 16-bit datasize.
my $big = 'b' x 4000;
$conf =~ s/%%BIG%%/$big/;
$t->write_file_expand('kiln.conf', $conf);

$t->expect_errors(qr/uwsgi request is too big/);
$t->run(wait_ports => [8080]);

sub vars {
    my ($body) = @_;
    return { map { /^([^=]*)=(.*)$/ ? ($1, $2) : () } split /\n/, $body };
}

# --- params ------------------------------------------------------------------

my $r = parse_response(http("GET /a/b?x=1 HTTP/1.0\r\nHost: localhost\r\n"
    . "X-Foo: bar\r\nX-Over: client\r\n\r\n"));
my $v = vars($r->{body});
is($r->{status}, 200, 'GET: 200');
is($r->{headers}{'x-app'}, 'echo', 'GET: the app\'s field passed');
is($v->{REQUEST_METHOD}, 'GET', 'REQUEST_METHOD');
is($v->{REQUEST_URI}, '/a/b?x=1', 'REQUEST_URI');
is($v->{QUERY_STRING}, 'x=1', 'QUERY_STRING');
is($v->{PATH_INFO}, '/a/b', 'PATH_INFO ($document_uri)');
is($v->{SERVER_PORT}, port(8080), 'SERVER_PORT');
is($v->{HTTP_X_FOO}, 'bar', 'a request field as HTTP_X_FOO');
is($v->{HTTP_X_OVER}, 'set', 'a param HTTP_X_OVER replaces the field');
ok(!exists $v->{X_EMPTY}, 'if_not_empty: an empty value not sent');
ok(exists $v->{X_KEPT} && $v->{X_KEPT} eq '', 'without: sent empty');
ok(!exists $v->{X_SRV}, 'a level with params inherits none');

$v = vars(http_get('/inherit/x'));
is($v->{X_SRV}, 'srv', 'a level without params inherits them');

$v = vars(http_get('/unix/x'));
is($v->{PATH_INFO}, '/unix/x', 'over a unix socket');

$r = parse_response(http_head('/a'));
is($r->{status}, 200, 'HEAD: 200');
is($r->{body}, '', 'HEAD: no body');

# --- request bodies ----------------------------------------------------------

my $body = join('', map { chr(($_ * 7) % 256) } 1 .. 100000);
my $sha = sha1_hex($body);

$v = vars(http("POST /post HTTP/1.0\r\nHost: localhost\r\n"
    . "Content-Length: 100000\r\n\r\n$body"));
is($v->{CONTENT_LENGTH}, 100000, 'length body: CONTENT_LENGTH');
is($v->{'body-sha1'}, $sha, 'length body: the bytes');

my $chunked = '';
for (my $i = 0; $i < length $body; $i += 30000) {
    my $piece = substr($body, $i, 30000);
    $chunked .= sprintf("%x\r\n%s\r\n", length $piece, $piece);
}
$chunked .= "0\r\n\r\n";

$v = vars(parse_response(http("POST /post HTTP/1.1\r\nHost: localhost\r\n"
    . "Connection: close\r\nTransfer-Encoding: chunked\r\n\r\n$chunked")
)->{body});
is($v->{CONTENT_LENGTH}, 100000, 'chunked body: CONTENT_LENGTH, read whole');
is($v->{'body-sha1'}, $sha, 'chunked body: the bytes');

my $spills = () = $t->read_file('error.log')
    =~ /a client request body is buffered to a temporary file/g;

$v = vars(http("POST /stream/ HTTP/1.0\r\nHost: localhost\r\n"
    . "Content-Length: 100000\r\n\r\n$body"));
is($v->{'body-sha1'}, $sha, 'request_buffering off: the bytes');
is($v->{CONTENT_LENGTH}, 100000, 'request_buffering off: CONTENT_LENGTH');

my $after = () = $t->read_file('error.log')
    =~ /a client request body is buffered to a temporary file/g;
is($after, $spills, 'request_buffering off: no temp file for the body');

$v = vars(parse_response(http("POST /stream/ HTTP/1.1\r\nHost: localhost\r\n"
    . "Connection: close\r\nTransfer-Encoding: chunked\r\n\r\n$chunked")
)->{body});
is($v->{'body-sha1'}, $sha, 'request_buffering off, chunked: the bytes');
is($v->{CONTENT_LENGTH}, 100000,
    'request_buffering off, chunked: read whole first, as nginx');

$v = vars(http("POST /nobody/ HTTP/1.0\r\nHost: localhost\r\nX-Foo: bar\r\n"
    . "Content-Length: 5\r\n\r\nhello"));
is($v->{'body-length'}, 0, 'pass_request_body off: no body');
ok(!exists $v->{HTTP_X_FOO}, 'pass_request_headers off: no HTTP_*');

# --- responses ---------------------------------------------------------------

$r = parse_response(http_get('/big/3000000'));
is($r->{status}, 200, 'big: 200');
is(length $r->{body}, 3000000, 'big: every byte, through 4 4k buffers');
ok($r->{body} !~ /[^x]/, 'big: the bytes');

$r = parse_response(http_get('/unbuf/'));
is(length $r->{body}, 1000000, 'buffering off: every byte');

# A client that does not read: the body spills to uwsgi_temp_path.
my $s = http("GET /big/20000000 HTTP/1.0\r\nHost: localhost\r\n\r\n",
    start => 1);
ok(wait_for(sub { $t->read_file('error.log')
    =~ /an upstream response is buffered to a temporary file \Q$dir\E\/uwt\//
}, 10), 'a slow client: spilled to uwsgi_temp_path');
$r = parse_response(http_read($s));
is(length $r->{body}, 20000000, 'spilled: every byte');

$r = parse_response(http_get('/status/404'));
is($r->{status}, 404, 'the app\'s status');
is($r->{reason}, 'From App', 'its reason phrase');
ok(!exists $r->{headers}{'x-app'}, 'uwsgi_hide_header');

$r = parse_response(http_get('/icpt/'));
is($r->{status}, 404, 'intercept_errors: the status');
is($r->{body}, "our page\n", 'intercept_errors: error_page\'s body');

$r = parse_response(http_get('/var/x'));
is(vars($r->{body})->{PATH_INFO}, '/var/x', 'a pass with variables');

# --- peers -------------------------------------------------------------------

$r = parse_response(http_get('/retry/x'));
is($r->{status}, 200, 'next_upstream: past a dead peer');
like($t->read_file('error.log'), qr/connect\(\) failed .* upstream: "uwsgi:\/\/127\.0\.0\.1:${\ port('dead')}"/,
    'the dead peer logged, with the uwsgi:// schema');

# The group's first peer first, as nginx's round robin: one try, a 502.
$r = parse_response(http_get('/once/x'));
is($r->{status}, 502, 'next_upstream_tries 1: no second peer');

$r = parse_response(http_get('/slow/2000'));
is($r->{status}, 504, 'read timeout: 504');
like($t->read_file('error.log'), qr/upstream timed out/, 'timed out: logged');

# --- the packet --------------------------------------------------------------

$r = parse_response(http("POST /raw/ HTTP/1.0\r\nHost: localhost\r\n"
    . "Content-Length: 5\r\n\r\nhello"));
my $size = (2 + 14 + 2 + 4) + (2 + 14 + 2 + 1) + (2 + 5 + 2);
is($r->{body}, sprintf("head=05%02x%02x07\n", $size & 0xff, $size >> 8)
    . "m1=5 m2=7 size=$size\n"
    . "REQUEST_METHOD=POST\nCONTENT_LENGTH=5\nEMPTY=\nbody=hello\n",
    'the packet: modifier1, datasize, modifier2, the vars in order, body');

$r = parse_response(http_get('/toobig/'));
is($r->{status}, 500, 'vars over 65535 bytes: 500');
like($t->read_file('error.log'), qr/uwsgi request is too big: 680\d\d/,
    'too big: logged');

# --- the shared upstream settings ---------------------------------------------

is(http_get('/bind/') =~ /^addr=(\S*)$/m ? $1 : '', '127.0.0.2',
    'uwsgi_bind: the local address');
is(http_get('/nobind/') =~ /^addr=(\S*)$/m ? $1 : '', '127.0.0.1',
    'without uwsgi_bind: the usual one');

$r = parse_response(http_get('/xa/'));
is($r->{body}, "dst /dst a=b\n", 'X-Accel-Redirect from the peer');
ok(!exists $r->{headers}{'x-accel-redirect'}, 'and hidden');
$r = parse_response(http_get('/xaign/'));
is($r->{body}, "from peer\n", 'uwsgi_ignore_headers X-Accel-Redirect');

my $range = "Host: localhost\r\nRange: bytes=2-5\r\n\r\n";
$r = parse_response(http("GET /ranges/ HTTP/1.0\r\n$range"));
is($r->{status}, 206, 'uwsgi_force_ranges: 206');
is($r->{body}, 'xxxx', 'uwsgi_force_ranges: the part');
$r = parse_response(http("GET /noranges/ HTTP/1.0\r\n$range"));
is($r->{status}, 200, 'without: 200 and the whole body');

# 40k/s: the first second's 40k at once, then 40k a second: 100k cannot
# come in less than 1.5 s (a lower bound the rate sets, not a guess).
my $start = time();
$r = parse_response(http_get('/rate/', timeout => 20));
my $took = time() - $start;
is(length $r->{body}, 102400, 'uwsgi_limit_rate: the body whole');
cmp_ok($took, '>=', 1.2, 'uwsgi_limit_rate: read no faster than the rate');

for my $loc ('abort', 'ignore') {
    my $c = http("GET /$loc/ HTTP/1.0\r\nHost: localhost\r\n\r\n",
        start => 1);
    select(undef, undef, undef, 0.1);    # the request is read and sent on
    close $c;
}

ok(wait_for(sub { $t->read_file('access.log') =~ m{^/abort/ 499$}m }, 5),
    'a client gone: 499');
ok(wait_for(sub { $t->read_file('access.log') =~ m{^/ignore/ 200$}m }, 5),
    'uwsgi_ignore_client_abort on: the response read to its end');

# ss shows a keepalive timer on kiln's socket to uWSGI while it takes its
# time to answer.
SKIP: {
    skip 'no ss', 2 unless -x '/usr/bin/ss' || -x '/bin/ss';

    for my $case (['ska', qr/timer:\(keepalive/, 'on: SO_KEEPALIVE'],
        ['noka', qr/^(?!.*keepalive).*127\.0\.0\.1/s, 'off (default): none'])
    {
        my ($loc, $re, $name) = @$case;
        my $c = http("GET /$loc/ HTTP/1.0\r\nHost: localhost\r\n\r\n",
            start => 1);
        my $out = wait_for(sub {
            my $o = `ss -tnoH state established dst 127.0.0.1:$uport`;
            $o =~ /\S/ ? $o : undef }, 5) // '';
        like($out, $re, "uwsgi_socket_keepalive $name");
        read_response($c);
        close $c;
    }
}

# --- refused -----------------------------------------------------------------

sub conf_test {
    my ($directive) = @_;
    $t->write_file('bad.conf', "events {}\nhttp {\n"
        . "server {\nlocation / {\n$directive\n"
        . "uwsgi_pass 127.0.0.1:1;\n}\n}\n}\n");
    return $t->run_kiln('-t', '-p', "$dir/", '-c', "$dir/bad.conf", '-e',
        "$dir/bad.log");
}

SKIP: {
    skip 'kiln refuses what nginx has: caching, TLS, store', 4 if $nginx;

    like(conf_test('uwsgi_cache off;')->{stderr},
        qr/unknown directive "uwsgi_cache": response caching is not supported by kiln yet in \S+bad\.conf:5/,
        'uwsgi_cache refused, with the reason');
    # With TLS built in these are t/uwsgi_ssl.t's; without, refused.
    my $tls = $t->has_module('ssl');
    like(conf_test('uwsgi_ssl_verify on;')->{stderr},
        $tls ? qr/syntax is ok/
        : qr/unknown directive "uwsgi_ssl_verify": TLS is not supported by this build of kiln/,
        'uwsgi_ssl_*: refused in a build without TLS');
    like(conf_test('uwsgi_store on;')->{stderr},
        qr/unknown directive "uwsgi_store": storing responses/,
        'uwsgi_store refused');
    $t->write_file('bad.conf', "events {}\nhttp {\nserver {\nlocation / {\n"
        . "uwsgi_pass suwsgi://127.0.0.1:1;\n}\n}\n}\n");
    like($t->run_kiln('-t', '-p', "$dir/", '-c', "$dir/bad.conf", '-e',
            "$dir/bad.log")->{stderr},
        $tls ? qr/syntax is ok/
        : qr/"uwsgi_pass" directive is refused: TLS is not supported/,
        'suwsgi://: refused in a build without TLS');
}

like(conf_test('uwsgi_modifier1 256;')->{stderr},
    qr/\[emerg\] .*value must be between 0 and 255 in \S+bad\.conf:5/,
    'uwsgi_modifier1 256: refused');
like(conf_test('uwsgi_buffers 0 4k;')->{stderr},
    qr/"uwsgi_buffers" directive invalid value in \S+bad\.conf:5/,
    'uwsgi_buffers 0 4k: refused');

$t->done;
done_testing();
