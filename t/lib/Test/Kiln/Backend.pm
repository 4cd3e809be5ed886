# Test/Kiln/Backend.pm: backends the proxy and FastCGI tests start on
# loopback: an HTTP/1.1 server with per-path behaviours, a WebSocket echo,
# a FastCGI responder, and client helpers for WebSocket frames and FastCGI
# records.
#
# Each backend is one forked Perl process (core modules only), event-driven
# with IO::Select, so a slow or silent connection never blocks another. It
# listens on 127.0.0.1:port(LABEL), the same allocator as %%PORT_<label>%%
# in a config, so ports never collide under prove -j2. The listening socket
# is bound before the constructor returns: no wait is needed. The backend
# stops when its object goes away (or at exit); kill() simulates a crash.
#
#     use Test::Kiln::Backend;
#
#     my $b1 = Test::Kiln::Backend->http(port => 'b1');      # name 'b1'
#     my $b2 = Test::Kiln::Backend->http(port => 'b2', name => 'two',
#         force => '/status/503');        # every request answers 503
#     my $f  = Test::Kiln::Backend->fastcgi(port => 'fcgi');
#     my $fu = Test::Kiln::Backend->fastcgi(unix => $t->testdir . '/f.sock');
#
#     # config: proxy_pass http://127.0.0.1:%%PORT_b1%%;
#     my $e = parse_echo(parse_response(http_get('/x'))->{body});
#     is($e->{method}, 'GET');  is($e->{header}{host}, 'localhost');
#     is($b1->stats->{connections}, 1);
#     $b1->kill;                           # SIGKILL: a crash
#     $b1->start;                          # up again, same port
#
# --- constructors -----------------------------------------------------------
#
# Test::Kiln::Backend->http(%opts)     an HTTP/1.1 backend (+ WebSocket echo)
#   port => LABEL        port label, as Test::Kiln::port() (required)
#   name => NAME         sent as X-Backend: NAME and in the echo (default:
#                        the port label)
#   host => HOST         host in /redirect's Location (default 127.0.0.1)
#   force => PATH        every request behaves as if its path were PATH
#                        (e.g. '/status/503', '/drop', '/slow/500'); the
#                        echo still shows the real target
#   keepalive_requests => N   close the connection after N responses
#                        (Connection: close on the Nth); 0 = never keep
#                        alive; default unlimited
#   keepalive_timeout => MS   close an idle kept-alive connection after MS
#                        (default: never)
#   record => 1          keep every byte read, per connection, for
#                        received() (both kinds)
#
# Test::Kiln::Backend->fastcgi(%opts)  a FastCGI responder
#   port => LABEL        TCP on 127.0.0.1:port(LABEL), or
#   unix => PATH         a unix-domain socket (mode 0777, for workers that
#                        run as nobody); exactly one of the two
#   name => NAME         in X-Backend: NAME and the echo (default: the
#                        label, or 'fcgi')
#   force => PATH        every request behaves as if its SCRIPT_NAME were
#                        PATH (e.g. '/fcgi/status/502')
#
# --- methods ----------------------------------------------------------------
#
#   $b->port             the TCP port number (undef for unix)
#   $b->path             the unix socket path (undef for TCP)
#   $b->name, $b->pid    the name; the backend process (undef if stopped)
#   $b->stats            { connections => connections that sent at least
#                        one byte, requests => complete requests read,
#                        accepted => every accepted connection, open =>
#                        connections open now }. connections and requests
#                        are written before any byte of a response goes out,
#                        so they are exact once the response is read; open
#                        drops just after the backend closes (poll it with
#                        wait_for). drained => how many times all that
#                        was to be sent went to the kernel (a response
#                        sent at once counts once, when its last byte
#                        was written, whatever the client read).
#                        Test::Kiln::run() probes every port of
#                        the config with a connection that sends nothing:
#                        it shows in accepted and open, never in
#                        connections.
#   $b->requests         the requests seen, in order: [ { conn => N (1-based
#                        connection number), n => M (request number on that
#                        connection), method, target (HTTP) or uri
#                        (REQUEST_URI, FastCGI) }, ... ]
#   $b->received(N)      with record: the raw bytes read so far on
#                        connection N (1-based, as X-Backend-Conn); '' if none
#   $b->wait_requests(N, SECS)     bounded wait until stats->{requests} >= N
#   $b->wait_connections(N, SECS)  the same for connections
#   $b->kill(SIG)        signal (default KILL) and reap: a crash. Open
#                        connections die with it (RST if data was unread).
#   $b->stop             TERM, reap (also done by DESTROY and at exit)
#   $b->start            (re)start on the same port or path, counters kept
#                        (they live in files, not in the process)
#
# --- the HTTP backend -------------------------------------------------------
#
# HTTP/1.1 and 1.0; keep-alive by default on 1.1, on 1.0 only with
# "Connection: keep-alive"; "Connection: close" honoured. Request bodies
# with Content-Length or chunked (trailers read and shown); "Expect:
# 100-continue" gets "100 Continue"; pipelined requests are answered in
# order. A malformed request gets 400 and a close.
#
# Every response has X-Backend: NAME, X-Backend-Conn: N (the connection
# number on this backend) and X-Backend-Request: M (the request number on
# that connection), so tests see who answered and whether a connection was
# reused. A HEAD gets the same head as a GET, no body.
#
# Default response: 200, Content-Type: text/plain, Content-Length, and the
# echo body, one "key: value" line each, in this order:
#
#     backend: NAME
#     conn: N
#     request: M
#     method: GET
#     target: /path?args
#     version: HTTP/1.1
#     header: Host: localhost          (one per request header line, in
#     header: X-Forwarded-For: 1.2.3.4  order, exactly as received)
#     framing: none|length|chunked     (how the request body came)
#     trailer: Name: value             (one per chunked trailer line)
#     body-length: 12
#     body-sha1: <hex SHA-1 of the decoded body>
#
# parse_echo(BODY) turns it into a hash (see below).
#
# Behaviours, chosen by the first segment of the path (after any prefix:
# /app/status/404 behaves as /status/404) that is one of these:
#
#   /status/NNN          that status; the echo as body (none for 204 and
#                        304); a 1xx is sent as an interim response, then
#                        the echo as a 200
#   /length/N            N bytes of body(N) with Content-Length
#   /chunked/N           N bytes of body(N), chunked, in chunks of varied
#                        sizes (1, 7, 100, 1000, 4096, ... repeating);
#                        ?chunk=S makes every chunk S bytes. To an HTTP/1.0
#                        request: close-delimited instead (RFC 9112)
#   /close/N             N bytes of body(N), no Content-Length, then close
#   /slow/MS             the echo, but the head only after MS ms
#   /slowbody/MS         the head (with Content-Length) at once, the body
#                        (the echo) after MS ms
#   /drop                read the request, close without answering
#   /reset               read the request, close with RST (SO_LINGER 0)
#   /sleep               read the request, never answer (the connection
#                        stays open until the client closes it)
#   /early/NNN           answer NNN (Content-Length, Connection: close) as
#                        soon as the head is in, before any body byte; the
#                        body is then read and dropped until the client
#                        closes
#   /headers/N           the echo plus N headers X-H-1: v1 ... X-H-N: vN
#   /bigheader/N         the echo plus one header X-Big: whose value is N
#                        bytes of 'b'
#   /redirect[/REST]     302, Location: http://HOST:PORT/x (or /REST)
#   /upgrade             WebSocket (below); without the Upgrade headers:
#                        426 with the echo
#   /short/N             Content-Length: N, then only the first N/2 bytes
#                        of body(N) and a close (a premature close)
#   /invalid             "NOT HTTP AT ALL\r\n\r\n" (no status line), close
#   /badheader           the echo, with a header line without a colon
#   /stall               read the request head, then stop reading (a body
#                        fills the socket buffers and the client's writes
#                        block: send timeouts) and never answer; counted as
#                        a request when the head is read. Its close is
#                        seen only once the peer's FIN gets past the unread
#                        bytes, or at an RST: until then it counts as open
#
# Any path also takes ?header=Name:Value (repeatable, %XX-decoded): extra
# response headers, e.g. for proxy_hide_header or Refresh/Location tests.
# body(N) is deterministic (exported as backend_body(N)): the 36 characters
# "abcdefghijklmnopqrstuvwxyz0123456789" repeated, cut at N bytes.
#
# WebSocket echo: a GET (any path) with "Upgrade: websocket", "Connection:
# ...upgrade..." and Sec-WebSocket-Key gets 101 with the right
# Sec-WebSocket-Accept (and X-Backend). Then: text and binary frames come
# back with the same opcode and payload, unmasked (client frames must be
# masked: an unmasked one gets close 1002); fragmented messages are echoed
# frame by frame as received; ping -> pong with the same payload; close ->
# close with the same payload, then the backend closes the TCP connection.
#
# --- the FastCGI responder --------------------------------------------------
#
# The FastCGI 1.0 protocol: BEGIN_REQUEST (role RESPONDER; another role gets
# END_REQUEST with FCGI_UNKNOWN_ROLE), PARAMS and STDIN streams (any number
# of records, any padding, records split across reads), then STDOUT records
# (and STDERR where asked), empty STDOUT, END_REQUEST (app status 0,
# FCGI_REQUEST_COMPLETE). Without FCGI_KEEP_CONN the backend closes after
# END_REQUEST; with it the connection stays for the next request. A second
# BEGIN_REQUEST while one is active gets FCGI_CANT_MPX_CONN; ABORT_REQUEST
# ends the request; GET_VALUES gets GET_VALUES_RESULT (FCGI_MAX_CONNS 100,
# FCGI_MAX_REQS 100, FCGI_MPXS_CONNS 0); another management type gets
# UNKNOWN_TYPE.
#
# The response is a CGI head then a body:
#
#     Status: 200 OK
#     Content-Type: text/plain
#     X-Backend: NAME
#     X-Backend-Conn: N
#     X-Backend-Request: M
#
#     backend: NAME
#     conn: N
#     request: M
#     param: CONTENT_LENGTH=12          (one per param, sorted by name,
#     param: REQUEST_METHOD=POST         "NAME=VALUE")
#     stdin-length: 12
#     stdin-sha1: <hex SHA-1 of stdin>
#
# parse_echo() reads it too (params in {param}{NAME}). Behaviours by the
# first match in SCRIPT_NAME, then REQUEST_URI:
#
#   /fcgi/status/NNN     Status: NNN
#   /fcgi/stderr         an STDERR record "backend stderr: NAME" before the
#                        stdout (the response is the echo)
#   /fcgi/big/N          N bytes of body(N) as the body, in STDOUT records of
#                        varied sizes (1 .. 8000 bytes, with padding)
#   /fcgi/slow/MS        the response after MS ms
#
# A QUERY_STRING with header=Name:Value (repeatable, %XX-decoded) adds
# response fields; header=Status:... replaces the Status line, and
# header=Status: (no value) with nothing else of it drops it, e.g. for a
# Location without Status.
#
# --- exported functions -----------------------------------------------------
#
#   backend_body(N)      the deterministic N-byte body of /length/N etc.
#   parse_echo(BODY)     { backend, conn, request, method, target, version,
#                        headers => [[Name, value], ...] (in order),
#                        header_lines => [ 'Name: value' as received ],
#                        header => { lc name => value, repeats joined ", " },
#                        framing, trailers => [[Name, value], ...],
#                        body_length, body_sha1,
#                        param => { NAME => VALUE } (FastCGI), params =>
#                        [[NAME, VALUE], ...], stdin_length, stdin_sha1 }
#   ws_accept(KEY)       the Sec-WebSocket-Accept for KEY
#   ws_handshake(SOCK, path => '/upgrade', host => 'localhost',
#                key => BASE64, headers => "X-A: 1\r\n", timeout => S)
#                        send the upgrade request on SOCK and read the
#                        response head (frames after it stay buffered on
#                        SOCK for ws_read_frame). Returns parse_response()'s
#                        hash plus accept_ok => 1 if Sec-WebSocket-Accept is
#                        right; undef if no head came
#   ws_frame(OPCODE, PAYLOAD, fin => 1, mask => 1, key => 4 BYTES, rsv => 0)
#                        one frame's bytes; masked by default (a client);
#                        OPCODE a number or text|binary|cont|close|ping|pong
#   ws_read_frame(SOCK, TIMEOUT)
#                        the next frame: { fin, rsv, opcode, masked, payload
#                        (unmasked) }; undef on EOF or timeout
#   ws_parse_frame(BUF)  pure: (frame hash, bytes used) from the start of
#                        BUF, or () if incomplete
#   fcgi_record(TYPE, ID, CONTENT, PADDING)
#                        one record's bytes (TYPE a number or begin|abort|
#                        end|params|stdin|stdout|stderr|data|get_values|
#                        get_values_result|unknown_type)
#   fcgi_begin(ID, ROLE, FLAGS)    a BEGIN_REQUEST record (ROLE 1, FLAGS 0
#                        by default; FLAGS 1 is FCGI_KEEP_CONN)
#   fcgi_params_encode(NAME => VALUE, ...)   name-value pairs' bytes
#   fcgi_params_decode(BYTES)     the pairs as a flat list (dies if cut)
#   fcgi_request(ID, PARAMS (array ref of pairs), STDIN, keep => 1)
#                        a whole request: BEGIN, PARAMS, empty PARAMS,
#                        STDIN, empty STDIN
#   fcgi_parse_record(BUF)  pure: (record { type, id, content, padding },
#                        bytes used) or () if incomplete
#   fcgi_read_response(SOCK, ID, TIMEOUT)
#                        read records until END_REQUEST for ID: { stdout,
#                        stderr, app_status, protocol_status, records =>
#                        [...], head => {lc name => value}, status, body }
#                        (head/status/body split from stdout); undef if the
#                        connection ended first or the timeout passed

