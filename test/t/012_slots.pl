# seqdist.max_sequences is a hard limit on the instance cache: more
# sequences than slots still work (idle slots change hands), dropped
# databases do not keep their slots, and no value repeats across slot
# changes.
#
# Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SeqdistTest;

my $dynamo = start_dynamo();
my $node = new_node('slots', $dynamo,
	conf => "seqdist.max_sequences = 16\nseqdist.refill = off\n"
	  . "seqdist.block_size = 10\nseqdist.max_block_size = 10\n");

my $setup = q{
	CREATE EXTENSION seqdist;
	SELECT seqdist.create_table();
	CREATE TABLE got (seq int, v bigint);
	DO $$
	BEGIN
		FOR i IN 1 .. 40 LOOP
			EXECUTE format('CREATE SEQUENCE s%s', i);
			PERFORM seqdist.register(format('s%s', i)::regclass);
		END LOOP;
	END $$;
};
my $take_all = q{
	DO $$
	BEGIN
		FOR i IN 1 .. 40 LOOP
			INSERT INTO got SELECT i, seqdist.seqdist_nextval(format('s%s', i)::regclass);
		END LOOP;
	END $$;
};
$node->safe_psql('postgres', $setup);
$node->safe_psql('postgres', $take_all) for 1 .. 3;

is($node->safe_psql('postgres', 'SELECT count(*) FROM got'), '120',
	'40 sequences served three times each by a cache of 16 slots');
cmp_ok($node->safe_psql('postgres', 'SELECT count(*) FROM seqdist.stats'), '<=', 16,
	'the instance cache never holds more than seqdist.max_sequences slots');
is($node->safe_psql('postgres',
		'SELECT count(*) FROM (SELECT seq, v FROM got GROUP BY 1, 2 HAVING count(*) > 1) d'),
	'0', 'no value repeats for any sequence across slot changes');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM (
		SELECT seq, v, lag(v) OVER (PARTITION BY seq ORDER BY ctid) AS prev FROM got) x
	WHERE v <= prev}), '0', 'each sequence keeps increasing when its slot changes hands');

# a dropped database's slots are reclaimed, not kept
$node->safe_psql('postgres', 'CREATE DATABASE gone');
$node->safe_psql('gone', $setup);
$node->safe_psql('gone', $take_all);
$node->safe_psql('postgres', 'DROP DATABASE gone');
$node->safe_psql('postgres', 'TRUNCATE got');
$node->safe_psql('postgres', $take_all);
is($node->safe_psql('postgres', 'SELECT count(*) FROM got'), '40',
	'after DROP DATABASE every sequence of the remaining database is served');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM seqdist.stats WHERE database IS DISTINCT FROM 'postgres'}), '0',
	'no slot of the dropped database is left once the cache needed them');

done_testing();
