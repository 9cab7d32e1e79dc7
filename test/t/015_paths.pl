# The paths that only a particular timing reaches, each set up on purpose:
# the instance cache full of slots that are all reserving (53400), a block
# reservation whose slot was discarded while it was in flight, and the
# refill worker refilling a fixed-size sequence, filling an empty current
# block, rate-limiting its failure log with a count of what it suppressed,
# and reloading its configuration on SIGHUP.
#
# Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(usleep);
use SeqdistTest;

my $dynamo = start_dynamo();

# A session running $sql in the background; returns its harness and outputs.
sub background
{
	my ($node, $sql) = @_;
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start(
		[
			'psql', '-X', '-q', '-A', '-t', '-h', $node->host, '-p', $node->port,
			'-d', 'postgres', '-c', $sql
		],
		'>', \$out, '2>', \$err);
	return { h => $h, out => \$out, err => \$err };
}

# Sessions whose statement matches $like and that wait on seqdist
sub waiting
{
	my ($node, $like) = @_;
	return $node->safe_psql('postgres', qq{
		SELECT count(*) FROM pg_stat_activity
		WHERE query LIKE '$like' AND pid <> pg_backend_pid()
		  AND wait_event_type = 'Extension'});
}

sub stat_of
{
	my ($node, $seq, $column) = @_;
	return $node->safe_psql('postgres',
		"SELECT $column FROM seqdist.stats WHERE sequence = '$seq'::regclass");
}

#---- the instance cache full of reserving slots -----------------------------

# one value per request, so that every first value is a reservation
my $full = new_node('full', $dynamo,
	conf => "seqdist.max_sequences = 16\nseqdist.refill = off\n"
	  . "seqdist.block_size = 1\nseqdist.max_block_size = 1\n");
$full->safe_psql('postgres', q{
	CREATE EXTENSION seqdist;
	SELECT seqdist.create_table();
	DO $$
	BEGIN
		FOR i IN 1 .. 17 LOOP
			EXECUTE format('CREATE SEQUENCE s%s', i);
			PERFORM seqdist.register(format('s%s', i)::regclass);
		END LOOP;
	END $$;
});

# 16 sessions, one per slot, each with its reservation hanging in DynamoDB
dynamo_faults($dynamo, { target => 'UpdateItem', mode => 'hang' });
my @sessions = map {
	background($full, "SET seqdist.request_timeout = '60s'; SELECT seqdist.seqdist_nextval('s$_') AS slot_$_")
} 1 .. 16;
ok($full->poll_query_until('postgres', q{
		SELECT count(*) = 16 FROM pg_stat_activity
		WHERE query LIKE '%AS slot_%' AND pid <> pg_backend_pid() AND wait_event_type = 'Extension'}),
	'16 sessions each reserve a block for their own sequence, all in flight');
is(dynamo_stats($dynamo)->{hanging}, 16, 'the 16 reservations hang in DynamoDB');
my ($ret, $out, $err) = $full->psql('postgres', "SELECT seqdist.seqdist_nextval('s17')",
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/ERROR:  53400: seqdist's instance cache is full/,
	'a 17th sequence while every slot is reserving: 53400');
like($err, qr/DETAIL:  All 16 slots are reserving a block right now\.\n.*HINT:  Raise seqdist\.max_sequences/,
	'the detail counts the slots, the hint names the setting');
