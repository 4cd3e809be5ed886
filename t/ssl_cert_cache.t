#!/usr/bin/perl
# ssl_cert_cache.t: certificates named with variables, with and without
# ssl_certificate_cache: without it each handshake reads the files (a
# file replaced is served at once); with it a pair stays cached until
# valid= runs out, and the least recently used goes when max= is reached.
# nginx 1.22 has no ssl_certificate_cache (nginx 1.27.4 added it): kiln only.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;
use Test::Kiln::TLS qw(make_cert https);

plan(skip_all => 'nginx 1.22 has no ssl_certificate_cache')
    if ($ENV{KILN_BINARY} // '') =~ /nginx/;

my $t = Test::Kiln->new->has('ssl');

for my $n (qw(a b c)) {
    make_cert($t, "$n.test", cn => "$n.test");
}
make_cert($t, 'other', cn => 'other.test');

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

    server {
        listen 127.0.0.1:%%PORT_8443%% ssl;
        ssl_certificate %%TESTDIR%%/$ssl_server_name.crt;
        ssl_certificate_key %%TESTDIR%%/$ssl_server_name.key;
        return 200 "plain\n";
    }

    server {
        listen 127.0.0.1:%%PORT_8444%% ssl;
        ssl_certificate %%TESTDIR%%/$ssl_server_name.crt;
        ssl_certificate_key %%TESTDIR%%/$ssl_server_name.key;
        ssl_certificate_cache max=2 inactive=1h valid=1h;
        return 200 "cached\n";
    }
}
EOF

$t->plan(6)->run;

sub cn {
    my ($port, $name) = @_;
    my $r = https(port($port), "GET / HTTP/1.0\r\nHost: $name\r\n\r\n",
        sni => $name);

    return $r->{cn} // 'none';
}

is(cn('8444', 'a.test'), 'a.test', 'cached server: a.test loaded');
is(cn('8444', 'b.test'), 'b.test', 'cached server: b.test loaded');

# a.test's files now hold another certificate
my $d = $t->testdir;
$t->write_file('a.test.crt', $t->read_file('other.crt'));
$t->write_file('a.test.key', $t->read_file('other.key'));

is(cn('8443', 'a.test'), 'other.test', 'no cache: the new files at once');
is(cn('8444', 'a.test'), 'a.test', 'cache: the pair read before is served');

# c.test fills the cache (max=2): b.test, the least recently used, goes
is(cn('8444', 'c.test'), 'c.test', 'cache: a third name loaded');
$t->write_file('b.test.crt', $t->read_file('other.crt'));
$t->write_file('b.test.key', $t->read_file('other.key'));
is(cn('8444', 'b.test'), 'other.test',
    'cache: the least recently used pair was dropped, read again');