package Test::Kiln::Backend;

use strict;
use warnings;

use Digest::SHA qw(sha1 sha1_hex);
use Errno qw(EINTR EAGAIN EWOULDBLOCK);
use Exporter qw(import);
use File::Temp ();
use IO::Select;
use IO::Socket::INET;
use IO::Socket::UNIX;
use MIME::Base64 qw(encode_base64);
use POSIX qw(WNOHANG);
use Scalar::Util qw(weaken);
use Socket qw(SOL_SOCKET SO_LINGER);
use Time::HiRes qw(time);

use Test::Kiln ();

our @EXPORT;

# Set at compile time: the server package below imports these in a BEGIN.
BEGIN {
    @EXPORT = qw(backend_body parse_echo ws_accept ws_handshake ws_frame
        ws_read_frame ws_parse_frame fcgi_record fcgi_begin
        fcgi_params_encode fcgi_params_decode fcgi_request fcgi_parse_record
        fcgi_read_response);
}

my @BACKENDS;                   # weak refs: stopped at exit

my $WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
my $MAX_HEAD = 65536;           # a request head longer than this gets 400
my $TOKEN = qr/[!#\$%&'*+.^_`|~0-9A-Za-z-]+/;    # RFC 9110 token
my $NUMBERED = qr/status|length|chunked|close|slowbody|slow|headers|bigheader
    |short/x;

my %REASON = (
    100 => 'Continue', 101 => 'Switching Protocols', 103 => 'Early Hints',
    200 => 'OK', 201 => 'Created', 202 => 'Accepted', 204 => 'No Content',
    206 => 'Partial Content', 301 => 'Moved Permanently', 302 => 'Found',
    303 => 'See Other', 304 => 'Not Modified', 307 => 'Temporary Redirect',
    308 => 'Permanent Redirect', 400 => 'Bad Request', 401 => 'Unauthorized',
    403 => 'Forbidden', 404 => 'Not Found', 405 => 'Method Not Allowed',
    408 => 'Request Timeout', 413 => 'Content Too Large',
    426 => 'Upgrade Required', 429 => 'Too Many Requests',
    500 => 'Internal Server Error', 501 => 'Not Implemented',
    502 => 'Bad Gateway', 503 => 'Service Unavailable',
    504 => 'Gateway Timeout',
);

my %FCGI_TYPE = (
    begin => 1, abort => 2, end => 3, params => 4, stdin => 5, stdout => 6,
    stderr => 7, data => 8, get_values => 9, get_values_result => 10,
    unknown_type => 11,
);

my %WS_OP = (cont => 0, text => 1, binary => 2, close => 8, ping => 9,
    pong => 10);


# --- the object (parent side) ------------------------------------------------

sub http {
    my ($class, %opts) = @_;
    return $class->_new('http', %opts);
}


sub fastcgi {
    my ($class, %opts) = @_;
    return $class->_new('fastcgi', %opts);
}


sub _new {
    my ($class, $kind, %o) = @_;
    my $self;

    if ($kind eq 'http' && !defined $o{port}) {
        die "Test::Kiln::Backend->http needs port => LABEL\n";
    }
    if (defined $o{port} == defined $o{unix}) {
        die "Test::Kiln::Backend->$kind needs port => LABEL or unix => PATH\n";
    }

    $self = bless {
        kind    => $kind,
        label   => $o{port},
        port    => defined $o{port} ? Test::Kiln::port($o{port}) : undef,
        path    => $o{unix},
        name    => $o{name} // $o{port} // 'fcgi',
        host    => $o{host} // '127.0.0.1',
        force   => $o{force},
        ka_max  => $o{keepalive_requests},
        ka_ms   => $o{keepalive_timeout},
        record  => $o{record},
        dir     => File::Temp::tempdir('kiln-backend-XXXXXX', TMPDIR => 1,
                       CLEANUP => 1),
        owner   => $$,
        pid     => undef,
    }, $class;

    _write_stats($self->{dir}, { accepted => 0, connections => 0,
        requests => 0, open => 0, drained => 0 });
    open(my $fh, '>', "$self->{dir}/log") or die "backend log: $!\n";
    close $fh;

    $self->start;

    @BACKENDS = grep { defined } @BACKENDS;
    push @BACKENDS, $self;
    weaken($_) for @BACKENDS;

    return $self;
}


sub port { $_[0]{port} }
sub path { $_[0]{path} }
sub name { $_[0]{name} }
sub pid  { $_[0]{pid} }


# start(): bind (bounded retry: a port just freed by kill() may linger),
# fork the server, close the parent's copy of the listening socket.

sub start {
    my ($self) = @_;
    my ($l, $pid, $deadline, $err);

    die "backend $self->{name} is running\n" if $self->{pid};

    $deadline = time() + 5;

    for (;;) {
        if (defined $self->{path}) {
            unlink $self->{path};
            $l = IO::Socket::UNIX->new(Local => $self->{path},
                Type => SOCK_STREAM, Listen => 128);
            chmod 0777, $self->{path} if $l;
        } else {
            $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                LocalPort => $self->{port}, Proto => 'tcp', Listen => 128,
                ReuseAddr => 1);
        }
        last if $l;
        $err = $!;
        die "backend $self->{name}: cannot listen: $err\n"
            if time() >= $deadline;
        select(undef, undef, undef, 0.05);
    }

    $pid = fork();
    die "backend fork: $!\n" unless defined $pid;

    if ($pid == 0) {
        $SIG{INT} = $SIG{TERM} = 'DEFAULT';
        $SIG{PIPE} = 'IGNORE';
        _close_inherited(fileno $l);
        open(STDOUT, '>', '/dev/null');    # never a stray line in the TAP
        eval { Test::Kiln::Backend::Server->new($self, $l)->run };
        print STDERR "# backend $self->{name}: $@" if $@;
        POSIX::_exit($@ ? 1 : 0);
    }

    close $l;
    $self->{pid} = $pid;
    return $self;
}


