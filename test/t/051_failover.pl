# What docs/operations.md promises about standbys, failover and uninstalling:
# a hot standby refuses seqdist_nextval with the native read-only error and
# keeps the registrations; a promoted standby hands out values that neither
# it nor the old primary, still running beside it, handed out before or
# after; DROP EXTENSION refuses while a column default still calls
# seqdist_nextval, and names the dependency.
#
# Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SeqdistTest;

my $dynamo = start_dynamo();
my $primary = new_node('primary', $dynamo,
	conf => "wal_level = replica\nmax_wal_senders = 4\nhot_standby = on\n");
$primary->safe_psql('postgres', q{
	CREATE EXTENSION seqdist;
	SELECT seqdist.create_table();
	CREATE SEQUENCE ids;
	SELECT seqdist.register('ids');
	CREATE TABLE t (id bigint PRIMARY KEY DEFAULT seqdist.seqdist_nextval('ids'), who text);
	INSERT INTO t (who) SELECT 'primary-before' FROM generate_series(1, 500);
});

$primary->backup('b');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'b', has_streaming => 1);
{
	local %ENV = (%ENV, test_credentials());
	$standby->start;
}
$primary->wait_for_catchup($standby);

is($standby->safe_psql('postgres', 'SELECT count(*) FROM seqdist.sequences'), '1',
	'the standby sees the registration');
my ($ret, $out, $err) = $standby->psql('postgres',
	"SELECT seqdist.seqdist_nextval('ids')");
isnt($ret, 0, 'seqdist_nextval fails on a hot standby');
like($err, qr/cannot execute nextval\(\) in a read-only transaction/,
	'with the native read-only message');
($ret, $out, $err) = $standby->psql('postgres',
	"\\set VERBOSITY verbose\nSELECT seqdist.seqdist_nextval('ids')");
like($err, qr/25006/, 'and SQLSTATE 25006');

# Failover without fencing the old primary: both keep inserting.  The
# values come from the same counter, so none repeats.
$primary->safe_psql('postgres',
	"INSERT INTO t (who) SELECT 'primary-cached' FROM generate_series(1, 300)");
$standby->promote;
$standby->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()')
  or die 'the standby was not promoted';
for my $round (1 .. 3)
{
	$primary->safe_psql('postgres',
		"INSERT INTO t (who) SELECT 'old-primary' FROM generate_series(1, 400)");
	$standby->safe_psql('postgres',
		"INSERT INTO t (who) SELECT 'promoted' FROM generate_series(1, 400)");
}
my $old = $primary->safe_psql('postgres', 'SELECT string_agg(id::text, \',\') FROM t');
my $new = $standby->safe_psql('postgres', 'SELECT string_agg(id::text, \',\') FROM t');
my (%seen, $dups);
$seen{$_}++ for split /,/, $old;
# the promoted standby holds the rows it received before promotion: count
# only the rows it inserted itself
my $own = $standby->safe_psql('postgres',
	"SELECT string_agg(id::text, ',') FROM t WHERE who = 'promoted'");
$dups = grep { $seen{$_}++ } split /,/, $own;
is(scalar(split /,/, $own), 1200, 'the promoted standby inserted 1200 rows');
is($dups, 0, 'no value the promoted standby handed out was handed out by the old primary');

# Uninstalling: the default depends on seqdist_nextval
($ret, $out, $err) = $standby->psql('postgres',
	"\\set VERBOSITY verbose\nDROP EXTENSION seqdist");
isnt($ret, 0, 'DROP EXTENSION refuses while a default calls seqdist_nextval');
like($err, qr/2BP01/, 'with SQLSTATE 2BP01');
like($err, qr/default value for column id of table t depends on function seqdist\.seqdist_nextval|default value for column id of table t depends on function seqdist_nextval/,
	'naming the column default that depends on it');

done_testing();
