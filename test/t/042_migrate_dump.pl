# Migration and pg_dump: two clusters restored from one dump of a legacy
# database migrate onto shared counters and insert without a duplicate
# between them; a dump of a migrated database, restored into another
# database, is a migrated database (routing, fence, verify) on the same
# counters.
#
# Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SeqdistTest;

my $dynamo = start_dynamo();
my $dir = PostgreSQL::Test::Utils::tempdir();
my $legacy = new_node('legacy', $dynamo);
my $nb = new_node('b', $dynamo);
my $nc = new_node('c', $dynamo);

$legacy->safe_psql('postgres', q{
	CREATE TABLE orders (id serial PRIMARY KEY, v text);
	CREATE TABLE events (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v text);
	INSERT INTO orders (v) SELECT 'legacy' FROM generate_series(1, 50);
	INSERT INTO events (v) SELECT 'legacy' FROM generate_series(1, 20);
});
my $dump = "$dir/legacy.dump";
$legacy->command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', $legacy->connstr('postgres') ],
	'dump of the legacy database');

for my $node ($nb, $nc)
{
	$node->command_ok([ 'pg_restore', '-d', $node->connstr('postgres'), $dump ],
		'restored into ' . $node->name);
	$node->safe_psql('postgres', q{CREATE EXTENSION seqdist; SELECT seqdist.create_table()});
}
is($nb->safe_psql('postgres', q{SELECT string_agg(status, ',' ORDER BY sequence::text) FROM seqdist.migrate()}),
	'migrated,migrated', 'the first cluster migrates');
is($nc->safe_psql('postgres', q{SELECT string_agg(status, ',' ORDER BY sequence::text) FROM seqdist.migrate()}),
	'migrated,migrated', 'the second cluster migrates onto the same counters');
like($nc->safe_psql('postgres', q{SELECT seqdist.counter_item('orders_id_seq')->>'clients'}),
	qr/^\[.*,.*\]$/, 'the counter has both clusters as clients');

# both insert, through the default, identity, the Hibernate pattern
my %ids;
my $dups = 0;
for my $round (1 .. 5)
{
	for my $node ($nb, $nc)
	{
		my $out = $node->safe_psql('postgres', q{
			INSERT INTO orders (v) SELECT 'new' FROM generate_series(1, 20) RETURNING 'o' || id;
			INSERT INTO events (v) SELECT 'new' FROM generate_series(1, 20) RETURNING 'e' || id;
			SELECT 'o' || nextval('orders_id_seq');
		});
		for my $id (split /\n/, $out)
		{
			$dups++ if $ids{$id}++;
		}
	}
}
is(scalar(keys %ids), 5 * 2 * 41, 'both clusters inserted');
is($dups, 0, 'no value was handed out by both clusters');
my ($min) = sort { $a <=> $b } map { /^o(\d+)/ ? $1 : () } keys %ids;
ok($min > 50, "every new order id lies beyond the legacy rows ($min)");

# a dump of a migrated database is a migrated database
my $mdump = "$dir/migrated.dump";
$nb->command_ok([ 'pg_dump', '-Fc', '-f', $mdump, '-d', $nb->connstr('postgres') ],
	'dump of the migrated database');
$nb->safe_psql('postgres', 'CREATE DATABASE restored');
$nb->command_ok([ 'pg_restore', '-d', $nb->connstr('restored'), $mdump ],
	'restored into another database');
is($nb->safe_psql('restored', q{SELECT count(*) FROM seqdist.migrated_sequences}), '2',
	'the migration state is restored');
is($nb->safe_psql('restored', q{SELECT last_value FROM orders_id_seq}), '2147483647',
	'the restored native sequence is fenced');
my $verify = $nb->safe_psql('restored', q{SELECT string_agg(ok::text || ' ' || reason, E'\n') FROM seqdist.verify()});
unlike($verify, qr/^false/m, "verify in the restored database: $verify");
my $out = $nb->safe_psql('restored', q{
	INSERT INTO orders (v) VALUES ('restored') RETURNING 'o' || id;
	INSERT INTO events (v) VALUES ('restored') RETURNING 'e' || id;
	SELECT 'o' || nextval('orders_id_seq');
	SELECT 'e' || currval('events_id_seq');
});
my @v = split /\n/, $out;
is($v[3], $v[1], 'currval after an identity insert in the restored database');
pop @v;
my $restored_dups = grep { $ids{$_} } @v;
is($restored_dups, 0, 'the restored database takes its values from the shared counters');
ok(($v[0] =~ /^o(\d+)/)[0] > $min, 'beyond what the others handed out');
my ($ret, $o, $err) = $nb->psql('restored', "COPY events (v) FROM STDIN;\ncopied\n\\.\nSELECT 'e' || id FROM events WHERE v = 'copied'");
is($err, '', 'COPY into the identity column in the restored database');
ok(!$ids{$o} && ($o =~ /^e(\d+)$/)[0] > 20, "its id comes from the shared counter ($o)");

# rollback in the restored database, then migrate again
is($nb->safe_psql('restored', q{SELECT string_agg(status, ',') FROM seqdist.rollback()}),
	'rolled back,rolled back', 'rollback in the restored database');
my $native = $nb->safe_psql('restored', q{INSERT INTO orders (v) VALUES ('native') RETURNING id});
my ($max) = sort { $b <=> $a } map { /^o(\d+)/ ? $1 : () } (keys %ids, @v);
ok($native > $max, "after rollback the native sequence continues beyond every counter value ($native > $max)");
is($nb->safe_psql('restored', q{SELECT string_agg(status, ',') FROM seqdist.migrate()}),
	'migrated,migrated', 'and migrates again');

done_testing();
