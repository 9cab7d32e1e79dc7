# The scale benchmark's reading of pgbench's per-transaction logs
# (test/bench/pgbench_stats.sh), on logs made up for the test with what
# pgbench writes on a machine with few cores: a transaction that begins and
# ends within one pass of pgbench's state machine is logged with a latency
# of 0 us, so the latency field cannot be read as the transaction's
# latency.  The times the transactions ended can: two clients, each ending
# a transaction every 100 us, one in fifty after 1000 us instead, must read
# as p50 0.100 ms, p99 1.000 ms, and the throughput of those ends.
#
# Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
use strict;
use warnings;

use PostgreSQL::Test::Utils;
use Test::More;

my $dir = PostgreSQL::Test::Utils::tempdir();
my $epoch = 1_796_540_000;
my $span = 0;
for my $client (0, 1)
{
	my $file = $client == 0 ? "$dir/pgbench_log.4242" : "$dir/pgbench_log.4242.$client";
	my $t = 1_000_000 * $client + 123;    # the clients start apart
	my $log = '';
	for my $n (1 .. 1001)
	{
		my $gap = ($n > 1 && $n % 50 == 0) ? 1000 : 100;
		$t += $gap if $n > 1;
		# pgbench's field: 0 every other transaction, twice the time otherwise
		my $logged = $n % 2 ? 0 : 2 * $gap;
		$log .= sprintf("%d %d %d 0 %d %d\n",
			$client, $n, $logged, $epoch + int($t / 1_000_000), $t % 1_000_000);
	}
	PostgreSQL::Test::Utils::append_to_file($file, $log);
	# 980 gaps of 100 us and 20 of 1000 us
	$span = 980 * 100 + 20 * 1000;
}
my $root = $ENV{SEQDIST_ROOT};
my ($out, $err) = run_command([ 'bash', "$root/test/bench/pgbench_stats.sh", $dir ]);
chomp $out;
note("pgbench_stats.sh: $out $err");
my ($tps, $p50, $p99) = split ' ', $out;
is($p50, '0.100', 'p50 is the time between two ends of one client, not the logged 0 us');
is($p99, '1.000', 'p99 sees the one transaction in fifty that took 1 ms');
my $expected = 2 * 1000 * 1_000_000 / $span;
cmp_ok(abs($tps - $expected), '<', 1,
	sprintf('throughput: each client\'s transactions over its own time (%.1f)', $expected));
is(scalar(split /\n/, slurp_file("$dir/lat")), 2000,
	'one latency per transaction but the first of each client, whose start is unknown');

done_testing();
