#!/usr/bin/perl
# t/bench/lib/table.pl: the figures table of docs/performance.md, made
# from the RESULT lines of a bench run:
#   make bench 2>&1 | tee bench.out; perl t/bench/lib/table.pl < bench.out
# One row per RESULT line, in their order, with the issue 9 target and
# the command that takes that figure again.

use strict;
use warnings;

# Issue 9's targets, as kiln/nginx ratios (or absolute, said so).
my %target = (
    ka50 => '>= 1.2', ka1000 => '>= 1.2', close => '>= 1.1',
    file1m => '>= 1.0', file100m => '>= 1.0', gzip => '>= 1.0',
    'idle10k.mem' => '<= 0.5', 'idlemax.mem' => '<= 0.5',
    syscalls => '<= 2 calls', instructions => '<= 0.6',
);

print "| scenario | workers | unit | kiln | nginx | kiln/nginx | target "
    . "| command |\n";
print "| --- | --- | --- | --- | --- | --- | --- | --- |\n";

while (<STDIN>) {
    next unless /^RESULT (.*)/;
    my %r = map { split /=/, $_, 2 } split ' ', $1;
    my $only = $r{scenario} =~ s/\.(?:mem|p50|max|epoll)$//r;
    my $cmd = "make bench BENCH_ONLY=$only";

    # Those that run for each of BENCH_WORKERS: pick this row's count.
    $cmd .= " BENCH_WORKERS=$r{workers}"
        if $only =~ /^(?:ka|close|file|notfound|gzip|proxy|idle10k)/;
    $cmd .= ' BENCH_PIN=1' if $r{pin};

    # Rounds other than the default 3 (the counts always run twice).
    my @runs = split /,/, $r{kiln_runs} // '';
    my $rounds = @runs;
    $cmd .= " BENCH_ROUNDS=$rounds"
        if $rounds != 3 && $only !~ /^(?:syscalls|instructions)/;
    printf "| %s | %s | %s | %s | %s | %s | %s | `%s` |\n", $r{scenario},
        $r{workers} . ($r{pin} ? ' (pinned)' : ''), $r{unit}, $r{kiln},
        $r{nginx}, $r{ratio},
        $target{$r{scenario}} // '', $cmd;
}
