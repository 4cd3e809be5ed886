# t/bench/lib/Bench.pm: what every benchmark script shares: one config
# template for kiln and nginx, starting and stopping them, checked wrk
# runs, the interleaved rounds, medians, ratios and the result table.
#
# A scenario script builds its files with docroot()/file(), then calls
# compare() with a measure callback; compare() runs it on kiln, nginx,
# kiln, nginx ... (BENCH_ROUNDS pairs) for each worker count and prints
# one table row per figure plus a "RESULT key=value ..." line.
#
# Environment: KILN_BINARY (objs/kiln), NGINX_BINARY (/usr/sbin/nginx;
# nginx is skipped when it is not there), BENCH_SECONDS (one wrk run, 2),
# BENCH_ROUNDS (pairs, 3), BENCH_WORKERS (worker counts, "1,2"),
# BENCH_ONLY (scenario names, comma separated; empty: all),
# BENCH_PIN=1 (with worker_processes 1, the server on CPU 0 and wrk on
# CPU 1, each alone on its core; the rows say pin=1),
# BENCH_LEAVE=1 (keep the temp directory), BENCH_DEBUG=1 (tool output).
# Perl core modules only.

package Bench;

use strict;
use warnings;

use Cwd qw(abs_path);
use Exporter qw(import);
use File::Basename qw(dirname);
use File::Temp qw(tempdir);
use IO::Socket::INET;
use POSIX qw(WNOHANG);
use Time::HiRes qw(time sleep);

our @EXPORT = qw(compare server start stop fetch wrk wrk_check docroot
    file small median wanted header children pss have tool per_request
    wrk_run);

