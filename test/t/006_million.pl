# 8 backends take 1,000,000 values from one sequence as fast as they can:
# no duplicate, every value within the bounds, instance-wide monotonic order
# (a value handed out after another call finished is larger than that
# call's), and DynamoDB asked once per block.
#
# Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SeqdistTest;

my $clients = 8;
my $per_txn = 1000;
my $txns = 125;    # per client
my $total = $clients * $txns * $per_txn;
my $block = 1000;

my $dynamo = start_dynamo();
my $node = new_node('million', $dynamo,
	conf => "seqdist.block_size = $block\nseqdist.max_block_size = $block\nseqdist.refill = off\n");
$node->safe_psql('postgres', q{
	CREATE EXTENSION seqdist;
	SELECT seqdist.create_table();
	CREATE SEQUENCE hot MINVALUE 1000 MAXVALUE 2000000;
	SELECT seqdist.register('hot');
	CREATE UNLOGGED TABLE taken (t0 timestamptz, v bigint, t1 timestamptz);
});
dynamo_reset($dynamo);

my $script = "$PostgreSQL::Test::Utils::tmp_check/take.sql";
PostgreSQL::Test::Utils::append_to_file($script,
	"INSERT INTO taken SELECT clock_timestamp(), seqdist.seqdist_nextval('hot'), clock_timestamp() "
	  . "FROM generate_series(1, $per_txn);\n");
my $t0 = time;
$node->command_ok(
	[
		'pgbench', '-n', '-c', $clients, '-j', '2', '-t', $txns, '-f', $script,
		'-h', $node->host, '-p', $node->port, 'postgres'
	],
	"pgbench: $clients clients take $total values");
note(sprintf('measured: %d values in %d s with %d clients', $total, time - $t0, $clients));

is($node->safe_psql('postgres', 'SELECT count(*), count(DISTINCT v) FROM taken'),
	"$total|$total", "$total values, all distinct");
is($node->safe_psql('postgres',
		'SELECT count(*) FROM taken WHERE v < 1000 OR v > 2000000'),
	'0', 'every value is within MINVALUE and MAXVALUE');

# A violation is a value v whose call started after a call that returned a
# larger value had already finished.
is( $node->safe_psql(
		'postgres', q{
		SELECT count(*) FROM (
			SELECT t0, min(t1) OVER (ORDER BY v DESC ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS later_min_t1
			FROM taken) s
		WHERE later_min_t1 < t0}),
	'0',
	'instance-wide monotonic: no call got a smaller value than a call that finished before it began');

my $stats = dynamo_stats($dynamo);
my $updates = $stats->{by_operation}{UpdateItem}{total} // 0;
note("measured: $updates UpdateItem requests for $total values (block size $block)");
cmp_ok($updates, '>=', $total / $block, 'at least one request per block');
cmp_ok($updates, '<=', $total / $block + 2, 'requests = values / block size, plus at most a few');
my $max = $node->safe_psql('postgres', 'SELECT max(v) FROM taken');
my $position = $node->safe_psql('postgres',
	"SELECT seqdist.counter_item('hot') ->> 'last_value'");
cmp_ok($position - $max, '<', $block, 'the unused end of the last block is smaller than a block');

done_testing();
