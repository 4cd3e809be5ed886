#!/usr/bin/perl
# ssl_on.t: the deprecated "ssl on|off" of nginx 1.22 (removed in nginx
# 1.25.1): accepted with a warning naming file and line; an address whose
# default server has it on (set there or inherited from http) speaks TLS,
# plain HTTP there gets the 497 page (or error_page 497's redirect); on in a server that is not the
# address's default changes nothing; "ssl off" does not undo listen ...
# ssl; and the certificate checks, in nginx 1.22's words.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;
use Test::Kiln::TLS qw(make_cert https);

my $t = Test::Kiln->new->has('ssl');

make_cert($t, 'rsa', cn => 'localhost');

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
    ssl on;
    ssl_certificate %%TESTDIR%%/rsa.crt;
    ssl_certificate_key %%TESTDIR%%/rsa.key;

    server {
        listen 127.0.0.1:%%PORT_8443%%;
        server_name localhost;

        location / {
            return 200 "inherited $scheme $https\n";
        }
    }

    server {
        listen 127.0.0.1:%%PORT_8444%%;
        server_name localhost;
        ssl off;

        location / {
            return 200 "off $scheme\n";
        }
    }

    server {
        listen 127.0.0.1:%%PORT_8444%%;
        server_name on.test;

        location / {
            return 200 "not-default $scheme\n";
        }
    }

    server {
        listen 127.0.0.1:%%PORT_8447%%;
        server_name localhost;
        error_page 497 =301 https://$host:$server_port$request_uri;

        location / {
            return 200 "redirected $scheme\n";
        }
    }

    server {
        listen 127.0.0.1:%%PORT_8445%% ssl;
        server_name localhost;
        ssl off;

        location / {
            return 200 "listen-ssl $scheme $https\n";
        }
    }
}
EOF

$t->plan(13)->run;

sub get { "GET / HTTP/1.0\r\nHost: $_[0]\r\n\r\n" }

my $r;

# http { ssl on; } reaches the server: TLS on a plain listen

$r = https(port('8443'), get('localhost'));
like($r->{response}, qr/^HTTP\/1\.1 200 .*\r\n\r\ninherited https on$/ms,
    'ssl on inherited from http: the address speaks TLS');

$r = http("GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    port => '8443');
like($r, qr{^HTTP/1\.1 400 .*<title>400 The plain HTTP request was sent to HTTPS port</title>}s,
    'plain HTTP there: the 497 page');

# error_page 497 with variables: back to the same URL over https

$r = http("GET /a?b=1 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    port => '8447');
like($r, qr{^HTTP/1\.1 301 .*\r\nLocation: https://localhost:${\ port('8447')}/a\?b=1\r\n}s,
    'error_page 497 https://$host:$server_port$request_uri');

# the default server's setting decides for the address

$r = http(get('localhost'), port => '8444');
like($r, qr/\r\n\r\noff http$/, 'ssl off in the default server: plain HTTP');

$r = http(get('on.test'), port => '8444');
like($r, qr/\r\n\r\nnot-default http$/,
    'ssl on in another server of the address: still plain HTTP');

$r = https(port('8444'), get('on.test'), sni => 'on.test');
ok($r->{error}, '... and no TLS there');

# ssl off does not undo listen ... ssl

$r = https(port('8445'), get('localhost'));
like($r->{response}, qr/\r\n\r\nlisten-ssl https on$/,
    'ssl off with listen ... ssl: TLS still');

# the warning, with file and line (line 12 of kiln.conf: http level)

my $log = $t->read_file('stderr') . $t->read_file('error.log');
like($log, qr/\[warn\] .*the "ssl" directive is deprecated, use the "listen \.\.\. ssl" directive instead in \S+kiln\.conf:12/,
    'deprecation warning with file and line');

# configuration errors, as nginx 1.22 says them

sub conf_test {
    my ($name, $body) = @_;

    $t->write_file_expand($name, "error_log %%TESTDIR%%/$name.log;\n"
        . "events { }\nhttp {\n$body}\n");
    return $t->run_kiln('-t', '-p', $t->testdir . '/', '-c',
        $t->testdir . "/$name");
}

my $c = conf_test('nocert.conf', <<'EOF');
    ssl on;
    server {
        listen 127.0.0.1:%%PORT_8446%%;
    }
EOF
ok($c->{exit} != 0
    && $c->{stderr} =~ /no "ssl_certificate" is defined for the "ssl" directive in \S+nocert\.conf:4/,
    'ssl on without a certificate: refused, naming where ssl was');

$c = conf_test('nokey.conf', <<'EOF');
    server {
        listen 127.0.0.1:%%PORT_8446%%;
        ssl on;
        ssl_certificate %%TESTDIR%%/rsa.crt;
    }
EOF
ok($c->{exit} != 0
    && $c->{stderr} =~ /no "ssl_certificate_key" is defined for the "ssl" directive in \S+nokey\.conf:6/,
    'ssl on without a key: refused');

$c = conf_test('nokey2.conf', <<'EOF');
    server {
        listen 127.0.0.1:%%PORT_8446%%;
        ssl on;
        ssl_certificate %%TESTDIR%%/rsa.crt;
        ssl_certificate_key %%TESTDIR%%/rsa.key;
        ssl_certificate %%TESTDIR%%/rsa.crt;
    }
EOF
ok($c->{exit} != 0
    && $c->{stderr} =~ /no "ssl_certificate_key" is defined for certificate "\S+rsa\.crt" and the "ssl" directive in \S+nokey2\.conf:6/,
    'ssl on with a certificate lacking its key: refused');

$c = conf_test('reject.conf', <<'EOF');
    server {
        listen 127.0.0.1:%%PORT_8446%%;
        ssl on;
        ssl_reject_handshake on;
    }
EOF
is($c->{exit}, 0, 'ssl on with ssl_reject_handshake and no certificate: ok');

$c = conf_test('off.conf', <<'EOF');
    server {
        listen 127.0.0.1:%%PORT_8446%%;
        ssl off;
    }
EOF
ok($c->{exit} == 0 && $c->{stderr} =~ /\[warn\] .*the "ssl" directive is deprecated.* in \S+off\.conf:6/,
    'ssl off: accepted, warned about too');

$t->done;
