# The definition a counter's clients agree on is what the counter item
# records, and only a committed change of it counts: a refused ALTER leaves
# nothing behind (not in the item, not in the instance cache that the
# refill worker reserves under), a rolled-back ALTER or DROP changes nothing
# on the counter, and a wrap-around happens only between the bounds every
# cycling client agreed on.
#
# Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use JSON::PP;
use SeqdistTest;

my $dynamo = start_dynamo();
my $node = new_node('shared_definition', $dynamo,
	conf => "seqdist.refill = on\nseqdist.runway = '1s'\n"
	  . "seqdist.retry_base_delay = '5ms'\nmax_prepared_transactions = 2\n");
$node->safe_psql('postgres', q{
	CREATE EXTENSION seqdist;
	SELECT seqdist.create_table();
	CREATE ROLE mallory LOGIN;
	GRANT USAGE ON SCHEMA seqdist TO mallory;
	GRANT SELECT ON ALL TABLES IN SCHEMA seqdist TO mallory;
});

sub q1 { return $node->safe_psql('postgres', $_[0]); }

sub counter_position
{
	my ($seq) = @_;
	return q1("SELECT (seqdist.counter_item('$seq') ->> 'last_value')::numeric");
}

# Every value handed out so far, by sequence: no value may come twice
my %seen;
my $duplicates = 0;
sub take
{
	my ($seq, $n) = @_;
	my @v = split /\n/, q1("SELECT seqdist.seqdist_nextval('$seq') FROM generate_series(1, $n)");
	for (@v) { $duplicates++ if $seen{$_}++; }
	return @v;
}

# 1. A refused ALTER of one sharer must not leave its definition in the
#    instance cache: the refill worker would reserve under it and wrap the
#    shared counter around to MINVALUE.
q1(q{
	CREATE SEQUENCE dba_seq MINVALUE 1000 MAXVALUE 1000000 CYCLE;
	CREATE SEQUENCE team_seq MINVALUE 1000 MAXVALUE 1000000 CYCLE;
	ALTER SEQUENCE team_seq OWNER TO mallory;
	SELECT seqdist.register('dba_seq', 'tap-refused');
	SELECT seqdist.register('team_seq', 'tap-refused');
});
take('dba_seq', 5000);
take('team_seq', 500);    # team_seq's slot has demand: the worker refills it
my ($ret, $out, $err) = $node->psql('postgres',
	"SET ROLE mallory; ALTER SEQUENCE team_seq MAXVALUE 1100 CYCLE");
like($err, qr/ERROR:  RESTART value \(\d+\) cannot be greater than MAXVALUE \(1100\)/,
	'a MAXVALUE behind the shared position is refused');
is(q1("SELECT max_value FROM pg_sequences WHERE sequencename = 'team_seq'"), '1000000',
	'the refused ALTER left the native definition as it was');

# keep team_seq busy so that the worker reserves for it several times
my $before = counter_position('team_seq');
for (1 .. 20)
{
	take('team_seq', 200);
	last if counter_position('team_seq') > $before + 5000;
	sleep 1;
}
my $after = counter_position('team_seq');
note("measured: counter moved from $before to $after after the refused ALTER");
cmp_ok($after, '>', $before, 'the counter never moved back after the refused ALTER');
take('dba_seq', 2000);
take('team_seq', 2000);
is($duplicates, 0, 'no value was handed out twice after the refused ALTER');
is(q1("SELECT seqdist.counter_item('team_seq') ->> 'max_value'"), '1000000',
	'the counter item keeps the agreed MAXVALUE');

# 2. A wrap-around only between the bounds recorded in the item: a sole
#    client whose ALTER has not committed yet cannot wrap under new bounds.
q1(q{
	CREATE SEQUENCE solo MINVALUE 1 MAXVALUE 1000 CYCLE;
	SELECT seqdist.register('solo', 'tap-solo');
	SELECT seqdist.seqdist_setval('solo', 50);
});
($ret, $out, $err) = $node->psql('postgres', q{
	BEGIN;
	ALTER SEQUENCE solo MAXVALUE 60;
	SELECT seqdist.seqdist_nextval('solo') FROM generate_series(1, 20);
	COMMIT;
});
like($err, qr/cannot wrap counter "tap-solo" of sequence "solo" around.*\n.*DETAIL:  The counter cycles between 1 and 1000, the sequence between 1 and 60/,
	'no wrap-around between bounds the counter item does not record');
