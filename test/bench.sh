#!/usr/bin/env bash
# The benchmark: seqdist_nextval() against native nextval(), in one run, on one
# throwaway PostgreSQL cluster with seqdist preloaded and a local DynamoDB
# (dynalite behind test/local_dynamodb.js) on 127.0.0.1.  Prints the figures,
# the ratios with their targets (MET / NOT MET), the DynamoDB requests per
# million values and the shared memory seqdist adds.  A missed target never
# fails the run: the exit status is non-zero only if something broke (an
# error, a failed pgbench transaction, a wrong count, a duplicate).
#
#   bash test/bench.sh [--no-build] [--seconds N] [--repeats N]
#                      [--latency-ms N] [--values N] [--seqdist-budget S]
#
# Like test/demo.sh: installs the dependencies and builds/installs seqdist
# first (unless --no-build), and when run as root re-runs itself as an
# unprivileged user.  Stops everything it started.
#
# Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
set -eu
SEQDIST_ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$SEQDIST_ROOT/test/lib.sh"

usage() {
	cat <<'EOF'
usage: bash test/bench.sh [options]
  --no-build          use the installed seqdist: skip installing dependencies and build/install
  --seconds N         duration of each pgbench run (default 10)
  --repeats N         timed runs of each measurement; the median is reported (default 3)
  --values N          values per SELECT count(...) run (default 2000000)
  --seqdist-budget S  seconds allowed for all timed runs of one seqdist sequence; a
                      seqdist run too slow for it is scaled down (default 30)
  --latency-ms N      add N ms to every DynamoDB request for the whole run (fault rule
                      "delay" of the local DynamoDB), e.g. to compare 0 ms with 20 ms
EOF
}

ORIG_ARGS=("$@")
NO_BUILD=
PGB_SECONDS=10
REPEATS=3
VALUES=2000000
SEQDIST_BUDGET=30
LATENCY_MS=0
need_int() { case "${2:-}" in '' | *[!0-9]*) usage >&2; die "$1 needs a non-negative integer, got '${2:-}'" ;; esac; }
while [ $# -gt 0 ]; do
	case "$1" in
		--no-build) NO_BUILD=1; shift ;;
		--seconds) need_int "$1" "${2:-}"; PGB_SECONDS=$2; shift 2 ;;
		--seconds=*) need_int --seconds "${1#*=}"; PGB_SECONDS=${1#*=}; shift ;;
		--repeats) need_int "$1" "${2:-}"; REPEATS=$2; shift 2 ;;
		--repeats=*) need_int --repeats "${1#*=}"; REPEATS=${1#*=}; shift ;;
		--values) need_int "$1" "${2:-}"; VALUES=$2; shift 2 ;;
		--values=*) need_int --values "${1#*=}"; VALUES=${1#*=}; shift ;;
		--seqdist-budget) need_int "$1" "${2:-}"; SEQDIST_BUDGET=$2; shift 2 ;;
		--seqdist-budget=*) need_int --seqdist-budget "${1#*=}"; SEQDIST_BUDGET=${1#*=}; shift ;;
		--latency-ms) need_int "$1" "${2:-}"; LATENCY_MS=$2; shift 2 ;;
		--latency-ms=*) need_int --latency-ms "${1#*=}"; LATENCY_MS=${1#*=}; shift ;;
		-h | --help) usage; exit 0 ;;
		*) usage >&2; die "unknown option '$1'" ;;
	esac
done
[ "$PGB_SECONDS" -ge 1 ] || die "--seconds must be at least 1"
[ "$REPEATS" -ge 1 ] || die "--repeats must be at least 1"
[ "$VALUES" -ge 100 ] || die "--values must be at least 100"
[ "$SEQDIST_BUDGET" -ge 1 ] || die "--seqdist-budget must be at least 1"

[ -n "$NO_BUILD" ] && SEQDIST_NO_BUILD=1
seqdist_bootstrap test/bench.sh "${ORIG_ARGS[@]}"

seqdist_test_credentials
WORK=$(mktemp -d "${TMPDIR:-/tmp}/seqdist-bench.XXXXXX")
PGDATA_DIR=$WORK/pgdata
PG_STARTED=
PROBLEMS=()
PSQL_BIN=$SEQDIST_PG_BIN/psql
PGBENCH_BIN=$SEQDIST_PG_BIN/pgbench
[ -x "$PGBENCH_BIN" ] || PGBENCH_BIN=$(command -v pgbench || true)
[ -n "$PGBENCH_BIN" ] || die "pgbench not found"
# Every connection of this script: a guard against a hung call, nothing else.
export PGOPTIONS='-c statement_timeout=300s'