# _close_inherited(KEEP): in the child, point every descriptor above stderr
# but KEEP at /dev/null: a copy of a test's client socket held here would
# keep that connection open after the test closes it. dup2 rather than
# close: PerlIO counts references per fd, and closing one under a live
# handle would make the close of a later handle on the same fd a no-op.

sub _close_inherited {
    my ($keep) = @_;
    my ($dh, $null, @fds);

    opendir($dh, '/proc/self/fd') or return;
    @fds = grep { /^\d+$/ && $_ > 2 && $_ != $keep } readdir $dh;
    closedir $dh;

    $null = POSIX::open('/dev/null', POSIX::O_RDWR()) // return;
    for my $fd (@fds) {
        POSIX::dup2($null, $fd) unless $fd == $null;
    }
}


# kill(SIG): signal the backend (default KILL). STOP and CONT leave it
# alive; any other signal is waited for, bounded, then the process reaped.

sub kill {
    my ($self, $sig) = @_;
    my $pid = $self->{pid};

    $sig //= 'KILL';
    return 0 unless $pid && $self->{owner} == $$;

    CORE::kill($sig, $pid);
    return 1 if $sig eq 'STOP' || $sig eq 'CONT';

    if (!Test::Kiln::wait_for(sub { waitpid($pid, WNOHANG) != 0 }, 5)) {
        CORE::kill('KILL', $pid);
        waitpid($pid, 0);
    }

    $self->{pid} = undef;
    return 1;
}


sub stop {
    my ($self) = @_;

    return unless $self->{pid} && $self->{owner} == $$;

    CORE::kill('CONT', $self->{pid});
    $self->kill('TERM');
    unlink $self->{path} if defined $self->{path};
}


sub DESTROY {
    my ($self) = @_;

    local ($?, $@, $!);
    $self->stop;
}


END {
    local $?;

    for my $b (grep { defined } @BACKENDS) {
        $b->stop;
    }
}


sub stats {
    my ($self) = @_;
    my (%s, $fh);

    %s = (accepted => 0, connections => 0, requests => 0, open => 0,
        drained => 0);
    open($fh, '<', "$self->{dir}/stats") or return \%s;
    while (<$fh>) {
        $s{$1} = $2 if /^(\w+) (\d+)$/;
    }
    close $fh;

    return \%s;
}


sub requests {
    my ($self) = @_;
    my ($fh, @r);

    open($fh, '<', "$self->{dir}/log") or return [];
    while (my $line = <$fh>) {
        chomp $line;
        my ($conn, $n, $method, $target) = split /\t/, $line, 4;
        next unless defined $target;
        push @r, { conn => $conn, n => $n, method => $method,
            ($self->{kind} eq 'http' ? 'target' : 'uri') => $target };
    }
    close $fh;

    return \@r;
}


sub received {
    my ($self, $n) = @_;
    my ($fh, $data);

    open($fh, '<', "$self->{dir}/raw.$n") or return '';
    binmode $fh;
    local $/;
    $data = <$fh>;
    close $fh;

    return $data // '';
}


sub wait_requests {
    my ($self, $n, $secs) = @_;
    return Test::Kiln::wait_for(sub { $self->stats->{requests} >= $n },
        $secs);
}


