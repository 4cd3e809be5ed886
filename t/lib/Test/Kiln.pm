# Test/Kiln.pm: the integration test harness: temp prefix, inline config,
# start and stop kiln, raw HTTP over loopback.
#
# Modelled on nginx's Test::Nginx. Each .t creates a Test::Kiln object,
# writes its own config with write_file_expand() (placeholders %%TESTDIR%%
# and %%PORT_<label>%%), calls run(), talks raw HTTP with http()/http_get(),
# and lets the harness stop kiln at the end. The harness adds nothing to the
# config: what the test writes is what kiln reads. Every wait is a bounded
# poll of something observable (a pid file, a port, a process), never a
# sleep that hopes. See t/README.md for how to write a test.

package Test::Kiln;

use strict;
use warnings;

use Cwd qw(abs_path);
use Errno qw(EINTR EAGAIN EWOULDBLOCK ECONNRESET);
use Exporter qw(import);
use Fcntl qw(:flock O_RDWR O_RDONLY O_CREAT);
use File::Basename qw(dirname);
use File::Path qw(make_path);
use File::Spec;
use File::Temp ();
use IO::Select;
use IO::Socket::INET;
use Socket ();
use POSIX qw(WNOHANG);
use Scalar::Util qw(weaken);
use Test::More ();
use Time::HiRes qw(time);

our @EXPORT = qw(port port_range http http_get http_head http_connect http_read
    read_response parse_response dechunk wait_for wait_closed http_date
    tcp_segments_in);

our $VERSION = '0.1';

# A missing peer must not kill the test with SIGPIPE: writes return EPIPE.
$SIG{PIPE} = 'IGNORE';

# Files the test writes must be readable by workers that run as nobody.
umask 022;

# Interrupted (Ctrl-C, a harness timeout): exit through END, which stops kiln.
$SIG{INT} = $SIG{TERM} = sub { print STDERR "# interrupted\n"; exit 1; };

my $POLL = 0.05;                          # every bounded wait polls this often
my $TIMEOUT = $ENV{TEST_KILN_TIMEOUT} || 5;   # default bound for one wait

my %PORTS;                                # label -> port, for this process
my @PORT_LOCKS;                           # flock()ed files, held until exit
my @INSTANCES;                            # weak refs, stopped in END
my $MODULES;                              # cached `kiln -V` output
my @SOCKETS;                              # weak refs to client sockets


# --- binary, ports, small utilities ------------------------------------------

sub binary {
    my $root;

    return $ENV{KILN_BINARY} if $ENV{KILN_BINARY};

    $root = abs_path(File::Spec->catdir(dirname(__FILE__), '..', '..', '..'));
    return File::Spec->catfile($root, 'objs', 'kiln');
}


# port(LABEL): the loopback port for LABEL (say 8080), the same for the whole
# test file. A port is taken only if its lock file in TMPDIR/kiln-test-ports
# can be flock()ed and the port can be bound, so tests running in parallel
# (prove -j) never share one. Ports come from 20000-31999, below Linux's
# ephemeral range, so a client socket cannot grab one before kiln binds it.

sub port {
    my ($label) = @_;

    die "port() needs a label\n" unless defined $label;
    $PORTS{$label} //= _port_alloc();
    return $PORTS{$label};
}


sub _port_alloc {
    my ($dir, $start, $p, $fh, $s, %taken);

    $dir = File::Spec->catdir(File::Spec->tmpdir(), 'kiln-test-ports');
    if (!-d $dir) {
        mkdir $dir;
        chmod 01777, $dir;
    }

    %taken = map { $_ => 1 } grep { defined } values %PORTS;
    $start = int(rand(12000));

    for my $i (0 .. 11999) {
        $p = 20000 + ($start + $i) % 12000;
        next if $taken{$p};

        undef $fh;
        sysopen($fh, "$dir/$p.lock", O_RDWR | O_CREAT, 0666)
            or sysopen($fh, "$dir/$p.lock", O_RDONLY)
            or next;
        next unless flock($fh, LOCK_EX | LOCK_NB);

        $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
            LocalPort => $p, Proto => 'tcp', Listen => 1, ReuseAddr => 1);
        next unless $s;
        close $s;

        push @PORT_LOCKS, $fh;
        return $p;
    }

    die "no free loopback port in 20000-31999\n";
}


# port_range(LABEL, N): N consecutive free loopback ports, the first as
# port(LABEL) and the others as port("LABEL_1") .. port("LABEL_<N-1>"), for
# "listen addr:first-last". Each is locked as port() locks one.

sub port_range {
    my ($label, $n) = @_;
    my (@got, $p);

    return $PORTS{$label} if defined $PORTS{$label};

    for my $try (1 .. 200) {
        @got = (_port_alloc());
        for my $i (1 .. $n - 1) {
            $p = _port_alloc_exact($got[0] + $i);
            last unless defined $p;
            push @got, $p;
        }

        if (@got == $n) {
            $PORTS{$label} = $got[0];
            $PORTS{"${label}_$_"} = $got[$_] for 1 .. $n - 1;
            return $got[0];
        }

        # release what was taken and try elsewhere
        splice(@PORT_LOCKS, -scalar(@got));
    }

    die "no $n consecutive free loopback ports\n";
}


