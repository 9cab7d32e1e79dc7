# The refill worker: in steady state no backend waits on DynamoDB; during an
# outage shorter than the runway inserts go on; when the runway is empty the
# error is prompt and clear; when DynamoDB is back everything recovers; the
# worker stops promptly and comes back when it dies.
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

# an outage shorter than the runway is invisible
dynamo_faults($dynamo, { target => '*', mode => 'down' });
my $before = $node->safe_psql('postgres', 'SELECT count(*) FROM t');
load(2, 'inserts go on during a 2 s outage');
cmp_ok($node->safe_psql('postgres', 'SELECT count(*) FROM t'), '>', $before + 500,
	'rows were inserted during the outage');
note('measured: during the outage: ' . slot_stat("'cached ' || cached_values || ', errors ' || errors || ', last error: ' || coalesce(last_error, '')"));

# empty the runway: a prompt, clear error
my $t0 = time;
my ($ret, $out, $err) = $node->psql('postgres',
	"SELECT count(seqdist.seqdist_nextval('s')) FROM generate_series(1, 1000000)",
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
my $took = time - $t0;
note(sprintf('measured: the runway ran out and the error came after %.2f s', $took));
like($err, qr/ERROR:  08006: could not reach DynamoDB/,
	'once the runway is used up: error 08006, DynamoDB could not be reached');
cmp_ok($took, '<', 30, 'the failure is prompt (bounded by the request timeout), not a hang');

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
# postmaster starts a new one
dynamo_faults($dynamo, { target => 'UpdateItem', mode => 'hang' });
$node->safe_psql('postgres', "SELECT count(seqdist.seqdist_nextval('s')) FROM generate_series(1, 200)");
my $pid = $node->safe_psql('postgres',
	"SELECT pid FROM pg_stat_activity WHERE backend_type = 'seqdist refill'");
$t0 = time;
$node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)");
ok($node->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $pid"),
	'the worker exits on SIGTERM');
note(sprintf('measured: the worker exited %.2f s after SIGTERM', time - $t0));
cmp_ok(time - $t0, '<', 2, 'it exits promptly');
dynamo_faults($dynamo);
ok($node->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'seqdist refill' AND pid <> $pid"),
	'the postmaster starts a new worker');

# DROP DATABASE does not wait for the worker
$node->safe_psql('postgres', 'CREATE DATABASE scratch');
$node->safe_psql('postgres', 'DROP DATABASE scratch');
pass('DROP DATABASE completes with the worker running');

done_testing();
