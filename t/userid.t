#!/usr/bin/perl
# userid.t: the userid filter as nginx's. Cookies that Debian's nginx
# 1.22 set ("userid on" and "userid v1") are read back with the $uid_got
# nginx reported for them; a new cookie decodes to the $uid_set printed
# with it, in the machine's word order as nginx prints; the first word is
# the server's address or userid_service; userid_mark, _expires (time and
# max), _domain, _path, _flags, _p3p, _name; "userid log" reads and sets
# nothing; $uid_reset (and its "log"); a marked cookie is kept, an
# unmarked one re-sent marked; too short and invalid cookies are logged.
# Passes against nginx 1.22 as well.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use MIME::Base64 qw(decode_base64);
use Test::More;
use Test::Kiln;

my $t = Test::Kiln->new->has('userid_filter', 'rewrite');

$t->write_file_expand('kiln.conf', <<'EOF');
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log notice;

events {
    worker_connections 64;
}

http {
    access_log off;

    server {
        listen 127.0.0.1:%%PORT_8080%%;

        location / {
            userid on;
            return 200 "got=$uid_got set=$uid_set\n";
        }

        location /v1 {
            userid v1;
            userid_service 1234;
            return 200 "got=$uid_got set=$uid_set\n";
        }

        location /service {
            userid on;
            userid_service 16909060;
            return 200 "got=$uid_got set=$uid_set\n";
        }

        location /attrs {
            userid on;
            userid_name sid;
            userid_mark Z;
            userid_expires 1d;
            userid_domain example.com;
            userid_path /p;
            userid_flags secure httponly samesite=lax;
            userid_p3p 'CP="x"';
            return 200 "got=$uid_got set=$uid_set\n";
        }

        location /max {
            userid on;
            userid_expires max;
            return 200 "got=$uid_got set=$uid_set\n";
        }

        location /log {
            userid log;
            return 200 "got=$uid_got set=$uid_set\n";
        }

        location /off {
            return 200 "got=$uid_got set=$uid_set\n";
        }

        location /reset {
            userid on;
            set $uid_reset log;
            return 200 "got=$uid_got set=$uid_set\n";
        }

        location /noreset {
            userid on;
            set $uid_reset 0;
            return 200 "got=$uid_got set=$uid_set\n";
        }
    }
}
EOF

$t->plan(41);
$t->run;

# get(URI, COOKIE): [status, Set-Cookie (undef if none), got, set, P3P].

sub get {
    my ($uri, $cookie) = @_;
    my $req = "GET $uri HTTP/1.0\r\nHost: localhost\r\n";
    $req .= "Cookie: $cookie\r\n" if defined $cookie;
    my $r = parse_response(http("$req\r\n"));
    my ($got, $set) = $r->{body} =~ /^got=(\S*) set=(\S*)$/m;

    return ($r->{status}, $r->{headers}{'set-cookie'}, $got, $set,
        $r->{headers}{p3p});
}

# words(BASE64): the 32 hex digits of the cookie's 16 bytes, four native
# 32-bit words, as nginx prints $uid_got and $uid_set.

sub words {
    my ($b64) = @_;
    $b64 = substr($b64, 0, 22) . '==';
    return sprintf('%08X%08X%08X%08X', unpack('L4', decode_base64($b64)));
}

my $little = unpack('L', pack('C4', 1, 0, 0, 0)) == 1;

# Cookies Debian's nginx 1.22 set, and the $uid_set it printed for each
# (x86-64): the bytes and the order of the words are nginx's.

SKIP: {
    skip 'nginx\'s values were taken on a little-endian machine', 4
        unless $little;

    my (undef, $sc, $got) = get('/', 'a=b; uid=fwAAAWsXWe4dTBSPAwMDAg==');
    is($got, 'uid=0100007FEE59176B8F144C1D02030303',
        'an nginx "userid on" cookie: nginx\'s $uid_got');
    is($sc, undef, 'a valid cookie is not sent again');

    (undef, undef, $got) = get('/v1', 'uid=0gQAAO5ZF2uPFEwdAQAAAA==');
    is($got, 'uid=000004D26B1759EE1D4C148F00000001',
        'an nginx "userid v1" cookie: nginx\'s $uid_got');

    (undef, undef, $got) = get('/attrs', 'sid=fwAAAWsXWe4dTBSPAwMEAgZ=');
    is($got, 'sid=0100007FEE59176B8F144C1D02040303',
        'an nginx cookie with mark Z');
}

# A new cookie.

my ($st, $sc, $got, $set) = get('/');
is($st, 200, 'no cookie: 200');
like($sc, qr{^uid=([A-Za-z0-9+/]{22}==); path=/$},
    'Set-Cookie: uid, 24 base64 characters, path=/');
