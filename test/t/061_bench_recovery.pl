# The scale benchmark's recovery time after a restart
# (test/bench/recovery_time.sh), on pgbench per-transaction logs made up for
# the test, whose answers are known: the first one-second window, stepped by
# 0.1 s from the start of the first transaction, whose count reaches 0.9x
# the steady state.  A log that never gets there, one that gets there with
# a transaction that ends on the window's last microsecond (2.0 s), one
# whose burst at the start leaves the window (1.9 s), one at
# full speed from the start (1.0 s), two clients interleaved in one file
# (pgbench -j 1) and in two files (-j 2), whose first transactions started
# and ended in a different order.
#
# Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
use strict;
use warnings;

use PostgreSQL::Test::Utils;
use Test::More;

my $root = $ENV{SEQDIST_ROOT};
# t0 of every log: on no whole second, so that a reading off by its
# fraction of a second shows
my $t0 = (1_796_540_000 * 1_000_000) + 500_000;

# write FILE: each transaction [client, latency (us), end (us after t0)],
# numbered per client in order, as pgbench's lines (client, number,
# latency, script, end s, end us)
sub write_log
{
	my ($file, @transactions) = @_;
	my (%number, $log);
	for my $x (@transactions)
	{
		my ($client, $latency, $end) = @$x;
		my $t = $t0 + $end;
		$log .= sprintf("%d %d %s 0 %d %d\n",
			$client, ++$number{$client}, $latency, int($t / 1_000_000), $t % 1_000_000);
	}
	PostgreSQL::Test::Utils::append_to_file($file, $log);
	return;
}

# recovery DIR TPS: what recovery_time.sh prints
sub recovery
{
	my ($dir, $tps) = @_;
	my ($out, $err) = run_command([ 'bash', "$root/test/bench/recovery_time.sh", $dir, $tps ]);
	chomp $out;
	note("recovery_time.sh $tps: $out $err");
	return $out;
}

# a client ending a transaction every GAP us from FROM (exclusive) to TO (inclusive)
sub every
{
	my ($client, $gap, $from, $to) = @_;
	my @t;
	for (my $end = $from + $gap; $end <= $to; $end += $gap)
	{
		push @t, [ $client, $gap, $end ];
	}
	return @t;
}

# never: 89 transactions a second for 20 s against a steady state of 100
# (at least 90 needed), and one failed transaction a second, which does not
# count
{
	my $dir = PostgreSQL::Test::Utils::tempdir();
	my @t = ([ 0, 300_000, 300_000 ]);
	for my $s (0 .. 19)
	{
		push @t, map { [ 0, 10_000, 300_000 + $s * 1_000_000 + $_ * 11_000 ] } 1 .. 89;
		push @t, [ 0, 'failed', 300_000 + $s * 1_000_000 + 995_000 ];
	}
	write_log("$dir/pgbench_log.100", @t);
	is(recovery($dir, 100), 'never', 'a run that never reaches 0.9x of its steady state: never');
	is(recovery($dir, 98.8), '1.3', 'the same run against a steady state of 98.8 (89 needed): 1.3 s');
}

# exactly 2.0 s: a first transaction of 0.4 s, nothing until 1.1 s, then one
# every 10 ms; the window (1.0 s, 2.0 s] holds the 90 of 1.11 s to 2.00 s,
# (0.9 s, 1.9 s] only 80
{
	my $dir = PostgreSQL::Test::Utils::tempdir();
	write_log("$dir/pgbench_log.200", [ 0, 400_000, 400_000 ], every(0, 10_000, 1_100_000, 15_000_000));
	is(recovery($dir, 100), '2.0', 'the 90th transaction ends at 2.0 s: back at 2.0 s, not before, not after');
	is(recovery($dir, 100.2), '2.1', 'one more needed (90.18): 2.1 s');
}

# a burst that leaves the window: 50 transactions in the first 0.1 s, none
# until 1.0 s, then one every 10 ms; (0.9 s, 1.9 s] is the first to hold 90
{
	my $dir = PostgreSQL::Test::Utils::tempdir();
	write_log("$dir/pgbench_log.250", every(0, 2000, 0, 100_000), every(0, 10_000, 1_000_000, 5_000_000));
	is(recovery($dir, 100), '1.9', 'a burst at the start leaves the window after a second: 1.9 s');
}

# at full speed from the start: the first window, 1.0 s
{
	my $dir = PostgreSQL::Test::Utils::tempdir();
	write_log("$dir/pgbench_log.300", every(0, 5000, 0, 5_000_000));
	is(recovery($dir, 100), '1.0', 'at full speed from the start: the first window, 1.0 s');
}

# two clients: client 0's first transaction starts at t0 and ends at 0.8 s;
# client 1's starts at 0.3 s and ends first, at 0.5 s; then each ends one
# every 20 ms, client 1 10 ms after client 0: together one every 10 ms from
# 0.80 s on.  (0.7 s, 1.7 s] holds 0.80 s to 1.70 s, 91; (0.6 s, 1.6 s] 81.
# t0 read as the first line's start (0.3 s) would give 1.4, as its end
# 1.2; one client alone never gets there.
my @clients = ([ 1, 200_000, 500_000 ], [ 0, 800_000, 800_000 ]);
my @steady = sort { $a->[2] <=> $b->[2] } every(0, 20_000, 800_000, 10_000_000), every(1, 20_000, 790_000, 10_000_000);
{
	my $dir = PostgreSQL::Test::Utils::tempdir();
	write_log("$dir/pgbench_log.400", @clients, @steady);
	is(recovery($dir, 100), '1.7', 'two clients interleaved in one file: 1.7 s from the earliest start');
}
{
	my $dir = PostgreSQL::Test::Utils::tempdir();
	write_log("$dir/pgbench_log.500", grep { $_->[0] == 0 } @clients, @steady);
	write_log("$dir/pgbench_log.500.1", grep { $_->[0] == 1 } @clients, @steady);
	is(recovery($dir, 100), '1.7', 'two clients in two files (one per thread): the same 1.7 s');
	# (0.3 s, 1.3 s]: 0.5 s and 0.80 s to 1.30 s, 52; (0.2 s, 1.2 s] 42
	is(recovery($dir, 57.7), '1.3', 'against 57.7 (52 needed): 1.3 s, client 1\'s first transaction counted');
}

# no log at all
{
	my $dir = PostgreSQL::Test::Utils::tempdir();
	is(recovery($dir, 100), 'never', 'no log: never');
}

done_testing();
