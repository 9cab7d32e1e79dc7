# Adaptive block size: blocks grow while they are used up faster than
# seqdist.block_target_duration, so heavy use needs few DynamoDB requests,
# and shrink again when use slows down, so idle sequences keep gaps small.
#
# Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);
use SeqdistTest;

my $dynamo = start_dynamo();
my $node = new_node('adaptive', $dynamo,
	conf => "seqdist.block_size = 100\n"
	  . "seqdist.max_block_size = 102400\n"
	  . "seqdist.block_target_duration = '200ms'\n"
	  . "seqdist.refill = off\n");
$node->safe_psql('postgres', q{
	CREATE EXTENSION seqdist;
	SELECT seqdist.create_table();
	CREATE SEQUENCE a;
	SELECT seqdist.register('a');
	CREATE SEQUENCE fixed;
	SELECT seqdist.register('fixed');
	SELECT seqdist.set_block_size('fixed', 100);
});

sub updates { return dynamo_stats($dynamo)->{by_operation}{UpdateItem}{total} // 0; }

# heavy use: 300,000 values at once
dynamo_reset($dynamo);
is($node->safe_psql('postgres',
		"SELECT count(DISTINCT seqdist.seqdist_nextval('a')) FROM generate_series(1, 300000)"),
	'300000', '300,000 distinct values');
my $n = updates();
note("measured: $n UpdateItem requests for 300,000 values starting from blocks of 100");
cmp_ok($n, '<', 30, 'blocks grew: far fewer requests than 3,000 blocks of 100');

# a fixed block size does not adapt
dynamo_reset($dynamo);
$node->safe_psql('postgres',
	"SELECT count(seqdist.seqdist_nextval('fixed')) FROM generate_series(1, 30000)");
is(updates(), 300, 'a sequence with its own block size takes exactly values / block size requests');

# Drop the cached block (setval to the counter's own position) and take a
# value: the new block's size is how far the counter is ahead of it.
sub block_after_restart_of_block
{
	my $v = $node->safe_psql('postgres', q{
		SELECT seqdist.seqdist_setval('a', (seqdist.counter_item('a') ->> 'last_value')::bigint);
		SELECT seqdist.seqdist_nextval('a') || ' ' || (seqdist.counter_item('a') ->> 'last_value')});
	my ($value, $position) = split / /, (split /\n/, $v)[-1];
	return $position - $value + 1;
}

# slow use: each block lasts longer than four target durations, so it halves
my @sizes;
for (1 .. 4)
{
	usleep(1_000_000);
	push @sizes, block_after_restart_of_block();
}
note('measured: block sizes after idle periods: ' . join(', ', @sizes));
ok((grep { $sizes[$_] * 2 != $sizes[ $_ - 1 ] } 1 .. $#sizes) == 0,
	'after each idle period the block is half as big (' . join(', ', @sizes) . ')');

# and never below seqdist.block_size: keep idling (every period longer than
# four target durations, so each block halves) until the block is at the
# floor, then idle twice more and check that it stays there
my @floor = ($sizes[-1]);
for (1 .. 16)
{
	usleep(1_000_000);
	push @floor, block_after_restart_of_block();
	last if @floor >= 3 && $floor[-3] <= 100;
}
note('measured: block sizes down to the floor: ' . join(', ', @floor));
cmp_ok($floor[-3], '<=', 100, 'the idle blocks shrank down to seqdist.block_size');
is(join(',', @floor[-2, -1]), '100,100',
	'blocks never shrink below seqdist.block_size (the next two idle blocks are 100 each)');

done_testing();
