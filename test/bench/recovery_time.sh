#!/usr/bin/env bash
# How long a pgbench run that starts right after a restart takes to get back
# to 0.9x of its steady-state throughput, out of its per-transaction logs
# (pgbench -l: one file per thread, pgbench_log.*).
#
#   bash test/bench/recovery_time.sh DIR TPS    prints the seconds with one
#                                               decimal, or "never"
#
# Each line of a log: client, transaction, latency (us), script, end (s),
# end (us).  A transaction ends at end (s) + end (us) / 1e6 and starts its
# latency earlier.  t0 is the start of the earliest transaction: the first
# connection's first transaction.  Then one-second windows, stepped by a
# tenth of a second, (t0 + t - 1, t0 + t] for t = 1.0, 1.1, 1.2, ...,
# count the transactions that ended in them; the answer is the t of the
# first window that counts at least 0.9 x TPS of them, "never" when none
# does (or when there is no transaction at all).  Everything is counted in
# whole microseconds, so that a transaction that ends on the edge of a
# window falls on the side the definition says.  Lines whose latency is
# not a number (a failed or skipped transaction) count for nothing.
#
# Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
set -eu
[ $# -eq 2 ] || { echo "usage: bash test/bench/recovery_time.sh DIR TPS" >&2; exit 2; }
dir=$1 tps=$2
case $tps in '' | *[!0-9.]* | *.*.*) echo "recovery_time.sh: TPS must be a number, not '$tps'" >&2; exit 2 ;; esac
cat "$dir"/pgbench_log.* 2>/dev/null | awk -v need="$tps" '
	BEGIN { need *= 0.9 }
	$3 ~ /^[0-9]+$/ && $5 ~ /^[0-9]+$/ && $6 ~ /^[0-9]+$/ {
		e = $5 * 1000000 + $6
		end[++n] = e
		if (n == 1 || e - $3 < t0) t0 = e - $3
	}
	END {
		if (!n) { print "never"; exit }
		# slot k: the ends in (t0 + k * 0.1 s, t0 + (k + 1) * 0.1 s], and
		# one at t0 itself (a first transaction logged as 0 us) in slot 0
		for (i = 1; i <= n; i++) {
			d = end[i] - t0
			k = d > 0 ? int((d - 1) / 100000) : 0
			slot[k]++
			if (k > last) last = k
		}
		# the window that ends with slot k holds slots k - 9 to k: t = (k + 1) / 10
		for (k = 0; k <= last; k++) {
			in_window += slot[k]
			if (k >= 10) in_window -= slot[k - 10]
			if (k >= 9 && in_window >= need) { printf "%.1f\n", (k + 1) / 10; exit }
		}
		print "never"
	}'