dynamo_faults($dynamo);
$_->{h}->finish for @sessions;
is(join(',', map { ${ $_->{out} } =~ s/\s+//gr } @sessions), join(',', (1) x 16),
	'once DynamoDB answers, each of the 16 sessions gets its first value');
is($full->safe_psql('postgres', "SELECT seqdist.seqdist_nextval('s17')"), '1',
	'and the 17th sequence takes over an idle slot');

#---- a reservation whose slot was discarded while it was in flight ----------

$full->safe_psql('postgres', q{
	CREATE SEQUENCE d;
	SELECT seqdist.register('d');
	SELECT seqdist.set_block_size('d', 10);
});
# A reserves a block of 10 for d from the tests' table, and hangs
dynamo_faults($dynamo, { target => 'UpdateItem', mode => 'hang', count => 1 });
my $a = background($full,
	"SET seqdist.request_timeout = '60s'; SELECT seqdist.seqdist_nextval('d') AS from_a");
ok($full->poll_query_until('postgres', q{
		SELECT count(*) = 1 FROM pg_stat_activity
		WHERE query LIKE '%AS from_a%' AND wait_event_type = 'Extension'})
	  && dynamo_stats($dynamo)->{hanging} == 1,
	'session A has its reservation in flight');
# B names another table: the slot takes B's definition, discarding what
# was reserved under A's, and B waits for A's reservation to end
my $b = background($full,
	"SET seqdist.table_name = 'seqdist_elsewhere'; SELECT seqdist.seqdist_nextval('d') AS from_b");
ok($full->poll_query_until('postgres', q{
		SELECT count(*) = 1 FROM pg_stat_activity
		WHERE query LIKE '%AS from_b%' AND wait_event_type = 'Extension'}),
	'session B, with another store, waits for the slot while A reserves');
dynamo_faults($dynamo);    # A's request is closed; its retry is answered
$a->{h}->finish;
$b->{h}->finish;
is(${ $a->{out} } =~ s/\s+//gr, '1', 'A gets the first value of the block it reserved');
like(${ $b->{err} }, qr/seqdist_elsewhere/,
	'B is not handed a value of A\'s block: it reserves from its own table (which does not exist)');
is(${ $b->{out} }, '', 'B got no value');
is($full->safe_psql('postgres', "SELECT seqdist.seqdist_nextval('d')"), '11',
	'the rest of A\'s block (2 .. 10) was dropped with the slot: a gap');
$full->stop;

#---- the refill worker ------------------------------------------------------

my $node = new_node('worker', $dynamo,
	conf => "seqdist.block_size = 100\nseqdist.runway = '2s'\n"
	  . "seqdist.request_timeout = '500ms'\nseqdist.max_attempts = 2\n");
$node->safe_psql('postgres', q{
	CREATE EXTENSION seqdist;
	SELECT seqdist.create_table();
	CREATE SEQUENCE f;
	SELECT seqdist.register('f');
	SELECT seqdist.set_block_size('f', 77);
	CREATE SEQUENCE e CACHE 50;
	SELECT seqdist.register('e');
	SELECT seqdist.set_block_size('e', 50);
	CREATE SEQUENCE g;
	SELECT seqdist.register('g');
	SELECT seqdist.set_block_size('g', 1000);
	CREATE SEQUENCE h;
	SELECT seqdist.register('h');
	SELECT seqdist.set_block_size('h', 20);
	CREATE FUNCTION position_of(seq regclass) RETURNS bigint LANGUAGE sql
		AS $$ SELECT (seqdist.counter_item(seq) ->> 'last_value')::bigint $$;
});
ok($node->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'seqdist refill'"),
	'the refill worker runs');

# pgbench taking values of $seq at $rate per second for $seconds
sub demand
{
	my ($seq, $rate, $seconds, $name) = @_;
	my $script = "$PostgreSQL::Test::Utils::tmp_check/take_$seq.sql";
	PostgreSQL::Test::Utils::append_to_file($script,
		"SELECT seqdist.seqdist_nextval('$seq');\n")
	  unless -e $script;
	$node->command_ok(
		[
			'pgbench', '-n', '-c', '1', '-R', $rate, '-T', $seconds, '-f', $script,
			'-h', $node->host, '-p', $node->port, 'postgres'
		],
		$name);
}

# a fixed-size sequence is refilled in blocks of its own size
demand('f', 200, 2, 'demand on a sequence with a block size of 77');
ok($node->poll_query_until('postgres',
		"SELECT blocks_by_worker > 0 FROM seqdist.stats WHERE sequence = 'f'::regclass"),
	'the worker refilled the fixed-size sequence');
my $position = $node->safe_psql('postgres', "SELECT position_of('f')");
note('measured: ' . stat_of($node, 'f', "'blocks by worker ' || blocks_by_worker || ', by backends ' || blocks_by_backend") . ", counter at $position");
is($position % 77, 0, "every block, the worker's too, was 77 values: the counter is at a multiple of 77 ($position)");

# A sequence whose backends take whole blocks (CACHE 50, blocks of 50)
# leaves the slot's current block empty; the worker fills it, and the next
# session is served from it without a reservation of its own.
for (1 .. 15)
{
	$node->safe_psql('postgres', "SELECT seqdist.seqdist_nextval('e')");
	usleep(50_000);
}
ok($node->poll_query_until('postgres',
		"SELECT cached_values >= 50 AND blocks_by_worker > 0 FROM seqdist.stats WHERE sequence = 'e'::regclass"),
	'the worker filled the empty current block of a sequence whose backends take whole blocks');
my $backend_blocks = stat_of($node, 'e', 'blocks_by_backend');
my $next = $node->safe_psql('postgres', "SELECT seqdist.seqdist_nextval('e')");
is(stat_of($node, 'e', 'blocks_by_backend'), $backend_blocks,
	'the next session is served from that block, with no reservation of its own');
is(($next - 1) % 50, 0, "it starts a block of 50 ($next)");

# SIGHUP: the worker reloads its configuration.  seqdist.refill = off in
# the configuration file stops its reservations, on again restarts them.
$node->safe_psql('postgres', 'ALTER SYSTEM SET seqdist.refill = off');
$node->safe_psql('postgres', 'SELECT pg_reload_conf()');
usleep(1_000_000);    # the worker reads its latch every 100 ms
demand('h', 100, 2, 'demand while seqdist.refill is off');
note('measured: refill off: ' . stat_of($node, 'h', "'blocks by worker ' || blocks_by_worker || ', by backends ' || blocks_by_backend || ', rate ' || values_per_second"));
cmp_ok(stat_of($node, 'h', 'values_per_second'), '>=', 1,
	'there was demand the worker would refill for');
is(stat_of($node, 'h', 'blocks_by_worker'), '0',
	'after the reload with seqdist.refill = off the worker reserves nothing');
$node->safe_psql('postgres', 'ALTER SYSTEM RESET seqdist.refill');
$node->safe_psql('postgres', 'SELECT pg_reload_conf()');
usleep(1_000_000);
demand('h', 100, 2, 'demand after seqdist.refill is on again');
cmp_ok(stat_of($node, 'h', 'blocks_by_worker'), '>', 0,
	'after the reload with seqdist.refill on the worker reserves again');

# Failures are logged at most once every 10 s, and the next line counts what
# was suppressed.  An outage before any spare block of g exists: the worker
# fails over and over while values are taken from g's current block.
$node->safe_psql('postgres', "SELECT seqdist.seqdist_nextval('g')");
dynamo_faults($dynamo, { target => '*', mode => 'down' });
demand('g', 20, 11, 'an 11 s outage, values from the current block');
# the worker goes on failing while the demand it measured decays
my $suppressed = qr/could not reserve a block of counter "[^"]*" ahead of need: could not reach DynamoDB[^\n]*\n[^\n]*DETAIL:  [1-9]\d* similar messages were suppressed in the last 10 seconds\./;
my $log;
for (1 .. 100)
{
	$log = slurp_file($node->logfile);
	last if $log =~ $suppressed;
	usleep(100_000);
}
my @lines = $log =~ /could not reserve a block of counter "[^"]*" ahead of need/g;
note('measured: ' . scalar(@lines) . ' log lines about failed refills in the outage, '
	  . stat_of($node, 'g', "'errors ' || errors"));
like($log, $suppressed, 'the next failure logged after 10 s counts the ones suppressed');
cmp_ok(scalar(@lines), '<=', 3, 'at most one line per 10 s (and the first)');
dynamo_faults($dynamo);

done_testing();
