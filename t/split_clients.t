#!/usr/bin/perl
# split_clients.t: the split_clients module: buckets by MurmurHash2 of the
# key, as nginx computes it (checked against a Perl MurmurHash2 over 500
# keys), fractional percentages, "*" the rest, a total under 100% leaving
# the empty string, plain-string values, a key with several variables,
# configuration errors.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;

my $t = Test::Kiln->new->has('split_clients', 'rewrite');
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

    split_clients "$arg_k" $bucket {
        0.5%      a;
        12.25%    b;
        50%       c;
        *         "";
    }

    split_clients "${arg_a}x$arg_b" $partial {
        10%       low;
        20.5%     "$mid";
    }

    split_clients "$arg_k" $all {
        100%      everyone;
    }

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        location /b {
            return 200 "[$bucket]";
        }

        location /p {
            return 200 "[$partial]";
        }

        location /all {
            return 200 "[$all]";
        }
    }
}
EOF

# MurmurHash2 as nginx's ngx_murmur_hash2 (seed: the length).
sub murmur2 {
    my ($s) = @_;
    my @b = unpack('C*', $s);
    my $len = scalar @b;
    my $m = 0x5bd1e995;
    my $h = $len & 0xffffffff;
    my $mul = sub {
        my ($x, $y) = @_;
        # a 32-bit product without losing bits in a double
        my $lo = ($x & 0xffff) * $y;
        my $hi = (($x >> 16) * $y) & 0xffff;
        return ($lo + ($hi << 16)) & 0xffffffff;
    };
    my $i = 0;
    while ($len - $i >= 4) {
        my $k = $b[$i] | ($b[$i + 1] << 8) | ($b[$i + 2] << 16)
            | ($b[$i + 3] << 24);
        $k = $mul->($k, $m);
        $k ^= $k >> 24;
        $k = $mul->($k, $m);
        $h = $mul->($h, $m);
        $h ^= $k;
        $i += 4;
    }
    my $rest = $len - $i;
    $h ^= $b[$i + 2] << 16 if $rest >= 3;
    $h ^= $b[$i + 1] << 8 if $rest >= 2;
    if ($rest >= 1) {
        $h ^= $b[$i];
        $h = $mul->($h, $m);
    }
    $h ^= $h >> 13;
    $h = $mul->($h, $m);
    $h ^= $h >> 15;
    return $h;
}

# The bucket nginx's split_clients gives: shares in 1/100 % cut the
# 32-bit space in order, each end truncated as nginx computes it; an
# undef share is "*".
sub bucket {
    my ($key, @parts) = @_;
    my $h = murmur2($key);
    my $last = 0;
    while (@parts) {
        my ($pct, $v) = splice(@parts, 0, 2);
        return $v if !defined $pct;
        $last = ($last + int($pct * 0xffffffff / 10000)) & 0xffffffff;
        return $v if $h < $last;
    }
    return '';
}

$t->plan(11);
$t->run;

sub body {
    my ($uri) = @_;
    my $r = parse_response(http_get($uri));
    return ($r->{status} // 0) == 200 ? $r->{body} : "status $r->{status}";
}

# Published MurmurHash2 values (seed 0) check the reference itself.
is(murmur2(''), 0, 'reference MurmurHash2 of ""');
is(sprintf('%08x', murmur2('hello')), 'e56129cb', 'reference MurmurHash2 of "hello"');

my (@bad, %seen);
for my $i (0 .. 499) {
    my $key = "user$i" . ('x' x ($i % 7));
    my $want = bucket($key, 50 => 'a', 1225 => 'b', 5000 => 'c', undef, '');
    my $got = body("/b?k=$key");
    $seen{$want}++;
    push @bad, "$key: got $got, want [$want]" if $got ne "[$want]";
}
ok(!@bad, '500 keys in the buckets nginx computes')
    or diag(join "\n", grep { defined } @bad[0 .. 9]);
ok($seen{c} && $seen{b} && $seen{''}, 'the keys cover several buckets');

my @p;
for my $i (0 .. 199) {
    my $want = bucket("${i}xq", 1000 => 'low', 2050 => '$mid');
    push @p, $i if body("/p?a=$i&b=q") ne "[$want]";
}
ok(!@p, 'key of two variables; total under 100%; literal "$mid" value')
    or diag("@p");
is(body('/p?a=1&b=2'),
    '[' . bucket('1x2', 1000 => 'low', 2050 => '$mid') . ']', 'one key');
is(body('/all?k=anything'), '[everyone]', '100%: every key');

# Configuration errors, in nginx's words and places.

sub conf_error {
    my ($http) = @_;

    $t->write_file('bad.conf', "events { }\nhttp {\n$http\n"
        . "server { listen 127.0.0.1:1; } }\n");
    my $res = $t->run_kiln('-p', "$d/", '-e', "$d/bad.log", '-c',
        "$d/bad.conf", '-t');
    return ($res->{exit}, $res->{stderr} . $t->read_file('bad.log'));
}

my ($rc, $err) = conf_error("split_clients \$uri \$s {\n 60% a;\n 50% b;\n}");
ok($rc && $err =~ /percent total is greater than 100% in \S+bad.conf:6/,
    'total over 100%') or diag($err);

($rc, $err) = conf_error("split_clients \$uri \$s {\n x% a;\n}");
ok($rc && $err =~ /invalid percent value "x%" in \S+bad.conf:4/,
    'invalid percent') or diag($err);

($rc, $err) = conf_error("split_clients \$uri \$s {\n 0% a;\n}");
ok($rc && $err =~ /invalid percent value "0%" in \S+bad.conf:4/,
    'zero percent') or diag($err);

($rc, $err) = conf_error("split_clients \$uri \$s {\n * a;\n 1% b;\n}");
ok($rc && $err =~ /percent total is greater than 100% in \S+bad.conf:6/,
    'a share after "*"') or diag($err);