stop_all() {
	set +e    # stop everything, whatever fails (a server that is already down)
	if [ -n "$PG_STARTED" ]; then
		"$SEQDIST_PG_BIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w stop >/dev/null 2>&1
	fi
	seqdist_stop_pid "${DYNAMO_PID:-}"
	if [ ${#PROBLEMS[@]} -eq 0 ]; then
		rm -rf "$WORK"
	else
		echo "logs kept in $WORK (postgresql.log, dynamo/dynamo.log, *.err, pgbench_*.log)"
	fi
}
trap stop_all EXIT

problem() {
	PROBLEMS+=("$*")
	printf '    PROBLEM: %s\n' "$*"
}

# Floating point in awk: fp 'EXPR' [name=value ...]
fp() { local e=$1; shift; awk -v OFMT='%.6g' "$@" "BEGIN { print ($e) }"; }
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
minimum() { printf '%s\n' "$@" | sort -g | head -n 1; }
maximum() { printf '%s\n' "$@" | sort -g | tail -n 1; }
# Round down to two significant digits (1234567 -> 1200000).
round2() { awk -v x="$1" 'BEGIN { x = int(x); if (x < 100) { print x; exit } p = 1; while (x >= 100) { x = int(x / 10); p *= 10 } print x * p }'; }
thousands() { sed -E ':a; s/^([0-9]+)([0-9]{3})/\1,\2/; ta' <<<"$1"; }

psql_() { "$PSQL_BIN" -X -q -At -v ON_ERROR_STOP=1 -h "$WORK" -p "$PGPORT" -U postgres -d postgres "$@"; }

# ---------------------------------------------------------------------------
# The local DynamoDB's control API
# ---------------------------------------------------------------------------
FAULT_JSON=
LATENCY_APPLIED=0
# The number of UpdateItem requests since the last reset (reads the stats JSON).
dyn_updates() {
	seqdist_dynamo_control stats | node -e '
		let s = ""; process.stdin.on("data", (d) => s += d).on("end", () => {
			const j = JSON.parse(s); const u = (j.by_operation || {}).UpdateItem;
			console.log(u ? u.total : 0); });'
}
# Reset the counters; a reset also clears the fault rules, so the added
# latency (if any) is applied again.  Used from psql too (\!), so a script.
write_reset_script() {
	{
		echo '#!/bin/sh'
		echo 'set -e'
		echo "sh '$SEQDIST_ROOT/test/dynamo_control.sh' $DYNAMO_PORT reset >/dev/null"
		if [ "$LATENCY_APPLIED" = 1 ]; then
			echo "sh '$SEQDIST_ROOT/test/dynamo_control.sh' $DYNAMO_PORT faults '$FAULT_JSON' >/dev/null"
		fi
		echo "echo 'reset|ok'"
	} >"$WORK/dyn_reset.sh"
}
dyn_reset() { sh "$WORK/dyn_reset.sh" >/dev/null; }

# ---------------------------------------------------------------------------
# Measurements
# ---------------------------------------------------------------------------
declare -A R_N R_MED R_BEST R_WORST R_REPS R_NOTE R_UPD
count_query() { echo "SELECT count($1) FROM generate_series(1, $2)"; }

# measure LABEL EXPR WARM_N RUN_N RESET [PREAMBLE]
# One session: PREAMBLE (SQL, if any), a warm-up call of WARM_N values, then (after resetting the
# DynamoDB counters if RESET=1) REPEATS timed calls of RUN_N values each,
# timed inside the server with clock_timestamp().  Fills the R_* entries.
measure() {
	local label=$1 expr=$2 warm=$3 n=$4 reset=$5 preamble=${6:-} script out kind got ms times=()
	script=$WORK/measure_$label.sql
	{
		if [ -n "$preamble" ]; then echo "$preamble;"; fi
		echo "SELECT 'warm', n, ms FROM bench_time(\$q\$$(count_query "$expr" "$warm")\$q\$);"
		if [ "$reset" = 1 ]; then echo "\\! sh $WORK/dyn_reset.sh"; fi
		for _ in $(seq 1 "$REPEATS"); do
			echo "SELECT 'run', n, ms FROM bench_time(\$q\$$(count_query "$expr" "$n")\$q\$);"
		done
	} >"$script"
	if ! out=$(psql_ -f "$script" 2>"$WORK/measure_$label.err"); then
		problem "$label: $(tail -n 3 "$WORK/measure_$label.err" | tr '\n' ' ')"
		return 1
	fi
	if [ "$reset" = 1 ] && ! grep -qx 'reset|ok' <<<"$out"; then
		problem "$label: could not reset the local DynamoDB's counters"
		return 1
	fi
	while IFS='|' read -r kind got ms; do
		case "$kind" in
			warm) [ "$got" = "$warm" ] || { problem "$label: warm-up counted $got values, expected $warm"; return 1; } ;;
			run)
				[ "$got" = "$n" ] || { problem "$label: a run counted $got values, expected $n"; return 1; }
				times+=("$ms") ;;
		esac
	done <<<"$out"
	[ ${#times[@]} -eq "$REPEATS" ] || { problem "$label: expected $REPEATS timed runs, got ${#times[@]}"; return 1; }
	R_N[$label]=$n
	R_REPS[$label]=${#times[@]}
	R_MED[$label]=$(median "${times[@]}")
	R_BEST[$label]=$(minimum "${times[@]}")
	R_WORST[$label]=$(maximum "${times[@]}")
	if [ "$reset" = 1 ]; then
		local upd
		if upd=$(dyn_updates); then R_UPD[$label]=$upd; else problem "$label: could not read the DynamoDB stats"; fi
	fi
	printf '    %-24s %s x %s values: median %.1f ms (best %.1f, worst %.1f)\n' \
		"$label" "$REPEATS" "$(thousands "$n")" "${R_MED[$label]}" "${R_BEST[$label]}" "${R_WORST[$label]}"
}

# probe LABEL EXPR: time 100, 1,000, 10,000, 100,000 values (stopping at the
# first step that takes 0.5 s or more); sets PROBE_N and PROBE_MS of the last.
probe() {
	local label=$1 expr=$2 step out
	PROBE_N=0; PROBE_MS=0
	for step in 100 1000 10000 100000; do
		if ! out=$(psql_ -c "SELECT n, ms FROM bench_time(\$q\$$(count_query "$expr" "$step")\$q\$)" 2>"$WORK/probe_$label.err"); then
			problem "$label probe: $(tail -n 3 "$WORK/probe_$label.err" | tr '\n' ' ')"
			return 1
		fi
		PROBE_N=${out%%|*}; PROBE_MS=${out#*|}
		[ "$PROBE_N" = "$step" ] || { problem "$label probe counted $PROBE_N values, expected $step"; return 1; }
		printf '    probe %-18s %7s values in %9.1f ms (%s values/s)\n' "$label" "$(thousands "$step")" "$PROBE_MS" \
			"$(thousands "$(fp 'int(n * 1000 / (ms > 0 ? ms : 0.001))' -v n="$PROBE_N" -v ms="$PROBE_MS")")"
		[ "$(fp 'ms >= 500' -v ms="$PROBE_MS")" = 1 ] && break
	done
	return 0
}

# measure_seqdist LABEL SEQUENCE: probe, size the runs to the time budget,
# then measure with the DynamoDB counters reset after the warm-up.
measure_seqdist() {
	local label=$1 seq=$2 expr rate n warm per_run
	expr="seqdist.seqdist_nextval('$seq')"
	probe "$label" "$expr" || return 1
	rate=$(fp 'n * 1000 / (ms > 0 ? ms : 0.001)' -v n="$PROBE_N" -v ms="$PROBE_MS")
	per_run=$(fp 'b / r' -v b="$SEQDIST_BUDGET" -v r="$REPEATS")
	n=$(fp 'int(rate * t)' -v rate="$rate" -v t="$per_run")
	warm=$(fp 'int(rate * 3)' -v rate="$rate")
	if [ "$n" -ge "$VALUES" ]; then
		n=$VALUES
	else
		n=$(round2 "$n"); [ "$n" -ge 100 ] || n=100
		R_NOTE[$label]="SCALED DOWN"
		printf '    NOTE: %s is too slow for %s values per run within the %s s budget (%s runs):\n' \
			"$label" "$(thousands "$VALUES")" "$SEQDIST_BUDGET" "$REPEATS"
		printf '          each run measures %s values instead; the figures below are measured\n' "$(thousands "$n")"
		printf '          counts and rates, nothing is extrapolated to %s.\n' "$(thousands "$VALUES")"
	fi
	[ "$warm" -le 100000 ] || warm=100000
	[ "$warm" -ge 100 ] || warm=100
	measure "$label" "$expr" "$warm" "$n" 1
}

# pgbench_once LABEL SCRIPT: one pgbench run; appends to PGB_TPS_<label> etc.
declare -A P_TPS P_TX P_UPD
pgbench_once() {
	local label=$1 file=$2 rep=$3 reset=$4 log tps tx failed upd
	log=$WORK/pgbench_${label}_$rep.log
	if [ "$reset" = 1 ] && ! dyn_reset; then problem "$label: could not reset the local DynamoDB's counters"; return 1; fi
	if ! "$PGBENCH_BIN" -n -M prepared -c 2 -j 2 -T "$PGB_SECONDS" -f "$file" \
		-h "$WORK" -p "$PGPORT" -U postgres postgres >"$log" 2>&1; then
		problem "pgbench $label run $rep failed: $(grep -m 3 -iE 'error|abort' "$log" | tr '\n' ' ')"
		return 1
	fi
	tps=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time).*/\1/p' "$log")
	tx=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$log")
	failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$log")
	if [ -z "$tps" ] || [ -z "$tx" ]; then problem "pgbench $label run $rep: no tps in its output"; return 1; fi
	if [ -n "$failed" ] && [ "$failed" != 0 ]; then problem "pgbench $label run $rep: $failed failed transactions"; fi
	P_TPS[$label]="${P_TPS[$label]:-} $(printf '%.1f' "$tps")"
	P_TX[$label]=$(( ${P_TX[$label]:-0} + tx ))
	if [ "$reset" = 1 ]; then
		if upd=$(dyn_updates); then P_UPD[$label]=$(( ${P_UPD[$label]:-0} + upd )); else problem "$label: could not read the DynamoDB stats"; fi
	fi
	printf '    run %d %-16s %10.1f tps  (%s transactions)\n' "$rep" "$label" "$tps" "$(thousands "$tx")"
}

# ---------------------------------------------------------------------------
# Start
# ---------------------------------------------------------------------------
say "machine"
CPU_MODEL=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
[ -n "$CPU_MODEL" ] || CPU_MODEL=$(LC_ALL=C lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1)
echo "    date:    $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "    host:    $(uname -srm), nproc $(nproc), $(awk '/^MemTotal/ { printf "%.1f GiB RAM", $2 / 1048576 }' /proc/meminfo)"
echo "    CPU:     ${CPU_MODEL:-unknown}"
SO=$("$SEQDIST_PG_BIN/pg_config" --pkglibdir)/seqdist.so
[ -f "$SO" ] || die "seqdist is not installed ($SO); run without --no-build"
echo "    seqdist: $SO, $(date -u -r "$SO" '+%Y-%m-%d %H:%M:%S UTC'), sha256 $(sha256sum "$SO" | cut -c1-16)"
echo "    options: --seconds $PGB_SECONDS --repeats $REPEATS --values $VALUES --seqdist-budget $SEQDIST_BUDGET --latency-ms $LATENCY_MS"

say "starting a local DynamoDB (dynalite) on 127.0.0.1"
seqdist_start_dynamo "$WORK/dynamo" || die "the local DynamoDB did not start"
echo "    http://127.0.0.1:$DYNAMO_PORT"
if [ "$LATENCY_MS" -gt 0 ]; then
	FAULT_JSON="{\"rules\":[{\"target\":\"*\",\"mode\":\"delay\",\"ms\":$LATENCY_MS}]}"
	if seqdist_dynamo_control faults "$FAULT_JSON" >/dev/null 2>&1 &&
	   seqdist_dynamo_control faults 2>/dev/null | grep -q '"delay"'; then
		LATENCY_APPLIED=1
		echo "    added latency: $LATENCY_MS ms on every DynamoDB request, for the whole run (fault rule 'delay', target '*')"
	else
		echo "    added latency: --latency-ms $LATENCY_MS requested, but this local DynamoDB has no fault rules: none added"
	fi
else
	echo "    added latency: none (--latency-ms 0)"
fi
write_reset_script

say "starting a throwaway PostgreSQL with shared_preload_libraries = 'seqdist'"
PGPORT=$(seqdist_free_port)
"$SEQDIST_PG_BIN/initdb" -D "$PGDATA_DIR" -A trust -U postgres >/dev/null
CONF_LINES="listen_addresses = ''
port = $PGPORT
unix_socket_directories = '$WORK'
shared_preload_libraries = 'seqdist'
seqdist.endpoint = 'http://127.0.0.1:$DYNAMO_PORT'
seqdist.region = '$AWS_REGION'"
printf '%s\n' "$CONF_LINES" >>"$PGDATA_DIR/postgresql.conf"
"$SEQDIST_PG_BIN/pg_ctl" -D "$PGDATA_DIR" -l "$WORK/postgresql.log" -w start >/dev/null ||
	{ tail -n 20 "$WORK/postgresql.log"; die "PostgreSQL did not start"; }
PG_STARTED=1
echo "    set in postgresql.conf (everything else is initdb's default):"
printf '%s\n' "$CONF_LINES" | sed 's/^/        /'
echo "    $(psql_ -c 'SELECT version()')"
echo "    $(psql_ -F ', ' -c "SELECT 'shared_buffers ' || current_setting('shared_buffers'), 'fsync ' || current_setting('fsync'), 'synchronous_commit ' || current_setting('synchronous_commit'), 'wal_level ' || current_setting('wal_level'), 'max_connections ' || current_setting('max_connections')")"

echo "    seqdist settings: $(psql_ -F '=' -R ', ' -c "SELECT name, setting FROM pg_settings WHERE name LIKE 'seqdist.%' AND name NOT LIKE 'seqdist.aws%' ORDER BY name")"

say "creating the benchmark objects (test/bench.sql)"
psql_ -f "$SEQDIST_ROOT/test/bench.sql" >"$WORK/setup.out" 2>&1 ||
	{ cat "$WORK/setup.out"; problem "test/bench.sql failed"; exit 1; }
echo "    native: s_cache1 (CACHE 1), s_cache1000 (CACHE 1000), n1 (CACHE 1); t_native"
echo "    seqdist: d (CACHE 1000), d1 (CACHE 1), registered; t_seqdist"

# ---------------------------------------------------------------------------
# 1-3: SELECT count(...) FROM generate_series(1, N)
# ---------------------------------------------------------------------------
say "SELECT count(nextval(...)) FROM generate_series(1, $(thousands "$VALUES")): warm-up of 100,000, then $REPEATS timed runs, median"
WARM_NATIVE=100000
[ "$WARM_NATIVE" -le "$VALUES" ] || WARM_NATIVE=$VALUES
measure native_cache1 "nextval('s_cache1')" "$WARM_NATIVE" "$VALUES" 0 || true
measure native_cache1000 "nextval('s_cache1000')" "$WARM_NATIVE" "$VALUES" 0 || true
measure_seqdist seqdist_d "d" || true
measure_seqdist seqdist_d1 "d1" || true
# Diagnostic, no target: d again with 100 times larger blocks from DynamoDB,
# which separates the cost of the hot path from that of the block fetches.
BLOCK_SIZE=$(psql_ -c "SELECT setting FROM pg_settings WHERE name = 'seqdist.block_size'" 2>/dev/null) || BLOCK_SIZE=
if [ -n "$BLOCK_SIZE" ] && [ -n "${R_N[seqdist_d]:-}" ]; then
	BIG_BLOCK=$((BLOCK_SIZE * 100))
	echo "    diagnostic: d again, in a session with SET seqdist.block_size = $BIG_BLOCK (default $BLOCK_SIZE)"
	measure seqdist_d_bigblock "seqdist.seqdist_nextval('d')" 100000 "${R_N[seqdist_d]}" 1 \
		"SET seqdist.block_size = $BIG_BLOCK" || true
fi

# ---------------------------------------------------------------------------
# 4-5: pgbench, interleaved so that drift hits both sides alike
# ---------------------------------------------------------------------------
say "pgbench -n -M prepared -c 2 -j 2 -T $PGB_SECONDS, $REPEATS runs of each script, interleaved, median"
echo "SELECT nextval('n1');" >"$WORK/native_select.sql"
echo "SELECT seqdist.seqdist_nextval('d1');" >"$WORK/seqdist_select.sql"
echo "INSERT INTO t_native DEFAULT VALUES;" >"$WORK/native_insert.sql"
echo "INSERT INTO t_seqdist DEFAULT VALUES;" >"$WORK/seqdist_insert.sql"
for rep in $(seq 1 "$REPEATS"); do
	pgbench_once native_select "$WORK/native_select.sql" "$rep" 0 || true
	pgbench_once seqdist_select "$WORK/seqdist_select.sql" "$rep" 1 || true
	pgbench_once native_insert "$WORK/native_insert.sql" "$rep" 0 || true
	pgbench_once seqdist_insert "$WORK/seqdist_insert.sql" "$rep" 1 || true
done

# ---------------------------------------------------------------------------
# Sanity checks on what seqdist handed out
# ---------------------------------------------------------------------------
say "sanity checks"
CHECK_N=10000
[ -z "${R_N[seqdist_d]:-}" ] || [ "${R_N[seqdist_d]}" -ge "$CHECK_N" ] || CHECK_N=${R_N[seqdist_d]}
if out=$(psql_ -F ' ' -c "
	SELECT count(*), count(DISTINCT v), count(*) FILTER (WHERE v <= prev)
	FROM (SELECT v, lag(v) OVER (ORDER BY i) AS prev
	      FROM (SELECT i, seqdist.seqdist_nextval('d') AS v FROM generate_series(1, $CHECK_N) AS i) s) s2" 2>"$WORK/check.err"); then
	read -r c_all c_distinct c_notinc <<<"$out"
	echo "    one session, $CHECK_N values of d: $c_distinct distinct, $c_notinc not increasing"
	if [ "$c_all" != "$CHECK_N" ] || [ "$c_distinct" != "$CHECK_N" ] || [ "$c_notinc" != 0 ]; then
		problem "seqdist_nextval('d') in one session: $c_all values, $c_distinct distinct, $c_notinc not increasing"
	fi
else
	problem "sanity check on d: $(tail -n 2 "$WORK/check.err" | tr '\n' ' ')"
fi
for t in t_native t_seqdist; do
	if out=$(psql_ -F ' ' -c "SELECT count(*), count(DISTINCT id), coalesce(min(id), 0), coalesce(max(id), 0) FROM $t" 2>"$WORK/check.err"); then
		read -r c_all c_distinct c_min c_max <<<"$out"
		echo "    $t: $(thousands "$c_all") rows, $(thousands "$c_distinct") distinct ids, from $c_min to $c_max"
		[ "$c_all" = "$c_distinct" ] || problem "$t has duplicate ids"
	else
		problem "sanity check on $t: $(tail -n 2 "$WORK/check.err" | tr '\n' ' ')"
	fi
done
if out=$(psql_ -c "SELECT (seqdist.counter_item('t_seqdist_id_seq')->>'last_value')::numeric >= (SELECT coalesce(max(id), 0) FROM t_seqdist), seqdist.counter_item('t_seqdist_id_seq')->>'last_value'" 2>"$WORK/check.err"); then
	echo "    counter item of t_seqdist_id_seq: last_value ${out#*|}"
	[ "${out%%|*}" = t ] || problem "t_seqdist holds an id above its counter's last_value (${out#*|})"
else
	problem "counter_item check: $(tail -n 2 "$WORK/check.err" | tr '\n' ' ')"
fi

# ---------------------------------------------------------------------------
# 7: shared memory
# ---------------------------------------------------------------------------
say "shared memory (pg_shmem_allocations), each figure taken right after a restart"
# Shared hash tables show only their header and directory under their name;
# their entries are allocated as '<anonymous>'.  So besides seqdist's named
# rows, compare the memory in use (every row but the free one, name IS NULL)
# with seqdist.max_sequences doubled, and with seqdist not preloaded at all.
SHM_SEQDIST_SQL="SELECT coalesce(sum(allocated_size), 0) FROM pg_shmem_allocations WHERE name ILIKE '%seqdist%'"
SHM_INUSE_SQL="SELECT sum(allocated_size) FROM pg_shmem_allocations WHERE name IS NOT NULL"
SHM_ROWS='' SHM_SUM='' SHM_INUSE='' SHM_INUSE2='' SHM_INUSE0='' MAX_SEQ='' MAX_SEQ2=''
pg_restart() {
	"$SEQDIST_PG_BIN/pg_ctl" -D "$PGDATA_DIR" -l "$WORK/postgresql.log" -m fast -w restart >/dev/null 2>>"$WORK/shm.err"
}
if pg_restart &&
   SHM_ROWS=$(psql_ -F ' | ' -P footer=off -c "SELECT name, off, size, allocated_size FROM pg_shmem_allocations WHERE name ILIKE '%seqdist%' ORDER BY name" 2>>"$WORK/shm.err") &&
   SHM_SUM=$(psql_ -c "$SHM_SEQDIST_SQL" 2>>"$WORK/shm.err") &&
   SHM_INUSE=$(psql_ -c "$SHM_INUSE_SQL" 2>>"$WORK/shm.err") &&
   MAX_SEQ=$(psql_ -c "SELECT setting FROM pg_settings WHERE name = 'seqdist.max_sequences'" 2>>"$WORK/shm.err"); then
	echo "    with seqdist (as benchmarked): $SHM_INUSE bytes in use, of which $SHM_SUM in rows named seqdist"
	if [ -n "$MAX_SEQ" ]; then
		MAX_SEQ2=$((MAX_SEQ * 2))
		if psql_ -c "ALTER SYSTEM SET seqdist.max_sequences = $MAX_SEQ2" 2>>"$WORK/shm.err" && pg_restart &&
		   [ "$(psql_ -c 'SHOW seqdist.max_sequences' 2>>"$WORK/shm.err")" = "$MAX_SEQ2" ] &&
		   SHM_INUSE2=$(psql_ -c "$SHM_INUSE_SQL" 2>>"$WORK/shm.err"); then
			echo "    with seqdist.max_sequences = $MAX_SEQ2: $SHM_INUSE2 bytes in use"
		else
			problem "restart with seqdist.max_sequences = $MAX_SEQ2 failed: $(tail -n 3 "$WORK/shm.err" | tr '\n' ' ')"
		fi
	fi
	# (ALTER SYSTEM SET shared_preload_libraries = '' would write '""', a
	# library with an empty name; a later line in postgresql.conf wins.)
	if psql_ -c "ALTER SYSTEM RESET seqdist.max_sequences" 2>>"$WORK/shm.err" &&
	   echo "shared_preload_libraries = ''" >>"$PGDATA_DIR/postgresql.conf" &&
	   pg_restart && SHM_INUSE0=$(psql_ -c "$SHM_INUSE_SQL" 2>>"$WORK/shm.err"); then
		echo "    without seqdist preloaded: $SHM_INUSE0 bytes in use"
	else
		problem "restart without seqdist preloaded failed: $(tail -n 3 "$WORK/shm.err" | tr '\n' ' ')"
	fi
else
	problem "shared memory figures: $(tail -n 3 "$WORK/shm.err" | tr '\n' ' ')"
fi

# ---------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------
us_per() { [ -n "${R_MED[$1]:-}" ] && fp 'm * 1000 / n' -v m="${R_MED[$1]}" -v n="${R_N[$1]}"; }
say "results: SELECT count(f(seq)) FROM generate_series(1, N), timed in the server, median of $REPEATS runs after a warm-up"
printf '    %-34s %10s %11s %11s %10s %12s  %s\n' "measurement" "values/run" "median ms" "best ms" "us/value" "values/s" "note"
for l in native_cache1 native_cache1000 seqdist_d seqdist_d1 seqdist_d_bigblock; do
	[ "$l" != seqdist_d_bigblock ] || [ -n "${BIG_BLOCK:-}" ] || continue
	case $l in
		native_cache1) d="nextval, native CACHE 1" ;;
		native_cache1000) d="nextval, native CACHE 1000" ;;
		seqdist_d) d="seqdist_nextval d, CACHE 1000" ;;
		seqdist_d1) d="seqdist_nextval d1, CACHE 1" ;;
		seqdist_d_bigblock) d="info: d, seqdist.block_size ${BIG_BLOCK:-}" ;;
	esac
	if [ -n "${R_MED[$l]:-}" ]; then
		printf '    %-34s %10s %11.1f %11.1f %10.3f %12s  %s\n' "$d" "$(thousands "${R_N[$l]}")" "${R_MED[$l]}" "${R_BEST[$l]}" \
			"$(us_per "$l")" "$(thousands "$(fp 'int(n * 1000 / m)' -v n="${R_N[$l]}" -v m="${R_MED[$l]}")")" "${R_NOTE[$l]:-}"
	else
		printf '    %-34s %10s\n' "$d" "FAILED"
	fi