is(q1("SELECT seqdist.counter_item('solo') ->> 'max_value'"), '1000',
	'the rolled-back ALTER left the counter item as it was');

# 3. A rolled-back ALTER changes nothing in the counter item
q1(q{
	CREATE SEQUENCE nocycle MINVALUE 1 MAXVALUE 100000;
	SELECT seqdist.register('nocycle', 'tap-rollback');
	SELECT seqdist.seqdist_nextval('nocycle');
});
q1(q{BEGIN; ALTER SEQUENCE nocycle CYCLE; ROLLBACK;});
is(q1("SELECT seqdist.counter_item('nocycle') ->> 'cycle'"), 'false',
	'ALTER ... CYCLE rolled back: the counter item does not allow CYCLE');
q1(q{BEGIN; SAVEPOINT a; ALTER SEQUENCE nocycle CYCLE; ROLLBACK TO a; COMMIT;});
is(q1("SELECT seqdist.counter_item('nocycle') ->> 'cycle'"), 'false',
	'ALTER ... CYCLE in a rolled-back savepoint: not recorded');
q1(q{BEGIN; SAVEPOINT a; ALTER SEQUENCE nocycle MAXVALUE 90000; RELEASE a; COMMIT;});
is(q1("SELECT seqdist.counter_item('nocycle') ->> 'max_value'"), '90000',
	'ALTER in a released savepoint is recorded at commit');
q1(q{CREATE SEQUENCE joiner MINVALUE 1 MAXVALUE 100000 CYCLE});
($ret, $out, $err) = $node->psql('postgres', "SELECT seqdist.register('joiner', 'tap-rollback')");
like($err, qr/CYCLE/, 'a cycling sequence cannot join the non-cycling counter');

# the committed ALTER reached the instance cache: the worker reserves under it
q1(q{SELECT seqdist.seqdist_setval('nocycle', 89990)});
is(q1(q{SELECT string_agg(seqdist.seqdist_nextval('nocycle')::text, ',') FROM generate_series(1, 10)}),
	join(',', 89991 .. 90000), 'values up to the altered MAXVALUE');
($ret, $out, $err) = $node->psql('postgres', "SELECT seqdist.seqdist_nextval('nocycle')");
like($err, qr/reached maximum value of sequence "nocycle" \(90000\)/,
	'then the altered MAXVALUE is reached');

# 4. The check is made again at commit: a client that joined meanwhile
#    makes the ALTER fail at COMMIT, with nothing recorded
q1(q{
	CREATE SEQUENCE first_one MINVALUE 1 MAXVALUE 100000;
	CREATE SEQUENCE second_one MINVALUE 1 MAXVALUE 100000;
	SELECT seqdist.register('first_one', 'tap-late-join');
});
my $session = $node->background_psql('postgres', on_error_stop => 0);
$session->query_safe('BEGIN');
$session->query_safe('ALTER SEQUENCE first_one CYCLE');
q1(q{SELECT seqdist.register('second_one', 'tap-late-join')});
$session->query('COMMIT');
like($session->{stderr}, qr/cannot change CYCLE of counter "tap-late-join" of sequence "first_one": other clients share it/,
	'the COMMIT of an ALTER that a joiner made unsafe fails');
$session->quit;
is(q1("SELECT seqdist.counter_item('first_one') ->> 'cycle'"), 'false',
	'and the counter item does not allow CYCLE');
is(q1("SELECT max_value || ' ' || cycle FROM pg_sequences WHERE sequencename = 'first_one'"),
	'100000 false', 'and the native sequence is as it was');

# 5. PREPARE TRANSACTION of a pending change is refused
($ret, $out, $err) = $node->psql('postgres', q{
	BEGIN; ALTER SEQUENCE first_one MAXVALUE 99999; PREPARE TRANSACTION 'p1';
});
like($err, qr/cannot PREPARE a transaction that altered or dropped a sequence registered with seqdist/,
	'PREPARE TRANSACTION after ALTER of a registered sequence is refused');

# 6. A rolled-back DROP leaves the sequence a client of its counter; a
#    committed one removes it
q1(q{BEGIN; DROP SEQUENCE second_one; ROLLBACK;});
is(q1("SELECT jsonb_array_length(seqdist.counter_item('first_one') -> 'clients')"), '2',
	'DROP rolled back: both sequences are still clients');
q1(q{DROP SEQUENCE second_one});
is(q1("SELECT jsonb_array_length(seqdist.counter_item('first_one') -> 'clients')"), '1',
	'DROP committed: the dropped sequence left the counter');

