#!/usr/bin/perl
# server_names.t: choosing the virtual server: the default server (first,
# or default_server), exact names, *.wildcard, wildcard.*, .example.com,
# ~regex (case, order, precedence), names per listen address (specific
# addresses beside *:PORT), IPv6, Host normalisation, and server_name ""
# for requests without Host.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use IO::Socket::INET;
use IO::Socket::IP;
use Socket qw(AF_INET6 inet_pton pack_sockaddr_in6);
use Test::More;
use Test::Kiln;

my $t = Test::Kiln->new->has('static', 'index');

# ::1 is used only if this machine can bind it.
my $v6 = do {
    my $fh;

    socket($fh, AF_INET6, Socket::SOCK_STREAM(), 0)
        && bind($fh, pack_sockaddr_in6(0, inet_pton(AF_INET6, '::1')));
};
my $v6listen = $v6 ? <<'EOF' : '';
    server {
        listen       [::1]:%%PORT_8082%%;
        server_name  six.test;
        root         %%TESTDIR%%/six;
    }
EOF

# Each server's root holds an index.html with the server's name: a GET /
# says which server answered.
my @names = qw(first exact lead lead_long trail dot regex1 regex2 upper
    prec_exact prec_lead prec_trail prec_regex ds_first ds_default
    addr1 addr2 any six named nohost);

$t->write_file_expand('kiln.conf', <<"EOF");
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
        server_name  first.test;
        root         %%TESTDIR%%/first;
    }

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  exact.example.com other.example.com;
        root         %%TESTDIR%%/exact;
    }

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  *.example.com;
        root         %%TESTDIR%%/lead;
    }

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  *.deep.example.com;
        root         %%TESTDIR%%/lead_long;
    }

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  www.example.*;
        root         %%TESTDIR%%/trail;
    }

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  .dot.test;
        root         %%TESTDIR%%/dot;
    }

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  ~^re\\d+\\.test\$;
        root         %%TESTDIR%%/regex1;
    }

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  ~^re ~^r;
        root         %%TESTDIR%%/regex2;
    }

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  ~^UP\\d\\.test\$;
        root         %%TESTDIR%%/upper;
    }

    # Precedence: the regex is written first, the exact name last.
    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  ~prec;
        root         %%TESTDIR%%/prec_regex;
    }

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  www.prec.*;
        root         %%TESTDIR%%/prec_trail;
    }

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  *.prec.test;
        root         %%TESTDIR%%/prec_lead;
    }

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  prec.test www.prec.test;
        root         %%TESTDIR%%/prec_exact;
    }

    # default_server on a later server.
    server {
        listen       127.0.0.1:%%PORT_8081%%;
        server_name  ds_first.test;
        root         %%TESTDIR%%/ds_first;
    }

    server {
        listen       127.0.0.1:%%PORT_8081%% default_server;
        server_name  ds_default.test;
        root         %%TESTDIR%%/ds_default;
    }

    # Several addresses on one port, with a *:PORT server beside them.
    server {
        listen       127.0.0.1:%%PORT_8082%%;
        server_name  one.test;
        root         %%TESTDIR%%/addr1;
    }

    server {
        listen       127.0.0.2:%%PORT_8082%%;
        server_name  two.test;
        root         %%TESTDIR%%/addr2;
    }

    server {
        listen       %%PORT_8082%%;
        server_name  one.test two.test any.test;
        root         %%TESTDIR%%/any;
    }

    # server_name "": a request without Host, not the default server.
    server {
        listen       127.0.0.1:%%PORT_8083%%;
        server_name  named.test;
        root         %%TESTDIR%%/named;
    }

    server {
        listen       127.0.0.1:%%PORT_8083%%;
        server_name  "" nohost.test;
        root         %%TESTDIR%%/nohost;
    }

$v6listen}
EOF

for my $n (@names) {
    $t->write_file("$n/index.html", "$n\n");
}

$t->plan(51);
$t->run;

# srv(HOST, port => L, addr => A): which server answered GET / with HOST
# (undef: no Host line), over HTTP/1.0. Checks nothing itself.