my ($b64) = ($sc // '') =~ /^uid=([^;]+)/;
is($got, '', 'no cookie: $uid_got empty');
is($set, 'uid=' . words($b64 // ''), '$uid_set: the cookie\'s words');
like($set, qr/^uid=[0-9A-F]{32}$/, '$uid_set: 32 hex digits');

SKIP: {
    skip 'word order', 2 unless $little;
    like($set, qr/^uid=0100007F/, 'userid on: the first word, 127.0.0.1');
    like($set, qr/0303$/, 'userid on: the sequence\'s low bytes, 03 03');
}

# Sent back: read as set, not set again.
my ($st2, $sc2, $got2, $set2) = get('/', "uid=$b64");
is($got2, $set, 'the cookie sent back: $uid_got is the $uid_set');
is($sc2, undef, 'the cookie sent back: no Set-Cookie');
is($set2, '', 'the cookie sent back: $uid_set empty');

# Two new cookies differ (the sequence).
my (undef, $scb) = get('/');
isnt($scb, $sc, 'each new cookie is another');

# userid v1 and userid_service.

(undef, $sc, undef, $set) = get('/v1');
($b64) = ($sc // '') =~ /^uid=([^;]+)/;
is($set, 'uid=' . words($b64 // ''), 'v1: $uid_set is the cookie\'s words');
like($set, qr/^uid=000004D2/, 'v1: the service, 1234, as a machine word');

(undef, $sc, undef, $set) = get('/service');
like($sc, qr{^uid=AQIDB}, 'userid_service 16909060: bytes 01 02 03 04 first');

# The attributes, in nginx's order.

(undef, $sc, $got, $set, my $p3p) = get('/attrs');
like($sc, qr{^sid=[A-Za-z0-9+/]{22}Z=; expires=\w{3}, \d\d-\w{3}-\d\d \d\d:\d\d:\d\d GMT; domain=example\.com; path=/p; secure; httponly; samesite=lax$},
    'name, mark, expires, domain, path, flags');
is($p3p, 'CP="x"', 'userid_p3p');
($b64) = ($sc // '') =~ /^sid=([^;]+)/;
is($set, 'sid=' . words($b64 // ''), 'a marked cookie decodes the same');

my ($exp) = ($sc // '') =~ /expires=([^;]+)/;
my @d = gmtime(time() + 86400);
my @mon = qw(Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec);
like($exp // '', qr/^\w{3}, \d\d-$mon[$d[4]]-\d\d /,
    'expires 1d: tomorrow\'s month');

(undef, $sc) = get('/max');
like($sc, qr{; expires=Thu, 31-Dec-37 23:55:55 GMT; path=/$},
    'userid_expires max');

# The mark: an unmarked cookie is sent again marked, with the same uid; a
# marked one is left alone.

(undef, $sc, $got, $set) = get('/attrs', 'sid=fwAAAWsXWe4dTBSPAwMDAg==');
like($sc, qr{^sid=fwAAAWsXWe4dTBSPAwMDAgZ=; }, 'unmarked: re-sent marked');
is($set, $got, 'unmarked: $uid_set is the $uid_got');
(undef, $sc) = get('/attrs', 'sid=fwAAAWsXWe4dTBSPAwMDAgZ=');
is($sc, undef, 'marked: not sent again');

# userid log: read only.

(undef, $sc, $got, $set) = get('/log', 'uid=fwAAAWsXWe4dTBSPAwMDAg==');
is($sc, undef, 'log: no Set-Cookie');
is($got, 'uid=' . words('fwAAAWsXWe4dTBSPAwMDAg=='), 'log: $uid_got');
is($set, '', 'log: $uid_set empty');
(undef, $sc) = get('/log');
is($sc, undef, 'log: no cookie, none set');

# userid off: nothing.

(undef, $sc, $got) = get('/off', 'uid=fwAAAWsXWe4dTBSPAwMDAg==');
is($sc, undef, 'off: no Set-Cookie');
is($got, '', 'off: no $uid_got');

# $uid_reset.

(undef, $sc, $got, $set) = get('/reset', 'uid=fwAAAWsXWe4dTBSPAwMDAg==');
ok($sc && $sc !~ /^uid=fwAAAWsXWe4dTBSPAwMDAg/, 'reset: a new cookie');
isnt($set, $got, 'reset: $uid_set is new');
ok(wait_for(sub {
    $t->read_file('error.log') =~ /userid cookie "uid=[0-9A-F]{32}" was reset/;
}), 'reset log: the old uid logged');
(undef, $sc) = get('/noreset', 'uid=fwAAAWsXWe4dTBSPAwMDAg==');
is($sc, undef, '$uid_reset 0: kept');

# Bad cookies: logged, as if none came.

(undef, $sc, $got) = get('/', 'uid=short');
like($sc, qr/^uid=/, 'too short: a new cookie');
is($got, '', 'too short: no $uid_got');
ok(wait_for(sub {
    $t->read_file('error.log') =~ /client sent too short userid cookie "uid=short"/;
}), 'too short: logged');

(undef, $sc, $got) = get('/', 'uid=fwAAAWsXWe4dTBSP!wMDAg==');
like($sc, qr/^uid=/, 'invalid: a new cookie');
ok(wait_for(sub {
    $t->read_file('error.log') =~ /client sent invalid userid cookie "uid=fwAAAWsXWe4dTBSP!wMDAg=="/;
}), 'invalid: logged');

$t->stop;
