# Chaos: three clusters share one counter, with different CACHE, block sizes
# and runways, while several clients per cluster take values and the test
# kills backends and refill workers with -9, restarts clusters in immediate
# mode, stops and restarts the local DynamoDB with its data kept, injects
# lost answers, 500s, throttling, truncated JSON, hangs and delays beyond the
# request timeout, and a non-superuser who owns one sharer (mallory) tries
# hostile ALTER SEQUENCE / setval / settings.  Afterwards the whole history
# of handed-out values from all three clusters is checked: no value twice,
# none outside the bounds, no server process crashed on its own.
#
# SEQDIST_CHAOS_VALUES=N   values to take (default 1,000,000)
# SEQDIST_CHAOS_SEED=N     the seed of the chaos schedule (printed)
# SEQDIST_CHAOS_RATE=N     values per second the clients aim at (default 12000)
#
# Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
use strict;
use warnings;

use IPC::Run;
use JSON::PP;
use Time::HiRes qw(time sleep);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SeqdistTest;

my $target = $ENV{SEQDIST_CHAOS_VALUES} // 1_000_000;
my $seed = $ENV{SEQDIST_CHAOS_SEED} // (int(time * 1000) ^ $$) % 1_000_000_007;
my $rate = $ENV{SEQDIST_CHAOS_RATE} // 12_000;
srand($seed);
note("chaos seed $seed (SEQDIST_CHAOS_SEED=$seed repeats this schedule), $target values");

# The shared definition: a cycling counter whose range the run cannot use up,
# so a value seen twice is a duplicate whenever it was taken.
my $min = 1_000_000_000_000;
my $max = 1_100_000_000_000;
my $key = 'chaos';

# Timeouts every cluster uses; "delay" faults last longer than a request may.
my $request_timeout_ms = 1000;
my $max_attempts = 4;
my $retry_max_delay_ms = 250;
my $common_conf = <<"CONF";
restart_after_crash = on
log_statement = 'ddl'
checkpoint_timeout = '30s'
max_connections = 40
seqdist.request_timeout = '${request_timeout_ms}ms'
seqdist.connect_timeout = '1s'
seqdist.max_attempts = $max_attempts
seqdist.retry_base_delay = '20ms'
seqdist.retry_max_delay = '${retry_max_delay_ms}ms'
CONF

# The clusters: CACHE of their sequence, instance block sizes, runway
my @spec = (
	{ name => 'chaos_a', cache => 1, conf => "seqdist.block_size = 1000\nseqdist.max_block_size = 100000\nseqdist.runway = '2s'\n" },
	{ name => 'chaos_b', cache => 20, fixed_block => 5000, conf => "seqdist.runway = '10s'\n" },
	{ name => 'chaos_c', cache => 300, mallory => 1,
	  conf => "seqdist.block_size = 100\nseqdist.max_block_size = 2000\nseqdist.runway = '1s'\n" },
);

# restarts must find the credentials in the environment, as the first start did
my %creds = test_credentials();
$ENV{$_} = $creds{$_} for keys %creds;
delete $ENV{$_} for qw(AWS_SESSION_TOKEN AWS_PROFILE AWS_SHARED_CREDENTIALS_FILE);

my $work = PostgreSQL::Test::Utils::tempdir('chaos');
my ($mallory_node_spec) = grep { $_->{mallory} } @spec;
my $stop_file = "$work/stop";
my $dynamo = start_dynamo(path => "$work/dynamo-data");

my @nodes;
my $superuser;
for my $s (@spec)
{
	my $node = new_node($s->{name}, $dynamo, conf => $common_conf . $s->{conf});
	$s->{node} = $node;
	push @nodes, $node;
	$superuser //= $node->safe_psql('postgres', 'SELECT current_user');
}

