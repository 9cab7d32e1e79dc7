# A service outside PostgreSQL shares a counter with two clusters: a client
# written with the AWS SDK for JavaScript from the README's section "The
# counter item" (test/outside_client.js) joins, reserves blocks and leaves
# while both clusters insert through seqdist_nextval, with lost answers and
# throttling injected.  The whole history of the three is checked: no value
# twice.
#
# Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use JSON::PP;
use SeqdistTest;

my $dynamo = start_dynamo();
my $key = 'shared-with-a-service';
my @nodes = (
	new_node('outside_a', $dynamo, conf => "seqdist.max_block_size = 1000\n"),
	new_node('outside_b', $dynamo));
for my $i (0, 1)
{
	my $node = $nodes[$i];
	my $cache = $i == 0 ? 1 : 10;
	$node->safe_psql('postgres', qq{
		CREATE EXTENSION seqdist;
		SELECT seqdist.create_table();
		CREATE SEQUENCE s CACHE $cache;
		SELECT seqdist.register('s', '$key');
		CREATE TABLE t (id bigint PRIMARY KEY DEFAULT seqdist.seqdist_nextval('s'));
	});
}
$nodes[1]->safe_psql('postgres', q{SELECT seqdist.set_block_size('s', 50)});

# Faults while the three share the counter: answers lost after DynamoDB
# applied the write (retries then find their own token, or reserve again),
# and throttling; at most 4 in a row, so that every caller's 5 attempts
# get through
dynamo_faults($dynamo,
	{ target => 'UpdateItem', mode => 'after_forward_reset', count => 2 },
	{ target => 'UpdateItem', mode => 'throttle', count => 2 },
	{ target => 'GetItem', mode => 'after_forward_reset', count => 2 });

my $batches = 40;
my $rows = 500;
my @inserters;
for my $node (@nodes)
{
	my %h = (out => '', err => '');
	$h{h} = IPC::Run::start(
		[
			'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', $node->host, '-p', $node->port,
			'-d', 'postgres', '-c',
			join('; ', ("INSERT INTO t SELECT FROM generate_series(1, $rows)") x $batches)
		],
		'>', \$h{out}, '2>', \$h{err});
	push @inserters, \%h;
}

my $name = 'billing-service';
my $block = 25;
my $blocks = 200;

# Run the outside client for blocks blocks; returns its exit status, its
# stderr and the values it wrote
sub outside_client
{
	my ($blocks, $file) = @_;
	my ($out, $err) = ('', '');
	local %ENV = (%ENV, test_credentials());
	IPC::Run::run(
		[
			'node', "$ENV{SEQDIST_ROOT}/test/outside_client.js",
			'--endpoint', "http://127.0.0.1:$dynamo->{port}", '--region', test_region(),
			'--table', 'seqdist_tap', '--key', $key, '--name', $name,
			'--block', $block, '--blocks', $blocks, '--out', $file
		],
		'>', \$out, '2>', \$err, IPC::Run::timeout(60));
	my $status = $?;
	open(my $fh, '<', $file) or die "$file: $!";
	chomp(my @values = <$fh>);
	close $fh;
	return ($status, $err, @values);
}

my ($status, $client_err, @client_values) =
  outside_client($blocks, "$PostgreSQL::Test::Utils::tmp_check/outside_values");
is($status, 0, 'the outside client joined, reserved its blocks and left') or diag($client_err);
note("measured: $client_err");
for my $h (@inserters)
{
	$h->{h}->finish;
	is($?, 0, 'a cluster inserted all its rows') or diag($h->{err});
}
my $faults = decode_json(join '', `sh $ENV{SEQDIST_ROOT}/test/dynamo_control.sh $dynamo->{port} faults`);
dynamo_faults($dynamo);
is(scalar(grep { $_->{remaining} } @{ $faults->{rules} }), 0, 'every injected fault was used')
  or diag(encode_json($faults));

# The whole history
my %source;
my $dups = 0;
my @cluster_values;
for my $i (0, 1)
{
	my @v = split /\n/, $nodes[$i]->safe_psql('postgres', 'SELECT id FROM t');
	is(scalar(@v), $batches * $rows, "cluster $i inserted every row");
	push @cluster_values, @v;
	for (@v) { $dups++ if exists $source{$_}; $source{$_} = $i; }
}
is(scalar(@client_values), $block * $blocks, 'the client owns every value it reserved');
for (@client_values) { $dups++ if exists $source{$_}; $source{$_} = 'client'; }
is($dups, 0, 'no value was handed out twice across the clusters and the service');
ok(!(grep { $_ < 1 || $_ > 9223372036854775807 } keys %source), 'every value lies within the bounds');

# They really shared the counter: the service's values lie among the
# clusters' values, not before or after them all
my @sorted = sort { $a <=> $b } keys %source;
my $switches = 0;
for my $j (1 .. $#sorted)
{
	$switches++ if ($source{ $sorted[$j] } eq 'client') != ($source{ $sorted[ $j - 1 ] } eq 'client');
}
note("measured: the service's values and the clusters' alternate $switches times in "
	  . scalar(@sorted) . ' values');
cmp_ok($switches, '>=', 3, 'the service reserved between the clusters\' blocks');

# It left: the clients are the two sequences again
my $item = decode_json($nodes[0]->safe_psql('postgres', q{SELECT seqdist.counter_item('s')}));
is(scalar(@{ $item->{clients} }), 2, 'the service left the clients set, the two sequences stay');
ok(!(grep { $_ eq $name } @{ $item->{clients} }), 'the service is no longer a client');

# The service joins again, and the answer to its join is lost: the SDK's
# retry finds the condition false, and the token in the item tells the
# client its join was applied.  The clusters' refill workers are stopped
# first, so that the lost answer is the client's.
for my $node (@nodes)
{
	$node->safe_psql('postgres', q{ALTER SYSTEM SET seqdist.refill = off; SELECT pg_reload_conf()});
}
sleep 1;    # a refill in flight ends well within this (no fault is set)
dynamo_faults($dynamo, { target => 'UpdateItem', mode => 'after_forward_reset', count => 1 });
my ($status2, $err2, @more) = outside_client(4, "$PostgreSQL::Test::Utils::tmp_check/outside_values2");
dynamo_faults($dynamo);
is($status2, 0, 'the client joins although the answer to its join was lost') or diag($err2);
like($err2, qr/"joins":1,"lostAnswers":1/, 'it knew its join applied from its write token');
is(scalar(grep { exists $source{$_} } @more), 0, 'its new values are new');
is(scalar(@more), 4 * $block, 'and as many as it reserved');
$source{$_} = 'client' for @more;

# The clusters go on beyond everything the service took
my $after = $nodes[0]->safe_psql('postgres', q{SELECT seqdist.seqdist_nextval('s')});
ok(!exists $source{$after}, 'a value after the service left is new');

done_testing();