done

# shellcheck disable=SC2086  # the runs' TPS, split on purpose
pmed() { [ -n "${P_TPS[$1]:-}" ] && median ${P_TPS[$1]}; }
say "results: pgbench -n -M prepared -c 2 -j 2 -T $PGB_SECONDS, median TPS of $REPEATS runs"
printf '    %-44s %12s %14s\n' "script" "median tps" "transactions"
for l in native_select seqdist_select native_insert seqdist_insert; do
	case $l in
		native_select) d="SELECT nextval('n1');" ;;
		seqdist_select) d="SELECT seqdist.seqdist_nextval('d1');" ;;
		native_insert) d="INSERT INTO t_native DEFAULT VALUES;" ;;
		seqdist_insert) d="INSERT INTO t_seqdist DEFAULT VALUES;" ;;
	esac
	if [ -n "${P_TPS[$l]:-}" ]; then
		printf '    %-44s %12.1f %14s   (runs:%s)\n' "$d" "$(pmed "$l")" "$(thousands "${P_TX[$l]}")" "${P_TPS[$l]}"
	else
		printf '    %-44s %12s\n' "$d" "FAILED"
	fi
done

say "results: DynamoDB UpdateItem requests per 1,000,000 seqdist values (counted by the local DynamoDB)"
printf '    %-44s %14s %12s %16s\n' "phase" "values" "UpdateItem" "per 1,000,000"
upd_row() {
	local d=$1 values=$2 upd=$3
	if [ -n "$values" ] && [ -n "$upd" ] && [ "$values" -gt 0 ]; then
		printf '    %-44s %14s %12s %16s\n' "$d" "$(thousands "$values")" "$(thousands "$upd")" \
			"$(thousands "$(fp 'int(u * 1000000 / v + 0.5)' -v u="$upd" -v v="$values")")"
	else
		printf '    %-44s %14s\n' "$d" "n/a"
	fi
}
timed_values() { [ -n "${R_N[$1]:-}" ] && echo $(( R_N[$1] * R_REPS[$1] )); true; }
upd_row "count() runs of d (CACHE 1000), after warm-up" "$(timed_values seqdist_d)" "${R_UPD[seqdist_d]:-}"
upd_row "count() runs of d1 (CACHE 1), after warm-up" "$(timed_values seqdist_d1)" "${R_UPD[seqdist_d1]:-}"
[ -z "${BIG_BLOCK:-}" ] || upd_row "info: d with seqdist.block_size $BIG_BLOCK" "$(timed_values seqdist_d_bigblock)" "${R_UPD[seqdist_d_bigblock]:-}"
upd_row "pgbench SELECT seqdist_nextval('d1')" "${P_TX[seqdist_select]:-}" "${P_UPD[seqdist_select]:-}"
upd_row "pgbench INSERT INTO t_seqdist" "${P_TX[seqdist_insert]:-}" "${P_UPD[seqdist_insert]:-}"