sub _port_alloc_exact {
    my ($p) = @_;
    my ($dir, $fh, $s);

    return undef if $p > 31999;

    $dir = File::Spec->catdir(File::Spec->tmpdir(), 'kiln-test-ports');
    sysopen($fh, "$dir/$p.lock", O_RDWR | O_CREAT, 0666)
        or sysopen($fh, "$dir/$p.lock", O_RDONLY)
        or return undef;
    return undef unless flock($fh, LOCK_EX | LOCK_NB);

    $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
        LocalPort => $p, Proto => 'tcp', Listen => 1, ReuseAddr => 1);
    return undef unless $s;
    close $s;

    push @PORT_LOCKS, $fh;
    return $p;
}


# wait_for(CODE, TIMEOUT, INTERVAL): poll CODE every INTERVAL seconds (50 ms
# by default) until it returns true or TIMEOUT seconds pass. Returns CODE's
# last value.

sub wait_for {
    my ($cond, $timeout, $interval) = @_;
    my ($deadline, $v);

    $deadline = time() + ($timeout // $TIMEOUT);

    for (;;) {
        $v = $cond->();
        return $v if $v;
        return $v if time() >= $deadline;
        select(undef, undef, undef, $interval // $POLL);
    }
}


# http_date(EPOCH): RFC 9110 IMF-fixdate, as in Last-Modified.

sub http_date {
    my ($t) = @_;
    my @d = gmtime($t);
    my @day = qw(Sun Mon Tue Wed Thu Fri Sat);
    my @mon = qw(Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec);

    return sprintf('%s, %02d %s %04d %02d:%02d:%02d GMT', $day[$d[6]],
        $d[3], $mon[$d[4]], $d[5] + 1900, $d[2], $d[1], $d[0]);
}


# tcp_segments_in(SOCK): the TCP segments SOCK has received so far, all
# and those with data: (tcpi_segs_in, tcpi_data_segs_in) of TCP_INFO,
# the u32s at bytes 140 and 152 of struct tcp_info (Linux 4.6 and later).

sub tcp_segments_in {
    my ($s) = @_;
    my $info = getsockopt($s, Socket::IPPROTO_TCP(), 11);    # TCP_INFO

    die "Test::Kiln: TCP_INFO too short for tcpi_data_segs_in\n"
        unless defined $info && length $info >= 156;

    return (unpack('L', substr($info, 140, 4)),
        unpack('L', substr($info, 152, 4)));
}


# --- the test object ---------------------------------------------------------

sub new {
    my ($class, %opts) = @_;
    my $self;

    $self = bless {
        testdir     => undef,
        owner       => $$,
        master      => undef,     # master pid, from the pid file
        child       => undef,     # the pid this harness forked, if not reaped
        ports       => {},        # path => port labels expanded into it
        allow       => [],        # patterns of [alert]/[emerg] lines expected
        planned     => 0,
        checked     => 0,
    }, $class;

    $self->{testdir} = File::Temp::tempdir('kiln-test-XXXXXXXXXX',
        TMPDIR => 1, CLEANUP => $ENV{TEST_KILN_LEAVE} ? 0 : 1);

    # When run as root, kiln's workers drop to nobody: they must read here.
    chmod 0755, $self->{testdir};
    mkdir "$self->{testdir}/logs";
    chmod 0755, "$self->{testdir}/logs";

    # Sanitizer reports of any kiln process (workers run as nobody) land
    # here, whatever the config does with stderr; check_log reads them.
    mkdir "$self->{testdir}/sanitizer";
    chmod 01777, "$self->{testdir}/sanitizer";

    push @INSTANCES, $self;
    weaken($INSTANCES[-1]);

    return $self;
}


sub testdir {
    return $_[0]->{testdir};
}


sub pid_file {
    my ($self) = @_;

    return $self->{pid_file} // "$self->{testdir}/kiln.pid";
}


# set_pid_file(PATH): for a config whose pid directive is not
# %%TESTDIR%%/kiln.pid.

sub set_pid_file {
    my ($self, $path) = @_;

    $self->{pid_file} = $path;
    return $self;
}


# plan(N): N tests of the file's own, plus the error-log check at the end.

sub plan {
    my ($self, $n) = @_;

    Test::More::plan(tests => $n + 1);
    $self->{planned} = 1;
    return $self;
}


# has_module(NAME): false only when kiln was configured with
# --without-http_NAME_module (as `kiln -V` prints).

sub has_module {
    my ($self, $name) = @_;
    my $r;

    if (!defined $MODULES) {
        $r = $self->run_kiln('-V');
        $MODULES = $r->{stdout} . $r->{stderr};
    }

    return $MODULES !~ /--without-http_\Q$name\E_module\b/;
}


# has(MODULES...): skip the whole file unless every module is built in.

sub has {
    my ($self, @names) = @_;

    for my $name (@names) {
        next if $self->has_module($name);
        Test::More::plan(skip_all => "kiln built without http_${name}_module");
    }

    return $self;
}


# expect_errors(REGEX...): the test provokes [alert] or [emerg] lines that
# match one of these; any other such line still fails the log check.

sub expect_errors {
    my ($self, @re) = @_;

    push @{$self->{allow}}, @re;
    return $self;
}


# --- files -------------------------------------------------------------------

sub _path {
    my ($self, $name) = @_;

    return $name if File::Spec->file_name_is_absolute($name);
    return "$self->{testdir}/$name";
}


sub write_file {
    my ($self, $name, $content) = @_;
    my ($path, $fh);

    $path = $self->_path($name);
    make_path(dirname($path), { mode => 0755 });

    open($fh, '>', $path) or die "open($path): $!\n";
    binmode $fh;
    print $fh $content;
    close($fh) or die "close($path): $!\n";

    return $path;
}


# expand(TEXT): replace %%TESTDIR%% and %%PORT_<label>%%; any other %%X%% is a
# typo in the test and dies.

sub expand {
    my ($self, $text, $labels) = @_;

    $text =~ s/%%TESTDIR%%/$self->{testdir}/g;
    $labels //= [];
    $text =~ s{%%PORT_(\w+)%%}{push(@$labels, $1); port($1)}ge;

    die "unknown placeholder $1\n" if $text =~ /(%%\w+%%)/;

    return $text;
}


# write_file_expand(NAME, TEXT): write TEXT with its placeholders expanded;
# run() waits for the ports named in the files written this way.

sub write_file_expand {
    my ($self, $name, $content) = @_;
    my (@labels, $path);

    $content = $self->expand($content, \@labels);
    $path = $self->write_file($name, $content);
    $self->{ports}{$path} = \@labels;

    return $path;
}


sub _listen_labels {
    my ($self) = @_;
    my %l;

    for my $path (keys %{$self->{ports}}) {
        next unless -e $path;
        $l{$_} = 1 for @{$self->{ports}{$path}};
    }

    return sort keys %l;
}


sub read_file {
    my ($self, $name) = @_;
    my ($fh, $content, $path);

    $path = $self->_path($name);
    open($fh, '<', $path) or return '';
    binmode $fh;
    local $/;
    $content = <$fh>;
    close $fh;

    return $content // '';
}


# --- processes ---------------------------------------------------------------

sub _proc_stat {
    my ($pid) = @_;
    my ($fh, $line);

    open($fh, '<', "/proc/$pid/stat") or return;
    $line = <$fh>;
    close $fh;
    return unless defined $line;

    # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
    return unless $line =~ /\)\s+(\S)\s+(\d+)/;
    return ($1, $2);
}


sub _alive {
    my ($self, $pid) = @_;
    my ($state, $r);

    return 0 unless $pid;

    if (defined $self->{child} && $pid == $self->{child}) {
        $r = waitpid($pid, WNOHANG);
        if ($r == $pid || $r == -1) {
            $self->{child_status} = $? if $r == $pid;
            $self->{child} = undef;
            return 0;
        }
        return 1;
    }

    ($state) = _proc_stat($pid);
    return defined $state && $state ne 'Z' ? 1 : 0;
}


# alive(PID): PID exists and is not a zombie.

sub alive {
    my ($self, $pid) = @_;

    return $self->_alive($pid);
}


# children(PID): live children of PID, from /proc: the kernel's list of
# each thread's children when it has one (cheap enough to poll tightly),
# else a scan of every process's parent.

sub children {
    my ($self, $parent) = @_;
    my (@pids, $dh, $fh, $state, $ppid, $list, $have);

    if (opendir($dh, "/proc/$parent/task")) {
        for my $tid (grep { /^\d+$/ } readdir $dh) {
            open($fh, '<', "/proc/$parent/task/$tid/children") or next;
            $list = <$fh> // '';
            close $fh;
            $have = 1;
            push @pids, split ' ', $list;
        }
        closedir $dh;
    }

    if (!$have) {
        opendir($dh, '/proc') or return ();
        @pids = grep { /^\d+$/ } readdir $dh;
        closedir $dh;
    }

    @pids = grep {
        ($state, $ppid) = _proc_stat($_);
        defined $ppid && $ppid == $parent && $state ne 'Z';
    } @pids;

    @pids = sort { $a <=> $b } @pids;
    return @pids;
}


# ppid(PID): the parent of PID, from /proc.

sub ppid {
    my ($self, $pid) = @_;
    my (undef, $ppid) = _proc_stat($pid);

    return $ppid;
}


# child_pid(): the pid run() forked, while it has not exited: with
# "daemon off" it is the master (or the single process).

sub child_pid {
    my ($self) = @_;

    return $self->{child} && $self->_alive($self->{child})
        ? $self->{child} : undef;
}


# title(PID): the process title (the command line kiln rewrote).

sub title {
    my ($self, $pid) = @_;
    my ($fh, $t);

    open($fh, '<', "/proc/$pid/cmdline") or return '';
    local $/;
    $t = <$fh> // '';
    close $fh;
    $t =~ s/\0+$//;
    $t =~ s/\0/ /g;

    return $t;
}


# status(PID): /proc/PID/status as { Field => value } (Uid, Gid,
# Cpus_allowed_list...), empty if PID is gone.

sub status {
    my ($self, $pid) = @_;
    my ($fh, %st);

    open($fh, '<', "/proc/$pid/status") or return {};
    while (my $line = <$fh>) {
        $st{$1} = $2 if $line =~ /^([^:]+):\s*(.*?)\s*$/;
    }
    close $fh;

    return \%st;
}


# fds(PID): { fd => what /proc/PID/fd/fd links to } ("socket:[123]", a path).

sub fds {
    my ($self, $pid) = @_;
    my ($dh, %fd, $to);

    opendir($dh, "/proc/$pid/fd") or return {};
    for my $fd (grep { /^\d+$/ } readdir $dh) {
        $to = readlink "/proc/$pid/fd/$fd";
        $fd{$fd} = $to if defined $to;
    }
    closedir $dh;

    return \%fd;
}


# listen_sockets(PID): the IPv4 TCP listening sockets PID holds, as
# { port => [ { fd => N, inode => I }, ... ] } (several with reuseport).
# The inode names the socket itself: the same inode is the same socket,
# whichever process or descriptor number holds it.

sub listen_sockets {
    my ($self, $pid) = @_;
    my ($fh, %port, %res, $fds);

    open($fh, '<', '/proc/net/tcp') or return {};
    while (my $line = <$fh>) {
        my @f = split ' ', $line;
        next unless @f > 9 && $f[3] eq '0A';
        next unless $f[1] =~ /:([0-9A-F]{4})$/;
        $port{$f[9]} = hex $1;
    }
    close $fh;

    $fds = $self->fds($pid);

    for my $fd (sort { $a <=> $b } keys %$fds) {
        next unless $fds->{$fd} =~ /^socket:\[(\d+)\]$/;
        next unless exists $port{$1};
        push @{$res{$port{$1}}}, { fd => $fd, inode => $1 };
    }

    return \%res;
}


# environ(PID): the live environment of PID ("NAME=value" strings), read
# from its memory through the "environ" pointer. /proc/PID/environ is no
# use: it shows the start-up area, which the process title overwrites.
# Returns () if it cannot be read (needs root or the same user, and nm).

my %ENVIRON_SYM;    # object path => offset of "environ", '' if undefined

sub environ {
    my ($self, $pid) = @_;
    my ($fh, %base, @objs, $exe, $addr, $head, $off);

    open($fh, '<', "/proc/$pid/maps") or return ();
    while (my $line = <$fh>) {
        my @f = split ' ', $line;
        next unless @f >= 6 && $f[5] =~ m{^/};
        next if exists $base{$f[5]};
        next unless $f[0] =~ /^([0-9a-f]+)-/;
        no warnings 'portable';
        $base{$f[5]} = hex($1) - hex($f[2]);
        push @objs, $f[5];
    }
    close $fh;

    # The executable's copy of environ, if it has one (a copy relocation),
    # is the live one; otherwise libc's.
    $exe = readlink "/proc/$pid/exe";
    $exe =~ s/ \(deleted\)$// if defined $exe;

    for my $obj (grep { defined && exists $base{$_} }
        $exe, grep { m{/libc[.-]} } @objs)
    {
        if (!exists $ENVIRON_SYM{$obj}) {
            my ($line) = grep { /\s[BDV]\s+(?:__)?environ(?:@\S+)?$/ }
                `nm -D --defined-only '$obj' 2>/dev/null`;
            $ENVIRON_SYM{$obj} = $line && $line =~ /^([0-9a-f]+)/ ? $1 : '';
        }

        next unless length $ENVIRON_SYM{$obj};

        open($fh, '<', $obj) or next;
        sysread($fh, $head, 18);
        close $fh;

        {
            no warnings 'portable';
            $off = hex $ENVIRON_SYM{$obj};
        }

        # ET_DYN (PIE, shared objects) is relative to its load address.
        $addr = $off + (unpack('v', substr($head, 16, 2)) == 3
            ? $base{$obj} : 0);

        return _read_environ($pid, $addr);
    }

    return ();
}


sub _read_environ {
    my ($pid, $addr) = @_;
    my ($mem, $rd, $arr, $p, $s, @env);

    open($mem, '<:raw', "/proc/$pid/mem") or return ();

    $rd = sub {
        my ($at, $n) = @_;
        my $b;

        sysseek($mem, $at, 0) or return undef;
        return undef unless defined sysread($mem, $b, $n) && length $b == $n;
        return $b;
    };

    $arr = $rd->($addr, 8) // return ();
    $arr = unpack('Q', $arr);

    for my $i (0 .. 4095) {
        $p = $rd->($arr + 8 * $i, 8) // return ();
        $p = unpack('Q', $p);
        last unless $p;

        $s = '';
        for (1 .. 1024) {
            # Aligned reads never cross into an unmapped page.
            my $at = $p + length $s;
            my $c = $rd->($at, 64 - $at % 64) // return ();
            my $z = index($c, "\0");
            if ($z >= 0) {
                $s .= substr($c, 0, $z);
                last;
            }
            $s .= $c;
        }

        push @env, $s;
    }

    close $mem;
    return @env;
}


sub master_pid {
    return $_[0]->{master};
}


# set_master(PID): PID is now the master (after a binary upgrade): the one
# signal(), worker_pids(), wait_exit() and stop() act on.

sub set_master {
    my ($self, $pid) = @_;

    $self->{master} = $pid;
    return $self;
}


# track(PID): another master (a new binary's, say) that stop() also stops,
# so that a test failing half-way leaves no kiln running.

sub track {
    my ($self, $pid) = @_;

    push @{$self->{extra}}, $pid;
    return $self;
}


# worker_pids(): the master's children whose title says "worker process"
# (this includes workers that are shutting down).

sub worker_pids {
    my ($self) = @_;

    return () unless $self->{master};
    return grep { $self->title($_) =~ /worker process/ }
        $self->children($self->{master});
}


# read_pid(): the pid in the pid file, or undef.

sub read_pid {
    my ($self) = @_;
    my $c = $self->read_file($self->pid_file);

    return $c =~ /^(\d+)\n?$/ ? $1 : undef;
}


# kiln_args(): -p/-c/-e for this prefix, the way run() starts kiln.

sub kiln_args {
    my ($self) = @_;
    my $d = $self->{testdir};

    return ('-p', "$d/", '-c', "$d/kiln.conf", '-e', "$d/error.log");
}


# _exec(ARGS...): in a forked child, become kiln with ARGS (or exit 127).

sub _exec {
    my @cmd = (binary(), @_);

    # An ignored SIGPIPE would survive exec: kiln starts as a shell starts it.
    $SIG{PIPE} = 'DEFAULT';

    no warnings 'exec';
    exec { $cmd[0] } @cmd;
    POSIX::_exit(127);
}


# _sanitizer_env(): in a forked child, send ASan/UBSan reports to files in
# TESTDIR/sanitizer/ (the last log_path given wins, so a test's own
# ASAN_OPTIONS keep their other settings). Harmless for a plain build.

sub _sanitizer_env {
    my ($self) = @_;

    for my $var (qw(ASAN_OPTIONS UBSAN_OPTIONS)) {
        $ENV{$var} = join(':', grep { defined && length } $ENV{$var},
            "log_path=$self->{testdir}/sanitizer/report");
    }
    $ENV{UBSAN_OPTIONS} .= ':print_stacktrace=1';
}


# run_kiln(ARGS...): run the binary to completion (bounded), for -t, -V, -s.
# Returns { exit, signal, stdout, stderr }; an optional trailing hashref
# gives { timeout => seconds }.

sub run_kiln {
    my ($self, @args) = @_;
    my ($opts, $out, $err, $pid, $deadline, $r, %res);

    $opts = ref $args[-1] eq 'HASH' ? pop @args : {};
    $out = File::Temp->new(DIR => $self->{testdir});
    $err = File::Temp->new(DIR => $self->{testdir});

    $pid = fork();
    die "fork: $!\n" unless defined $pid;

    if ($pid == 0) {
        open(STDIN, '<', '/dev/null');
        open(STDOUT, '>', $out->filename);
        open(STDERR, '>', $err->filename);
        $self->_sanitizer_env;
        _exec(@args);
    }

    # These runs are short: poll at 10 ms so a file of -t checks stays quick.
    $deadline = time() + ($opts->{timeout} // 10);
    while (($r = waitpid($pid, WNOHANG)) == 0) {
        if (time() >= $deadline) {
            kill 'KILL', $pid;
            waitpid($pid, 0);
            $res{timed_out} = 1;
            last;
        }
        select(undef, undef, undef, 0.01);
    }

    $res{exit} = $? >> 8;
    $res{signal} = $? & 127;
    $res{stdout} = $self->read_file($out->filename);
    $res{stderr} = $self->read_file($err->filename);

    return \%res;
}


# run(): start kiln with -p TESTDIR/ -c TESTDIR/kiln.conf -e TESTDIR/error.log
# and wait, bounded, for the pid file to name a live master and for every
# port the written config mentions to accept a connection. Dies if it does
# not start. run(wait_ports => [labels]) waits for those ports instead.

sub run {
    my ($self, %opts) = @_;
    my ($pid, $deadline, $master, @ports, $why);

    die "kiln already running\n" if $self->{master};
    die "no kiln.conf written\n" unless -e "$self->{testdir}/kiln.conf";

    unlink $self->pid_file;

    $pid = fork();
    die "fork: $!\n" unless defined $pid;

    if ($pid == 0) {
        open(STDIN, '<', '/dev/null');
        open(STDOUT, '>>', "$self->{testdir}/stderr");
        open(STDERR, '>>', "$self->{testdir}/stderr");
        $self->_sanitizer_env;
        _exec($self->kiln_args, @{$opts{args} // []});
    }

    $self->{child} = $pid;
    delete $self->{child_status};

    @ports = map { port($_) } @{$opts{wait_ports} // [$self->_listen_labels]};

    $deadline = time() + ($opts{timeout} // 10);

    for (;;) {
        # The launcher exits 0 after daemonizing; any other exit is a failure.
        if (defined $self->{child} && !$self->_alive($self->{child})
            && $self->{child_status})
        {
            $why = 'kiln exited with status ' . ($self->{child_status} >> 8);
            last;
        }

        $master = $self->read_pid;
        if ($master && $self->_alive($master)
            && !grep { !_port_open($_) } @ports)
        {
            $self->{master} = $master;
            return $self;
        }

        if (time() >= $deadline) {
            $why = 'timed out waiting for the pid file and ports';
            last;
        }

        select(undef, undef, undef, $POLL);
    }

    # Do not leave a half-started server behind.
    $self->{master} = $master if $master && $self->_alive($master);
    $self->stop if $self->{master};
    $self->_kill_child;

    die "kiln did not start ($why)\n"
        . "--- stderr:\n" . $self->read_file('stderr')
        . "--- error.log:\n" . $self->read_file('error.log');
}


sub _port_open {
    my ($port) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
        Proto => 'tcp', Timeout => 1);

    return 0 unless $s;
    close $s;
    return 1;
}


sub _kill_child {
    my ($self) = @_;
    my $pid = $self->{child};

    return unless defined $pid;
    kill 'KILL', $pid if $self->_alive($pid);
    waitpid($pid, 0) if defined $self->{child};
    $self->{child} = undef;
}


# signal(NAME): send a signal to the master.

sub signal {
    my ($self, $sig) = @_;

    die "kiln is not running\n" unless $self->{master};
    return kill $sig, $self->{master};
}


# wait_exit(TIMEOUT): poll until the master has exited (after a signal the
# test sent itself); true if it did, and the harness then forgets it.

sub wait_exit {
    my ($self, $timeout) = @_;
    my $master = $self->{master};

    return 1 unless $master;
    return 0 unless wait_for(sub { !$self->_alive($master) }, $timeout);

    $self->{master} = undef;
    $self->_kill_child;
    return 1;
}


# stop(): QUIT, then TERM, each waited for (bounded) until the master is
# gone; KILL only as the last resort, and only to the master and its
# workers. A pid file left behind is reported. Returns true if kiln stopped
# by itself.

sub stop {
    my ($self) = @_;
    my ($ok, $pid);

    $ok = $self->_stop_master;

    # Other masters: tracked ones, and any a stopped master left behind.
    for (1 .. 16) {
        ($pid) = grep { $self->_alive($_) } @{$self->{extra} // []};
        last unless $pid;

        local $self->{master} = $pid;
        $ok = 0 unless $self->_stop_master;
    }

    $self->{extra} = [];
    return $ok;
}


sub _stop_master {
    my ($self) = @_;
    my ($master, @workers, $pidfile, $gone);

    $master = $self->{master};
    return 1 unless $master;

    # A client socket the test left open would hold a graceful quit until a
    # timeout (a lingering close, say): the test is done with them.
    for my $s (grep { defined } @SOCKETS) {
        close $s;
    }

    @workers = $self->children($master);
    $pidfile = $self->pid_file;

    # A new binary's master (USR2) is a child: it must not outlive the test.
    for my $c (@workers) {
        next unless $self->title($c) =~ /master process/;
        push @{$self->{extra}}, $c
            unless grep { $_ == $c } @{$self->{extra} // []};
    }

    $gone = sub { !$self->_alive($master) };

    for my $sig (qw(QUIT TERM)) {
        kill $sig, $master;
        if (wait_for($gone, $sig eq 'QUIT' ? 10 : 5)) {
            $self->{master} = undef;
            $self->_kill_child;
            Test::More::diag("kiln exited but left $pidfile")
                if ($self->read_pid // 0) == $master;
            return 1;
        }
    }

    Test::More::diag("kiln master $master ignored QUIT and TERM: KILL");
    my %w = map { $_ => 1 } @workers, $self->children($master);
    kill 'KILL', $master, grep { $self->_alive($_) } keys %w;
    wait_for(sub { !$self->_alive($master) }, 5);
    $self->{master} = undef;
    $self->_kill_child;

    return 0;
}


# check_log(): the one assertion the harness adds (see plan()): the error
# log holds no [alert] or [emerg] line the test did not say it expects.

sub check_log {
    my ($self) = @_;
    my (@bad, $log);

    return if $self->{checked}++;

    $log = $self->read_file('error.log') . $self->read_file('stderr');

    for my $report (glob "$self->{testdir}/sanitizer/report.*") {
        $log .= "\n" . join("\n", map { "$report: $_" }
            grep { /Sanitizer|runtime error: / } split /\n/,
            $self->read_file($report));
    }

    LINE: for my $line (split /\n/, $log) {
        next unless $line =~ /\[(alert|emerg)\]|Sanitizer|runtime error: /;
        for my $re (@{$self->{allow}}) {
            next LINE if $line =~ $re;
        }
        push @bad, $line;
    }

    Test::More::is(join("\n", @bad), '', 'no unexpected alerts in error log');
}


# done(): stop kiln and run the log check now; for tests that end with
# done_testing() instead of plan().

sub done {
    my ($self) = @_;

    $self->stop;
    $self->check_log;
    return $self;
}


sub _teardown {
    my ($self) = @_;

    return if $self->{owner} != $$ || $self->{torn}++;

    $self->stop;

    if ($self->{planned} && !$self->{checked}) {
        $self->check_log;
    }

    if ($ENV{TEST_KILN_CATLOG}) {
        Test::More::diag("--- $self->{testdir}/error.log:\n"
            . $self->read_file('error.log'));
    }

    if ($ENV{TEST_KILN_LEAVE}) {
        Test::More::diag("test prefix left in $self->{testdir}");
    }
}


sub DESTROY {
    my ($self) = @_;

    local ($?, $@, $!);
    $self->_teardown;
}


# Compiled after Test::More's END, so it runs first: kiln stops and the log
# check counts before Test::Builder checks the plan.
END {
    local $?;

    for my $t (grep { defined } @INSTANCES) {
        $t->_teardown;
    }
}


# --- HTTP --------------------------------------------------------------------

# http_connect(port => LABEL): a connected socket to 127.0.0.1:port(LABEL),
# default label 8080.

sub http_connect {
    my (%o) = @_;
    my $s;

    $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
        PeerPort => port($o{port} // 8080), Proto => 'tcp',
        Timeout => $o{timeout} // $TIMEOUT);

    if ($s) {
        # grep copies are strong references: weaken them all again.
        @SOCKETS = grep { defined } @SOCKETS;
        push @SOCKETS, $s;
        weaken($_) for @SOCKETS;
    }

    return $s;
}


sub _write_all {
    my ($s, $data, $timeout) = @_;
    my ($deadline, $n, $sel);

    $deadline = time() + $timeout;
    $sel = IO::Select->new($s);

    while (length $data) {
        return 0 unless $sel->can_write(_left($deadline));
        $n = syswrite($s, $data);
        if (!defined $n) {
            next if $! == EINTR || $! == EAGAIN || $! == EWOULDBLOCK;
            return 0;
        }
        substr($data, 0, $n, '');
    }

    return 1;
}


sub _left {
    my ($deadline) = @_;
    my $left = $deadline - time();

    return $left > 0 ? $left : 0;
}


# _fill(SOCK, DEADLINE): read more bytes into the socket's buffer; returns
# the number read, 0 on EOF or reset, undef on timeout.

sub _fill {
    my ($s, $deadline) = @_;
    my ($buf, $n);

    for (;;) {
        return undef unless IO::Select->new($s)->can_read(_left($deadline));

        $n = sysread($s, $buf, 65536);
        if (!defined $n) {
            next if $! == EINTR || $! == EAGAIN || $! == EWOULDBLOCK;
            ${*$s}{kiln_reset} = 1 if $! == ECONNRESET;
            return 0;
        }

        ${*$s}{kiln_buf} .= $buf;
        return $n;
    }
}


# http(RAW, %opts): send RAW bytes and return the raw response.
#   socket => S    use this connected socket (keep-alive, pipelining)
#   port => LABEL  connect to port(LABEL) (default 8080)
#   start => 1     only send; return the socket
#   one => 1       read exactly one response (Content-Length or chunked)
#   head => 1      with one: the response has no body (a HEAD request)
#   timeout => S   bound for the whole exchange (default 5 s)
# Without one, reads until the server closes or the timeout passes.

sub http {
    my ($request, %o) = @_;
    my ($s, $timeout);

    $timeout = $o{timeout} // $TIMEOUT;
    $s = $o{socket} // http_connect(port => $o{port}, timeout => $timeout);
    return undef unless $s;

    _write_all($s, $request, $timeout) if length $request;

    return $s if $o{start};
    return http_read($s, %o);
}


sub http_read {
    my ($s, %o) = @_;

    return read_response($s, %o) if $o{one};
    return _read_to_eof($s, $o{timeout} // $TIMEOUT);
}


sub _read_to_eof {
    my ($s, $timeout) = @_;
    my ($deadline, $n, $r);

    $deadline = time() + $timeout;

    for (;;) {
        $n = _fill($s, $deadline);
        last unless $n;
    }

    if (!defined $n) {
        Test::More::diag("http: no close from the server in ${timeout}s");
    }

    $r = ${*$s}{kiln_buf} // '';
    ${*$s}{kiln_buf} = '';
    return $r;
}


# read_response(SOCK, head => 0|1, timeout => S): exactly one response from
# SOCK; bytes of the next (pipelined) response stay buffered on SOCK. Returns
# what arrived, even if incomplete.

sub read_response {
    my ($s, %o) = @_;
    my ($deadline, $len, $r);

    $deadline = time() + ($o{timeout} // $TIMEOUT);
    ${*$s}{kiln_buf} //= '';

    $len = _response_length($s, $deadline, $o{head});

    if (!defined $len) {
        $r = ${*$s}{kiln_buf};
        ${*$s}{kiln_buf} = '';
        return $r;
    }

    return _read_to_eof($s, _left($deadline)) if $len < 0;
    return substr(${*$s}{kiln_buf}, 0, $len, '');
}


# _response_length(SOCK, DEADLINE, HEAD): the length of the first response in
# SOCK's buffer, reading until it is all there: -1 if only the server's close
# ends it, undef if it is still incomplete at DEADLINE.

sub _response_length {
    my ($s, $deadline, $head_only) = @_;
    my ($end, $head, $status, $len);

    while (($end = index(${*$s}{kiln_buf}, "\r\n\r\n")) < 0) {
        return undef unless _fill($s, $deadline);
    }

    $end += 4;
    $head = substr(${*$s}{kiln_buf}, 0, $end);
    ($status) = $head =~ m{^HTTP/\d\.\d (\d{3})};
    $status //= 0;

    if ($head_only || $status == 204 || $status == 304
        || ($status >= 100 && $status < 200))
    {
        return $end;
    }

    if ($head =~ /^transfer-encoding:[ \t]*chunked[ \t]*\r$/mi) {
        for (;;) {
            $len = _chunked_length(substr(${*$s}{kiln_buf}, $end));
            return $end + $len if defined $len;
            return undef unless _fill($s, $deadline);
        }
    }

    return -1 unless $head =~ /^content-length:[ \t]*(\d+)[ \t]*\r$/mi;

    $len = $end + $1;
    while (length(${*$s}{kiln_buf}) < $len) {
        return undef unless _fill($s, $deadline);
    }

    return $len;
}


# _chunked_length(BYTES): the length of a complete chunked body at the start
# of BYTES (with trailers), or undef while incomplete.

sub _chunked_length {
    my ($b) = @_;
    my ($pos, $size, $nl);

    $pos = 0;

    for (;;) {
        $nl = index($b, "\r\n", $pos);
        return undef if $nl < 0;
        (substr($b, $pos, $nl - $pos) =~ /^([0-9a-fA-F]+)/) or return undef;
        $size = hex $1;
        $pos = $nl + 2;

        if ($size == 0) {
            $nl = index($b, "\r\n\r\n", $pos - 2);
            return undef if $nl < 0;
            return $nl + 4;
        }

        $pos += $size + 2;
        return undef if $pos > length $b;
    }
}


# dechunk(BODY): the payload of a chunked body.

sub dechunk {
    my ($b) = @_;
    my ($out, $size);

    $out = '';
    while ($b =~ s/^([0-9a-fA-F]+)[^\r]*\r\n//) {
        $size = hex $1;
        last if $size == 0;
        $out .= substr($b, 0, $size, '');
        $b =~ s/^\r\n//;
    }

    return $out;
}


# wait_closed(SOCK, TIMEOUT): true once the server has closed SOCK (EOF or
# reset), polled until TIMEOUT; bytes that arrive meanwhile are buffered.

sub wait_closed {
    my ($s, $timeout) = @_;
    my ($deadline, $n);

    $deadline = time() + ($timeout // $TIMEOUT);

    for (;;) {
        $n = _fill($s, $deadline);
        return 0 unless defined $n;
        return 1 if $n == 0;
    }
}


sub http_get {
    my ($uri, %o) = @_;
    my $host = delete $o{host} // 'localhost';

    return http("GET $uri HTTP/1.0\r\nHost: $host\r\n\r\n", %o);
}


sub http_head {
    my ($uri, %o) = @_;
    my $host = delete $o{host} // 'localhost';

    return http("HEAD $uri HTTP/1.0\r\nHost: $host\r\n\r\n", %o);
}


# parse_response(RAW): { version, status, reason, headers (lowercase name =>
# value, repeated headers joined with ", "), header_list ([name, value]...),
# count (lowercase name => times seen), body, raw }. undef if RAW has no
# status line.

sub parse_response {
    my ($raw) = @_;
    my ($head, $body, @lines, %r);

    return undef unless defined $raw && $raw =~ m{^HTTP/};

    ($head, $body) = split /\r\n\r\n/, $raw, 2;
    @lines = split /\r\n/, $head;

    (shift(@lines) // '') =~ m{^(HTTP/\d\.\d) (\d{3})(?: (.*))?$}
        or return undef;

    %r = (version => $1, status => $2, reason => $3 // '', headers => {},
        header_list => [], count => {}, body => $body // '', raw => $raw);

    for my $line (@lines) {
        next unless $line =~ /^([^:]+):[ \t]*(.*?)[ \t]*$/;
        my ($orig, $value) = ($1, $2);
        my $name = lc $orig;

        push @{$r{header_list}}, [$orig, $value];
        $r{count}{$name}++;
        $r{headers}{$name} = exists $r{headers}{$name}
            ? "$r{headers}{$name}, $value" : $value;
    }

    return \%r;
}


1;
