#!/usr/bin/perl
# ssl_session.t: TLS session resumption: ssl_session_cache shared:NAME:SIZE
# used by both workers (sessions made by one resumed by the other, over
# TLS 1.2 session ids and TLS 1.3 stateful tickets), ssl_session_cache off
# with tickets off (no resumption), ssl_session_tickets with
# ssl_session_ticket_key files (both workers decrypt; after a reload the
# old key, listed second, still decrypts; once removed, a full
# handshake), and $ssl_session_reused / $ssl_session_id.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;
use Test::Kiln::TLS qw(make_cert s_session ticket_key);

my $t = Test::Kiln->new->has('ssl');

make_cert($t, 'rsa', cn => 'localhost');
ticket_key($t, 'key1', 80);
ticket_key($t, 'key2', 48);
ticket_key($t, 'key3', 80);

my $conf = <<'EOF';
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes 2;

events {
    worker_connections 64;
}

http {
    access_log off;
    # nginx 1.22's default lacks TLSv1.3 (current nginx's has it)
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_certificate %%TESTDIR%%/rsa.crt;
    ssl_certificate_key %%TESTDIR%%/rsa.key;

    # the shared cache, no tickets
    server {
        listen 127.0.0.1:%%PORT_8443%% ssl reuseport;
        ssl_session_cache shared:TLS:1m;
        ssl_session_tickets off;

        location / {
            return 200 "pid=$pid reused=$ssl_session_reused id=$ssl_session_id\n";
        }
    }

    # no resumption at all
    server {
        listen 127.0.0.1:%%PORT_8444%% ssl;
        ssl_session_cache off;
        ssl_session_tickets off;

        location / {
            return 200 "reused=$ssl_session_reused\n";
        }
    }

    # tickets with key files
    server {
        listen 127.0.0.1:%%PORT_8445%% ssl reuseport;
        ssl_session_cache off;
        KEYS

        location / {
            return 200 "pid=$pid reused=$ssl_session_reused\n";
        }
    }
}
EOF

sub write_conf {
    my ($keys) = @_;
    my $c = $conf;

    $c =~ s/KEYS/join '', map { "ssl_session_ticket_key %%TESTDIR%%\/$_;\n        " } @$keys/e;
    $t->write_file_expand('kiln.conf', $c);
}

write_conf(['key1', 'key2']);

# HUP, and wait until only new workers are left.
sub reload {
    my @old = $t->worker_pids;

    $t->signal('HUP');
    wait_for(sub {
        my %now = map { $_ => 1 } $t->worker_pids;
        keys %now == 2 && !grep { $now{$_} || $t->alive($_) } @old;
    }, 10) or diag('reload: the old workers are still there');
}

$t->plan(12)->run;

my $get = "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n";
my %args = (TLSv1_2 => ['-tls1_2'], TLSv1_3 => ['-tls1_3']);

# Resume one saved session over and over until both workers resumed it.
sub resume_all {
    my ($port, $file, $v) = @_;
    my (%pids, $r, $bad);

    $bad = 0;

    for my $i (1 .. 60) {
        $r = s_session($t, $port, $get, in => $file, args => $args{$v});
        $bad++ unless $r->{reused} && $r->{response} =~ /reused=r/;
        $pids{$1} = 1 if $r->{response} =~ /pid=(\d+)/;
        last if keys %pids >= 2 && $i >= 4;
    }

    return (scalar keys %pids, $bad);
}

my ($r, $workers, $bad);

for my $v ('TLSv1_2', 'TLSv1_3') {
    $r = s_session($t, port('8443'), $get, out => "s.$v", args => $args{$v});
    like($r->{response}, qr/reused=\. id=\w*/, "$v: a full handshake first");

    ($workers, $bad) = resume_all(port('8443'), "s.$v", $v);
    is($workers, 2, "$v: both workers answered");
    is($bad, 0, "$v: every worker resumed the session from the shared cache");
}

s_session($t, port('8444'), $get, out => 'off');
$r = s_session($t, port('8444'), $get, in => 'off');
ok(!$r->{reused} && $r->{response} =~ /reused=\./,
    'ssl_session_cache off, tickets off: no resumption');

# tickets: made by one worker, taken by both

s_session($t, port('8445'), $get, out => 't1');
($workers, $bad) = resume_all(port('8445'), 't1', 'TLSv1_3');
is($bad, 0, 'ssl_session_ticket_key: every worker decrypts the ticket');

# rotation: a new first key, the old one second: old tickets still work

write_conf(['key3', 'key1']);
reload();

$r = s_session($t, port('8445'), $get, in => 't1');
ok($r->{reused}, 'after a reload, a ticket of the second key resumes');

# the old key gone: a full handshake
write_conf(['key3']);
reload();

$r = s_session($t, port('8445'), $get, in => 't1', out => 't3');
ok(!$r->{reused}, 'a ticket of a removed key: a full handshake');

$r = s_session($t, port('8445'), $get, in => 't3');
ok($r->{reused}, 'and the new ticket resumes');

# the shared cache survives a reload
s_session($t, port('8443'), $get, out => 'keep', args => ['-tls1_2']);
write_conf(['key3']);
reload();
$r = s_session($t, port('8443'), $get, in => 'keep', args => ['-tls1_2']);
ok($r->{reused}, 'the shared cache keeps its sessions across a reload');
