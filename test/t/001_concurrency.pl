# Concurrent seqdist_nextval from many backends, and from two clusters that
# share one counter: every value is unique, and the counter's position is
# exactly the number of values handed out.
#
# Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use SeqdistTest;

my $dynamo = start_dynamo();
# no blocks ahead of need, so that the counter's position is exact
my $alpha = new_node('alpha', $dynamo, conf => "seqdist.refill = off\n");
my $beta = new_node('beta', $dynamo, conf => "seqdist.refill = off\n");

for my $node ($alpha, $beta)
{
	$node->safe_psql('postgres', q{
		CREATE EXTENSION seqdist;
		SELECT seqdist.create_table();
		CREATE SEQUENCE ids_seq;
		SELECT seqdist.register('ids_seq', 'tap-shared-ids');
		CREATE TABLE ids (
			id bigint PRIMARY KEY DEFAULT seqdist.seqdist_nextval('ids_seq'),
			by_client int);
	});
}

my $script = "$PostgreSQL::Test::Utils::tmp_check/insert.sql";
PostgreSQL::Test::Utils::append_to_file($script,
	"INSERT INTO ids (by_client) VALUES (:client_id);\n");

# 8 clients on one cluster
my $clients = 8;
my $per_client = 250;
$alpha->command_ok(
	[
		'pgbench', '-n', '-c', $clients, '-j', '2', '-t', $per_client,
		'-f', $script, '-h', $alpha->host, '-p', $alpha->port, 'postgres'
	],
	"pgbench: $clients clients insert with seqdist_nextval defaults");
is($alpha->safe_psql('postgres', 'SELECT count(*), count(DISTINCT id) FROM ids'),
	($clients * $per_client) . '|' . ($clients * $per_client),
	'every insert got a value, all distinct');

# both clusters at once, on the shared counter
my @runs;
for my $node ($alpha, $beta)
{
	my ($out, $err) = ('', '');
	push @runs,
	  [
		IPC::Run::start(
			[
				'pgbench', '-n', '-c', '4', '-j', '2', '-t', $per_client, '-f',
				$script, '-h', $node->host, '-p', $node->port, 'postgres'
			],
			'>', \$out, '2>', \$err),
		\$out, \$err, $node->name
	  ];
}
for my $run (@runs)
{
	my ($h, $out, $err, $name) = @$run;
	ok($h->finish, "pgbench on $name finished cleanly") or diag($$err);
}

my %seen;
my $dups = 0;
my $total = 0;
for my $node ($alpha, $beta)
{
	for my $id (split /\n/, $node->safe_psql('postgres', 'SELECT id FROM ids'))
	{
		$dups++ if $seen{$id}++;
		$total++;
	}
}
my $expected = $clients * $per_client + 2 * 4 * $per_client;
is($total, $expected, "$expected rows across both clusters");
is($dups, 0, 'no value was handed out twice across the two clusters');

my $position = $alpha->safe_psql('postgres',
	"SELECT seqdist.counter_item('ids_seq') ->> 'last_value'");
is($position, $expected,
	'the shared counter advanced by exactly the number of values handed out');
my ($min, $max) = (sort { $a <=> $b } keys %seen)[ 0, -1 ];
is("$min..$max", "1..$expected", 'values are exactly 1..N: no value lost');

done_testing();
