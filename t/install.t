#!/usr/bin/perl
# install.t: make install into a DESTDIR: the binary, conf/ (each file also
# as NAME.default), html/, the log folder, and under share/ the manual page
# kiln(8), the documentation and contrib/; the installed kiln -t accepts
# the installed configuration.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Cwd qw(abs_path);
use Test::More;
use Test::Kiln;

my $t = Test::Kiln->new;
my $d = $t->testdir;
my $root = abs_path("$Bin/..");

plan(skip_all => 'nginx has no make install here')
    if ($ENV{KILN_BINARY} // '') =~ /nginx/;
plan(skip_all => 'objs/ is not configured (run make first)')
    unless -f "$root/objs/Makefile";

$t->plan(14);

# A make run by make test must not take the outer make's job server.
delete local @ENV{qw(MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES)};

my $out = `make -s -C '$root' install DESTDIR='$d/dest' 2>&1`;
is($?, 0, 'make install DESTDIR= exits 0') or diag($out);

my $p = "$d/dest$root";

ok(-x "$p/sbin/kiln", 'sbin/kiln');
ok(-f "$p/conf/kiln.conf", 'conf/kiln.conf');
ok(-f "$p/conf/kiln.conf.default", 'conf/kiln.conf.default');
ok(-f "$p/conf/mime.types" && -f "$p/conf/fastcgi_params",
    'conf/mime.types and fastcgi_params');
ok(-f "$p/conf/koi-utf" && -f "$p/conf/koi-win" && -f "$p/conf/win-utf",
    'conf/ charset maps');
ok(-f "$p/html/index.html", 'html/index.html');
ok(-d "$p/logs", 'the logs folder');

sub slurp {
    my ($path) = @_;
    open(my $fh, '<', $path) or return '';
    local $/;
    return <$fh> // '';
}

my $man = slurp("$p/share/man/man8/kiln.8");
like($man, qr/^\.TH KILN 8 /m, 'share/man/man8/kiln.8 is a section 8 page');
like($man, qr/^\.SH SIGNALS/m, 'the manual page documents the signals');

ok(-f "$p/share/doc/kiln/directives.md", 'share/doc/kiln/directives.md');
ok(-f "$p/share/kiln/contrib/kiln.service", 'share/kiln/contrib/kiln.service');

$out = `'$p/sbin/kiln' -p '$p/' -c '$p/conf/kiln.conf' -e '$d/t.log' -t 2>&1`;
is($?, 0, 'the installed kiln -t accepts the installed conf') or diag($out);

# An edited configuration is kept on a second install.
open(my $fh, '>>', "$p/conf/kiln.conf") or die "$!";
print $fh "# edited\n";
close $fh;
`make -s -C '$root' install DESTDIR='$d/dest' 2>&1`;
like(slurp("$p/conf/kiln.conf"), qr/# edited\n\z/,
    'a second install keeps the edited kiln.conf');

$t->done;