sub wait_connections {
    my ($self, $n, $secs) = @_;
    return Test::Kiln::wait_for(sub { $self->stats->{connections} >= $n },
        $secs);
}


sub _write_stats {
    my ($dir, $s) = @_;
    my $fh;

    open($fh, '>', "$dir/stats.tmp") or die "backend stats: $!\n";
    print $fh "$_ " . ($s->{$_} // 0) . "\n"
        for qw(accepted connections requests open drained);
    close $fh or die "backend stats: $!\n";
    rename("$dir/stats.tmp", "$dir/stats") or die "backend stats: $!\n";
}


# --- pure helpers, exported --------------------------------------------------

sub backend_body {
    my ($n) = @_;
    my $unit = 'abcdefghijklmnopqrstuvwxyz0123456789';

    return substr($unit x (int($n / length $unit) + 1), 0, $n);
}


sub parse_echo {
    my ($body) = @_;
    my %e = (headers => [], header => {}, header_lines => [],
        trailers => [], params => [], param => {});

    return undef unless defined $body;

    for my $line (split /\n/, $body) {
        my ($k, $v) = $line =~ /^([\w-]+): (.*)$/s or next;

        if ($k eq 'header' || $k eq 'trailer') {
            my ($n, $val) = $v =~ /^([^:]*):[ \t]*(.*?)[ \t]*$/ or next;
            if ($k eq 'trailer') {
                push @{$e{trailers}}, [$n, $val];
                next;
            }
            push @{$e{header_lines}}, $v;
            push @{$e{headers}}, [$n, $val];
            $e{header}{lc $n} = exists $e{header}{lc $n}
                ? "$e{header}{lc $n}, $val" : $val;
        } elsif ($k eq 'param') {
            my ($n, $val) = split /=/, $v, 2;
            push @{$e{params}}, [$n, $val // ''];
            $e{param}{$n} = $val // '';
        } else {
            $k =~ tr/-/_/;
            $e{$k} = $v;
        }
    }

    return \%e;
}


sub ws_accept {
    my ($key) = @_;
    return encode_base64(sha1($key . $WS_GUID), '');
}


sub ws_frame {
    my ($op, $payload, %o) = @_;
    my ($b0, $len, $out, $key);

    $op = $WS_OP{$op} if exists $WS_OP{$op};
    $payload //= '';
    utf8::downgrade($payload);

    $b0 = (($o{fin} // 1) ? 0x80 : 0) | (($o{rsv} // 0) << 4) | $op;
    $len = length $payload;
    my $m = ($o{mask} // 1) ? 0x80 : 0;

    if ($len < 126) {
        $out = pack('CC', $b0, $m | $len);
    } elsif ($len < 65536) {
        $out = pack('CCn', $b0, $m | 126, $len);
    } else {
        $out = pack('CCQ>', $b0, $m | 127, $len);
    }

    if ($m) {
        $key = $o{key} // pack('N', int(rand(2**32)));
        $out .= $key . _ws_mask($payload, $key);
    } else {
        $out .= $payload;
    }

    return $out;
}


sub _ws_mask {
    my ($data, $key) = @_;
    my $len = length $data;

    return $data ^ substr($key x (int($len / 4) + 1), 0, $len);
}


sub ws_parse_frame {
    my ($buf) = @_;
    my ($b0, $b1, $len, $pos, $key, %f);

    return () if length $buf < 2;
    ($b0, $b1) = unpack('CC', $buf);
    $len = $b1 & 0x7f;
    $pos = 2;

    if ($len == 126) {
        return () if length $buf < 4;
        $len = unpack('n', substr($buf, 2, 2));
        $pos = 4;
    } elsif ($len == 127) {
        return () if length $buf < 10;
        $len = unpack('Q>', substr($buf, 2, 8));
        $pos = 10;
    }

    if ($b1 & 0x80) {
        return () if length $buf < $pos + 4;
        $key = substr($buf, $pos, 4);
        $pos += 4;
    }

    return () if length $buf < $pos + $len;

    %f = (fin => ($b0 & 0x80) ? 1 : 0, rsv => ($b0 >> 4) & 7,
        opcode => $b0 & 0x0f, masked => ($b1 & 0x80) ? 1 : 0,
        payload => substr($buf, $pos, $len));
    $f{payload} = _ws_mask($f{payload}, $key) if defined $key;

    return (\%f, $pos + $len);
}


sub ws_read_frame {
    my ($s, $timeout) = @_;
    my ($deadline, $f, $used);

    $deadline = time() + ($timeout // 5);
    ${*$s}{kiln_buf} //= '';

    for (;;) {
        ($f, $used) = ws_parse_frame(${*$s}{kiln_buf});
        if ($f) {
            substr(${*$s}{kiln_buf}, 0, $used, '');
            return $f;
        }
        return undef unless Test::Kiln::_fill($s, $deadline);
    }
}


sub ws_handshake {
    my ($s, %o) = @_;
    my ($key, $r, $raw);

    $key = $o{key} // encode_base64(join('', map { chr(int(rand(256))) }
        1 .. 16), '');

    Test::Kiln::http("GET " . ($o{path} // '/upgrade') . " HTTP/1.1\r\n"
        . "Host: " . ($o{host} // 'localhost') . "\r\n"
        . "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        . "Sec-WebSocket-Key: $key\r\nSec-WebSocket-Version: 13\r\n"
        . ($o{headers} // '') . "\r\n",
        socket => $s, start => 1, timeout => $o{timeout});

    $raw = Test::Kiln::read_response($s, timeout => $o{timeout});
    $r = Test::Kiln::parse_response($raw) or return undef;
    $r->{accept_ok} = (($r->{headers}{'sec-websocket-accept'} // '')
        eq ws_accept($key)) ? 1 : 0;

    return $r;
}


sub fcgi_record {
    my ($type, $id, $content, $pad) = @_;

    $type = $FCGI_TYPE{$type} if exists $FCGI_TYPE{$type};
    $content //= '';
    $pad //= 0;
    die "fcgi_record: content over 65535 bytes\n" if length $content > 65535;

    return pack('CCnnCC', 1, $type, $id, length $content, $pad, 0)
        . $content . ("\0" x $pad);
}


sub fcgi_begin {
    my ($id, $role, $flags) = @_;
    return fcgi_record(1, $id, pack('nCx5', $role // 1, $flags // 0));
}


sub fcgi_params_encode {
    my (@kv) = @_;
    my $out = '';

    while (my ($k, $v) = splice(@kv, 0, 2)) {
        $v //= '';
        for my $len (length $k, length $v) {
            $out .= $len < 128 ? pack('C', $len)
                : pack('N', $len | 0x80000000);
        }
        $out .= $k . $v;
    }

    return $out;
}


# fcgi_params_decode(BYTES): the name-value pairs as a flat list; dies on
# a truncated pair.

sub fcgi_params_decode {
    my ($b) = @_;
    my ($pos, @kv, @len);

    $pos = 0;
    while ($pos < length $b) {
        @len = ();
        for (1, 2) {
            die "fcgi params: truncated length\n" if $pos >= length $b;
            my $c = ord substr($b, $pos, 1);
            if ($c < 128) {
                push @len, $c;
                $pos++;
            } else {
                die "fcgi params: truncated length\n" if $pos + 4 > length $b;
                push @len, unpack('N', substr($b, $pos, 4)) & 0x7fffffff;
                $pos += 4;
            }
        }
        die "fcgi params: truncated pair\n"
            if $pos + $len[0] + $len[1] > length $b;
        push @kv, substr($b, $pos, $len[0]),
            substr($b, $pos + $len[0], $len[1]);
        $pos += $len[0] + $len[1];
    }

    return @kv;
}


sub _fcgi_stream {
    my ($type, $id, $data, $max) = @_;
    my $out = '';

    $max //= 65535;
    while (length $data) {
        my $part = substr($data, 0, $max, '');
        $out .= fcgi_record($type, $id, $part, (8 - length($part) % 8) % 8);
    }

    return $out . fcgi_record($type, $id, '');
}


sub fcgi_request {
    my ($id, $params, $stdin, %o) = @_;

    return fcgi_begin($id, 1, $o{keep} ? 1 : 0)
        . _fcgi_stream(4, $id, fcgi_params_encode(@{$params // []}))
        . _fcgi_stream(5, $id, $stdin // '');
}


sub fcgi_parse_record {
    my ($buf) = @_;
    my ($ver, $type, $id, $len, $pad);

    return () if length $buf < 8;
    ($ver, $type, $id, $len, $pad) = unpack('CCnnC', $buf);
    return () if length $buf < 8 + $len + $pad;

    return ({ version => $ver, type => $type, id => $id,
        content => substr($buf, 8, $len), padding => $pad }, 8 + $len + $pad);
}


sub fcgi_read_response {
    my ($s, $id, $timeout) = @_;
    my ($deadline, $rec, $used, %r);

    $deadline = time() + ($timeout // 5);
    ${*$s}{kiln_buf} //= '';
    %r = (stdout => '', stderr => '', records => []);

    for (;;) {
        ($rec, $used) = fcgi_parse_record(${*$s}{kiln_buf});
        if (!$rec) {
            return undef unless Test::Kiln::_fill($s, $deadline);
            next;
        }
        substr(${*$s}{kiln_buf}, 0, $used, '');
        push @{$r{records}}, $rec;
        next unless $rec->{id} == $id;

        if ($rec->{type} == 6) {
            $r{stdout} .= $rec->{content};
        } elsif ($rec->{type} == 7) {
            $r{stderr} .= $rec->{content};
        } elsif ($rec->{type} == 3) {
            @r{qw(app_status protocol_status)} = unpack('NC', $rec->{content});
            last;
        }
    }

    my ($head, $body) = split /\r?\n\r?\n/, $r{stdout}, 2;
    $r{head} = {};
    for (split /\r?\n/, $head // '') {
        $r{head}{lc $1} = $2 if /^([^:]+):[ \t]*(.*?)[ \t]*$/;
    }
    $r{body} = $body // '';
    ($r{status}) = ($r{head}{status} // '200') =~ /^(\d+)/;

    return \%r;
}


# --- the server (in the forked child) ----------------------------------------

package Test::Kiln::Backend::Server;

use strict;
use warnings;

use Digest::SHA qw(sha1_hex);
use Errno qw(EINTR EAGAIN EWOULDBLOCK);
use IO::Select;
use Socket qw(SOL_SOCKET SO_LINGER IPPROTO_TCP TCP_INFO);
use Time::HiRes qw(time);

BEGIN { Test::Kiln::Backend->import }


sub new {
    my ($class, $b, $l) = @_;
    my $self;

    $self = bless {
        b      => $b,
        l      => $l,
        rsel   => IO::Select->new($l),
        wsel   => IO::Select->new,
        conns  => {},           # fileno => connection
        timers => [],           # [ at, connection, code ]
        stats  => $b->stats,
    }, $class;
    $self->{stats}{open} = 0;

    open($self->{log}, '>>', "$b->{dir}/log") or die "backend log: $!\n";
    $self->{log}->autoflush(1);
    $l->blocking(0);
    Test::Kiln::Backend::_write_stats($b->{dir}, $self->{stats});

    return $self;
}


sub run {
    my ($self) = @_;
    my ($timeout, $r, $w);

    for (;;) {
        $timeout = undef;
        if (@{$self->{timers}}) {
            my ($next) = sort { $a <=> $b } map { $_->[0] } @{$self->{timers}};
            $timeout = $next - time();
            $timeout = 0 if $timeout < 0;
        }

        ($r, $w) = IO::Select->select($self->{rsel},
            $self->{wsel}->count ? $self->{wsel} : undef, undef, $timeout);

        for my $s (@{$w // []}) {
            my $c = $self->{conns}{fileno $s // -1} or next;
            $self->flush($c);
        }

        for my $s (@{$r // []}) {
            if ($s == $self->{l}) {
                $self->accept_all;
                next;
            }
            my $c = $self->{conns}{fileno $s // -1} or next;
            $self->read($c);
        }

        $self->run_timers;
    }
}


sub accept_all {
    my ($self) = @_;

    while (my $s = $self->{l}->accept) {
        my $c;

        $s->blocking(0);
        $self->{stats}{accepted}++;
        $self->{stats}{open}++;
        $self->save_stats;

        # id (the connection number) is given at the first byte read.
        $c = { s => $s, fd => fileno $s, id => undef, rbuf => '', wbuf => '',
            nreq => 0, busy => 0, idle => 0 };
        $self->{conns}{$c->{fd}} = $c;
        $self->{rsel}->add($s);
        $self->idle_timer($c);
    }
}


sub save_stats {
    my ($self) = @_;
    Test::Kiln::Backend::_write_stats($self->{b}{dir}, $self->{stats});
}


sub log_request {
    my ($self, $c, @f) = @_;

    $self->{stats}{requests}++;
    $self->save_stats;
    for (@f) {
        $_ //= '';
        tr/\t\n\r/   /;
    }
    my ($method, $target) = @f;
    syswrite($self->{log}, "$c->{id}\t$c->{nreq}\t$method\t$target\n");
}


sub read {
    my ($self, $c) = @_;
    my ($buf, $n);

    $n = sysread($c->{s}, $buf, 65536);
    if (!defined $n) {
        return if $! == EINTR || $! == EAGAIN || $! == EWOULDBLOCK;
        $self->close($c);
        return;
    }

    if ($n == 0) {
        $c->{eof} = 1;
        $self->{rsel}->remove($c->{s});
    } else {
        $c->{rbuf} .= $buf;
        $c->{idle}++;

        # Counted here, not at accept: Test::Kiln::run() probes every port
        # of the config with a connection that sends nothing.
        if (!defined $c->{id}) {
            $c->{id} = ++$self->{stats}{connections};
            $self->save_stats;
        }

        if ($self->{b}{record}) {
            open(my $fh, '>>', "$self->{b}{dir}/raw.$c->{id}")
                or die "backend raw: $!\n";
            binmode $fh;
            print $fh $buf;
            close $fh or die "backend raw: $!\n";
        }
    }

    $self->process($c);
}


sub process {
    my ($self, $c) = @_;

    return if $c->{closed};

    if ($self->{b}{kind} eq 'http') {
        $self->http_process($c);
    } else {
        $self->fcgi_process($c);
    }

    return if $c->{closed};

    # The peer is gone and nothing is left to answer: done.
    if ($c->{eof} && !$c->{busy} && !length $c->{wbuf}) {
        $self->close($c);
    } elsif ($c->{eof} && $c->{sleeping}) {
        $self->close($c);
    }
}


sub send {
    my ($self, $c, $data) = @_;

    return if $c->{closed};
    $c->{wbuf} .= $data;
    $self->flush($c);
}


sub flush {
    my ($self, $c) = @_;
    my ($n, $wrote);

    # A behaviour may have closed the socket itself (/close, /drop).
    return if $c->{closed} || !defined fileno($c->{s});

    while (length $c->{wbuf}) {
        $n = syswrite($c->{s}, $c->{wbuf});
        if (!defined $n) {
            last if $! == EAGAIN || $! == EWOULDBLOCK;
            next if $! == EINTR;
            $self->close($c);
            return;
        }
        substr($c->{wbuf}, 0, $n, '');
        $wrote = 1;
    }

    if (length $c->{wbuf}) {
        $self->{wsel}->add($c->{s}) unless $self->{wsel}->exists($c->{s});
        return;
    }

    if ($wrote) {
        $self->{stats}{drained}++;
        $self->save_stats;
    }

    $self->{wsel}->remove($c->{s}) if $self->{wsel}->exists($c->{s});
    $self->close($c) if $c->{close_after};
}


# close(C, reset): close now; with reset, SO_LINGER 0 makes it an RST.

sub close {
    my ($self, $c, $reset) = @_;

    return if $c->{closed}++;

    setsockopt($c->{s}, SOL_SOCKET, SO_LINGER, pack('ii', 1, 0)) if $reset;
    $self->{rsel}->remove($c->{s});
    $self->{wsel}->remove($c->{s});
    delete $self->{conns}{$c->{fd}};
    CORE::close($c->{s});
    $self->{stats}{open}--;
    $self->save_stats;
}


sub timer {
    my ($self, $c, $ms, $code) = @_;
    push @{$self->{timers}}, [time() + $ms / 1000, $c, $code];
}


sub run_timers {
    my ($self) = @_;
    my (@due, @keep, $now);

    $now = time();
    for my $t (@{$self->{timers}}) {
        next if $t->[1]{closed};
        if ($t->[0] <= $now) {
            push @due, $t;
        } else {
            push @keep, $t;
        }
    }
    $self->{timers} = \@keep;

    for my $t (sort { $a->[0] <=> $b->[0] } @due) {
        $t->[2]->() unless $t->[1]{closed};
    }
}


# idle_timer(C): keepalive_timeout closes a connection that stays idle.

sub idle_timer {
    my ($self, $c) = @_;
    my $gen = $c->{idle};

    return unless defined $self->{b}{ka_ms};
    $self->timer($c, $self->{b}{ka_ms}, sub {
        $self->close($c) if $c->{idle} == $gen && !$c->{busy}
            && !length $c->{rbuf} && !length $c->{wbuf} && !$c->{req};
    });
}


# finish(C, close): a response is complete; go on with pipelined requests.

sub finish {
    my ($self, $c, $close) = @_;

    $c->{busy} = 0;
    if ($close) {
        $c->{close_after} = 1;
        $self->flush($c);
        return;
    }

    $c->{idle}++;
    $self->idle_timer($c);
    $self->process($c);
}


# --- HTTP ---

sub http_process {
    my ($self, $c) = @_;
    my ($req, $end);

    while (!$c->{busy} && !$c->{closed} && !$c->{close_after}) {
        if ($c->{ws}) {
            $self->ws_process($c);
            return;
        }

        $req = $c->{req};

        if (!$req) {
            $c->{rbuf} =~ s/^(?:\r?\n)+//;
            $end = index($c->{rbuf}, "\r\n\r\n");
            if ($end < 0) {
                $self->http_error($c) if length $c->{rbuf} > $MAX_HEAD;
                return;
            }
            $req = http_parse_head(substr($c->{rbuf}, 0, $end + 4, ''));
            if (!$req) {
                $self->http_error($c);
                return;
            }
            $c->{req} = $req;

            # /stall: stop reading (the body stays in the socket buffers, so
            # the client's sends block) and never answer.
            my $p = $self->{b}{force} // $req->{target};
            if ($p =~ m{^[^?]*/stall(?:[/?]|$)}) {
                $self->log_request($c, $req->{method}, $req->{target});
                $self->{rsel}->remove($c->{s});
                $c->{busy} = $c->{sleeping} = 1;
                $self->stall_poll($c);
                return;
            }

            # /early/NNN: the answer before the body, which is then dropped.
            if ($p =~ m{^[^?]*/early/(\d{3})(?:[/?]|$)}) {
                $self->log_request($c, $req->{method}, $req->{target});
                $c->{busy} = $c->{sleeping} = 1;
                $self->send($c, "HTTP/1.1 $1 Early\r\nContent-Length: 6\r\n"
                    . "Connection: close\r\nX-Backend: $self->{b}{name}\r\n"
                    . "\r\nearly\n");
                return;
            }

            if (($req->{h}{expect} // '') =~ /^100-continue$/i
                && $req->{version} eq 'HTTP/1.1' && $req->{framing} ne 'none')
            {
                $self->send($c, "HTTP/1.1 100 Continue\r\n\r\n");
            }
        }

        if ($req->{framing} eq 'length') {
            return if length $c->{rbuf} < $req->{length};
            $req->{body} = substr($c->{rbuf}, 0, $req->{length}, '');
        } elsif ($req->{framing} eq 'chunked') {
            my $done = http_dechunk($req, \$c->{rbuf});
            if (!defined $done) {
                $self->http_error($c);
                return;
            }
            return unless $done;
        }

        delete $c->{req};
        $c->{nreq}++;
        $self->log_request($c, $req->{method}, $req->{target});
        $self->http_respond($c, $req);
    }
}


# stall_poll(C): a stalled connection is not read, and its FIN sits behind
# the unread body, so its close is seen in the TCP state (Linux TCP_INFO:
# the first byte is tcpi_state, 8 CLOSE_WAIT, 7 CLOSE), every 100 ms.

sub stall_poll {
    my ($self, $c) = @_;

    $self->timer($c, 100, sub {
        my $info = getsockopt($c->{s}, IPPROTO_TCP, TCP_INFO);
        my $state = defined $info ? unpack('C', $info) : 7;

        if ($state == 8 || $state == 7) {
            $self->close($c);
            return;
        }
        $self->stall_poll($c);
    });
}


sub http_error {
    my ($self, $c) = @_;

    $c->{busy} = 1;
    $self->send($c, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n"
        . "Connection: close\r\nX-Backend: $self->{b}{name}\r\n\r\n");
    $self->finish($c, 1);
}


# http_parse_head(HEAD): the request, or undef if malformed.

sub http_parse_head {
    my ($head) = @_;
    my (@lines, %r, $te, @cl);

    @lines = split /\r\n/, $head;
    (shift(@lines) // '') =~ m{^($TOKEN) (\S+) (HTTP/\d\.\d)$}
        or return undef;
    %r = (method => $1, target => $2, version => $3, lines => [], h => {},
        body => '', trailers => [], framing => 'none');

    for my $line (@lines) {
        $line =~ /^($TOKEN):[ \t]*(.*?)[ \t]*$/ or return undef;
        push @{$r{lines}}, $line;
        my $n = lc $1;
        $r{h}{$n} = exists $r{h}{$n} ? "$r{h}{$n}, $2" : $2;
        push @cl, $2 if $n eq 'content-length';
    }

    if (defined($te = $r{h}{'transfer-encoding'})) {
        return undef unless $te =~ /(?:^|,)[ \t]*chunked[ \t]*$/i;
        $r{framing} = 'chunked';
    } elsif (@cl) {
        my %v = map { $_ => 1 } map { split /[ \t]*,[ \t]*/ } @cl;
        return undef if keys %v != 1;
        my ($len) = keys %v;
        return undef unless $len =~ /^\d{1,15}$/;
        $r{framing} = 'length';
        $r{length} = $len + 0;
    }

    return \%r;
}


# http_dechunk(REQ, \BUF): consume the chunked body from BUF as it comes
# (state in REQ, so a large body is not parsed again on each read): 1 when
# complete, 0 for more, undef if malformed.

sub http_dechunk {
    my ($req, $buf) = @_;
    my ($nl, $line, $n);

    for (;;) {
        my $st = $req->{chunk_state} //= 'size';

        if ($st eq 'data') {
            $n = $req->{chunk_left};
            $n = length $$buf if length $$buf < $n;
            $req->{body} .= substr($$buf, 0, $n, '');
            $req->{chunk_left} -= $n;
            return 0 if $req->{chunk_left} || length $$buf < 2;
            return undef if substr($$buf, 0, 2, '') ne "\r\n";
            $req->{chunk_state} = 'size';
            next;
        }

        $nl = index($$buf, "\r\n");
        if ($nl < 0) {
            return length $$buf > 4096 ? undef : 0;
        }
        $line = substr($$buf, 0, $nl + 2, '');
        substr($line, -2) = '';

        if ($st eq 'trailer') {
            return 1 if $line eq '';
            return undef unless $line =~ /^[^:\s]+:/;
            push @{$req->{trailers}}, $line;
            next;
        }

        $line =~ /^([0-9a-fA-F]{1,15})(?:[ \t]*;.*)?$/ or return undef;
        $req->{chunk_left} = hex $1;
        $req->{chunk_state} = $req->{chunk_left} ? 'data' : 'trailer';
    }
}

sub http_echo {
    my ($self, $c, $req) = @_;

    return join('', map { "$_\n" }
        "backend: $self->{b}{name}",
        "conn: $c->{id}",
        "request: $c->{nreq}",
        "method: $req->{method}",
        "target: $req->{target}",
        "version: $req->{version}",
        (map { "header: $_" } @{$req->{lines}}),
        "framing: $req->{framing}",
        (map { "trailer: $_" } @{$req->{trailers}}),
        'body-length: ' . length($req->{body}),
        'body-sha1: ' . sha1_hex($req->{body}));
}


sub _unescape {
    my ($s) = @_;
    $s =~ s/\+/ /g;
    $s =~ s/%([0-9a-fA-F]{2})/chr hex $1/ge;
    return $s;
}


sub http_respond {
    my ($self, $c, $req) = @_;
    my ($b, $path, $query, $conn, $keep, $head_only, @h, $status, $body,
        $mode, %args, @extra, $what, $n, $rest);

    $b = $self->{b};
    ($path, $query) = $req->{target} =~ /^([^?]*)(?:\?(.*))?$/s;
    $path = $b->{force} if defined $b->{force};
    $query //= '';
    for my $kv (split /&/, $query) {
        my ($k, $v) = split /=/, $kv, 2;
        $k = _unescape($k);
        $v = _unescape($v // '');
        push @extra, "$1: $2" if $k eq 'header'
            && $v =~ /^([^:\s]+):[ \t]*(.*?)[ \t]*$/;
        $args{$k} = $v;
    }

    $conn = lc($req->{h}{connection} // '');
    if ($req->{version} eq 'HTTP/1.1') {
        $keep = $conn !~ /(?:^|,)[ \t]*close[ \t]*(?:,|$)/;
    } else {
        $keep = $conn =~ /(?:^|,)[ \t]*keep-alive[ \t]*(?:,|$)/;
    }
    $keep = 0 if defined $b->{ka_max} && $c->{nreq} >= $b->{ka_max};
    $head_only = $req->{method} eq 'HEAD';

    if (($req->{h}{upgrade} // '') =~ /^websocket$/i
        && $conn =~ /(?:^|,)[ \t]*upgrade[ \t]*(?:,|$)/
        && defined $req->{h}{'sec-websocket-key'})
    {
        $self->send($c, "HTTP/1.1 101 Switching Protocols\r\n"
            . "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            . 'Sec-WebSocket-Accept: '
            . ws_accept($req->{h}{'sec-websocket-key'}) . "\r\n"
            . "X-Backend: $b->{name}\r\nX-Backend-Conn: $c->{id}\r\n"
            . "X-Backend-Request: $c->{nreq}\r\n\r\n");
        $c->{ws} = 1;
        return;
    }

    if ($path =~ m{/(?:($NUMBERED)/(\d+)
                   |(drop|reset|sleep|upgrade|invalid|badheader)
                   |(redirect)(/.*)?)(?=/|$)}sx)
    {
        $what = $1 // $3 // $4;
        $n = $2;
        $rest = $5;
    }
    $what //= '';

    if ($what eq 'drop') {
        $self->close($c);
        return;
    }
    if ($what eq 'reset') {
        $self->close($c, 1);
        return;
    }
    if ($what eq 'sleep') {
        $c->{busy} = $c->{sleeping} = 1;
        return;
    }
    if ($what eq 'invalid') {
        $c->{busy} = 1;
        $self->send($c, "NOT HTTP AT ALL\r\n\r\n");
        $self->finish($c, 1);
        return;
    }

    $status = 200;
    $body = $self->http_echo($c, $req);
    $mode = 'length';
    @h = ('Content-Type: text/plain');

    if ($what eq 'status') {
        $status = $n;
    } elsif ($what eq 'length') {
        $body = backend_body($n);
    } elsif ($what eq 'chunked') {
        $body = backend_body($n);
        $mode = $req->{version} eq 'HTTP/1.1' ? 'chunked' : 'close';
    } elsif ($what eq 'close') {
        $body = backend_body($n);
        $mode = 'close';
    } elsif ($what eq 'headers') {
        push @h, map { "X-H-$_: v$_" } 1 .. $n;
    } elsif ($what eq 'bigheader') {
        push @h, 'X-Big: ' . ('b' x $n);
    } elsif ($what eq 'redirect') {
        $status = 302;
        push @h, "Location: http://$b->{host}:" . ($b->{port} // 0)
            . ($rest // '/x');
    } elsif ($what eq 'short') {
        $body = backend_body($n);
        $mode = 'short';
    } elsif ($what eq 'badheader') {
        push @h, 'This Is Not A Header';
    } elsif ($what eq 'upgrade') {
        $status = 426;
        push @h, 'Upgrade: websocket';
    }

    push @h, "X-Backend: $b->{name}", "X-Backend-Conn: $c->{id}",
        "X-Backend-Request: $c->{nreq}", @extra;

    if ($status >= 100 && $status < 200) {
        # An interim response, then the echo as the final one.
        $self->send($c, "HTTP/1.1 $status " . ($REASON{$status} // 'Status')
            . "\r\n\r\n");
        $status = 200;
    }

    if ($status == 204 || $status == 304) {
        $body = '';
        $mode = 'none';
    }

    $keep = 0 if $mode eq 'close';
    push @h, 'Connection: close' if !$keep;
    push @h, 'Connection: keep-alive'
        if $keep && $req->{version} ne 'HTTP/1.1';

    if ($mode eq 'length') {
        push @h, 'Content-Length: ' . length $body;
    } elsif ($mode eq 'short') {
        push @h, 'Content-Length: ' . length $body;
        $body = substr($body, 0, int(length($body) / 2));
        $keep = 0;
    } elsif ($mode eq 'chunked') {
        push @h, 'Transfer-Encoding: chunked';
        $body = _chunk($body, $args{chunk});
    }
    $body = '' if $head_only;

    my $head = "HTTP/1.1 $status " . ($REASON{$status} // 'Status') . "\r\n"
        . join('', map { "$_\r\n" } @h) . "\r\n";

    if ($what eq 'slow') {
        $c->{busy} = 1;
        $self->timer($c, $n, sub {
            $self->send($c, $head . $body);
            $self->finish($c, !$keep);
        });
        return;
    }

    if ($what eq 'slowbody') {
        $c->{busy} = 1;
        $self->send($c, $head);
        $self->timer($c, $n, sub {
            $self->send($c, $body);
            $self->finish($c, !$keep);
        });
        return;
    }

    $c->{busy} = 1;
    $self->send($c, $head . $body);
    $self->finish($c, !$keep);
}


sub _chunk {
    my ($data, $size) = @_;
    my @sizes = (1, 7, 100, 1000, 4096);
    my ($out, $i);

    $out = '';
    $i = 0;
    while (length $data) {
        my $part = substr($data, 0,
            ($size && $size > 0) ? $size : $sizes[$i++ % @sizes], '');
        $out .= sprintf("%x\r\n%s\r\n", length $part, $part);
    }

    return $out . "0\r\n\r\n";
}


# --- WebSocket ---

sub ws_process {
    my ($self, $c) = @_;
    my ($f, $used);

    while (!$c->{close_after} && !$c->{closed}) {
        ($f, $used) = ws_parse_frame($c->{rbuf});
        return unless $f;
        substr($c->{rbuf}, 0, $used, '');

        if (!$f->{masked}) {
            $self->send($c, ws_frame(8, pack('n', 1002), mask => 0));
            $c->{close_after} = 1;
            $self->flush($c);
            return;
        }

        if ($f->{opcode} <= 2) {
            $self->send($c, ws_frame($f->{opcode}, $f->{payload},
                fin => $f->{fin}, mask => 0));
        } elsif ($f->{opcode} == 9) {
            $self->send($c, ws_frame(10, $f->{payload}, mask => 0));
        } elsif ($f->{opcode} == 10) {
            next;
        } else {
            $self->send($c, ws_frame(8,
                $f->{opcode} == 8 ? $f->{payload} : pack('n', 1002),
                mask => 0));
            $c->{close_after} = 1;
            $self->flush($c);
            return;
        }
    }
}


# --- FastCGI ---

sub fcgi_send {
    my ($self, $c, $type, $id, $data, @sizes) = @_;
    my ($out, $i);

    $out = '';
    $i = 0;
    @sizes = (65535) unless @sizes;
    while (length $data) {
        my $part = substr($data, 0, $sizes[$i++ % @sizes], '');
        $out .= fcgi_record($type, $id, $part, (8 - length($part) % 8) % 8);
    }
    $self->send($c, $out);
}


sub fcgi_end {
    my ($self, $c, $id, $proto) = @_;
    $self->send($c, fcgi_record(3, $id, pack('NCx3', 0, $proto)));
}


sub fcgi_process {
    my ($self, $c) = @_;
    my ($rec, $used, $r);

    while (!$c->{busy} && !$c->{closed} && !$c->{close_after}) {
        ($rec, $used) = fcgi_parse_record($c->{rbuf});
        return unless $rec;
        substr($c->{rbuf}, 0, $used, '');
        $r = $c->{req};

        if ($rec->{type} == 1) {
            my ($role, $flags) = unpack('nC', $rec->{content});
            if ($r) {
                $self->fcgi_end($c, $rec->{id}, 1);         # CANT_MPX_CONN
            } elsif (($role // 0) != 1) {
                $self->fcgi_end($c, $rec->{id}, 3);         # UNKNOWN_ROLE
                $self->finish($c, !(($flags // 0) & 1));
            } else {
                $c->{req} = { id => $rec->{id}, keep => $flags & 1,
                    params => '', stdin => '' };
            }
        } elsif ($rec->{type} == 2) {
            next unless $r && $r->{id} == $rec->{id};
            delete $c->{req};
            $self->fcgi_end($c, $rec->{id}, 0);
            $self->finish($c, !$r->{keep});
        } elsif ($rec->{type} == 4) {
            next unless $r && $r->{id} == $rec->{id};
            if (length $rec->{content}) {
                $r->{params} .= $rec->{content};
            } else {
                $r->{params_done} = 1;
            }
        } elsif ($rec->{type} == 5) {
            next unless $r && $r->{id} == $rec->{id};
            if (length $rec->{content}) {
                $r->{stdin} .= $rec->{content};
                next;
            }
            delete $c->{req};
            $c->{nreq}++;
            $self->fcgi_respond($c, $r);
        } elsif ($rec->{type} == 9 && $rec->{id} == 0) {
            my %v = (FCGI_MAX_CONNS => 100, FCGI_MAX_REQS => 100,
                FCGI_MPXS_CONNS => 0);
            my @k = eval { fcgi_params_decode($rec->{content}) };
            my @out;
            for (my $i = 0; $i < @k; $i += 2) {
                push @out, $k[$i], $v{$k[$i]} if exists $v{$k[$i]};
            }
            $self->send($c, fcgi_record(10, 0, fcgi_params_encode(@out)));
        } elsif ($rec->{id} == 0) {
            $self->send($c, fcgi_record(11, 0, pack('Cx7', $rec->{type})));
        }
    }
}


sub fcgi_respond {
    my ($self, $c, $r) = @_;
    my ($b, %p, @kv, $what, $n, $status, $body, $out, @sizes, $send);

    $b = $self->{b};
    @kv = eval { fcgi_params_decode($r->{params}) };
    for (my $i = 0; $i < @kv; $i += 2) {
        push @{$p{$kv[$i]}}, $kv[$i + 1];
    }

    # Copies: $p{X}[0] in an argument list would autovivify the param.
    my %one = map { $_ => $p{$_}[0] } keys %p;

    $self->log_request($c, $one{REQUEST_METHOD}, $one{REQUEST_URI});

    for my $where ($b->{force}, $one{SCRIPT_NAME}, $one{REQUEST_URI}) {
        next unless defined $where;
        if ($where =~ m{/fcgi/(?:(status|big|slow)/(\d+)|(stderr))(?=[/?]|$)})
        {
            $what = $1 // $3;
            $n = $2;
            last;
        }
    }
    $what //= '';

    # ?header=Name:Value in QUERY_STRING, as for the HTTP backend; a
    # header=Status:... replaces the Status line
    my @extra;
    for my $pair (split /&/, $one{QUERY_STRING} // '') {
        my ($k, $v) = split /=/, $pair, 2;
        $v = _unescape($v // '');
        push @extra, "$1: $2" if _unescape($k) eq 'header'
            && $v =~ /^([^:]+):\s*(.*)$/s;
    }

    $status = $what eq 'status' ? $n : 200;
    if ($what eq 'big') {
        $body = backend_body($n);
        @sizes = (1, 13, 500, 8000, 3000);
    } else {
        $body = join('', map { "$_\n" }
            "backend: $b->{name}",
            "conn: $c->{id}",
            "request: $c->{nreq}",
            (map { my $k = $_; map { "param: $k=$_" } @{$p{$k}} }
                sort keys %p),
            'stdin-length: ' . length($r->{stdin}),
            'stdin-sha1: ' . sha1_hex($r->{stdin}));
    }

    my $own = grep { /^Status:/i } @extra;
    @extra = grep { !/^Status:\s*$/i } @extra;
    $out = ($own ? ''
            : "Status: $status " . ($REASON{$status} // 'Status') . "\r\n")
        . join('', map { "$_\r\n" } @extra)
        . "Content-Type: text/plain\r\nX-Backend: $b->{name}\r\n"
        . "X-Backend-Conn: $c->{id}\r\nX-Backend-Request: $c->{nreq}\r\n\r\n"
        . $body;

    $send = sub {
        if ($what eq 'stderr') {
            $self->fcgi_send($c, 7, $r->{id}, "backend stderr: $b->{name}");
            $self->send($c, fcgi_record(7, $r->{id}, ''));
        }
        $self->fcgi_send($c, 6, $r->{id}, $out, @sizes);
        $self->send($c, fcgi_record(6, $r->{id}, ''));
        $self->fcgi_end($c, $r->{id}, 0);
        $self->finish($c, !$r->{keep});
    };

    $c->{busy} = 1;
    if ($what eq 'slow') {
        $self->timer($c, $n, $send);
    } else {
        $send->();
    }
}


1;