our $ROOT = abs_path(dirname(abs_path(__FILE__)) . '/../../..');
our $KILN = $ENV{KILN_BINARY} // "$ROOT/objs/kiln";
our $NGINX = $ENV{NGINX_BINARY} // '/usr/sbin/nginx';
our $SECS = $ENV{BENCH_SECONDS} // 2;
our $ROUNDS = $ENV{BENCH_ROUNDS} // 3;
our @WORKERS = split /,/, ($ENV{BENCH_WORKERS} // '1,2');
our $HAVE_NGINX = -x $NGINX;
our $PIN = $ENV{BENCH_PIN};
our $PINNED = 0;    # this compare() row runs pinned
our $TMP = tempdir('kiln-bench-XXXXXXXX', TMPDIR => 1,
    CLEANUP => !$ENV{BENCH_LEAVE});

my %running;    # forked pid => server, until reaped
my $docroot;

# As root the workers run as nobody: they must reach the files.
chmod 0755, $TMP;

die "bench: no $KILN (make first)\n" unless -x $KILN;
die "bench: BENCH_ROUNDS must be at least 1\n" unless $ROUNDS =~ /^[1-9]\d*$/;

$SIG{INT} = $SIG{TERM} = sub { stop_all(); exit 1; };
END { my $status = $?; stop_all(); $? = $status; }


sub have {
    my ($cmd) = @_;

    return system("command -v $cmd > /dev/null 2>&1") == 0;
}


# tool(NAME): the path of one of our C clients, built by make bench.
sub tool {
    my ($name) = @_;
    my $dir = $ENV{BENCH_TOOLS} // "$ROOT/objs/bench";

    die "bench: no $dir/$name (make bench builds it)\n" unless -x "$dir/$name";
    return "$dir/$name";
}


# wanted(SCENARIO): whether BENCH_ONLY lets it run.
sub wanted {
    my ($name) = @_;
    my $only = $ENV{BENCH_ONLY} // '';

    return 1 if $only eq '';
    # "accept" picks accept.default, accept.mutex ...
    return scalar grep { $_ eq $name || index($name, "$_.") == 0 }
        split /,/, $only;
}


sub median {
    my @v = sort { $a <=> $b } @_;

    return 0 unless @v;
    return @v % 2 ? $v[$#v / 2] : ($v[@v / 2 - 1] + $v[@v / 2]) / 2;
}


sub slurp {
    my ($path) = @_;

    open(my $fh, '<', $path) or return '';
    local $/;
    my $c = <$fh>;
    close $fh;
    return $c // '';
}


# docroot(): the one html directory both servers serve, read only.
sub docroot {
    if (!$docroot) {
        $docroot = "$TMP/html";
        mkdir $docroot or die "bench: $docroot: $!\n";
        chmod 0755, $docroot;
    }

    return $docroot;
}


# file(NAME, CONTENT or SIZE): a file in the docroot; a SIZE gives that
# many fixed pseudo-random bytes, written in 1 MiB blocks.
sub file {
    my ($name, $what) = @_;
    my $path = docroot() . "/$name";

    open(my $fh, '>', $path) or die "bench: $path: $!\n";
    binmode $fh;

    if ($what =~ /^\d+$/) {
        my $block = join '', map { chr(($_ * 7 + 13) % 256) } 0 .. 1048575;

        for (my $left = $what; $left > 0; $left -= length $block) {
            print $fh $left < length $block ? substr($block, 0, $left) : $block;
        }
    } else {
        print $fh $what;
    }

    close $fh;
    chmod 0644, $path;
    return $path;
}


# small(): the path of the 1 KiB file most scenarios ask for, made once.
sub small {
    my $path = docroot() . '/1k.txt';

    file('1k.txt', 'x' x 1023 . "\n") unless -e $path;
    return '/1k.txt';
}


sub free_port {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
        Listen => 1, ReuseAddr => 1) or die "bench: no free port: $!\n";
    my $port = $s->sockport;

    close $s;
    return $port;
}


# conf(SERVER, OPTIONS): THE config template. Both servers get the same
# text except for what cannot be shared: the pid and error_log paths
# (each server has its own prefix directory). nginx also keeps its
# *_temp_path directories under its own prefix by default; no scenario
# makes it write there (no request body, proxy responses fit in its
# buffers). Everything else, including the port, is identical: the two
# never run at the same time.
#
# OPTIONS: workers (1), connections (worker_connections, 4096), nofile
# (worker_rlimit_nofile, none), master (on), listen (extra listen
# parameters), events (extra events lines), http (extra http-level
# lines), server (extra server-level lines), location (the "location /"
# body; default its root).
sub conf {
    my ($s, %o) = @_;
    my $user = $> == 0 ? "user nobody nogroup;\n" : '';
    my $nofile = $o{nofile} ? "worker_rlimit_nofile $o{nofile};\n" : '';
    my $loc = $o{location} // 'root ' . docroot() . ';';

    return <<"EOF";
${user}daemon off;
master_process ${\($o{master} // 'on')};
worker_processes ${\($o{workers} // 1)};
${nofile}pid $s->{dir}/server.pid;
error_log $s->{dir}/error.log error;

events {
    worker_connections ${\($o{connections} // 4096)};
${\($o{events} // '')}
}

http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    keepalive_timeout 300s;
    default_type application/octet-stream;
    types {
        text/plain txt;
        text/html html;
    }
    open_file_cache max=1000;
${\($o{http} // '')}
    server {
        listen 127.0.0.1:$s->{port}${\($o{listen} // '')};
${\($o{server} // '')}
        location / {
            $loc
        }
    }
}
EOF
}


# server(NAME, PORT, OPTIONS): a server ('kiln' or 'nginx') with its own
# prefix and the template config; see conf() for OPTIONS.
sub server {
    my ($name, $port, %o) = @_;
    my $s = { name => $name, port => $port, workers => $o{workers} // 1,
        mp => ($o{master} // 'on') eq 'on',
        bin => $name eq 'kiln' ? $KILN : $NGINX };

    $s->{dir} = tempdir("$name-XXXX", DIR => $TMP);
    chmod 0755, $s->{dir};
    mkdir "$s->{dir}/logs";
    chmod 0755, "$s->{dir}/logs";

    open(my $fh, '>', "$s->{dir}/server.conf") or die "bench: $s->{dir}: $!\n";
    print $fh conf($s, %o);
    close $fh;

    return $s;
}


# children(PID): the pids whose parent is PID.
sub children {
    my ($ppid) = @_;
    my @kids;

    for my $stat (glob '/proc/[0-9]*/stat') {
        my $line = slurp($stat);
        push @kids, $1 if $line =~ /^(\d+) \(.*\) \S (\d+)/ && $2 == $ppid;
    }

    return @kids;
}


# pss(PID...): the sum of their Pss (bytes) from smaps_rollup.
sub pss {
    my $sum = 0;

    for my $pid (@_) {
        $sum += $1 * 1024 if slurp("/proc/$pid/smaps_rollup") =~ /^Pss:\s+(\d+) kB/m;
    }

    return $sum;
}


# start(SERVER, PREFIX...): run it (under PREFIX, a tracer, if any) and
# wait, at most 60 s, until its pid file is there, its port accepts and,
# with master_process on, all its workers are up. Sets SERVER's pid (the
# forked process) and master (the pid file's).
sub start {
    my ($s, @prefix) = @_;
    my ($pid, $deadline);

    unlink "$s->{dir}/server.pid";

    $pid = fork();
    die "bench: fork: $!\n" unless defined $pid;

    if ($pid == 0) {
        open(STDIN, '<', '/dev/null');
        open(STDOUT, '>>', "$s->{dir}/stderr");
        open(STDERR, '>&', \*STDOUT);
        exec(@prefix, $s->{bin}, '-p', "$s->{dir}/", '-c',
            "$s->{dir}/server.conf", '-e', "$s->{dir}/error.log")
            or POSIX::_exit(127);
    }

    $running{$pid} = $s;
    $s->{pid} = $pid;
    $deadline = time() + 60;

    while (time() < $deadline) {
        if (waitpid($pid, WNOHANG) == $pid) {
            delete $running{$pid};
            die "bench: $s->{name} did not start:\n"
                . slurp("$s->{dir}/stderr") . slurp("$s->{dir}/error.log");
        }

        my $master = slurp("$s->{dir}/server.pid") =~ /^(\d+)/ ? $1 : 0;
        my $c = $master && IO::Socket::INET->new(PeerAddr => '127.0.0.1',
            PeerPort => $s->{port}, Proto => 'tcp', Timeout => 1);

        if ($c) {
            close $c;
            $s->{master} = $master;
            return $pid if !$s->{mp};
            return $pid if children($master) >= $s->{workers};
        }

        sleep 0.05;
    }

    stop($s);
    die "bench: $s->{name}: not up in 60 s on port $s->{port}\n";
}


# processes(SERVER): the master and its workers.
sub processes {
    my ($s) = @_;

    return ($s->{master}, children($s->{master}));
}


# stop(SERVER): TERM its master, reap what was forked (30 s, then KILL).
sub stop {
    my ($s) = @_;
    my $pid = $s->{pid} or return;
    my $master = $s->{master} // $pid;
    my $deadline = time() + 30;

    kill 'TERM', $master;

    while (time() < $deadline) {
        if (waitpid($pid, WNOHANG) == $pid) {
            delete $running{$pid};
            delete $s->{pid};
            return;
        }
        sleep 0.05;
    }

    warn "bench: $s->{name} did not stop in 30 s: killed\n";
    kill 'KILL', $master, $pid;
    waitpid($pid, 0);
    delete $running{$pid};
    delete $s->{pid};
}


sub stop_all {
    stop($_) for values %running;
}


# fetch(PORT, PATH, HEADERS...): one HTTP/1.1 exchange as wrk makes it
# (keep-alive), the connection closed after the response. Returns
# { status, head, body (de-chunked), wire (bytes of the whole response) }.
sub fetch {
    my ($port, $path, @headers) = @_;
    my ($sock, $raw, $head, $body, %r);

    $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
        Proto => 'tcp', Timeout => 10) or die "bench: connect $port: $!\n";
    print $sock "GET $path HTTP/1.1\r\nHost: localhost\r\n",
        map({ "$_\r\n" } @headers), "\r\n";

    $raw = '';
    while (1) {
        my $n = sysread($sock, $raw, 1 << 20, length $raw);
        die "bench: read $port$path: $!\n" unless defined $n;
        last if $n == 0 || response_done($raw);
    }
    close $sock;

    ($head, $body) = split /\r\n\r\n/, $raw, 2;
    $body //= '';
    %r = (head => $head, wire => length $raw,
        status => $head =~ m{^HTTP/1\.\d (\d+)} ? $1 : 0);

    if ($head =~ /^Transfer-Encoding: chunked/mi) {
        my $out = '';
        while ($body =~ s/^([0-9a-fA-F]+)[^\r]*\r\n//) {
            my $n = hex $1;
            last if $n == 0;
            $out .= substr($body, 0, $n, '');
            $body =~ s/^\r\n//;
        }
        $body = $out;
    }

    $r{body} = $body;
    return \%r;
}


sub response_done {
    my ($raw) = @_;
    my $end = index($raw, "\r\n\r\n");

    return 0 if $end < 0;

    my $head = substr($raw, 0, $end);

    if ($head =~ /^Content-Length:\s*(\d+)/mi) {
        return length($raw) - $end - 4 >= $1;
    }

    return $raw =~ /\r\n0\r\n\r\n$/ if $head =~ /^Transfer-Encoding: chunked/mi;
    return 0;
}


# wrk(PORT, PATH, OPTIONS): one wrk run; OPTIONS: threads (2), conns
# (50), secs (BENCH_SECONDS), headers ([...]), script (a Lua file for
# wrk -s). Returns { rps, requests, secs, bytes, non2xx, errors, out,
# conns }.
sub wrk {
    my ($port, $path, %o) = @_;
    my ($cmd, $out, %r);
    my %unit = ('' => 1, K => 1024, M => 1024**2, G => 1024**3, T => 1024**4);

    $r{conns} = $o{conns} // 50;
    $cmd = sprintf "%swrk -t%d -c%d -d%ss --timeout 10s %s%s "
        . "'http://127.0.0.1:%d%s' 2>&1", $PINNED ? 'taskset -c 1 ' : '',
        $o{threads} // 2, $r{conns},
        $o{secs} // $SECS,
        join(' ', map { "-H '$_'" } @{$o{headers} // []}),
        $o{script} ? " -s '$o{script}'" : '', $port, $path;

    $out = `$cmd`;
    print STDERR "$cmd\n$out" if $ENV{BENCH_DEBUG};

    $r{out} = $out;
    $r{rps} = $out =~ /Requests\/sec:\s+([\d.]+)/ ? $1 : 0;
    ($r{requests}, $r{secs}) = $out =~ /(\d+) requests in ([\d.]+)(m?s)/
        ? ($1, $3 eq 'ms' ? $2 / 1000 : $2) : (0, 0);
    $r{bytes} = $out =~ /requests in \S+, ([\d.]+)([KMGT]?)B read/
        ? $1 * $unit{$2} : 0;
    $r{non2xx} = $out =~ /Non-2xx or 3xx responses: (\d+)/ ? $1 : 0;
    $r{errors} = 0;
    $r{errors} += $1 + $2 + $3 + $4 if $out =~
        /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/;
    $r{cmd} = $cmd;

    return \%r;
}


# wrk_check(NAME, RESULT, WIRE, STATUS): die unless the run made requests,
# without socket errors, all with STATUS (2xx, or all non-2xx), and the
# bytes read are WIRE per request (give or take the responses in flight
# when wrk stopped and the rounding of wrk's "MB read").
sub wrk_check {
    my ($name, $r, $wire, $status) = @_;
    my $want = $status =~ /^2/ ? 0 : $r->{requests};
    my $lo = $r->{requests} * $wire * 0.97;
    my $hi = ($r->{requests} + $r->{conns}) * $wire * 1.03;

    die "bench: $name: no requests:\n$r->{out}" unless $r->{requests};
    die "bench: $name: socket errors:\n$r->{out}" if $r->{errors};
    die "bench: $name: $r->{non2xx} of $r->{requests} not status $status:\n"
        . $r->{out} if $r->{non2xx} != $want;
    die sprintf("bench: %s: %.0f bytes read for %d responses of %d bytes:\n%s",
        $name, $r->{bytes}, $r->{requests}, $wire, $r->{out})
        if $r->{bytes} < $lo || $r->{bytes} > $hi;
}


# wrk_run(SERVER, SCENARIO, PATH, WIRE, STATUS, OPTIONS): a 1 s warm-up
# then the measured wrk run (OPTIONS as wrk()), checked by wrk_check().
sub wrk_run {
    my ($s, $name, $path, $wire, $status, %o) = @_;

    wrk($s->{port}, $path, %o, secs => 1);
    my $r = wrk($s->{port}, $path, %o);

    wrk_check("$name $s->{name}", $r, $wire, $status);
    return $r;
}


sub version {
    my ($bin) = @_;
    my $v = `$bin -v 2>&1`;

    $v =~ s/\s+$//;
    $v =~ s/^\S+ version: //;
    return $v;
}


my $header_done;

# header(): the machine, the servers and the table's column names, once.
sub header {
    my ($cpu, $n) = ('', 0);

    return if $header_done++;

    for (split /\n/, slurp('/proc/cpuinfo')) {
        $cpu = $1 if !$cpu && /^model name\s*:\s*(.*)/;
        $n++ if /^processor\s*:/;
    }

    chomp(my $kernel = `uname -r`);
    print "machine: $n cores ($cpu), Linux $kernel, load ",
        (split ' ', slurp('/proc/loadavg'))[0], "\n";
    printf "kiln: %s (%s)\nnginx: %s\n", $KILN, version($KILN),
        $HAVE_NGINX ? "$NGINX (" . version($NGINX) . ')'
            : 'not installed, kiln only';
    printf "rounds: %d pairs kiln, nginx alternately; medians; ratio = "
        . "median of the per-pair kiln/nginx\n\n", $ROUNDS;
    row('scenario', 'workers', 'unit', 'kiln', 'nginx', 'kiln/nginx',
        'better');
}


sub row {
    printf "%-16s %7s %-10s %12s %12s %10s  %s\n", @_;
}


sub fmt {
    my ($v) = @_;

    return '-' unless defined $v;
    return sprintf '%.0f', $v if abs($v) >= 100;
    return sprintf '%.2f', $v;
}


# compare(OPTIONS): one scenario, both servers, each worker count.
#   name      the scenario (BENCH_ONLY picks by it)
#   conf      { ... } the conf() options but workers
#   workers   [counts] (BENCH_WORKERS)
#   check     sub(SERVER): once per start, die on a wrong response
#   measure   sub(SERVER): { figure => value, ... } from one run
#   figures   [[figure, unit, 'higher' or 'lower'], ...] in row order
sub compare {
    my (%o) = @_;
    my @names = ('kiln', $HAVE_NGINX ? 'nginx' : ());

    return unless wanted($o{name});
    header();

    for my $w (@{$o{workers} // \@WORKERS}) {
        my $port = free_port();
        my %srv = map { $_ => server($_, $port, %{$o{conf} // {}},
            workers => $w) } @names;
        my %runs;    # figure => server => [values]

        local $PINNED = $PIN && $w == 1;

        for my $round (1 .. $ROUNDS) {
            for my $name (@names) {
                my $s = $srv{$name};

                start($s, $PINNED ? ('taskset', '-c', '0') : ());
                $o{check}->($s) if $o{check};
                my $got = $o{measure}->($s);
                stop($s);

                push @{$runs{$_}{$name}}, $got->{$_} for keys %$got;
            }
        }

        for my $f (@{$o{figures}}) {
            my ($fig, $unit, $better) = @$f;
            my $k = $runs{$fig}{kiln};
            my $n = $runs{$fig}{nginx};
            my ($mk, $mn, $ratio);

            $mk = median(@$k);
            $mn = $n ? median(@$n) : undef;

            if ($n && !grep { !$_ } @$n) {
                $ratio = median(map { $k->[$_] / $n->[$_] } 0 .. $#$k);
            }

            my $label = $fig eq 'value' ? $o{name} : "$o{name}.$fig";

            row($label, $PINNED ? "$w pin" : $w, $unit, fmt($mk), fmt($mn),
                defined $ratio ? sprintf('%.2f', $ratio) : '-', $better);
            printf "RESULT scenario=%s workers=%d%s unit=%s kiln=%s "
                . "nginx=%s ratio=%s better=%s kiln_runs=%s nginx_runs=%s\n",
                $label, $w, $PINNED ? ' pin=1' : '', $unit, fmt($mk), fmt($mn),
                defined $ratio ? sprintf('%.3f', $ratio) : '-', $better,
                join(',', map { fmt($_) } @$k),
                $n ? join(',', map { fmt($_) } @$n) : '-';
        }
    }
}


# per_request(OPTIONS): deterministic counts per request. For each server,
# twice: run it under a tool once with no request and once with a fixed
# keep-alive load (our idle client: CONNS connections, REQUESTS in all,
# one at a time on each, every answer checked), and return the difference
# of the tool's counts divided by REQUESTS:
#   { server => [ { key => per request, ... }, { second run } ] }
# Nothing when BENCH_ONLY leaves out NAME. OPTIONS: name, needs (the
# tool's command), conf (conf() options), env (a prefix: ENV_REQUESTS
# and ENV_CONNS override requests and conns), requests, conns (1),
# prefix => sub(SERVER, FILE): the tool's command line before the server,
# writing its counts to FILE; parse => sub(FILE): { key => count }; path
# (the 1 KiB file by default); procs (1: one client process per
# connection, so each reads its responses alone; default all in one).
# Returns that, the requests and the connections used.
sub per_request {
    my (%o) = @_;

    return unless wanted($o{name});
    die "bench: $o{needs} is not installed (sh auto/deps bench)\n"
        unless have($o{needs});

    my $idle = tool('idle');
    my $conns = $ENV{"$o{env}_CONNS"} // $o{conns} // 1;
    my $reqs = $ENV{"$o{env}_REQUESTS"} // $o{requests};
    my $path = $o{path} // small();
    my $procs = $o{procs} ? "-j $conns" : '';
    my %out;

    $reqs = int($reqs / $conns) * $conns;
    die "bench: $o{env}_REQUESTS below $o{env}_CONNS\n" unless $reqs > 0;

    for my $name ('kiln', $HAVE_NGINX ? 'nginx' : ()) {
        my $s = server($name, free_port(), %{$o{conf} // {}});

        for my $run (0 .. 1) {
            my %count;

            for my $n (0, $reqs) {
                my $file = "$s->{dir}/counts.$run.$n";

                unlink $file;
                start($s, $o{prefix}->($s, $file));

                if ($n) {
                    my $r = `$idle -q -p $s->{port} -n $conns $procs -r ${\($n / $conns)} -u $path`;
                    die "bench: $name: $r" unless $r =~ /^held $conns$/m;
                }

                stop($s);
                $count{$n} = $o{parse}->($file);
            }

            my %keys = map { $_ => 1 } keys %{$count{0}}, keys %{$count{$reqs}};

            $out{$name}[$run] = { map { $_ => (($count{$reqs}{$_} // 0)
                - ($count{0}{$_} // 0)) / $reqs } keys %keys };
        }
    }

    return (\%out, $reqs, $conns);
}


1;
