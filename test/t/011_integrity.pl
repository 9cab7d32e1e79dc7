# Nobody who touches a shared counter can make another client repeat a
# value: rewinds and CYCLE changes only by a counter's sole client, writes
# that know whether a lost answer applied them, ALTER checked against the
# counter's position, and register checked before it writes anything.
#
# Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use JSON::PP;
use IPC::Run;
use SeqdistTest;

my $dynamo = start_dynamo();
my $node = new_node('integrity', $dynamo,
	conf => "seqdist.refill = off\nseqdist.retry_base_delay = '5ms'\n"
	  . "seqdist.block_size = 1\nseqdist.max_block_size = 1\n");
$node->safe_psql('postgres', q{
	CREATE EXTENSION seqdist;
	SELECT seqdist.create_table();
});

# Run sql with a fault rule set for its duration; return (exit code, stdout, stderr)
sub with_fault
{
	my ($rule, $sql, $db) = @_;
	dynamo_reset($dynamo);
	dynamo_faults($dynamo, $rule) if $rule;
	my @r = $node->psql($db // 'postgres', $sql);
	dynamo_faults($dynamo);
	return @r;
}

sub q1 { return $node->safe_psql($_[1] // 'postgres', $_[0]); }

# 1. two sequences share a counter: neither may move it backwards
q1(q{
	CREATE SEQUENCE s1; CREATE SEQUENCE s3;
	SELECT seqdist.register('s1', 'tap-rewind');
	SELECT seqdist.register('s3', 'tap-rewind');
	SELECT seqdist.seqdist_setval('s1', 2000);
});
my ($ret, $out, $err) = $node->psql('postgres',
	"SET seqdist.allow_rewind = on; SELECT seqdist.seqdist_setval('s1', 5)");
like($err, qr/cannot move back counter "tap-rewind" of sequence "s1": other clients share it/,
	'a rewind of a counter with another client is refused');
like($err, qr/1 other client of the counter could hand out the same values again/,
	'the error says how many other clients there are');
is(q1(q{SELECT seqdist.seqdist_nextval('s3') || ',' || seqdist.seqdist_nextval('s1')}),
	'2001,2002', 'after the refused rewind both sharers go on beyond the position');

# 2. a forward move whose answer is lost is known to be applied
($ret, $out, $err) = with_fault(
	{ target => 'UpdateItem', mode => 'after_forward_reset', count => 1 },
	"SELECT seqdist.seqdist_setval('s1', 50000)");
is($ret, 0, 'setval whose answer was lost succeeds') or diag($err);
is(q1(q{SELECT seqdist.seqdist_nextval('s3')}), '50001',
	'the counter is where setval put it, once');

# 3. the sole client may rewind, and a lost answer does not re-apply it
q1(q{
	CREATE SEQUENCE solo;
	SELECT seqdist.register('solo');
	SELECT seqdist.seqdist_setval('solo', 2000);
});
($ret, $out, $err) = with_fault(
	{ target => 'UpdateItem', mode => 'after_forward_reset', count => 1 },
	"SET seqdist.allow_rewind = on; SELECT seqdist.seqdist_setval('solo', 5)");
is($ret, 0, 'the sole client rewinds with allow_rewind, answer lost') or diag($err);
is(q1(q{SELECT seqdist.seqdist_nextval('solo')}), '6', 'the next value follows the rewind');

# 4. ALTER on one sharer cannot switch CYCLE on for everybody
q1(q{
	CREATE SEQUENCE ca; CREATE SEQUENCE cb;
	SELECT seqdist.register('ca', 'tap-cycle');
	SELECT seqdist.register('cb', 'tap-cycle');
	SELECT seqdist.seqdist_nextval('cb');
});
($ret, $out, $err) = $node->psql('postgres', 'ALTER SEQUENCE ca MAXVALUE 10 CYCLE');
like($err, qr/cannot change CYCLE of counter "tap-cycle" of sequence "ca": other clients share it/,
	'ALTER ... CYCLE of a shared counter is refused');
is(q1(q{SELECT seqcycle::text || ',' || seqmax FROM pg_sequence WHERE seqrelid = 'ca'::regclass}),
	'false,9223372036854775807', 'the refused ALTER changed nothing locally');
is(q1(q{SELECT seqdist.counter_item('ca') ->> 'cycle'}), 'false',
	'nor in the counter item');

# 5. a non-superuser who owns a sharer in another database
q1(q{
	CREATE ROLE alice LOGIN;
	CREATE DATABASE other OWNER alice;
	CREATE SEQUENCE dba_seq;
	SELECT seqdist.register('dba_seq', 'tap-dba');
	SELECT seqdist.seqdist_nextval('dba_seq');
});
q1(q{
	CREATE EXTENSION seqdist;
	CREATE SEQUENCE alice_seq;
	ALTER SEQUENCE alice_seq OWNER TO alice;
	SELECT seqdist.register('alice_seq', 'tap-dba');
	CREATE SEQUENCE alice_own;
	ALTER SEQUENCE alice_own OWNER TO alice;
	GRANT EXECUTE ON FUNCTION seqdist.register(regclass, text) TO alice;
	GRANT INSERT ON seqdist.sequences TO alice;
}, 'other');
($ret, $out, $err) = $node->psql('other',
	'SET ROLE alice; ALTER SEQUENCE alice_seq MAXVALUE 3 CYCLE');
like($err, qr/cannot change CYCLE of counter "tap-dba"/,
	"a non-superuser owner of a sharer cannot switch CYCLE on for the DBA's sequence");
($ret, $out, $err) = $node->psql('other',
	"SET ROLE alice; SELECT seqdist.seqdist_setval('alice_seq', 1, false)");
like($err, qr/only a superuser may move counter "tap-dba" of sequence "alice_seq", which other clients share/,
	'nor rewind it');
dynamo_reset($dynamo);
($ret, $out, $err) = $node->psql('other',
	"SET ROLE alice; SELECT seqdist.register('alice_own', 'tap-dba')");
like($err, qr/only a superuser may register a sequence under a counter key of its choosing/,
	'a delegated register may not pick a counter key');
is(dynamo_stats($dynamo)->{total}, 0, 'and it was refused before any DynamoDB request');
is(q1(q{SELECT seqdist.seqdist_nextval('dba_seq')}), '2', "the DBA's sequence is untouched");

# 6. a lost PutItem answer: register still reports that it created the item
q1('CREATE SEQUENCE fresh');
($ret, $out, $err) = with_fault(
	{ target => 'PutItem', mode => 'after_forward_reset', count => 1 },
	"SELECT status FROM seqdist.register('fresh')");
is($out, 'created', 'register whose PutItem answer was lost reports created') or diag($err);

# 7. a lost answer on ALTER: applied once, no spurious serialization failure
($ret, $out, $err) = with_fault(
	{ target => 'UpdateItem', mode => 'after_forward_reset', count => 1 },
	'ALTER SEQUENCE fresh INCREMENT BY 2');
is($ret, 0, 'ALTER whose UpdateItem answer was lost succeeds') or diag($err);
is(q1(q{SELECT seqdist.counter_item('fresh') ->> 'increment'}), '2',
	'the counter has the new increment');

# 8. ALTER checks its bounds against the counter, as native does its own
q1(q{SELECT seqdist.seqdist_setval('fresh', 500)});
($ret, $out, $err) = $node->psql('postgres', 'ALTER SEQUENCE fresh MAXVALUE 100',
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/ERROR:  22023: RESTART value \(500\) cannot be greater than MAXVALUE \(100\)/,
	'a MAXVALUE below the counter position is refused with 22023');
is(q1(q{SELECT seqdist.seqdist_nextval('fresh')}), '502', 'and the sequence goes on');

# 9. names with dots make distinct default keys
q1(q{
	CREATE SCHEMA "a.b"; CREATE SEQUENCE "a.b".c;
	CREATE SCHEMA a; CREATE SEQUENCE a."b.c";
});
is(q1(q{SELECT status || ' ' || counter_key FROM seqdist.register('"a.b".c')}),
	'created postgres."a.b".c', 'the first dotted name gets a quoted key');
is(q1(q{SELECT status || ' ' || counter_key FROM seqdist.register('a."b.c"')}),
	'created postgres.a."b.c"', 'the second one another key, not the first one');

# 10. temporary sequences cannot be registered
($ret, $out, $err) = $node->psql('postgres',
	"CREATE TEMP SEQUENCE t; SELECT seqdist.register('t')");
like($err, qr/temporary sequence "t" cannot be registered with seqdist/,
	'a temporary sequence is refused');

# 11. switching strict mode keeps the instance-wide order
q1(q{
	CREATE SEQUENCE st;
	SELECT seqdist.register('st');
	SELECT seqdist.set_block_size('st', 1000);
});
my @v = split /\n/, q1(q{
	SELECT seqdist.seqdist_nextval('st');
	SELECT seqdist.set_strict('st', true);
	SELECT seqdist.seqdist_nextval('st');
	SELECT seqdist.set_strict('st', false);
	SELECT seqdist.seqdist_nextval('st');
});
@v = grep { $_ ne '' } @v;
is(scalar(@v), 3, 'three values');
ok($v[0] < $v[1] && $v[1] < $v[2], "values stay in order across set_strict (@v)");

# 12. DROP leaves the counter: the remaining sharer becomes its sole client
q1('DROP SEQUENCE s3');
is(q1(q{SELECT jsonb_array_length(seqdist.counter_item('s1') -> 'clients')}), '1',
	'the dropped sequence left the clients');
($ret, $out, $err) = $node->psql('postgres',
	"SET seqdist.allow_rewind = on; SELECT seqdist.seqdist_setval('s1', 10)");
is($ret, 0, 'the sole remaining client may rewind') or diag($err);

# 13. DDL the ALTER SEQUENCE trigger does not see by its tag
q1(q{
	CREATE TABLE idt (id bigint GENERATED BY DEFAULT AS IDENTITY, v int);
	SELECT seqdist.register(pg_get_serial_sequence('idt', 'id'));
	ALTER TABLE idt ALTER COLUMN id SET INCREMENT BY 3;
});
is(q1(q{SELECT seqdist.counter_item(pg_get_serial_sequence('idt', 'id')) ->> 'increment'}), '3',
	'ALTER TABLE ... SET INCREMENT BY of an identity column reaches the counter');
($ret, $out, $err) = $node->psql('postgres', q{
	SET session_replication_role = replica;
	ALTER SEQUENCE ca MAXVALUE 10 CYCLE});
like($err, qr/cannot change CYCLE of counter "tap-cycle"/,
	'the ALTER trigger fires under session_replication_role = replica');
q1(q{
	CREATE TABLE tr (id serial, v int);
	SELECT seqdist.register('tr_id_seq');
	SELECT seqdist.seqdist_setval('tr_id_seq', 100);
});
($ret, $out, $err) = $node->psql('postgres', 'TRUNCATE tr RESTART IDENTITY');
like($err, qr/cannot move counter "postgres.public.tr_id_seq" of sequence "tr_id_seq" backwards/,
	'TRUNCATE ... RESTART IDENTITY is a rewind, refused without allow_rewind');
($ret, $out, $err) = $node->psql('postgres',
	'SET seqdist.allow_rewind = on; TRUNCATE tr RESTART IDENTITY');
is($ret, 0, 'with allow_rewind the sole client restarts') or diag($err);
is(q1(q{SELECT seqdist.seqdist_nextval('tr_id_seq')}), '1',
	'TRUNCATE ... RESTART IDENTITY restarts the counter, as native does the sequence');

# 15. an ALTER whose RESTART is refused writes no part of itself
($ret, $out, $err) = $node->psql('postgres', 'ALTER SEQUENCE solo CYCLE RESTART WITH 1');
like($err, qr/cannot move counter "postgres.public.solo" of sequence "solo" backwards/,
	'ALTER ... CYCLE RESTART without allow_rewind is refused');
is(q1(q{SELECT seqdist.counter_item('solo') ->> 'cycle'}), 'false',
	'and the counter item does not allow CYCLE afterwards');

# Put the counter item of seq back to last_value 10, behind every client's back
sub move_back
{
	my ($seq) = @_;
	my $item = decode_json(q1("SELECT seqdist.counter_item('$seq')"));
	dynamo_put_item($dynamo, {
		TableName => 'seqdist_tap',
		Item => {
			counter => { S => $item->{counter} },
			last_value => { N => '10' },
			increment => { N => '1' },
			min_value => { N => '1' },
			max_value => { N => '9223372036854775807' },
			start_value => { N => '1' },
			cycle => { BOOL => JSON::PP::false },
			clients => { SS => $item->{clients} },
			def_version => { N => "$item->{def_version}" },
			format => { N => '2' } } });
}

# 14. a counter moved back behind this instance's back is refused, not served
q1(q{
	CREATE SEQUENCE moved;
	SELECT seqdist.register('moved');
	SELECT seqdist.seqdist_setval('moved', 1000);
	SELECT seqdist.seqdist_nextval('moved');
});
move_back('moved');
($ret, $out, $err) = $node->psql('postgres', q{SELECT seqdist.seqdist_nextval('moved')},
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/XX001: counter "postgres.public.moved" moved backwards under this instance/,
	'a block behind the last one this instance held is refused');
like($err, qr/held values up to 1001 and DynamoDB returned a block starting at 11/,
	'the error says where the instance was and what came back');
($ret, $out, $err) = $node->psql('postgres', q{SELECT seqdist.seqdist_nextval('moved')});
like($err, qr/moved backwards under this instance/, 'and it keeps being refused');
($ret, $out, $err) = $node->psql('postgres', q{SELECT seqdist.seqdist_setval('moved', 3)});
like($err, qr/cannot move counter "postgres.public.moved" of sequence "moved" backwards/,
	'a refused setval is refused');
($ret, $out, $err) = $node->psql('postgres', q{SELECT seqdist.seqdist_nextval('moved')});
like($err, qr/moved backwards under this instance/, 'and does not switch the check off');
is(q1(q{SELECT seqdist.seqdist_setval('moved', 5000); SELECT seqdist.seqdist_nextval('moved')}),
	"5000\n5001", 'a setval by this instance is the way out');

# 15. the same under strict mode, which reserves each value from DynamoDB
q1(q{
	CREATE SEQUENCE smoved;
	SELECT seqdist.register('smoved');
	SELECT seqdist.set_strict('smoved', true);
	SELECT seqdist.seqdist_setval('smoved', 1000);
});
is(q1(q{SELECT seqdist.seqdist_nextval('smoved')}), '1001', 'a strict value before the move');
move_back('smoved');
($ret, $out, $err) = $node->psql('postgres', q{SELECT seqdist.seqdist_nextval('smoved')},
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
is($out, '', 'a strict sequence hands out nothing from a counter moved back');
like($err, qr/XX001: counter "postgres.public.smoved" moved backwards under this instance/,
	'a strict block behind the last value this instance handed out is refused');
like($err, qr/held values up to 1001 and DynamoDB returned a block starting at 11/,
	'the error says where the instance was and what came back');
is(q1(q{SELECT seqdist.seqdist_setval('smoved', 5000); SELECT seqdist.seqdist_nextval('smoved')}),
	"5000\n5001", 'a setval by this instance is the way out for strict sequences too');

# strict values reserved at the same time by several backends arrive in any
# order: none of them is taken for a move backwards
{
	my @h;
	my @outs = ('', '', '');
	my @errs = ('', '', '');
	for my $i (0 .. 2)
	{
		push @h, IPC::Run::start(
			[ 'psql', '-X', '-qAt', '-h', $node->host, '-p', $node->port, '-d', 'postgres',
			  '-c', "SELECT seqdist.seqdist_nextval('smoved') FROM generate_series(1, 100)" ],
			'>', \$outs[$i], '2>', \$errs[$i]);
	}
	$_->finish for @h;
	my @all = map { split /\n/ } @outs;
	my %seen;
	$seen{$_}++ for @all;
	is(join('', @errs), '', 'three backends reserving strict values at once get no error');
	is(scalar(keys %seen), 300, 'and 300 distinct values');
}

done_testing();