# Set up the sharers: the same key, bounds and CYCLE; mallory owns chaos_c's.
for my $s (@spec)
{
	my $node = $s->{node};
	$node->safe_psql('postgres', qq{
		CREATE EXTENSION seqdist;
		SELECT seqdist.create_table();
		CREATE SEQUENCE s MINVALUE $min MAXVALUE $max CYCLE CACHE $s->{cache};
		CREATE TABLE taken (v bigint NOT NULL DEFAULT seqdist.seqdist_nextval('s'), c smallint);
	});
	if ($s->{mallory})
	{
		# mallory owns the sequence the cluster's clients use, and one of
		# her own that she alone takes from, both sharers of the counter
		$node->safe_psql('postgres', qq{
			CREATE ROLE mallory LOGIN;
			ALTER SEQUENCE s OWNER TO mallory;
			CREATE SEQUENCE ms MINVALUE $min MAXVALUE $max CYCLE CACHE 1000;
			ALTER SEQUENCE ms OWNER TO mallory;
			GRANT EXECUTE ON FUNCTION seqdist.set_block_size(regclass, integer) TO mallory;
			GRANT EXECUTE ON FUNCTION seqdist.set_strict(regclass, boolean) TO mallory;
		});
	}
	for my $seq ($s->{mallory} ? ('s', 'ms') : ('s'))
	{
		my $status = $node->safe_psql('postgres', "SELECT status FROM seqdist.register('$seq', '$key')");
		is($status, $s == $spec[0] ? 'created' : 'existing',
			"$s->{name}: $seq registered under '$key' ($status)");
	}
	$node->safe_psql('postgres', "SELECT seqdist.set_block_size('s', $s->{fixed_block})")
	  if $s->{fixed_block};
}

#---------------------------------------------------------------------------
# Running psql without dying: (exit code, stdout, stderr)
#---------------------------------------------------------------------------
sub run_sql
{
	my ($node, $user, @stmts) = @_;
	my ($out, $err) = ('', '');
	my @cmd = ('psql', '-X', '-At', '-v', 'ON_ERROR_STOP=1', '-v', 'VERBOSITY=verbose',
		'-h', $node->host, '-p', $node->port, '-U', $user, '-d', 'postgres',
		map { ('-c', $_) } @stmts);
	my $ok = eval {
		IPC::Run::run(\@cmd, '<', \undef, '>', \$out, '2>', \$err,
			IPC::Run::timeout(90));
		1;
	};
	return (-1, $out, "timed out or failed: $@ $err") unless $ok;
	chomp $out;
	return ($? >> 8, $out, $err);
}

sub sqlstate { return $_[0] =~ /(?:ERROR|FATAL):\s+([0-9A-Z]{5}):/ ? $1 : undef; }

#---------------------------------------------------------------------------
# The clients: per cluster two pgbench loops inserting with DEFAULT, one
# psql loop selecting values into a file, one probe timing single calls.
#---------------------------------------------------------------------------
my @clients;
my $per_cluster_rate = $rate / 3;
my $insert_rows = 250;
# the pgbench clients take about 3/4 of each cluster's values
my $txn_rate = sprintf('%.1f', $per_cluster_rate * 0.75 / 2 / $insert_rows);
my $select_rows = 500;
my $select_pause = sprintf('%.2f', $select_rows / ($per_cluster_rate * 0.25));
my $script = "$work/insert.sql";
PostgreSQL::Test::Utils::append_to_file($script,
	"INSERT INTO taken (c) SELECT 1 FROM generate_series(1, $insert_rows);\n");

for my $s (@spec)
{
	my $node = $s->{node};
	my ($h, $p, $n) = ($node->host, $node->port, $s->{name});
	my $env = "export PGCONNECT_TIMEOUT=5 PGOPTIONS='-c statement_timeout=60s';";
	for my $i (1, 2)
	{
		push @clients, IPC::Run::start([ 'bash', '-c', qq{$env
			while [ ! -e '$stop_file' ]; do
				pgbench -n -c 1 -j 1 -T 5 -R $txn_rate -f '$script' -h '$h' -p $p postgres \\
					>/dev/null 2>>'$work/$n.pgbench$i.log' || sleep 0.2
			done} ]);
	}
	push @clients, IPC::Run::start([ 'bash', '-c', qq{$env
		while [ ! -e '$stop_file' ]; do
			psql -X -At -h '$h' -p $p -d postgres \\
				-c "SELECT seqdist.seqdist_nextval('s') FROM generate_series(1, $select_rows)" \\
				>>'$work/$n.selected' 2>>'$work/$n.select.log' || sleep 0.2
			sleep $select_pause
		done} ]);
	push @clients, IPC::Run::start([ 'bash', '-c', qq{$env
		export LC_ALL=C
		while [ ! -e '$stop_file' ]; do
			t0=\$EPOCHREALTIME
			out=\$(psql -X -At -v VERBOSITY=verbose -h '$h' -p $p -d postgres \\
				-c "SELECT seqdist.seqdist_nextval('s')" 2>&1)
			rc=\$?
			t1=\$EPOCHREALTIME
			printf '%s %s %d %s\\n' "\$t0" "\$t1" "\$rc" "\${out//\$'\\n'/ | }" >>'$work/$n.probe'
			sleep 0.2
		done} ]);
}

