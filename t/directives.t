#!/usr/bin/perl
# directives.t: docs/nginx-directives.md against the binary: every
# directive of nginx's core, events and http core modules that the table
# says kiln has is known to kiln, and every one it says kiln refuses is
# refused with a reason ("unknown directive "NAME": WHY").

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;

plan(skip_all => 'the table is kiln\'s')
    if ($ENV{KILN_BINARY} // '') =~ /nginx/;

my $t = Test::Kiln->new;
my $d = $t->testdir;

open(my $fh, '<', "$Bin/../docs/nginx-directives.md") or die "$!";
my @rows;
while (my $line = <$fh>) {
    next unless $line =~ /^\| `(\w+)` \| (\w+) \| (yes|refused)\b/;
    push @rows, [$1, $2, $3];
}
close $fh;

$t->plan(scalar(@rows) + 1);

ok(@rows > 100, 'the table lists the directives (' . scalar(@rows) . ')');

# The directive alone in its context, with one argument: whatever it says
# of the argument, it must not be an unknown directive (or must be one
# with a reason).
for my $row (@rows) {
    my ($name, $ctx, $status) = @$row;
    my $stmt = ($name eq 'events' || $name eq 'http' || $name eq 'server'
        || $name eq 'location' || $name eq 'types' || $name eq 'limit_except')
        ? "$name x { }" : "$name x;";
    my $conf;

    if ($ctx eq 'main') {
        $conf = "$stmt\nevents { }\n";
    } elsif ($ctx eq 'events') {
        $conf = "events { $stmt }\n";
    } elsif ($ctx eq 'http') {
        $conf = "events { }\nhttp { $stmt }\n";
    } elsif ($ctx eq 'server') {
        $conf = "events { }\nhttp { server { $stmt } }\n";
    } else {
        $conf = "events { }\nhttp { server { location / { $stmt } } }\n";
    }

    $t->write_file('d.conf', $conf);
    my $r = $t->run_kiln('-t', '-p', "$d/", '-c', "$d/d.conf", '-e',
        "$d/d.log");

    if ($status eq 'yes') {
        unlike($r->{stderr}, qr/unknown directive "\Q$name\E"/,
            "$name: known");
    } else {
        like($r->{stderr}, qr/unknown directive "\Q$name\E": \S/,
            "$name: refused with a reason");
    }
}

$t->done;
