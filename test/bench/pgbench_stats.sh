#!/usr/bin/env bash
# Throughput and latency percentiles of one pgbench run, out of its
# per-transaction logs (pgbench -l: one file per thread, pgbench_log.*).
#
#   bash test/bench/pgbench_stats.sh DIR    prints "tps p50_ms p99_ms", and
#                                           writes the latencies (us) to DIR/lat
#
# Both come from the time each transaction ended (fields 5 and 6: seconds
# and microseconds), not from the latency field (3): pgbench reads the clock
# once per pass of its state machine over a client, and a transaction that
# begins and ends within one pass (its answer was there before pgbench
# looked: the backend ran as soon as the query was sent, common on a machine
# with few cores) is logged as 0 us.  On 2 cores over half of them read 0,
# p50 printed 0.000 ms, and the logged latencies added up to 60% of the time
# the clients ran.  A client sends its next transaction as soon as one ends,
# so the time between two ends of one client is the latency of the second;
# the first of each client, whose start is unknown, is left out.  Throughput
# is the sum over the clients of their transactions per second between
# their first and last end.  No log, or one transaction per client: "0 0 0".
#
# Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
set -eu
dir=$1
: >"$dir/lat"
# each line: client, transaction, latency (us), script, end (s), end (us)
tps=$(cat "$dir"/pgbench_log.* 2>/dev/null | sort -k1,1n -k2,2n | awk -v lat="$dir/lat" '
	{ t = $5 * 1000000 + $6 }
	$1 in last { print t - last[$1] >lat; n[$1]++ }
	!($1 in last) { first[$1] = t }
	{ last[$1] = t }
	END { for (k in n) if (last[k] > first[k]) r += n[k] * 1000000 / (last[k] - first[k]); printf "%.1f\n", r }')
sort -n "$dir/lat" -o "$dir/lat"
awk -v tps="$tps" '{ a[NR] = $1 } END {
	p50 = NR ? a[int(NR * 0.5) + 1] / 1000 : 0; p99 = NR ? a[int(NR * 0.99) + 1] / 1000 : 0;
	if (NR && int(NR * 0.99) + 1 > NR) p99 = a[NR] / 1000;
	if (NR && int(NR * 0.5) + 1 > NR) p50 = a[NR] / 1000;
	printf "%.1f %.3f %.3f\n", NR ? tps : 0, p50, p99 }' "$dir/lat"