sub srv {
    my ($host, %o) = @_;
    my ($s, $raw, $r);

    $raw = "GET / HTTP/1.0\r\n" . (defined $host ? "Host: $host\r\n" : '')
        . "\r\n";

    if ($o{addr}) {
        $s = IO::Socket::IP->new(PeerHost => $o{addr},
            PeerPort => port($o{port} // 8080), Proto => 'tcp', Timeout => 5)
            or return "connect to $o{addr}: $@";
        $raw = http($raw, socket => $s);
    } else {
        $raw = http($raw, port => $o{port});
    }

    $r = parse_response($raw) // {};
    return "status " . ($r->{status} // 'none')
        unless ($r->{status} // 0) == 200;

    (my $b = $r->{body}) =~ s/\n\z//;
    return $b;
}

# The default server: the first one for the address.

is(srv('unknown.test'), 'first', 'unknown name: the first server');
is(srv(undef), 'first', 'no Host (HTTP/1.0): the first server');
is(srv('127.0.0.1'), 'first', 'an IP address as Host: the first server');
is(srv('first.test'), 'first', 'the first server by its name');

# default_server.

is(srv('unknown.test', port => 8081), 'ds_default',
    'unknown name: the default_server, not the first');
is(srv(undef, port => 8081), 'ds_default', 'no Host: the default_server');
is(srv('ds_first.test', port => 8081), 'ds_first',
    'the first server by its name');

# Exact names.

is(srv('exact.example.com'), 'exact', 'exact name');
is(srv('other.example.com'), 'exact', 'second name of a server');
is(srv('EXACT.Example.COM'), 'exact', 'exact name, any case');
is(srv('exact.example.com.'), 'exact', 'exact name with a trailing dot');
is(srv('exact.example.com:' . port(8080)), 'exact', 'exact name with a port');
is(srv('exact.example.com.:1'), 'exact', 'trailing dot and port');

# Leading wildcards: the longest wins; "*." does not take the bare name.

is(srv('a.example.com'), 'lead', '*.example.com');
is(srv('a.b.example.com'), 'lead', '*.example.com: two labels');
is(srv('x.deep.example.com'), 'lead_long', 'the longest leading wildcard');
is(srv('deep.example.com'), 'lead',
    '*.deep.example.com is not deep.example.com');
is(srv('example.com'), 'first', '*.example.com is not example.com');

# Trailing wildcard.

is(srv('www.example.org'), 'trail', 'www.example.*');
is(srv('www.example.co.uk'), 'trail', 'www.example.*: two labels');
is(srv('www.example.com'), 'lead', 'leading wildcard before trailing');
is(srv('www.examplex.org'), 'first', 'www.example.* needs the dot');

# .dot.test: the name itself and any subdomain.

is(srv('dot.test'), 'dot', '.dot.test takes dot.test');
is(srv('a.dot.test'), 'dot', '.dot.test takes a.dot.test');
is(srv('a.b.dot.test'), 'dot', '.dot.test takes a.b.dot.test');
is(srv('xdot.test'), 'first', '.dot.test is not xdot.test');

# Regular expressions, in the order written; the Host is lowercased first,
# and a pattern with capitals is matched without case (as nginx).

is(srv('re42.test'), 'regex1', 'regex');
is(srv('RE42.TEST'), 'regex1', 'regex against a lowercased Host');
is(srv('re42.test.'), 'regex1', 'regex: trailing dot removed first');
is(srv('rex.test'), 'regex2', 'regex: the first match in order');
is(srv('r.test'), 'regex2', 'regex: second pattern of a server');
is(srv('up1.test'), 'upper', 'regex with capitals: caseless');
is(srv('UP2.TEST'), 'upper', 'regex with capitals, upper Host');

# Precedence: exact, then leading wildcard, then trailing, then regex,
# whatever the order of the servers.

is(srv('prec.test'), 'prec_exact', 'exact before the others');
is(srv('www.prec.test'), 'prec_exact', 'exact before both wildcards');
is(srv('a.prec.test'), 'prec_lead', 'leading wildcard before regex');
is(srv('www.prec.org'), 'prec_trail', 'trailing wildcard before regex');
is(srv('x.prec.org'), 'prec_regex', 'regex when nothing else matches');

# Names belong to their listen address: the *:PORT server only answers
# addresses no specific listen covers.

is(srv('one.test', port => 8082), 'addr1', '127.0.0.1: its server');
is(srv('two.test', port => 8082), 'addr1',
    '127.0.0.1: a name of another address: its default');
is(srv('any.test', port => 8082), 'addr1',
    '127.0.0.1: a name of *:PORT: its default');
is(srv('two.test', port => 8082, addr => '127.0.0.2'), 'addr2',
    '127.0.0.2: its server');
is(srv('one.test', port => 8082, addr => '127.0.0.2'), 'addr2',
    '127.0.0.2: a name of another address: its default');
is(srv('one.test', port => 8082, addr => '127.0.0.3'), 'any',
    '127.0.0.3: the *:PORT server');
is(srv('unknown.test', port => 8082, addr => '127.0.0.3'), 'any',
    '127.0.0.3: unknown name: the *:PORT server');

SKIP: {
    skip 'no ::1 on this machine', 2 unless $v6;

    is(srv('six.test', port => 8082, addr => '::1'), 'six',
        '[::1]: its server');
    is(srv('one.test', port => 8082, addr => '::1'), 'six',
        '[::1]: a name of another address: its default');
}

is(srv('[::1]', port => 8080), 'first', 'Host "[::1]": the default server');

is(srv(undef, port => 8083), 'nohost', 'no Host: the server named ""');
is(srv('other.test', port => 8083), 'named',
    'server_name "": an unknown name still goes to the default');
is(srv('nohost.test', port => 8083), 'nohost', 'its other name');

$t->stop;
