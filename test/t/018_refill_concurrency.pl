# Concurrent refills: the refill worker keeps several DynamoDB requests in
# flight at once, never more than seqdist.refill_concurrency.  Shown with a
# latency the local DynamoDB adds to every UpdateItem, which it counts in
# flight: right after a restart the worker, and nobody else, reserves a
# block for each sequence of the prewarm list.  Then under load with that
# latency every value is handed out once.
#
# Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
use strict;
use warnings;

use Time::HiRes qw(usleep);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SeqdistTest;

my $nseq = 40;
my $delay_ms = 300;
my $dynamo = start_dynamo();
my $node = new_node('refill_concurrency', $dynamo,
	conf => "seqdist.block_size = 100\n"
	  . "seqdist.refill_concurrency = 4\n"
	  . "seqdist.request_timeout = '5s'\n");
$node->safe_psql('postgres', q{
	CREATE EXTENSION seqdist;
	SELECT seqdist.create_table();
});
$node->safe_psql('postgres',
	join('', map { "CREATE SEQUENCE s$_; SELECT seqdist.register('s$_');\n" } 1 .. $nseq));
# Every sequence served once, so that all of them go into the prewarm list
# (a sequence not served since the instance started is left out), then a
# restart with the latency: the worker prewarms all of them, nobody asks.
# Returns (prewarmed, milliseconds, most requests in flight, UpdateItems).
sub restart_prewarmed
{
	$node->safe_psql('postgres',
		"SELECT seqdist.seqdist_nextval(('s' || i)::regclass) FROM generate_series(1, $nseq) i");
	my $offset = -s $node->logfile;
	$node->stop;
	dynamo_reset($dynamo);
	dynamo_faults($dynamo, { target => 'UpdateItem', mode => 'delay', ms => $delay_ms });
	$node->start;
	$node->wait_for_log(qr/seqdist prewarmed \d+ of \d+ sequences/, $offset);
	my $log = slurp_file($node->logfile, $offset);
	$log =~ /seqdist prewarmed (\d+) of (\d+) sequences of the prewarm list in (\d+) ms/
	  or die "no prewarm line in the log";
	my ($done, $listed, $ms) = ($1, $2, $3);
	is($listed, $nseq, "the prewarm list holds the $nseq sequences");
	my $stats = dynamo_stats($dynamo);
	dynamo_reset($dynamo);
	return ($done, $ms, $stats->{max_in_flight}, $stats->{by_operation}{UpdateItem}{total});
}

my ($done, $ms, $peak, $updates) = restart_prewarmed();
note("measured: refill_concurrency 4, $delay_ms ms: $done blocks in $ms ms, at most $peak requests in flight");
is($done, $nseq, 'the worker reserved a block for every sequence');
is($updates, $nseq, 'one UpdateItem per sequence, none repeated');
cmp_ok($peak, '>=', 2, 'several requests were in flight at once');
cmp_ok($peak, '<=', 4, 'never more than seqdist.refill_concurrency (4)');

$node->append_conf('postgresql.conf', "seqdist.refill_concurrency = 16\n");
($done, $ms, $peak, $updates) = restart_prewarmed();
note("measured: refill_concurrency 16, $delay_ms ms: $done blocks in $ms ms, at most $peak requests in flight");
is($done, $nseq, 'again a block for every sequence');
cmp_ok($peak, '>', 4, 'a larger bound lets more requests fly at once');
cmp_ok($peak, '<=', 16, 'never more than seqdist.refill_concurrency (16)');

$node->append_conf('postgresql.conf', "seqdist.refill_concurrency = 1\n");
($done, $ms, $peak, $updates) = restart_prewarmed();
note("measured: refill_concurrency 1, $delay_ms ms: $done blocks in $ms ms, at most $peak requests in flight");
is($peak, 1, 'with a bound of 1 the worker sends one request at a time');
is($done, $nseq, 'and still reserves every block');

# One descriptor per request in flight: with few descriptors the window
# stays within the third of them that PostgreSQL leaves to libraries
# (max_safe_fds / 3, below max_files_per_process / 3), whatever the setting.
$node->append_conf('postgresql.conf', "seqdist.refill_concurrency = 256\nmax_files_per_process = 75\n");
($done, $ms, $peak, $updates) = restart_prewarmed();
note("measured: refill_concurrency 256, max_files_per_process 75, $delay_ms ms: $done blocks in $ms ms, at most $peak requests in flight");
cmp_ok($peak, '<=', int(75 / 3), 'the window stays within the descriptors the worker may use');
is($done, $nseq, 'and every block is still reserved');
$node->append_conf('postgresql.conf', "max_files_per_process = 1000\n");

