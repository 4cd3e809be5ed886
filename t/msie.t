#!/usr/bin/perl
# msie.t: what nginx does for old browsers, by User-Agent: msie_padding
# (error pages to MSIE and Chrome padded), msie_refresh (a 301/302 to MSIE
# answered with a refreshing page).

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;

my $t = Test::Kiln->new->has('static', 'rewrite');

$t->write_file_expand('kiln.conf', <<'EOF');
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes 1;

events {
    worker_connections 64;
}

http {
    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;
        root         %%TESTDIR%%/html;

        location /nopad/ {
            msie_padding  off;
        }

        location /r {
            msie_refresh  on;
            return 301 "/to x\"'";
        }

        location /off {
            return 302 /to;
        }
    }
}
EOF

$t->plan(12);
$t->run;

my $pad = "<!-- a padding to disable MSIE and Chrome friendly error page -->"
    . "\r\n";

sub get {
    my ($uri, $ua, $method) = @_;

    return parse_response(http(($method // 'GET')
            . " $uri HTTP/1.0\r\nHost: localhost\r\nUser-Agent: $ua\r\n\r\n"))
        // {};
}

my $r = get('/missing', 'Mozilla/5.0 (X11) Chrome/120.0 Safari/537.36');
is($r->{status}, 404, 'Chrome: 404');
like($r->{body}, qr{</html>\r\n(?:\Q$pad\E){6}\z}, 'Chrome: six padding lines');
is($r->{headers}{'content-length'}, length $r->{body},
    'Chrome: Content-Length counts them');

$r = get('/missing', 'Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1)');
like($r->{body}, qr{\Q$pad\E\z}, 'MSIE: padded');
$r = get('/missing', 'curl/7.88');
unlike($r->{body}, qr{padding}, 'curl: not padded');
$r = get('/nopad/missing', 'Mozilla/5.0 Chrome/120.0');
unlike($r->{body}, qr{padding}, 'msie_padding off: not padded');

$r = get('/r', 'Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 6.0)');
is($r->{status}, 200, 'msie_refresh: 200');
ok(!exists $r->{headers}{location}, 'msie_refresh: no Location');
is($r->{body}, '<html><head><meta http-equiv="Refresh" content="0; URL='
    . '/to%20x%22%27"></head><body></body></html>' . "\r\n",
    'msie_refresh: the refresh page, the URL escaped');
is($r->{headers}{'content-type'}, 'text/html', 'msie_refresh: text/html');

$r = get('/r', 'Mozilla/5.0 Chrome/120.0');
is($r->{status}, 301, 'msie_refresh: not MSIE, 301');
$r = get('/off', 'Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 6.0)');
is($r->{status}, 302, 'msie_refresh off: 302');
