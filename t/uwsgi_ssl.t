#!/usr/bin/perl
# uwsgi_ssl.t: uwsgi_pass suwsgi:// to a real uWSGI over TLS (Debian's
# uwsgi, --suwsgi-socket, its python3 plugin, certificates of a test CA
# made here): the request goes through, with variables too;
# uwsgi_ssl_verify with uwsgi_ssl_trusted_certificate and uwsgi_ssl_name
# (the name checked: the peer's address when not set, as nginx); a client
# certificate (uwsgi_ssl_certificate, _certificate_key) to a socket that
# requires one, and its absence (502); a plain uwsgi socket named with
# suwsgi:// (502, nginx's log line); the configuration errors.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use IO::Socket::INET;
use POSIX ();
use Test::More;
use Test::Kiln;
use Test::Kiln::Pki;

my $t = Test::Kiln->new->has('uwsgi', 'rewrite', 'ssl');
my $dir = $t->testdir;

plan(skip_all => 'no uwsgi with its python3 plugin')
    unless -x '/usr/bin/uwsgi'
    && glob('/usr/lib/uwsgi/plugins/python3*_plugin.so');

my $pki = Test::Kiln::Pki->new($dir);
$pki->ca('root')->ca('other');
$pki->cert('backend', 'root', dns => ['example.com']);
$pki->cert('client', 'root', client => 1);

