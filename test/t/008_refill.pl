# The refill worker: in steady state no backend waits on DynamoDB; during an
# outage shorter than the runway inserts go on; when the runway is empty the
# error is prompt and clear; when DynamoDB is back everything recovers; the
# worker stops promptly and comes back when it dies.
#
# Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);
use SeqdistTest;

my $dynamo = start_dynamo();
my $node = new_node('refill', $dynamo,
	conf => "seqdist.block_size = 100\n"
	  . "seqdist.runway = '4s'\n"
	  . "seqdist.request_timeout = '500ms'\n"
	  . "seqdist.max_attempts = 2\n");
$node->safe_psql('postgres', q{
	CREATE EXTENSION seqdist;
	SELECT seqdist.create_table();
	CREATE SEQUENCE s;
	SELECT seqdist.register('s');
	CREATE TABLE t (id bigint PRIMARY KEY DEFAULT seqdist.seqdist_nextval('s'), at timestamptz DEFAULT clock_timestamp());
});

ok($node->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'seqdist refill'"),
	'the refill worker runs and shows in pg_stat_activity');

my $script = "$PostgreSQL::Test::Utils::tmp_check/insert.sql";
PostgreSQL::Test::Utils::append_to_file($script, "INSERT INTO t DEFAULT VALUES;\n");

# a steady load of about 400 inserts per second
sub load
{
	my ($seconds, $name) = @_;
	$node->command_ok(
		[
			'pgbench', '-n', '-c', '2', '-j', '2', '-R', '400', '-T', $seconds,
			'-f', $script, '-h', $node->host, '-p', $node->port, 'postgres'
		],
		$name);
}

sub slot_stat
{
	my ($column) = @_;
	return $node->safe_psql('postgres',
		"SELECT $column FROM seqdist.stats WHERE sequence = 's'::regclass");
}

load(3, 'warm-up load');
$node->safe_psql('postgres', 'SELECT seqdist.stats_reset()');
load(3, 'steady load');
is(slot_stat('backend_waits'), '0', 'in steady state no backend waited for DynamoDB');
cmp_ok(slot_stat('blocks_by_worker'), '>', 0, 'the worker reserved the blocks ahead of need');
note('measured: steady state: ' . slot_stat("'blocks by worker ' || blocks_by_worker || ', by backends ' || blocks_by_backend || ', block size ' || block_size || ', rate ' || values_per_second || '/s, runway ' || runway_seconds || ' s'"));

# An outage shorter than the runway is invisible.  First the precondition:
# the instance holds more values than the outage's load takes (600 inserts,
# 1.5 s at 400 per second), then exactly that load runs during the outage.
ok($node->poll_query_until('postgres',
		"SELECT cached_values >= 700 FROM seqdist.stats WHERE sequence = 's'::regclass"),
	'before the outage the instance holds more than 600 values')
  or diag($node->safe_psql('postgres', 'SELECT * FROM seqdist.stats'));
note('measured: before the outage: ' . slot_stat("'cached ' || cached_values"));
dynamo_faults($dynamo, { target => '*', mode => 'down' });
my $before = $node->safe_psql('postgres', 'SELECT count(*) FROM t');
my $errors_before = slot_stat('errors');
$node->command_ok(
	[
		'pgbench', '-n', '-c', '2', '-j', '2', '-R', '400', '-t', '300',
		'-f', $script, '-h', $node->host, '-p', $node->port, 'postgres'
	],
	'every insert succeeds during the outage');
is($node->safe_psql('postgres', 'SELECT count(*) FROM t') - $before, 600,
	'all 600 rows were inserted during the outage');
note('measured: during the outage: ' . slot_stat("'cached ' || cached_values || ', errors ' || errors || ', last error: ' || coalesce(last_error, '')"));