say "results: shared memory"
if [ -n "$SHM_ROWS" ]; then
	echo "    pg_shmem_allocations rows named seqdist (name | off | size | allocated_size):"
	printf '%s\n' "$SHM_ROWS" | sed 's/^/      /'
else
	echo "    (no pg_shmem_allocations row whose name contains 'seqdist')"
fi
echo "    sum(allocated_size) of those rows: ${SHM_SUM:-n/a} bytes (a shared hash table's entries are not in them)"
if [ -n "$SHM_INUSE" ] && [ -n "$SHM_INUSE0" ]; then
	echo "    shared memory seqdist adds: $((SHM_INUSE - SHM_INUSE0)) bytes ($(printf '%.2f' "$(fp 'x / 1048576' -v x="$((SHM_INUSE - SHM_INUSE0))")") MiB; in use with seqdist preloaded minus without)"
else
	echo "    shared memory seqdist adds: n/a"
fi
echo "    seqdist.max_sequences: ${MAX_SEQ:-n/a}"
if [ -n "$MAX_SEQ" ] && [ -n "$SHM_INUSE" ] && [ -n "$SHM_INUSE2" ]; then
	echo "    per slot: $(printf '%.1f' "$(fp '(b - a) / (m2 - m1)' -v a="$SHM_INUSE" -v b="$SHM_INUSE2" -v m1="$MAX_SEQ" -v m2="$MAX_SEQ2")") bytes (in use with $MAX_SEQ2 slots minus with $MAX_SEQ, per slot)"
