#!/usr/bin/perl
# secure_link.t: the secure_link module: secure_link with secure_link_md5
# (base64url MD5, with and without expiry, expired, wrong, malformed,
# padded), the value inherited from the server, $secure_link_expires,
# secure_link_secret (hex MD5 of the link and the word), and the
# configuration error when both forms meet. Expected hashes come from
# Digest::MD5.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Digest::MD5 qw(md5 md5_hex);
use MIME::Base64 qw(encode_base64url encode_base64);
use Test::More;
use Test::Kiln;

my $t = Test::Kiln->new->has('secure_link', 'rewrite');
my $d = $t->testdir;

$t->write_file_expand('kiln.conf', <<'EOF');
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes 1;

events {
    worker_connections 64;
}

http {
    default_type text/plain;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        secure_link      $arg_md5,$arg_expires;
        secure_link_md5  "$secure_link_expires$uri$remote_addr secret";

        location /s/ {
            return 200 "[$secure_link] [$secure_link_expires]";
        }

        location /nox/ {
            secure_link      $arg_md5;
            secure_link_md5  "$uri secret";
            return 200 "[$secure_link] [$secure_link_expires]";
        }

        location /p/ {
            secure_link_secret  word;
            return 200 "[$secure_link]";
        }

        location /plain {
            secure_link      $arg_md5;
            return 200 "[$secure_link]";
        }
    }
}
EOF

$t->plan(19);
$t->run;

sub body {
    my ($uri) = @_;
    my $r = parse_response(http_get($uri));
    return ($r->{status} // 0) == 200 ? $r->{body} : "status $r->{status}";
}

sub sig {
    my ($s) = @_;
    return encode_base64url(md5($s));
}

my $future = time() + 3600;
my $past = time() - 3600;

my $h = sig("$future/s/file127.0.0.1 secret");
is(body("/s/file?md5=$h&expires=$future"), "[1] [$future]",
    'valid, not expired');

$h = sig("$past/s/file127.0.0.1 secret");
is(body("/s/file?md5=$h&expires=$past"), "[0] [$past]", 'valid, expired');

$h = sig("$future/s/other127.0.0.1 secret");
is(body("/s/file?md5=$h&expires=$future"), "[] [$future]", 'wrong hash');

$h = sig("$future/s/file127.0.0.1 secret");
is(body("/s/file?md5=$h&expires=" . ($future + 1)), '[] [' . ($future + 1) . ']',
    'expiry changed');
is(body("/s/file?md5=$h&expires=abc"), '[] []', 'expiry not a number');
is(body("/s/file?md5=$h&expires=0"), '[] []', 'expiry zero');
is(body("/s/file?md5=$h=="), '[] []',
    '"HASH==," with an empty expiry');

my $pad = sig("$future/s/file127.0.0.1 secret") . '==';
is(body("/s/file?md5=$pad&expires=$future"), "[1] [$future]",
    'padded base64url');
# A hash whose base64 has '+' or '/': only the url alphabet is read.
my ($u, $std);
for my $i (0 .. 200) {
    $u = "/nox/k$i";
    $std = encode_base64(md5("$u secret"), '');
    last if $std =~ m{[+/]};
}
is(body("$u?md5=$std"), '[] []', 'plain base64 alphabet refused');
is(body("$u?md5=" . sig("$u secret")), '[1] []', 'the same in base64url');
is(body("/s/file?md5=${h}AAAA&expires=$future"), "[] [$future]",
    'too long');
is(body("/s/file?md5=!!!&expires=$future"), "[] [$future]", 'not base64');

$h = sig('/nox/a secret');
is(body("/nox/a?md5=$h"), '[1] []', 'no expiry');
is(body("/nox/a?md5=$h,"), '[] []', 'empty expiry');

is(body('/plain?md5=x'), '[]', 'no secure_link_md5: empty');

# secure_link_secret: /prefix/HEX/link, MD5 of the link and the word.
my $link = 'dir/file.txt';
is(body('/p/' . md5_hex($link . 'word') . "/$link"), "[$link]",
    'secret: valid');
is(body('/p/' . md5_hex($link . 'other') . "/$link"), '[]', 'secret: wrong');
is(body('/p/' . md5_hex('f?a=1word') . '/f?a=1'), '[f?a=1]',
    'secret: the arguments are part of the link');

# Mixing the two forms.

$t->write_file('bad.conf', "events { }\nhttp {\nserver { listen 127.0.0.1:1;\n"
    . "location / {\n secure_link \$arg_a;\n secure_link_secret w;\n}\n} }\n");
my $res = $t->run_kiln('-p', "$d/", '-e', "$d/bad.log", '-c', "$d/bad.conf",
    '-t');
my $err = $res->{stderr} . $t->read_file('bad.log');
ok($res->{exit} && $err =~ /"secure_link_secret" cannot be mixed with "secure_link" and "secure_link_md5" in \S+bad.conf:\d+/,
    'secure_link_secret mixed with secure_link') or diag($err);
