# The monitoring query set in docs/postgres_exporter.yaml, run as
# postgres_exporter would run it: as a role that is only a member of
# pg_monitor, against a live server.  Every query must run, return exactly the
# columns its metrics list names, in that order, and report what the server
# really holds (values known from the test's own set-up).
#
# Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SeqdistTest;

# The queries and their metric names, read from the file a DBA deploys.
my $file = "$ENV{SEQDIST_ROOT}/docs/postgres_exporter.yaml";
open(my $fh, '<', $file) or die "cannot open $file: $!";
my (%queries, @order, $current);
while (my $line = <$fh>)
{
	if ($line =~ /^(\w+):\s*$/)
	{
		$current = $1;
		push @order, $current;
		$queries{$current} = { metrics => [] };
	}
	elsif ($line =~ /^\s+query:\s*"(.*)"\s*$/)
	{
		$queries{$current}{query} = $1;
	}
	elsif ($line =~ /^\s+-\s+(\w+):\s*$/)
	{
		push @{ $queries{$current}{metrics} }, $1;
	}
	elsif ($line =~ /^\s+usage:\s*"(\w+)"/)
	{
		push @{ $queries{$current}{usages} }, $1;
	}
}
close $fh;
is_deeply(\@order, [qw(seqdist_sequence seqdist_worker seqdist_health seqdist_capacity)],
	'the query set has the four documented queries');
for my $name (@order)
{
	ok(defined $queries{$name}{query} && @{ $queries{$name}{metrics} } > 0,
		"$name has a query and metrics");
	is(scalar @{ $queries{$name}{usages} // [] }, scalar @{ $queries{$name}{metrics} },
		"$name gives every metric a usage");
}

my $dynamo = start_dynamo();
my $node = new_node('monitored', $dynamo, conf => "seqdist.refill = off\n");
$node->safe_psql('postgres', q{
	CREATE EXTENSION seqdist;
	SELECT seqdist.create_table();
	CREATE SEQUENCE up MAXVALUE 100000;
	CREATE SEQUENCE down INCREMENT -1 MINVALUE -5000 MAXVALUE -1 START -1;
	SELECT seqdist.register('up');
	SELECT seqdist.register('down');
	SELECT seqdist.set_block_size('up', 1000);
	SELECT seqdist.set_block_size('down', 1000);
	SELECT seqdist.seqdist_nextval('up');
	SELECT seqdist.seqdist_nextval('down');
	CREATE ROLE monitor LOGIN IN ROLE pg_monitor;
	GRANT USAGE ON SCHEMA seqdist TO monitor;
	GRANT SELECT ON up, down TO monitor;
});

# Run one query as the monitoring role: its column names, and its rows as
# hashes keyed by column name.
sub run_as_monitor
{
	my ($query) = @_;
	my ($out, $err);
	$node->psql('postgres',
		"CREATE TEMP VIEW q AS $query;\n"
		  . "SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute "
		  . "WHERE attrelid = 'q'::regclass AND attnum > 0;\n"
		  . "SELECT row_to_json(q) FROM q;",
		stdout => \$out, stderr => \$err, extra_params => [ '-U', 'monitor' ],
		on_error_stop => 1);
	my @lines = split /\n/, $out // '';
	my $columns = shift @lines;
	my @rows = map { decode_row($_) } @lines;
	return ($columns // '', \@rows, $err // '');
}

sub decode_row
{
	require JSON::PP;
	return JSON::PP::decode_json($_[0]);
}

my %result;
for my $name (@order)
{
	my ($columns, $rows, $err) = run_as_monitor($queries{$name}{query});
	is($err, '', "$name runs as a pg_monitor member without an error");
	is($columns, join(',', @{ $queries{$name}{metrics} }),
		"$name returns exactly the columns its metrics name, in order");
	ok(@$rows > 0, "$name returns rows");
	$result{$name} = $rows;
}

my %seq = map { $_->{sequence} => $_ } @{ $result{seqdist_sequence} };
ok(exists $seq{up} && exists $seq{down}, 'seqdist_sequence has a row for each cached sequence');
is($seq{up}{cached_values}, 999, 'seqdist_sequence: the cached values of up (a block of 1000, one taken)');
is($seq{up}{block_size}, 1000, 'seqdist_sequence: the fixed block size');
is($seq{up}{blocks_by_backend}, 1, 'seqdist_sequence: one block reserved by a backend');
is($seq{up}{database}, 'postgres', 'seqdist_sequence: the database label');
is($result{seqdist_worker}[0]{running}, 1, 'seqdist_worker: the refill worker runs');
is(join(',', map { "$_->{check_name}=$_->{ok}" } @{ $result{seqdist_health} }),
	'endpoint=1,credentials=1,table=1', 'seqdist_health: every check passes');

my %cap = map { $_->{sequence} => $_ } @{ $result{seqdist_capacity} };
is($cap{up}{values_left}, 99000, 'seqdist_capacity: values left going up (100000 - 1000)');
is($cap{down}{values_left}, 4000, 'seqdist_capacity: values left going down (-1000 down to -5000)');
is($cap{up}{cycles}, 0, 'seqdist_capacity: a sequence that does not cycle');

# Health failing is reported as 0, not as an error of the query
$node->safe_psql('postgres', "ALTER SYSTEM SET seqdist.table_name = 'no_such_table'; SELECT pg_reload_conf();");
my ($columns, $rows, $err) = run_as_monitor($queries{seqdist_health}{query});
my %health = map { $_->{check_name} => $_->{ok} } @$rows;
is($err, '', 'seqdist_health runs when a check fails');
is($health{table}, 0, 'seqdist_health: a missing table reports 0');

done_testing();