else
	echo "    per slot: n/a"
fi

# ratio LABEL VALUE OP TARGET
say "ratios (medians; a time ratio compares the cost per value)"
printf '    %-52s %8s %9s  %s\n' "ratio" "value" "target" "verdict"
ratio_row() {
	local d=$1 v=$2 op=$3 target=$4 note=${5:-} verdict
	if [ -z "$v" ]; then
		printf '    %-52s %8s %9s  %s\n' "$d" "n/a" "$op $target" "NOT MEASURED"
		return
	fi
	if [ "$op" = "-" ]; then
		verdict="(no target)"
	elif [ "$(fp "v $op t" -v v="$v" -v t="$target")" = 1 ]; then
		verdict=MET
	else
		verdict="NOT MET"
	fi
	[ "$op" = "-" ] && op="" && target="-"
	printf '    %-52s %8.3f %9s  %s%s\n' "$d" "$v" "$op $target" "$verdict" "${note:+  $note}"
}
tratio() { [ -n "${R_MED[$1]:-}" ] && [ -n "${R_MED[$2]:-}" ] && fp 'a / b' -v a="$(us_per "$1")" -v b="$(us_per "$2")"; }
pratio() { [ -n "${P_TPS[$1]:-}" ] && [ -n "${P_TPS[$2]:-}" ] && fp 'a / b' -v a="$(pmed "$1")" -v b="$(pmed "$2")"; }
scaled() { [ -n "${R_NOTE[$1]:-}" ] && echo "(seqdist runs scaled down to $(thousands "${R_N[$1]}") values)"; true; }
ratio_row "seqdist d (warm) / native CACHE 1000, time" "$(tratio seqdist_d native_cache1000 || true)" "<=" 1.2 "$(scaled seqdist_d)"
ratio_row "seqdist d (warm) / native CACHE 1, time" "$(tratio seqdist_d native_cache1 || true)" "<" 1.0 "$(scaled seqdist_d)"
ratio_row "pgbench TPS, seqdist_nextval('d1') / nextval('n1')" "$(pratio seqdist_select native_select || true)" ">=" 0.95
ratio_row "info: seqdist d1 (warm) / native CACHE 1, time" "$(tratio seqdist_d1 native_cache1 || true)" "-" "" "$(scaled seqdist_d1)"
[ -z "${BIG_BLOCK:-}" ] || ratio_row "info: d, block_size $BIG_BLOCK / native CACHE 1000, time" "$(tratio seqdist_d_bigblock native_cache1000 || true)" "-" ""
ratio_row "info: pgbench TPS, INSERT t_seqdist / t_native" "$(pratio seqdist_insert native_insert || true)" "-" ""

say "finished in $SECONDS s; stopping PostgreSQL and the local DynamoDB"
if [ ${#PROBLEMS[@]} -gt 0 ]; then
	echo "    ${#PROBLEMS[@]} problem(s):"
	printf '      - %s\n' "${PROBLEMS[@]}"
	exit 1
fi
echo "    no problems"
