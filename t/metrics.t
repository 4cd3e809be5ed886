#!/usr/bin/perl
# metrics.t: the Prometheus page (kiln only: nginx has no such module):
# every line parsed (HELP, TYPE, samples of declared families, histograms
# cumulative), exact counts after known requests on both workers
# (requests by server and status class, bytes in, histogram count,
# upstream attempts and failures by peer, limit_req and limit_conn
# outcomes), the Content-Type, GET/HEAD only, and the counts kept across
# a reload (SIGHUP) with two workers.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib";

use Test::More;
use Test::Kiln;

plan(skip_all => 'metrics is kiln\'s own: nginx has no such module')
    if ($ENV{KILN_BINARY} // '') =~ /nginx/;

my $t = Test::Kiln->new->has('metrics', 'proxy', 'map');

# limit_req and limit_conn, when this kiln has them (their own branch):
# else a map stands in for $limit_req_status and $limit_conn_status, which
# the metrics module reads by name whichever module registered them.
my $d = $t->testdir;
$t->write_file('probe.conf', "error_log $d/probe.log;\nevents { }\n"
    . "http { limit_req_zone \$binary_remote_addr zone=p:1m rate=1r/m; }\n");
my $real_limits = $t->run_kiln('-p', "$d/", '-c', "$d/probe.conf", '-t')
    ->{exit} == 0;

my $limits = $real_limits ? <<'REAL' : <<'MAP';
    limit_req_zone $binary_remote_addr zone=one:1m rate=1r/m;
    limit_conn_zone $binary_remote_addr zone=conns:1m;
REAL
    map $arg_s $limit_req_status {
        default $arg_s;
    }

    map $arg_c $limit_conn_status {
        default $arg_c;
    }
MAP

my $limit_locations = $real_limits ? <<'REAL' : <<'MAP';
        location = /limited {
            limit_req zone=one;
            # a return would answer before preaccess, as in nginx
            try_files /index.html =404;
        }

        location = /conn {
            limit_conn conns 10;
            try_files /index.html =404;
        }
REAL
        location = /limited {
            return 200 "limited\n";
        }

        location = /conn {
            return 200 "conn\n";
        }
MAP

my $conf = <<'EOF';
daemon on;
pid %%TESTDIR%%/kiln.pid;
error_log %%TESTDIR%%/error.log info;
worker_processes 2;

events {
    worker_connections 128;
}

http {
    access_log off;
    metrics_zone counters 256k;

%%LIMITS%%
    upstream backend {
        server 127.0.0.1:%%PORT_8081%%;
    }

    upstream dead {
        server 127.0.0.1:%%PORT_8082%%;
    }

    server {
        listen 127.0.0.1:%%PORT_8080%% reuseport;
        server_name main;

        location / {
            root %%TESTDIR%%/html;
        }

        location = /up {
            proxy_pass http://backend/ok;
        }

        location = /dead {
            proxy_pass http://dead;
        }

        location = /slow {
            return 200 "slow\n";
        }
    }

    server {
        listen 127.0.0.1:%%PORT_8081%%;
        server_name back;

        location = /ok {
            return 200 "ok\n";
        }
    }

    server {
        listen 127.0.0.1:%%PORT_8084%%;
        server_name limits;
        root %%TESTDIR%%/html;

%%LIMIT_LOCATIONS%%
    }

    server {
        listen 127.0.0.1:%%PORT_8083%% reuseport;
        server_name scrape;

        location = /metrics {
            metrics;
        }
    }
}
EOF

$conf =~ s/%%LIMITS%%\n/$limits/;
$conf =~ s/%%LIMIT_LOCATIONS%%\n/$limit_locations/;
$t->write_file_expand('kiln.conf', $conf);
$t->write_file('html/index.html', "index\n");

# The dead peer refuses: its 502 is logged as an error.
$t->expect_errors(qr/connect\(\) failed/);

$t->plan(44);
$t->run(wait_ports => [8080, 8081, 8083, 8084]);

# scrape(): [status, content-type, body] of the page.

sub scrape {
    my $r = parse_response(http_get('/metrics', port => 8083));
    return $r;
}

# parse(BODY): { series => { 'name{labels}' => value }, errors => [...] },
# every line checked against the text format 0.0.4.

sub parse {
    my ($body) = @_;
    my (%type, %help, %series, @err);
    my $label = qr/[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"/;

    push @err, 'no final newline' unless $body =~ /\n\z/;

    for my $line (split /\n/, $body) {
        if ($line =~ /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/) {
            push @err, "second HELP for $1" if $help{$1}++;
        } elsif ($line =~ /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/) {
            push @err, "second TYPE for $1" if $type{$1};
            $type{$1} = $2;
        } elsif ($line =~ /^([a-zA-Z_:][a-zA-Z0-9_:]*)((?:\{$label(?:,$label)*\})?) ([0-9]+(?:\.[0-9]+)?|\+Inf)$/) {
            my ($name, $labels, $v) = ($1, $2, $3);
            my $family = $name;
            $family =~ s/_(bucket|sum|count)$// unless $type{$name};
            push @err, "$name: no TYPE before it" unless $type{$family};
            push @err, "$name$labels: twice" if exists $series{"$name$labels"};
            $series{"$name$labels"} = $v;
        } else {
            push @err, "not the text format: '$line'";
        }
    }

    # Histograms: buckets cumulative, +Inf equal to _count.
    for my $s (keys %series) {
        next unless $s =~ /^(\w+)_bucket\{server="([^"]*)",le="\+Inf"\}$/;
        my ($n, $srv) = ($1, $2);
        my @b = map { $series{$_} }
            sort { bound($a) <=> bound($b) }
            grep { /^\Q$n\E_bucket\{server="\Q$srv\E",/ } keys %series;
        for my $i (1 .. $#b) {
            push @err, "$n $srv: bucket $i less than the one before"
                if $b[$i] < $b[$i - 1];
        }
        push @err, "$n $srv: +Inf is not _count"
            unless ($series{"${n}_count{server=\"$srv\"}"} // -1) == $series{$s};
    }

    return { series => \%series, type => \%type, errors => \@err };
}

sub bound {
    my ($s) = @_;
    $s =~ /le="([^"]+)"/;
    return $1 eq '+Inf' ? 9**9**9 : $1;
}

sub get {
    my ($m, $key) = @_;
    return $m->{series}{$key} // 0;
}

my $REQ = 'kiln_http_requests_total';

sub req {
    my ($server, $code) = @_;
    return $REQ . '{server="' . $server . '",code="' . $code . '"}';
}

# The page before any request: valid, no server counted yet.

my $r = scrape();
is($r->{status}, 200, 'GET /metrics: 200');
is($r->{headers}{'content-type'}, 'text/plain; version=0.0.4; charset=utf-8',
    'Content-Type of the text format 0.0.4');
is($r->{headers}{'content-length'}, length($r->{body}),
    'Content-Length: the page\'s');
my $m = parse($r->{body});
is_deeply($m->{errors}, [], 'every line is the text format');
is($m->{type}{$REQ}, 'counter', 'requests: a counter');
is($m->{type}{kiln_http_request_duration_seconds}, 'histogram',
    'request time: a histogram');
is($m->{type}{kiln_connections}, 'gauge', 'connections: a gauge');
is(get($m, req('main', '2xx')), 0, 'no request yet');
is(get($m, 'kiln_connections{state="writing"}') >= 1, 1,
    'the scrape counts itself writing');

$r = parse_response(http_head('/metrics', port => 8083));
is($r->{status}, 200, 'HEAD: 200');
is($r->{body}, '', 'HEAD: no body');

$r = parse_response(http("POST /metrics HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc",
    port => 8083));
is($r->{status}, 405, 'POST: 405');

# Known requests, one connection each (both workers take some).

my $in = 0;
for (1 .. 5) {
    my $req = "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n";
    $in += length $req;
    is(parse_response(http($req))->{status}, 200, "GET / $_: 200");
}
for (1 .. 3) {
    my $req = "GET /missing HTTP/1.0\r\nHost: localhost\r\n\r\n";
    $in += length $req;
    parse_response(http($req));
}
for (1 .. 2) {
    my $req = "GET /up HTTP/1.0\r\nHost: localhost\r\n\r\n";
    $in += length $req;
    is(parse_response(http($req))->{body}, "ok\n", "proxied $_: ok");
}
{
    my $req = "GET /dead HTTP/1.0\r\nHost: localhost\r\n\r\n";
    $in += length $req;
    is(parse_response(http($req))->{status}, 502, 'dead peer: 502');
}

# A request is counted once it is logged, just after its response: wait
# for the last ones.

ok(wait_for(sub {
    $m = parse(scrape()->{body});
    get($m, req('main', '2xx')) == 7
        && get($m, req('main', '5xx')) == 1;
}), 'all requests counted');

is_deeply($m->{errors}, [], 'the page is still the text format');
is(get($m, req('main', '4xx')), 3, '4xx: 3');
is(get($m, req('main', '1xx')), 0, '1xx: 0');
is(get($m, req('back', '2xx')), 2, 'the backend server: 2');
is(get($m, 'kiln_http_request_bytes_total{server="main"}'), $in,
    'bytes in: the request heads sent');
cmp_ok(get($m, 'kiln_http_response_bytes_total{server="main"}'), '>', 11 * 60,
    'bytes out: at least the heads');
is(get($m, 'kiln_http_request_duration_seconds_count{server="main"}'), 11,
    'histogram count: every request');
my $peer = '{upstream="backend",peer="127.0.0.1:' . port(8081) . '"}';
my $dead = '{upstream="dead",peer="127.0.0.1:' . port(8082) . '"}';
is(get($m, "kiln_upstream_requests_total$peer"), 2, 'peer: 2 attempts');
is(get($m, "kiln_upstream_failures_total$peer"), 0, 'peer: no failure');
is(get($m, "kiln_upstream_requests_total$dead"), 1, 'dead peer: 1 attempt');
is(get($m, "kiln_upstream_failures_total$dead"), 1, 'dead peer: 1 failure');
is(get($m, "kiln_upstream_response_seconds_count$peer"), 2,
    'peer: response time count');

# limit_req and limit_conn outcomes, by status.

http_get('/limited?s=PASSED', port => 8084);
http_get('/limited?s=REJECTED', port => 8084);
http_get('/conn?c=PASSED', port => 8084);
ok(wait_for(sub {
    $m = parse(scrape()->{body});
    get($m, 'kiln_limit_conn_total{status="PASSED"}') == 1;
}), 'limits: counted (' . ($real_limits ? 'limit_req, limit_conn' : 'a map for their variables') . ')');
is(get($m, 'kiln_limit_req_total{status="PASSED"}'), 1, 'limit_req: 1 PASSED');
is(get($m, 'kiln_limit_req_total{status="REJECTED"}'), 1,
    'limit_req: 1 REJECTED');
is(get($m, qq{kiln_http_requests_total{server="main",code="2xx"}}), 7,
    'limits: another server\'s counts');

# A reload with the same zone keeps every count; the new workers add to it.

my @old = $t->worker_pids;
$t->signal('HUP');
ok(wait_for(sub {
    my %old = map { $_ => 1 } @old;
    my @w = $t->worker_pids;
    @w == 2 && !grep { $old{$_} } @w;
}), 'reload: two new workers');

$m = parse(scrape()->{body});
is(get($m, req('main', '2xx')), 7, 'reload: 2xx kept');
is(get($m, req('main', '4xx')), 3, 'reload: 4xx kept');

http_get('/');
ok(wait_for(sub {
    $m = parse(scrape()->{body});
    get($m, req('main', '2xx')) == 8;
}), 'reload: a new request adds to the kept count');
is(get($m, "kiln_upstream_failures_total$dead"), 1, 'reload: peer counts kept');

$t->stop;

# kiln -t: the zone's size, and one zone only.

sub check {
    my ($text) = @_;
    $t->write_file('bad.conf', "error_log $d/test.log;\nevents { }\nhttp {\n"
        . $text . "    server { listen 127.0.0.1:" . port(8080) . "; }\n}\n");
    return $t->run_kiln('-p', "$d/", '-c', "$d/bad.conf", '-t');
}

my $r2 = check("    metrics_zone m 8k;\n");
like($r2->{stderr}, qr/\[emerg\] zone "m" is too small in \Q$d\E\/bad\.conf:4$/m,
    'metrics_zone under 32k: too small, with file and line');
$r2 = check("    metrics_zone m 64k;\n    metrics_zone n 64k;\n");
like($r2->{stderr}, qr/\[emerg\] "metrics_zone" directive is duplicate in \Q$d\E\/bad\.conf:5$/m,
    'a second metrics_zone: duplicate');