# Under load, with latency, values stay unique and nobody waits long: two
# clients insert into tables of all the sequences, through their primary keys.
$node->append_conf('postgresql.conf', "seqdist.refill_concurrency = 8\nseqdist.runway = '2s'\n");
$node->reload;
dynamo_faults($dynamo, { target => 'UpdateItem', mode => 'delay', ms => 50 });
$node->safe_psql('postgres', "CREATE TABLE t (sq int, id bigint, PRIMARY KEY (sq, id))");
my $script = "$PostgreSQL::Test::Utils::tmp_check/insert.sql";
PostgreSQL::Test::Utils::append_to_file($script,
	"\\set i random(1, $nseq)\n"
	  . "INSERT INTO t VALUES (:i, seqdist.seqdist_nextval(('s' || :i)::regclass));\n");
$node->command_ok(
	[
		'pgbench', '-n', '-c', '2', '-j', '2', '-T', '4',
		'-f', $script, '-h', $node->host, '-p', $node->port, 'postgres'
	],
	'load on all sequences with 50 ms of latency: every insert succeeds');
my $stats = dynamo_stats($dynamo);
note("measured: under load: at most $stats->{max_in_flight} requests in flight, "
	  . $node->safe_psql('postgres',
		"SELECT 'blocks by worker ' || sum(blocks_by_worker) || ', by backends ' || sum(blocks_by_backend) || ', errors ' || sum(errors) FROM seqdist.stats"));
cmp_ok($stats->{max_in_flight}, '<=', 8 + 2,
	'in flight at most: the bound, and one per client fetching for itself');
is($node->safe_psql('postgres', 'SELECT sum(errors) FROM seqdist.stats'), '0',
	'no refill failed');
cmp_ok($node->safe_psql('postgres', 'SELECT count(*) FROM t'), '>', 0, 'rows were inserted');

# A sliding window: a request that does not answer holds up no other.  The
# first UpdateItem of the prewarm hangs; the worker's other requests go on
# in the free places of the window, one after another, so all 40 reach the
# local DynamoDB while it hangs (in fixed batches, the others of its batch
# would end and the next batch would wait for it: 4 requests in all until
# the timeout, a minute away).  Once the rules change, the hanging request
# fails, is retried, and every sequence has its block.
$node->safe_psql('postgres',
	"SELECT seqdist.seqdist_nextval(('s' || i)::regclass) FROM generate_series(1, $nseq) i");
$node->append_conf('postgresql.conf',
	"seqdist.refill_concurrency = 4\nseqdist.request_timeout = '60s'\n");
my $offset = -s $node->logfile;
$node->stop;
dynamo_reset($dynamo);
dynamo_faults(
	$dynamo,
	{ target => 'UpdateItem', mode => 'hang', count => 1 },
	{ target => 'UpdateItem', mode => 'delay', ms => 50 });
$node->start;
my $arrived = 0;
# at most 20 s, well within the request timeout
for (my $until = time() + 20; time() < $until;)
{
	$stats = dynamo_stats($dynamo);
	$arrived = $stats->{by_operation}{UpdateItem}{total} // 0;
	last if $arrived >= $nseq && $stats->{in_flight} == 1;
	usleep(50_000);
}
note("measured: one request hanging: $arrived UpdateItems arrived, $stats->{in_flight} in flight");
is($arrived, $nseq, 'while one request hangs, the requests of every other sequence are sent');
is($stats->{in_flight}, 1, 'and answered: only the hanging one is left in flight');
cmp_ok($stats->{max_in_flight}, '<=', 4, 'never more than seqdist.refill_concurrency (4)');
unlike(slurp_file($node->logfile, $offset), qr/seqdist prewarmed/,
	'the prewarm waits for the hanging request');
dynamo_faults($dynamo);
$node->wait_for_log(qr/seqdist prewarmed \d+ of \d+ sequences/, $offset);
like(slurp_file($node->logfile, $offset),
	qr/seqdist prewarmed $nseq of $nseq sequences/,
	'once it fails and is retried, every sequence has its block');

done_testing();