# mallory takes from her own sequence now and then: the refill worker keeps
# a spare block for it
{
	my ($h, $p) = ($mallory_node_spec->{node}->host, $mallory_node_spec->{node}->port);
	push @clients, IPC::Run::start([ 'bash', '-c', qq{
		export PGCONNECT_TIMEOUT=5 PGOPTIONS='-c statement_timeout=60s'
		while [ ! -e '$stop_file' ]; do
			psql -X -At -h '$h' -p $p -U mallory -d postgres \\
				-c "SELECT seqdist.seqdist_nextval('ms') FROM generate_series(1, 300)" \\
				>>'$work/mallory.selected' 2>>'$work/mallory.select.log' || sleep 0.2
			sleep 0.5
		done} ]);
}

#---------------------------------------------------------------------------
# Faults, counted by kind
#---------------------------------------------------------------------------
my %injected;          # what the test did, by kind
my %applied;           # fault rules the local DynamoDB applied, by mode
my %seen_by_process;   # by_fault of the running DynamoDB process, last read
my %killed;            # pids the test killed with -9
my $dynamo_up = 1;

sub harvest_dynamo_stats
{
	return unless $dynamo_up;
	my $st = eval { dynamo_stats($dynamo) } or return;
	for my $mode (keys %{ $st->{by_fault} })
	{
		my $n = $st->{by_fault}{$mode};
		$applied{$mode} += $n - ($seen_by_process{$mode} // 0);
		$seen_by_process{$mode} = $n;
	}
	return $st;
}

sub set_faults
{
	my (@rules) = @_;
	return 0 unless $dynamo_up;
	return eval { dynamo_faults($dynamo, @rules); 1 } ? 1 : 0;
}

sub pick { return $_[ int(rand(@_)) ]; }
sub rand_between { my ($lo, $hi) = @_; return $lo + rand($hi - $lo); }

# Pids of a cluster's processes of one kind, or () if it does not answer
sub pids_of
{
	my ($node, $where) = @_;
	my ($rc, $out) = run_sql($node, $superuser,
		"SELECT pid FROM pg_stat_activity WHERE $where AND pid <> pg_backend_pid()");
	return () if $rc != 0;
	return grep { /^\d+$/ } split /\n/, $out;
}

sub kill9
{
	my ($what, $where) = @_;
	my $s = pick(@spec);
	my @pids = pids_of($s->{node}, $where);
	return unless @pids;
	my $pid = pick(@pids);
	if (kill 'KILL', $pid)
	{
		$killed{$pid} = $s->{name};
		$injected{$what}++;
	}
}

sub restart_immediate
{
	my $s = pick(@spec);
	my $node = $s->{node};
	$node->stop('immediate', fail_ok => 1);
	sleep(rand_between(0, 1));
	$node->start(fail_ok => 1) or $node->start(fail_ok => 1);
	$injected{'immediate restart'}++;
}

sub restart_dynamo_kept
{
	harvest_dynamo_stats();
	my $signal = pick('TERM', 'KILL');
	stop_dynamo($dynamo, signal => $signal);
	$dynamo_up = 0;
	# sometimes beyond the shortest runways, sometimes within them
	sleep(pick(rand_between(0.1, 1.5), rand_between(1.5, 4), rand_between(4, 7)));
	restart_dynamo($dynamo);
	$dynamo_up = 1;
	%seen_by_process = ();
	$injected{"DynamoDB stopped (SIG$signal) and restarted"}++;
}

my @fault_kinds = (
	[ 'lost answer', sub { { mode => 'after_forward_reset', count => 1 + int(rand(6)) } } ],
	[ 'http500', sub { { mode => 'http500', count => 1 + int(rand(10)) } } ],
	[ 'throttling', sub { { mode => pick(qw(throttle throttling requestlimit)), count => 1 + int(rand(10)) } } ],
	[ 'truncated JSON', sub { { mode => 'malformed', count => 1 + int(rand(3)) } } ],
	[ 'wrong shape', sub { { mode => 'wrongshape', count => 1 } } ],
	[ 'delay beyond the timeout', sub {
		{ mode => 'delay', ms => $request_timeout_ms + 100 + int(rand(1500)), count => 1 + int(rand(4)) } } ],
	[ 'delay within the timeout', sub { { mode => 'delay', ms => int(rand($request_timeout_ms * 0.8)) } } ],
	[ 'hang', sub { { mode => 'hang', count => 1 + int(rand(3)) } } ],
	[ 'connection reset', sub { { mode => 'reset', count => 1 + int(rand(5)) } } ],
	[ 'outage', sub { { mode => 'down' } } ],
);

# One or two fault rules for a while; with $want, the first of that kind
sub inject_faults
{
	my ($want) = @_;
	my @rules;
	my %kinds;
	for my $i (1 .. 1 + int(rand(2)))
	{
		my ($kind, $make) = @{ ($i == 1 && $want) ? (grep { $_->[0] eq $want } @fault_kinds)[0]
			: pick(@fault_kinds) };
		my $rule = $make->();
		$rule->{target} = pick('UpdateItem', 'UpdateItem', 'GetItem', '*');
		push @rules, $rule;
		$kinds{$kind}++;
	}
	return unless set_faults(@rules);
	$injected{"fault: $_"} += $kinds{$_} for keys %kinds;
	sleep(rand_between(0.2, 1.5));
	set_faults();
}

#---------------------------------------------------------------------------
# mallory: a non-superuser who owns chaos_c's sequence
#---------------------------------------------------------------------------
my ($mallory_node) = map { $_->{node} } grep { $_->{mallory} } @spec;
my %hostile_outcome;       # statement kind -> refused / accepted counts
my @hostile_unexpected;    # statements that should have been refused and were not

sub position
{
	my ($node) = @_;
	my ($rc, $out) = run_sql($node, $superuser,
		"SELECT seqdist.counter_item('s') ->> 'last_value'");
	return $rc == 0 && $out =~ /^-?\d+$/ ? $out : undef;
}

# [kind, must be refused?, statements] for mallory's sequence $q
sub hostile_statements
{
	my ($q) = @_;
	my $near = $min + 1 + int(rand(1000));
	my $low = $min + 100;
	return (
		[ 'MAXVALUE behind the position', 1, "ALTER SEQUENCE $q MAXVALUE $low" ],
		[ 'MAXVALUE behind the position, CYCLE', 1, "ALTER SEQUENCE $q MAXVALUE $low CYCLE" ],
		[ 'NO CYCLE', 1, "ALTER SEQUENCE $q NO CYCLE" ],
		[ 'MINVALUE moved', 1, "ALTER SEQUENCE $q MINVALUE 1" ],
		[ 'MAXVALUE raised', 1, "ALTER SEQUENCE $q MAXVALUE 9223372036854775807" ],
		[ 'NO MAXVALUE', 1, "ALTER SEQUENCE $q NO MAXVALUE" ],
		[ 'INCREMENT reversed', 1, "ALTER SEQUENCE $q INCREMENT BY -1" ],
		[ 'RESTART', 1, "ALTER SEQUENCE $q RESTART" ],
		[ 'RESTART WITH behind', 1, "ALTER SEQUENCE $q RESTART WITH $near" ],
		[ 'RESTART WITH behind, MAXVALUE', 1, "ALTER SEQUENCE $q RESTART WITH $near MAXVALUE " . ($min + 2000) ],
		[ 'setval behind', 1, "SELECT seqdist.seqdist_setval('$q', $near)" ],
		[ 'setval behind, not called', 1, "SELECT seqdist.seqdist_setval('$q', $min, false)" ],
		[ 'allow_rewind', 1, 'SET seqdist.allow_rewind = on', "SELECT seqdist.seqdist_setval('$q', $near)" ],
		[ 'request_timeout', 1, "SET seqdist.request_timeout = '10ms'" ],
		[ 'max_attempts', 1, 'SET seqdist.max_attempts = 100' ],
		[ 'endpoint', 1, "SET seqdist.endpoint = 'http://127.0.0.1:1'" ],
		[ 'table_name', 1, "SET seqdist.table_name = 'elsewhere'" ],
		[ 'register elsewhere', 1, "SELECT seqdist.register('$q', 'chaos-elsewhere')" ],
		[ 'AS integer', 1, "ALTER SEQUENCE $q AS integer" ],
		[ 'START below MINVALUE', 1, "ALTER SEQUENCE $q START WITH 1" ],
		[ 'rolled back MAXVALUE, CYCLE', 1, 'BEGIN', "ALTER SEQUENCE $q MAXVALUE $low CYCLE", 'ROLLBACK' ],
		[ 'CACHE', 0, "ALTER SEQUENCE $q CACHE " . pick(1, 7, 300, 5000) ],
		[ 'rolled back CACHE', 0, 'BEGIN', "ALTER SEQUENCE $q CACHE 3", 'ROLLBACK' ],
		[ 'START within the bounds', 0, "ALTER SEQUENCE $q START WITH " . ($min + 7) ],
		[ 'set_block_size', 0, "SELECT seqdist.set_block_size('$q', " . pick('1', '50', 'NULL') . ')' ],
		[ 'set_strict', 0, "SELECT seqdist.set_strict('$q', " . pick('true', 'false') . ')' ],
		[ 'take values', 0, "SELECT seqdist.seqdist_nextval('$q') FROM generate_series(1, 200)" ],
		[ 'setval to the bound', 1, "SELECT seqdist.seqdist_setval('$q', $max)" ],
		[ 'RESTART WITH the bound', 1, "ALTER SEQUENCE $q RESTART WITH $max" ],
		[ 'INCREMENT changed', 1, "ALTER SEQUENCE $q INCREMENT BY 2" ],
	);
}

# One hostile statement of mallory, on the clients' sequence or on her own;
# with $kind, that one.
sub hostile
{
	my ($want) = @_;
	my $q = pick('s', 'ms');
	my @all = hostile_statements($q);
	my ($h) = $want ? grep { $_->[0] eq $want } @all : pick(@all);
	my ($kind, $refuse, @stmts) = @$h;
	my ($rc, $out, $err) = run_sql($mallory_node, 'mallory',
		"SET lock_timeout = '10s'", @stmts);
	my $state = sqlstate($err);
	$injected{'hostile statement'}++;
	if ($rc == 0)
	{
		$hostile_outcome{$kind}{accepted}++;
		push @hostile_unexpected, "$kind: @stmts" if $refuse;
		PostgreSQL::Test::Utils::append_to_file("$work/mallory.hostile", "$out\n")
		  if $kind eq 'take values';
		if ($kind eq 'set_strict' && $stmts[0] =~ /true/)
		{
			# strict mode is slow by design: not for long
			sleep(rand_between(0.2, 1));
			run_sql($mallory_node, 'mallory', "SELECT seqdist.set_strict('$q', false)");
		}
	}
	elsif ($rc == 1 || $rc == 3)
	{
		$hostile_outcome{$kind}{ 'refused ' . ($state // '?') }++;
	}
	else
	{
		$hostile_outcome{$kind}{'not connected'}++;
	}
}

# mallory's forward setval: allowed, a gap for everybody, never a duplicate
sub hostile_forward_setval
{
	my $q = pick('s', 'ms');
	my $pos = position($mallory_node) // return;
	my $to = $pos + 1 + int(rand(100_000));
	my ($rc, $out, $err) = run_sql($mallory_node, 'mallory',
		"SET lock_timeout = '10s'", "SELECT seqdist.seqdist_setval('$q', $to)");
	$injected{'hostile statement'}++;
	$hostile_outcome{'setval forward'}{ $rc == 0 ? 'accepted' : 'refused ' . (sqlstate($err) // '?') }++;
}

# What a DBA does meanwhile on the other sharers: forward moves and CACHE
sub dba
{
	my $s = pick(grep { !$_->{mallory} } @spec);
	my $node = $s->{node};
	my $what = pick('setval', 'cache', 'block');
	if ($what eq 'setval')
	{
		my $pos = position($node) // return;
		run_sql($node, $superuser, "SELECT seqdist.seqdist_setval('s', " . ($pos + 1 + int(rand(50_000))) . ")");
	}
	elsif ($what eq 'cache')
	{
		run_sql($node, $superuser, "SET lock_timeout = '10s'", "ALTER SEQUENCE s CACHE " . pick(1, 20, 100));
	}
	else
	{
		run_sql($node, $superuser, "SELECT seqdist.set_block_size('s', " . pick('NULL', '500', '5000') . ")");
	}
	$injected{"DBA $what"}++;
}

#---------------------------------------------------------------------------
# The chaos schedule: rounds in which every kind of chaos happens at least
# once, in a random order, with more faults and hostile statements mixed in
#---------------------------------------------------------------------------
sub one_round
{
	my @deck = (
		sub { kill9('kill -9 backend', "backend_type = 'client backend'") },
		sub { kill9('kill -9 backend', "backend_type = 'client backend'") },
		sub { kill9('kill -9 refill worker', "backend_type = 'seqdist refill'") },
		\&restart_immediate,
		\&restart_dynamo_kept,
		(map { my $k = $_->[0]; sub { inject_faults($k) } } @fault_kinds),
		(map { sub { inject_faults() } } 1 .. 4),
		# the refusals that a careless implementation would act upon first
		sub { hostile('MAXVALUE behind the position, CYCLE') },
		sub { hostile('MAXVALUE behind the position') },
		(map { sub { hostile() } } 1 .. 8),
		\&hostile_forward_setval,
		\&dba,
	);
	# Fisher-Yates, from the seeded generator
	for (my $i = $#deck; $i > 0; $i--)
	{
		my $j = int(rand($i + 1));
		@deck[ $i, $j ] = @deck[ $j, $i ];
	}
	return @deck;
}

sub count_values
{
	my $n = 0;
	for my $s (@spec)
	{
		my ($rc, $out) = run_sql($s->{node}, $superuser, 'SELECT count(*) FROM taken');
		$s->{counted} = $out if $rc == 0 && $out =~ /^\d+$/;
		$n += $s->{counted} // 0;
		if (open(my $fh, '<', "$work/$s->{name}.selected"))
		{
			# about: lines of the selecting client
			my $lines = 0;
			$lines++ while <$fh>;
			close $fh;
			$n += $lines;
		}
	}
	return $n;
}

my $t_start = time;
# give up if the clients take less than a tenth of what they aim at
my $deadline = $t_start + 60 + 10 * $target / $rate;
my $next_count = time + 10;
my $taken = 0;
my $rounds = 0;
my @deck;
while (time < $deadline)
{
	unless (@deck)
	{
		# the run ends with a round: every kind of chaos had its turn
		$taken = count_values();
		last if $taken >= $target;
		@deck = one_round();
		$rounds++;
		note(sprintf('%.0f s: about %d values taken, round %d begins', time - $t_start, $taken, $rounds));
	}
	elsif (time >= $next_count)
	{
		note(sprintf('%.0f s: about %d values taken', time - $t_start, count_values()));
		$next_count = time + 10;
	}
	(shift @deck)->();
	harvest_dynamo_stats();
	sleep(rand_between(0.1, 0.4));
}
my $chaos_seconds = time - $t_start;

#---------------------------------------------------------------------------
# Calm down, collect the history
#---------------------------------------------------------------------------
set_faults();
harvest_dynamo_stats();
PostgreSQL::Test::Utils::append_to_file($stop_file, "stop\n");
for my $c (@clients)
{
	eval { $c->finish; 1 } or eval { $c->kill_kill; };
}
for my $s (@spec)
{
	# a cluster the chaos left stopped (or crash-restarting) is started
	my ($rc) = run_sql($s->{node}, $superuser, 'SELECT 1');
	if ($rc != 0)
	{
		sleep 2;
		($rc) = run_sql($s->{node}, $superuser, 'SELECT 1');
		if ($rc != 0)
		{
			$s->{node}->stop('immediate', fail_ok => 1);
			$s->{node}->start;
		}
	}
}
my $final_stats = harvest_dynamo_stats() // {};

# the history: every committed row and every value a selecting client,
# a probe or mallory received
my $hist = "$work/history.tsv";
open(my $hfh, '>', $hist) or die "$hist: $!";
my %probe_stall = (ok => 0, error => 0);
my %probe_count;
my @slowest;
for my $s (@spec)
{
	my $n = $s->{name};
	if (open(my $fh, '<', "$work/$n.selected"))
	{
		while (<$fh>) { print $hfh "$1\t$n select\n" if /^(-?\d+)$/; }
		close $fh;
	}
	if (open(my $fh, '<', "$work/$n.probe"))
	{
		while (<$fh>)
		{
			my ($t0, $t1, $rc, $rest) = /^(\S+) (\S+) (\d+) ?(.*)$/ or next;
			my $dt = $t1 - $t0;
			if ($rc == 0 && $rest =~ /^(-?\d+)$/)
			{
				print $hfh "$1\t$n probe\n";
				$probe_stall{ok} = $dt if $dt > $probe_stall{ok};
				$probe_count{ok}++;
				push @slowest, [ $dt, $n, $t0 - $t_start, 'ok' ];
			}
			elsif ($rc == 1)
			{
				# an SQL error: the call failed, how long did it take?
				$probe_stall{error} = $dt if $dt > $probe_stall{error};
				my $state = $rest =~ /ERROR:\s+([0-9A-Z]{5})/ ? $1 : '?';
				$probe_count{"error $state"}++;
				push @slowest, [ $dt, $n, $t0 - $t_start, "error $state" ];
			}
			else
			{
				$probe_count{'not connected'}++;
			}
		}
		close $fh;
	}
}
for my $f ('mallory.selected', 'mallory.hostile')
{
	open(my $fh, '<', "$work/$f") or next;
	while (<$fh>) { print $hfh "$1\tchaos_c $f\n" if /^(-?\d+)$/; }
	close $fh;
}
close $hfh;

my $check = $nodes[0];
$check->safe_psql('postgres', 'CREATE UNLOGGED TABLE history (v bigint, src text)');
for my $s (@spec)
{
	my $file = "$work/$s->{name}.taken";
	$s->{node}->safe_psql('postgres',
		"COPY (SELECT v, '$s->{name} insert' FROM taken) TO '$file'");
	$check->safe_psql('postgres', "COPY history FROM '$file'");
}
$check->safe_psql('postgres', "COPY history FROM '$hist'");

my ($values, $distinct) = split /\|/,
  $check->safe_psql('postgres', 'SELECT count(*), count(DISTINCT v) FROM history');
my $duplicates = $values - $distinct;
my $outside = $check->safe_psql('postgres',
	"SELECT count(*) FROM history WHERE v < $min OR v > $max");
my $by_source = $check->safe_psql('postgres',
	"SELECT string_agg(src || ' ' || n, ', ' ORDER BY src) FROM (SELECT src, count(*) n FROM history GROUP BY src) s");
my $dup_detail = $check->safe_psql('postgres', q{
	SELECT string_agg(v || ' (' || srcs || ')', E'\n' ORDER BY v) FROM (
		SELECT v, string_agg(src, ', ' ORDER BY src) srcs FROM history
		GROUP BY v HAVING count(*) > 1 ORDER BY v LIMIT 20) d});
my $dup_ranges = $duplicates == 0 ? '' : $check->safe_psql('postgres', q{
	SELECT min(v) || '..' || max(v) || ' (' || count(*) || ' values)' FROM (
		SELECT v FROM history GROUP BY v HAVING count(*) > 1) d});

#---------------------------------------------------------------------------
# Crashes: every "terminated by signal" must be a kill -9 of ours
#---------------------------------------------------------------------------
my @crashes;
for my $s (@spec)
{
	my $log = PostgreSQL::Test::Utils::slurp_file($s->{node}->logfile);
	for my $line (split /\n/, $log)
	{
		if ($line =~ /\(PID (\d+)\) was terminated by signal (\d+)/)
		{
			push @crashes, "$s->{name}: $line" unless $2 == 9 && $killed{$1};
		}
		elsif ($line =~ /PANIC:|TRAP:|terminated by exception|segmentation fault|double free|malloc\(\)|corrupted size/i
			&& $line !~ /LOG:\s+statement:/)
		{
			push @crashes, "$s->{name}: $line";
		}
	}
}

#---------------------------------------------------------------------------
# Figures and verdicts
#---------------------------------------------------------------------------
my $stall = $probe_stall{ok} > $probe_stall{error} ? $probe_stall{ok} : $probe_stall{error};
my $one_op = $max_attempts * $request_timeout_ms / 1000 + $max_attempts * $retry_max_delay_ms / 1000;
@slowest = (sort { $b->[0] <=> $a->[0] } @slowest)[ 0 .. 4];
@slowest = grep { defined } @slowest;

my $fmt_kinds = sub {
	my ($h) = @_;
	return join(', ', map { "$_ $h->{$_}" } sort keys %$h) || 'none';
};
diag(sprintf('measured: %d values from 3 clusters in %.0f s of chaos, %d rounds (%.0f s in all), %d duplicates, %d outside [%s, %s], seed %s',
	$values, $chaos_seconds, $rounds, time - $^T, $duplicates, $outside, $min, $max, $seed));
diag("measured: values by source: $by_source");
diag('measured: injected: ' . $fmt_kinds->(\%injected));
diag('measured: faults applied by the local DynamoDB: ' . $fmt_kinds->(\%applied)
	. sprintf(' (%d requests in its last run)', $final_stats->{total} // 0));
diag('measured: hostile statements of mallory: '
	  . join('; ', map { "$_: " . $fmt_kinds->($hostile_outcome{$_}) } sort keys %hostile_outcome));
diag(sprintf('measured: longest stall: %.2f s for a value, %.2f s for a failed call (request_timeout %.1f s x max_attempts %d = %.1f s per operation, with backoff %.1f s); probes: %s',
	$probe_stall{ok}, $probe_stall{error}, $request_timeout_ms / 1000, $max_attempts,
	$max_attempts * $request_timeout_ms / 1000, $one_op, $fmt_kinds->(\%probe_count)));
note(sprintf('slowest probe: %.2f s on %s at %.0f s (%s)', @$_)) for @slowest;

cmp_ok($values, '>=', $target, "at least $target values were taken");
is($duplicates, 0, 'no value was handed out twice')
  or diag("duplicated values ($dup_ranges):\n$dup_detail");
is($outside, 0, "every value lies within [$min, $max]");
is(scalar(@crashes), 0, 'no server process crashed other than by our kill -9')
  or diag(join("\n", @crashes[ 0 .. ($#crashes < 20 ? $#crashes : 19) ]));
is(scalar(@hostile_unexpected), 0, "every hostile statement of mallory that could repeat values was refused")
  or diag(join("\n", @hostile_unexpected));
for my $kind (map { $_->[0] } @fault_kinds)
{
	ok($injected{"fault: $kind"}, "fault injected at least once: $kind");
}
ok($injected{'kill -9 backend'} && $injected{'kill -9 refill worker'} && $injected{'immediate restart'},
	'backends and workers were killed, clusters restarted');
ok(grep({ /^DynamoDB stopped/ } keys %injected), 'DynamoDB was stopped and restarted with its data');

# the shared definition survived mallory
for my $s (@spec)
{
	is($s->{node}->safe_psql('postgres',
			"SELECT min_value || ' ' || max_value || ' ' || increment_by || ' ' || cycle FROM pg_sequences WHERE sequencename = 's'"),
		"$min $max 1 true", "$s->{name}: the sequence's definition is as it was");
}
is($mallory_node->safe_psql('postgres',
		"SELECT min_value || ' ' || max_value || ' ' || increment_by || ' ' || cycle FROM pg_sequences WHERE sequencename = 'ms'"),
	"$min $max 1 true", "chaos_c: mallory's own sequence's definition is as it was");
is($check->safe_psql('postgres',
		"SELECT concat_ws(' ', i->>'min_value', i->>'max_value', i->>'increment', i->>'cycle', jsonb_array_length(i->'clients')) FROM seqdist.counter_item('s') i"),
	"$min $max 1 true 4", 'the counter item keeps the agreed definition and its four clients');
my $pos = position($check);
ok(defined $pos && $pos >= $min && $pos <= $max, "the counter's position ($pos) lies within the bounds");
cmp_ok($check->safe_psql('postgres', 'SELECT max(v) FROM history'), '<=', $pos,
	'no value handed out lies beyond the counter');

done_testing();