# empty the runway: a prompt, clear error
my $cached = slot_stat('cached_values');
my $t0 = time;
my ($ret, $out, $err) = $node->psql('postgres',
	"SELECT count(seqdist.seqdist_nextval('s')) FROM generate_series(1, 100000)",
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
my $took = time - $t0;
note(sprintf('measured: the runway (%d values) ran out and the error came after %.2f s',
		$cached, $took));
cmp_ok($cached, '<', 100000, 'the statement asks for more values than the instance holds');
like($err, qr/ERROR:  08006: could not reach DynamoDB/,
	'once the runway is used up: error 08006, DynamoDB could not be reached');
# the README's bound: seqdist.request_timeout x seqdist.max_attempts (2 x 500 ms
# here), and the backoff between the attempts
cmp_ok($took, '<', 1.1, 'the failure is prompt (bounded by request_timeout x max_attempts), not a hang');

# the worker keeps trying meanwhile, and the view says what goes wrong
ok($node->poll_query_until('postgres',
		"SELECT errors > 0 AND last_error LIKE 'could not reach DynamoDB%' FROM seqdist.stats WHERE sequence = 's'::regclass"),
	'seqdist.stats shows the refill errors and the last one');
usleep(1_500_000);

# DynamoDB is back
dynamo_faults($dynamo);
$t0 = time;
is($node->safe_psql('postgres', "SELECT seqdist.seqdist_nextval('s') > 0"), 't',
	'seqdist_nextval succeeds as soon as DynamoDB answers');
my $worker_blocks = slot_stat('blocks_by_worker');
load(2, 'load after the outage');
ok($node->poll_query_until('postgres',
		"SELECT blocks_by_worker > $worker_blocks FROM seqdist.stats WHERE sequence = 's'::regclass"),
	'the worker reserves blocks again')
  or diag($node->safe_psql('postgres', "SELECT * FROM seqdist.stats"));
note(sprintf('measured: worker refilling again %.2f s after DynamoDB came back', time - $t0));

is($node->safe_psql('postgres', 'SELECT count(*) = count(DISTINCT id) FROM t'), 't',
	'no value was handed out twice through all of this');

# the refill failures were logged, but not once per attempt
my $logged = () = PostgreSQL::Test::Utils::slurp_file($node->logfile) =~
  /could not reserve a block of counter/g;
note("measured: $logged log lines about failed refills");
cmp_ok($logged, '>=', 1, 'the refill failure was logged');
cmp_ok($logged, '<=', 3, 'refill failures are rate-limited in the log');

# SIGTERM stops the worker promptly, even with a request in flight; the
# postmaster starts a new one.  Take values until the worker, reserving the
# next spare block, has a request hanging in DynamoDB.
dynamo_faults($dynamo, { target => 'UpdateItem', mode => 'hang' });
my $pid = $node->safe_psql('postgres',
	"SELECT pid FROM pg_stat_activity WHERE backend_type = 'seqdist refill'");
my $in_flight = 0;
for (1 .. 100)
{
	$node->psql('postgres', "SELECT count(seqdist.seqdist_nextval('s')) FROM generate_series(1, 50)");
	$in_flight = $node->safe_psql('postgres', qq{
		SELECT count(*) FROM pg_stat_activity
		WHERE pid = $pid AND wait_event_type = 'Extension'}) eq '1'
	  && dynamo_stats($dynamo)->{hanging} >= 1;
	last if $in_flight;
	usleep(50_000);
}
ok($in_flight, 'the worker has a request in flight (its wait event, and a request hangs in DynamoDB)');
# measured in the server, from the signal to the worker gone from
# pg_stat_activity, so that no client start-up is counted
$node->safe_psql('postgres', q{
	CREATE FUNCTION terminate_and_wait(p int) RETURNS float8 LANGUAGE plpgsql AS $$
	DECLARE t0 timestamptz := clock_timestamp();
	BEGIN
		PERFORM pg_terminate_backend(p);
		LOOP
			PERFORM pg_stat_clear_snapshot();
			EXIT WHEN NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = p)
				OR clock_timestamp() - t0 > interval '30 s';
			PERFORM pg_sleep(0.005);
		END LOOP;
		RETURN extract(epoch FROM clock_timestamp() - t0);
	END $$});
my $exit_took = $node->safe_psql('postgres', "SELECT terminate_and_wait($pid)");
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_stat_activity WHERE pid = $pid"),
	'0', 'the worker exits on SIGTERM');
note(sprintf('measured: the worker exited %.3f s after SIGTERM', $exit_took));
cmp_ok($exit_took, '<', 0.5, 'it exits promptly (within 0.5 s), its request abandoned');
dynamo_faults($dynamo);
ok($node->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'seqdist refill' AND pid <> $pid"),
	'the postmaster starts a new worker');

# DROP DATABASE does not wait for the worker (which absorbs the barrier it
# waits for), nor stop it
$pid = $node->safe_psql('postgres',
	"SELECT pid FROM pg_stat_activity WHERE backend_type = 'seqdist refill'");
$node->safe_psql('postgres', 'CREATE DATABASE scratch');
my ($drop_ret) = $node->psql('postgres', 'DROP DATABASE scratch', timeout => 20);
is($drop_ret, 0, 'DROP DATABASE completes with the worker running');
is($node->safe_psql('postgres',
		"SELECT pid FROM pg_stat_activity WHERE backend_type = 'seqdist refill'"),
	$pid, 'and the worker that ran before it still runs');

done_testing();