# The app: its CGI variables back, one a line.
$t->write_file('app.py', <<'EOF');
def application(env, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    keys = sorted(k for k in env if k.isupper())
    return [('\n'.join('%s=%s' % (k, env[k]) for k in keys) + '\n').encode()]
EOF

# uWSGI: a TLS socket, one that requires a client certificate of the CA
# (uWSGI's "!" before the CA file), and a plain one; killed by pid at the
# end. Its ports are taken before the fork.
my ($tls, $need, $plain) = (port('uw_tls'), port('uw_need'),
    port('uw_plain'));
my $upid = fork();
die "fork: $!\n" unless defined $upid;

if ($upid == 0) {
    open(STDOUT, '>', "$dir/uwsgi.log");
    open(STDERR, '>&', \*STDOUT);
    { exec('/usr/bin/uwsgi', '--plugin', 'python3',
        '--suwsgi-socket', "127.0.0.1:$tls,$dir/backend.crt,$dir/backend.key",
        '--suwsgi-socket', "127.0.0.1:$need,$dir/backend.crt,"
            . "$dir/backend.key,HIGH,!$dir/root.crt",
        '--socket', "127.0.0.1:$plain",
        '--wsgi-file', "$dir/app.py", '--processes', '1', '--threads', '2',
        '--disable-logging') };
    POSIX::_exit(127);
}

END {
    local $?;    # the test's exit status, not uWSGI's
    if ($upid) { kill 'KILL', $upid; waitpid($upid, 0); }
}

$t->write_file_expand('kiln.conf', <<'EOF');
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes 1;

events {
    worker_connections 64;
}

http {
    access_log off;

    # Sessions are kept per peer of a group: a resumed session keeps its
    # client certificate and its verify result; each location that looks
    # at them has a group of its own.
    upstream u_tls {
        server 127.0.0.1:%%PORT_uw_tls%%;
    }

    upstream u_verify {
        server 127.0.0.1:%%PORT_uw_tls%%;
    }

    upstream u_other {
        server 127.0.0.1:%%PORT_uw_tls%%;
    }

    upstream need_cert {
        server 127.0.0.1:%%PORT_uw_need%%;
    }

    upstream need_nocert {
        server 127.0.0.1:%%PORT_uw_need%%;
    }

    server {
        listen 127.0.0.1:%%PORT_8080%%;

        uwsgi_param REQUEST_URI $request_uri;
        uwsgi_param REQUEST_METHOD $request_method;

        location /tls/ {
            uwsgi_pass suwsgi://u_tls;
        }

        location /var/ {
            set $peer 127.0.0.1:%%PORT_uw_tls%%;
            uwsgi_pass suwsgi://$peer;
        }

        location /verify/ {
            uwsgi_ssl_verify on;
            uwsgi_ssl_trusted_certificate %%TESTDIR%%/root.crt;
            uwsgi_ssl_name example.com;
            uwsgi_pass suwsgi://u_verify;
        }

        location /verify-address/ {
            uwsgi_ssl_verify on;
            uwsgi_ssl_trusted_certificate %%TESTDIR%%/root.crt;
            uwsgi_pass suwsgi://127.0.0.1:%%PORT_uw_tls%%;
        }

        location /verify-other/ {
            uwsgi_ssl_verify on;
            uwsgi_ssl_trusted_certificate %%TESTDIR%%/other.crt;
            uwsgi_ssl_name example.com;
            uwsgi_pass suwsgi://u_other;
        }

        location /cert/ {
            uwsgi_ssl_certificate %%TESTDIR%%/client.crt;
            uwsgi_ssl_certificate_key %%TESTDIR%%/client.key;
            uwsgi_pass suwsgi://need_cert;
        }

        location /nocert/ {
            uwsgi_pass suwsgi://need_nocert;
        }

        location /plain/ {
            uwsgi_pass suwsgi://127.0.0.1:%%PORT_uw_plain%%;
        }
    }
}
EOF

$t->plan(17);

ok(wait_for(sub {
    IO::Socket::INET->new(PeerAddr => "127.0.0.1:$tls")
        && IO::Socket::INET->new(PeerAddr => "127.0.0.1:$need")
        && IO::Socket::INET->new(PeerAddr => "127.0.0.1:$plain")
}, 20), 'uWSGI listens') or BAIL_OUT('uWSGI did not start: '
    . $t->read_file('uwsgi.log'));

$t->run(wait_ports => [8080]);

sub get {
    return parse_response(http_get($_[0]));
}

sub log_has {
    my ($re) = @_;
    return wait_for(sub { $t->read_file('error.log') =~ $re }, 5);
}

my $r = get('/tls/a?b=c');
is($r->{status}, 200, 'suwsgi://: 200');
like($r->{body}, qr{^REQUEST_URI=/tls/a\?b=c$}m, 'suwsgi://: the params');

# Before /var/: nginx finds a pass with variables the group of the same
# address, whose peer would then hold a session not verified.
is(get('/verify-address/')->{status}, 502,
    'uwsgi_ssl_verify, no name: the address is checked: 502');
ok(log_has(qr/\[error\] .*upstream SSL certificate does not match "127\.0\.0\.1" while SSL handshaking to upstream, .*upstream: "suwsgi:\/\/127\.0\.0\.1:$tls"/),
    'uwsgi_ssl_verify, no name: logged');

$r = get('/var/x');
is($r->{status}, 200, 'suwsgi:// with variables: 200');
like($r->{body}, qr{^REQUEST_URI=/var/x$}m, 'suwsgi:// with variables: params');

like(get('/verify/')->{body}, qr{^REQUEST_URI=/verify/$}m,
    'uwsgi_ssl_verify, the right name: 200');

is(get('/verify-other/')->{status}, 502, 'uwsgi_ssl_verify, another CA: 502');
ok(log_has(qr/upstream SSL certificate verify error: \(21:unable to verify the first certificate\)/),
    'another CA: logged');

like(get('/cert/')->{body}, qr{^REQUEST_URI=/cert/$}m,
    'a client certificate to a socket that requires one: 200');
is(get('/nocert/')->{status}, 502, 'no client certificate: 502');
# uWSGI sends the alert, then resets: which the peer's side shows first
# (the alert read, or the reset when the request goes) is timing's.
ok(log_has(qr/\[error\] .*(SSL_\w+\(\) failed \(SSL: .*alert|Connection reset by peer).*"GET \/nocert\//),
    'no client certificate: logged');
unlike($t->read_file('error.log'), qr/recv\(\) failed/,
    'no client certificate: no second line for the same failure');

is(get('/plain/')->{status}, 502, 'suwsgi:// to a plain socket: 502');
ok(log_has(qr/\[error\] .*(SSL_do_handshake\(\) failed|peer closed connection in SSL handshake).* while SSL handshaking to upstream, .*"GET \/plain\//),
    'suwsgi:// to a plain socket: logged');

# Configuration errors, as nginx words them.
$t->write_file('bad.conf', "error_log $dir/bad.log;\npid $dir/bad.pid;\n"
    . "events { }\nhttp {\n server {\n  listen 127.0.0.1:" . port(8081)
    . ";\n  location / { uwsgi_ssl_verify on; "
    . "uwsgi_pass suwsgi://127.0.0.1:1; }\n }\n}\n");
like($t->run_kiln('-t', '-p', "$dir/", '-c', "$dir/bad.conf", '-e',
        "$dir/bad.log")->{stderr},
    qr/no uwsgi_ssl_trusted_certificate for uwsgi_ssl_verify/,
    'uwsgi_ssl_verify without trusted certificates: refused');