# 7. A forward setval whose answer was lost, while another client joined
#    (replacing the item's write token) and reserved before the retry:
#    setval succeeds, and the counter never goes back
q1(q{
	CREATE SEQUENCE fw1; CREATE SEQUENCE fw2;
	SELECT seqdist.register('fw1', 'tap-forward');
});
dynamo_reset($dynamo);
dynamo_faults($dynamo,
	{ target => 'UpdateItem', mode => 'after_forward_reset', count => 1 },
	{ target => 'UpdateItem', mode => 'delay', ms => 3000, count => 1 });
my ($bg_out, $bg_err) = ('', '');
my $bg = IPC::Run::start(
	[ 'psql', '-XAtq', '-d', $node->connstr('postgres'), '-c',
		"SELECT seqdist.seqdist_setval('fw1', 50000)" ],
	'>', \$bg_out, '2>', \$bg_err);
# wait until the lost answer and the delayed retry have both been seen
my $stats;
for (1 .. 100)
{
	$stats = dynamo_stats($dynamo);
	last if ($stats->{by_fault}{delay} // 0) >= 1;
	select(undef, undef, undef, 0.05);
}
is($stats->{by_fault}{after_forward_reset} // 0, 1, 'the setval was applied and its answer lost');
is($stats->{by_fault}{delay} // 0, 1, 'its retry is held back');
dynamo_faults($dynamo);
q1(q{SELECT seqdist.register('fw2', 'tap-forward')});
my $taken = q1(q{SELECT seqdist.seqdist_nextval('fw2')});
$bg->finish;
is($bg_err, '', 'the forward setval succeeds') or diag($bg_err);
cmp_ok($taken, '>', 50000, 'the joiner reserved beyond the setval position');
cmp_ok(q1(q{SELECT seqdist.seqdist_nextval('fw1')}), '>', $taken,
	'and the counter did not move back under it');

# 8. Who may change a shared counter: the increment only by its sole
#    client; a move of a shared counter, even forward, only by a superuser
q1(q{
	CREATE SEQUENCE inc_a; CREATE SEQUENCE inc_b;
	SELECT seqdist.register('inc_a', 'tap-increment');
	SELECT seqdist.register('inc_b', 'tap-increment');
	ALTER SEQUENCE inc_b OWNER TO mallory;
	CREATE SEQUENCE mine;
	ALTER SEQUENCE mine OWNER TO mallory;
	GRANT EXECUTE ON FUNCTION seqdist.register(regclass, text) TO mallory;
	GRANT INSERT ON seqdist.sequences TO mallory;
});
($ret, $out, $err) = $node->psql('postgres', 'ALTER SEQUENCE inc_a INCREMENT BY 2');
like($err, qr/cannot change the increment of counter "tap-increment" of sequence "inc_a": other clients share it/,
	'a sharer may not change the increment of a shared counter');
($ret, $out, $err) = $node->psql('postgres',
	"SET ROLE mallory; SELECT seqdist.seqdist_setval('inc_b', 9223372036854775000)");
like($err, qr/only a superuser may move counter "tap-increment" of sequence "inc_b", which other clients share/,
	'a non-superuser may not move a shared counter to its bound');
cmp_ok(q1(q{SELECT seqdist.seqdist_nextval('inc_a')}), '<', 1000,
	'the shared counter was not moved');
($ret, $out, $err) = $node->psql('postgres', q{SET ROLE mallory;
	SELECT status FROM seqdist.register('mine'); SELECT seqdist.seqdist_setval('mine', 500);
	SELECT seqdist.seqdist_nextval('mine')});
is($out, "created\n500\n501", 'the owner of a sequence moves a counter it alone uses')
  or diag($err);

# 9. A non-superuser may not join a counter that clients of other
#    databases or clusters share (a colliding default key on another cluster)
q1(q{CREATE SEQUENCE victim; ALTER SEQUENCE victim OWNER TO mallory;});
dynamo_put_item($dynamo, {
	TableName => 'seqdist_tap',
	Item => {
		counter => { S => 'postgres.public.victim' },
		last_value => { N => '7000' },
		increment => { N => '1' },
		min_value => { N => '1' },
		max_value => { N => '9223372036854775807' },
		start_value => { N => '1' },
		cycle => { BOOL => JSON::PP::false },
		clients => { SS => [ '1234567890:5:16384' ] },
		def_version => { N => '1' },
		format => { N => '2' } } });
($ret, $out, $err) = $node->psql('postgres', "SET ROLE mallory; SELECT seqdist.register('victim')");
like($err, qr/only a superuser may join counter "postgres.public.victim", which clients of other databases share/,
	'a non-superuser cannot join a counter of another cluster');
is(q1(q{SELECT count(*) FROM seqdist.sequences WHERE seqrelid = 'victim'::regclass}), '0',
	'the registration was not recorded');
is(q1(q{SELECT status || ' ' || last_value FROM seqdist.register('victim')}), 'existing 7000',
	'a superuser may join it, and finds it untouched');
is(q1(q{SELECT jsonb_array_length(seqdist.counter_item('victim') -> 'clients')}), '2',
	'with the other cluster still a client');

# 10. A counter of format 1 (no clients set): its clients are unknown, so
#     the first to join is never its only client
dynamo_put_item($dynamo, {
	TableName => 'seqdist_tap',
	Item => {
		counter => { S => 'tap-legacy' },
		last_value => { N => '3000' },
		increment => { N => '1' },
		min_value => { N => '1' },
		max_value => { N => '9223372036854775807' },
		start_value => { N => '1' },
		cycle => { BOOL => JSON::PP::false },
		format => { N => '1' } } });
q1(q{CREATE SEQUENCE legacy; SELECT seqdist.register('legacy', 'tap-legacy');});
is(q1(q{SELECT seqdist.counter_item('legacy') -> 'clients' ? 'format-1-clients'}), 't',
	'joining a counter of format 1 records that its other clients are unknown');
($ret, $out, $err) = $node->psql('postgres',
	"SET seqdist.allow_rewind = on; SELECT seqdist.seqdist_setval('legacy', 5)");
like($err, qr/cannot move back counter "tap-legacy" of sequence "legacy": other clients share it/,
	'so the first client to join may not rewind it');
cmp_ok(q1(q{SELECT seqdist.seqdist_nextval('legacy')}), '>', 3000, 'values go on beyond it');

# 11. A forward move of a shared cycling counter brings its wrap-around
#     nearer: the other clients would repeat values of their lap after a
#     short one.  Refused, even for a superuser.
q1(q{
	CREATE SEQUENCE lap_a MINVALUE 1000 MAXVALUE 100000 CYCLE;
	CREATE SEQUENCE lap_b MINVALUE 1000 MAXVALUE 100000 CYCLE;
	SELECT seqdist.register('lap_a', 'tap-lap');
	SELECT seqdist.register('lap_b', 'tap-lap');
	SELECT seqdist.set_block_size('lap_a', 10);
});
# values of another counter: a history of their own
%seen = ();
$duplicates = 0;
my @lap = take('lap_a', 5);
($ret, $out, $err) = $node->psql('postgres', "SELECT seqdist.seqdist_setval('lap_b', 100000)");
like($err, qr/cannot move cycling counter "tap-lap" of sequence "lap_b": other clients share it/,
	'a forward setval of a shared cycling counter is refused');
($ret, $out, $err) = $node->psql('postgres', 'ALTER SEQUENCE lap_b RESTART WITH 99999');
like($err, qr/cannot move cycling counter "tap-lap" of sequence "lap_b": other clients share it/,
	'and so is ALTER ... RESTART');
take('lap_a', 20);
is($duplicates, 0, 'the other sharer goes on without repeating a value');

# 12. The owner of a registered sequence sets its block size and strict
#     mode without UPDATE on seqdist.sequences; someone else may not
q1(q{
	GRANT EXECUTE ON FUNCTION seqdist.set_block_size(regclass, integer) TO mallory;
	GRANT EXECUTE ON FUNCTION seqdist.set_strict(regclass, boolean) TO mallory;
});
($ret, $out, $err) = $node->psql('postgres', q{SET ROLE mallory;
	SELECT seqdist.set_block_size('mine', 7); SELECT seqdist.set_strict('mine', true);});
is($err, '', 'the owner sets block size and strict mode') or diag($err);
is(q1(q{SELECT block_size || ' ' || strict FROM seqdist.sequences WHERE seqrelid = 'mine'::regclass}),
	'7 true', 'and the registration records them');
($ret, $out, $err) = $node->psql('postgres',
	q{SET ROLE mallory; SELECT seqdist.set_block_size('lap_a', 7)});
like($err, qr/must be owner of sequence lap_a/, 'a non-owner may not');

done_testing();
