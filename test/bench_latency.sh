#!/usr/bin/env bash
# The refill benchmark: pgbench with 2 clients, SELECT seqdist_nextval(...)
# and INSERT ... DEFAULT VALUES, first with DynamoDB answering at once, then
# with a delay added in front of it (a loopback delay rule of the local
# DynamoDB), in one run on one cluster.  Prints both runs, the ratio, the
# number of times a backend waited for DynamoDB after the warm-up, and the
# DynamoDB requests per million values.  It never fails because a target is
# missed; it exits non-zero only if something broke.
#
#   bash test/bench_latency.sh [--no-build] [--seconds N] [--latency-ms N]
#
# Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
set -eu
SEQDIST_ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$SEQDIST_ROOT/test/lib.sh"

ORIG_ARGS=("$@")
SECONDS_PER_RUN=10
LATENCY_MS=20
while [ $# -gt 0 ]; do
	case $1 in
		--no-build) SEQDIST_NO_BUILD=1 ;;
		--seconds) SECONDS_PER_RUN=$2; shift ;;
		--latency-ms) LATENCY_MS=$2; shift ;;
		*) die "usage: $0 [--no-build] [--seconds N] [--latency-ms N]" ;;
	esac
	shift
done
seqdist_bootstrap test/bench_latency.sh "${ORIG_ARGS[@]}"

seqdist_test_credentials
seqdist_start_local_stack latency
PORT=$PGPORT_LOCAL

psql_() { "$SEQDIST_PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$WORK" -p "$PORT" -U postgres -d postgres "$@"; }
set_delay() {
	local rules='{"rules":[]}'
	[ "$1" -gt 0 ] && rules="{\"rules\":[{\"target\":\"*\",\"mode\":\"delay\",\"ms\":$1}]}"
	seqdist_dynamo_control faults "$rules" >/dev/null
}

psql_ >/dev/null <<'SQL'
CREATE EXTENSION seqdist;
SELECT seqdist.create_table();
CREATE SEQUENCE sel_seq;
SELECT seqdist.register('sel_seq');
CREATE SEQUENCE ins_seq;
SELECT seqdist.register('ins_seq');
CREATE TABLE t (id bigint PRIMARY KEY DEFAULT seqdist.seqdist_nextval('ins_seq'));
SQL
echo "SELECT seqdist.seqdist_nextval('sel_seq');" >"$WORK/select.sql"
echo "INSERT INTO t DEFAULT VALUES;" >"$WORK/insert.sql"

# one pgbench run; prints its TPS
pgbench_tps() {
	"$SEQDIST_PG_BIN/pgbench" -n -M prepared -c 2 -j 2 -T "$2" -f "$WORK/$1.sql" \
		-h "$WORK" -p "$PORT" -U postgres postgres 2>&1 |
		awk '/^tps = / { printf "%.1f\n", $3 }'
}

declare -A TPS WAITS PER_MILLION
for delay in 0 "$LATENCY_MS"; do
	set_delay "$delay"
	for script in select insert; do
		seq=$([ "$script" = select ] && echo sel_seq || echo ins_seq)
		pgbench_tps "$script" 3 >/dev/null    # warm-up: demand is measured, blocks grow
		psql_ -c "SELECT seqdist.stats_reset()" >/dev/null
		before=$(psql_ -c "SELECT coalesce(max((seqdist.counter_item('$seq') ->> 'last_value')::bigint), 0)")
		TPS[$script.$delay]=$(pgbench_tps "$script" "$SECONDS_PER_RUN")
		read -r waits requests < <(psql_ -F ' ' -c "SELECT backend_waits, requests FROM seqdist.stats WHERE sequence = '$seq'::regclass")
		taken=$(awk -v t="${TPS[$script.$delay]}" -v s="$SECONDS_PER_RUN" 'BEGIN { printf "%d", t * s }')
		WAITS[$script.$delay]=$waits
		PER_MILLION[$script.$delay]=$(awk -v r="${requests:-0}" -v n="$taken" 'BEGIN { printf "%.1f", (n > 0 ? r * 1000000 / n : 0) }')
		[ -n "$before" ] || die "could not read the counter"
	done
done
set_delay 0

dups=$(psql_ -c "SELECT count(*) - count(DISTINCT id) FROM t")
echo
echo "pgbench -c 2 -j 2 -T $SECONDS_PER_RUN, after a 3 s warm-up each; delay added to every DynamoDB request"
printf '  %-32s %12s %12s %8s %8s\n' script "0 ms tps" "$LATENCY_MS ms tps" ratio target
for script in select insert; do
	ratio=$(awk -v a="${TPS[$script.$LATENCY_MS]}" -v b="${TPS[$script.0]}" 'BEGIN { printf "%.3f", a / b }')
	verdict=$(awk -v r="$ratio" 'BEGIN { print ((r >= 0.95) ? "MET" : "NOT MET") }')
	printf '  %-32s %12s %12s %8s %8s  (>= 0.95)\n' "$script" "${TPS[$script.0]}" "${TPS[$script.$LATENCY_MS]}" "$ratio" "$verdict"
done
echo
printf '  %-32s %12s %12s\n' "after warm-up" "0 ms" "$LATENCY_MS ms"
for script in select insert; do
	printf '  %-32s %12s %12s  (target 0)\n' "$script: backend waits" "${WAITS[$script.0]}" "${WAITS[$script.$LATENCY_MS]}"
	printf '  %-32s %12s %12s\n' "$script: requests per 1M values" "${PER_MILLION[$script.0]}" "${PER_MILLION[$script.$LATENCY_MS]}"
done
echo
echo "  duplicate ids in t: $dups"
[ "$dups" = 0 ] || die "duplicate ids"
