#!/usr/bin/env bash
# The scale benchmark: seqdist beside native PostgreSQL in one run, on one
# throwaway cluster with seqdist preloaded and a local DynamoDB (dynalite
# behind test/local_dynamodb.js, which adds latency and outages on request)
# on 127.0.0.1.  Writes CSV files and PNG charts (gnuplot) into the output
# directory and prints every figure with its ratio to native PostgreSQL and
# the targets (MET / NOT MET).  A missed target never fails the run: the
# exit status is non-zero only if something broke.
#
#   bash test/bench/scale.sh [--quick | --full | --smoke] [--only LIST] [--sequences LIST]
#                            [--many-latency MS] [--out DIR] [--no-build]
#
# Scenarios:
#   pgbench      SELECT 1 (the ceiling), native nextval CACHE 1 and CACHE 1000,
#                seqdist_nextval cached and strict, gen_random_uuid(); 1, 2 and
#                8 clients; bare SELECT and INSERT ... DEFAULT VALUES;
#                throughput, p50 and p99 latency
#   inprocess    ns per value over the count(x) baseline
#   latency      0, 5, 20 and 100 ms added to every DynamoDB request, taking
#                turns over 3 rounds (1 in --smoke): medians of the rounds
#   many         1,000 and 10,000 registered sequences picked at random, 50 ms
#                (100 ms in --full) of added latency: steady state, then a
#                restart under load (prewarm on, then off), throughput and
#                backend waits second by second, and the time until the
#                throughput is back to 0.9x of the steady state, to a tenth
#                of a second (test/bench/recovery_time.sh)
#   capacity     blocks per second the refill worker reserves at 100 ms, timed
#                by the prewarm of the last count of sequences of `many`
#   outage       DynamoDB unreachable under steady load with seqdist.runway
#                longer than the outage: failed calls, time to recover
#   requests     DynamoDB requests per million values and per second
#   memory       shared memory per sequence
#
# Like test/bench.sh: installs the dependencies (and gnuplot-nox, for the
# charts) and builds/installs seqdist first (unless --no-build), and when run
# as root re-runs itself as an unprivileged user.  Stops everything it started.
#
# Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
set -eu
SEQDIST_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$SEQDIST_ROOT/test/lib.sh"

usage() {
	cat <<'USAGE'
usage: bash test/bench/scale.sh [options]
  --quick       about 13 minutes in all (default): 3 s per pgbench run, 3 rounds of
                the latencies, 1,000 and 2,000 sequences at 50 ms, 15 s after each
                restart, a 15 s outage with a 15 s runway
  --full        the full runs: 10 s per pgbench run, 3 rounds of the latencies,
                1,000 and 10,000 sequences at 100 ms, 30 s after each restart, a
                60 s outage with a 60 s runway
  --smoke       about a minute: one of each kind, to see that the script works
  --only LIST   run only these scenarios (comma-separated): pgbench, inprocess,
                latency, many, capacity, outage, requests, memory; capacity and
                requests run many first (they use its sequences).  For instance
                --only many,capacity --sequences 2000: the restart with 2,000
                sequences and the refill capacity, about 2 minutes
  --sequences LIST  the counts of sequences of many (space- or comma-separated),
                instead of the mode's
  --many-latency MS  the DynamoDB latency added in many (default 50, 100 in --full)
  --out DIR     where the CSV files and charts go (default: bench-results/ in the tree)
  --no-build    use the installed seqdist
USAGE
}

ORIG_ARGS=("$@")
MODE=quick
OUT=
ONLY=
SEQUENCES=
MANY_LATENCY=
while [ $# -gt 0 ]; do
	case "$1" in
		--quick) MODE=quick; shift ;;
		--full) MODE=full; shift ;;
		--smoke) MODE=smoke; shift ;;
		--out) OUT=${2:-}; [ -n "$OUT" ] || die "--out needs a directory"; shift 2 ;;
		--out=*) OUT=${1#*=}; shift ;;
		--only) ONLY=${2:-}; [ -n "$ONLY" ] || die "--only needs a list of scenarios"; shift 2 ;;
		--only=*) ONLY=${1#*=}; shift ;;
		--sequences) SEQUENCES=${2:-}; [ -n "$SEQUENCES" ] || die "--sequences needs a list of counts"; shift 2 ;;
		--sequences=*) SEQUENCES=${1#*=}; shift ;;
		--many-latency) MANY_LATENCY=${2:-}; [ -n "$MANY_LATENCY" ] || die "--many-latency needs milliseconds"; shift 2 ;;
		--many-latency=*) MANY_LATENCY=${1#*=}; shift ;;
		--no-build) SEQDIST_NO_BUILD=1; shift ;;
		-h | --help) usage; exit 0 ;;
		*) usage >&2; die "unknown option '$1'" ;;
	esac
done

# gnuplot for the charts: the benchmark's own dependency, not the test suite's
if [ -z "${SEQDIST_UNPRIVILEGED:-}" ] && ! command -v gnuplot >/dev/null; then
	say "installing gnuplot-nox (for the charts)"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gnuplot-nox >/dev/null ||
		echo "    gnuplot-nox could not be installed: the CSV files are written, the charts are not"
fi
ONLY=$(echo "$ONLY" | tr ',' ' ')
# want SCENARIO: is it to run?
want() { [ -z "$ONLY" ] || case " $ONLY " in *" $1 "*) true ;; *) false ;; esac; }
for sc in $ONLY; do
	case $sc in
		pgbench | inprocess | latency | many | outage | memory) ;;
		# they use the sequences many creates
		capacity | requests) want many || ONLY="$ONLY many" ;;
		*) usage >&2; die "unknown scenario '$sc'" ;;
	esac
done
SEQUENCES=$(echo "$SEQUENCES" | tr ',' ' ')
for c in $SEQUENCES; do
	case $c in '' | *[!0-9]*) die "--sequences takes counts, not '$c'" ;; esac
done
case $MANY_LATENCY in *[!0-9]*) die "--many-latency takes whole milliseconds, not '$MANY_LATENCY'" ;; esac
[ -n "$OUT" ] || OUT=$SEQDIST_ROOT/bench-results
case "$OUT" in /*) ;; *) OUT=$PWD/$OUT ;; esac
mkdir -p "$OUT"
# the unprivileged re-run must be able to write there
[ "$(id -u)" -eq 0 ] && chmod 0777 "$OUT"
ORIG_ARGS+=(--out "$OUT")
seqdist_bootstrap test/bench/scale.sh "${ORIG_ARGS[@]}"

case $MODE in
	smoke) SECS=1; CLIENTS="2"; LATENCIES="0 20"; ROUNDS=1; MANY="100"; AFTER=4; OUTAGE=3; RUNWAY=3; INPROC=100000 ;;
	quick) SECS=3; CLIENTS="1 2 8"; LATENCIES="0 5 20 100"; ROUNDS=3; MANY="1000 2000"; AFTER=15; OUTAGE=15; RUNWAY=15; INPROC=2000000 ;;
	full) SECS=10; CLIENTS="1 2 8"; LATENCIES="0 5 20 100"; ROUNDS=3; MANY="1000 10000"; AFTER=30; OUTAGE=60; RUNWAY=60; INPROC=5000000 ;;
esac
[ -z "$SEQUENCES" ] || MANY=$SEQUENCES
# 10,000 hot sequences at 100 ms is --full's; the restart of 2,000 at 50 ms --quick's
[ -n "$MANY_LATENCY" ] || { [ $MODE = full ] && MANY_LATENCY=100 || MANY_LATENCY=50; }

seqdist_test_credentials
WORK=$(mktemp -d "${TMPDIR:-/tmp}/seqdist-scale.XXXXXX")
PGDATA_DIR=$WORK/pgdata
PG_STARTED=
PSQL_BIN=$SEQDIST_PG_BIN/psql
PGBENCH_BIN=$SEQDIST_PG_BIN/pgbench
[ -x "$PGBENCH_BIN" ] || PGBENCH_BIN=$(command -v pgbench || true)
[ -n "$PGBENCH_BIN" ] || die "pgbench not found"
export PGOPTIONS='-c statement_timeout=300s'

stop_all() {
	set +e
	[ -n "${SAMPLER_PID:-}" ] && seqdist_stop_pid "$SAMPLER_PID"
	if [ -n "$PG_STARTED" ]; then
		"$SEQDIST_PG_BIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w stop >/dev/null 2>&1
	fi
	seqdist_stop_pid "${DYNAMO_PID:-}"
	if [ ! -s "$WORK/problems" ]; then
		rm -rf "$WORK"
	else
		echo "logs kept in $WORK"
	fi
}
trap stop_all EXIT
# A problem is printed on stderr and kept in a file too: one found in a
# subshell (pgbench_run runs in one, its stdout read as figures) still
# counts at the end.
problem() {
	printf '    PROBLEM: %s\n' "$*" >&2
	printf '%s\n' "$*" >>"$WORK/problems"
}
fp() { local e=$1; shift; awk -v OFMT='%.4g' "$@" "BEGIN { print ($e) }"; }
psql_() { "$PSQL_BIN" -X -q -At -v ON_ERROR_STOP=1 -h "$WORK" -p "$PGPORT" -U postgres -d postgres "$@"; }
dyn() { seqdist_dynamo_control "$@"; }
# a number out of the local DynamoDB's stats: dyn_stat 'j.by_operation.UpdateItem.total'
dyn_stat() {
	dyn stats | node -e '
		let s = ""; process.stdin.on("data", (d) => s += d).on("end", () => {
			const j = JSON.parse(s); let v; try { v = eval(process.argv[1]); } catch (e) { v = 0; }
			console.log(v === undefined ? 0 : v); });' "$1"
}
latency() {
	if [ "$1" -gt 0 ]; then
		dyn faults "{\"rules\":[{\"target\":\"*\",\"mode\":\"delay\",\"ms\":$1}]}" >/dev/null
	else
		dyn faults '{"rules":[]}' >/dev/null
	fi
}
pg_restart() {
	"$SEQDIST_PG_BIN/pg_ctl" -D "$PGDATA_DIR" -l "$WORK/postgresql.log" -m fast -w restart >/dev/null
}

say "machine"
CPU_MODEL=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)
echo "    $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores ($CPU_MODEL), load average $LOADAVG, mode $MODE${ONLY:+, only $ONLY}${SEQUENCES:+, sequences $SEQUENCES}"
{
	echo "date,cores,cpu,load_average,mode"
	echo "$(date -u '+%Y-%m-%d %H:%M UTC'),$(nproc),\"$CPU_MODEL\",\"$LOADAVG\",$MODE"
} >"$OUT/machine.csv"

say "starting a local DynamoDB and a throwaway PostgreSQL"
seqdist_start_dynamo "$WORK/dynamo" || die "the local DynamoDB did not start"
PGPORT=$(seqdist_free_port)
"$SEQDIST_PG_BIN/initdb" -D "$PGDATA_DIR" -A trust -U postgres >/dev/null
cat >>"$PGDATA_DIR/postgresql.conf" <<CONF
listen_addresses = ''
port = $PGPORT
unix_socket_directories = '$WORK'
shared_preload_libraries = 'seqdist'
seqdist.endpoint = 'http://127.0.0.1:$DYNAMO_PORT'
seqdist.region = '$AWS_REGION'
seqdist.max_sequences = 12000
max_connections = 50
# INSERT measures the sequence and the insert, not the disk's flush at commit
synchronous_commit = off
CONF
"$SEQDIST_PG_BIN/pg_ctl" -D "$PGDATA_DIR" -l "$WORK/postgresql.log" -w start >/dev/null ||
	{ tail -n 20 "$WORK/postgresql.log"; die "PostgreSQL did not start"; }
PG_STARTED=1
psql_ >/dev/null <<'SQL'
CREATE EXTENSION seqdist;
SELECT seqdist.create_table();
CREATE SEQUENCE native1 CACHE 1;
CREATE SEQUENCE native1000 CACHE 1000;
CREATE SEQUENCE sd_cached;
SELECT seqdist.register('sd_cached');
CREATE SEQUENCE sd_strict;
SELECT seqdist.register('sd_strict');
SELECT seqdist.set_strict('sd_strict', true);
CREATE TABLE t_native1 (id bigint DEFAULT nextval('native1'));
CREATE TABLE t_native1000 (id bigint DEFAULT nextval('native1000'));
CREATE TABLE t_sd_cached (id bigint DEFAULT seqdist.seqdist_nextval('sd_cached'));
CREATE TABLE t_sd_strict (id bigint DEFAULT seqdist.seqdist_nextval('sd_strict'));
CREATE TABLE t_uuid (id uuid DEFAULT gen_random_uuid());
CREATE TABLE t_select1 (id int DEFAULT 1);
SQL
# latency and requests run this one without the pgbench scenario too
echo "SELECT seqdist.seqdist_nextval('sd_cached');" >"$WORK/seqdist_cached.select.sql"

# pgbench LABEL CLIENTS SECONDS SCRIPT [extra pgbench options]: prints "tps p50_ms p99_ms failed"
# Throughput and latencies come from the times the transactions ended
# (test/bench/pgbench_stats.sh says why); pgbench's own summary divides by
# a duration from which it subtracts the threads' connection times, and is
# printed beside when the two differ by more than 10%.
pgbench_run() {
	local label=$1 c=$2 secs=$3 file=$4; shift 4
	local dir=$WORK/pgb_$label log tps p50 p99 pgtps failed
	rm -rf "$dir"; mkdir -p "$dir"
	log=$dir/out.log
	if ! (cd "$dir" && "$PGBENCH_BIN" -n -M prepared -c "$c" -j "$c" -T "$secs" -l -f "$file" "$@" \
		-h "$WORK" -p "$PGPORT" -U postgres postgres >"$log" 2>&1); then
		problem "pgbench $label failed: $(grep -m 3 -iE 'error|abort' "$log" | tr '\n' ' ')"
	fi
	pgtps=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time).*/\1/p' "$log")
	failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$log")
	read -r tps p50 p99 < <(bash "$SEQDIST_ROOT/test/bench/pgbench_stats.sh" "$dir")
	if [ -n "$pgtps" ] && [ "$(fp 'b > 0 && (a > 1.1 * b || a < 0.9 * b)' -v a="$pgtps" -v b="$tps")" = 1 ]; then
		echo "    ($label: pgbench's own summary says $pgtps tps, its logs $tps)" >&2
	fi
	# without per-transaction figures (one transaction per client): pgbench's
	[ "$tps" != 0.0 ] || tps=${pgtps:-0}
	echo "$tps $p50 $p99 ${failed:-0}"
}

# ---------------------------------------------------------------------------
if want pgbench; then
	say "pgbench: $SECS s per run, clients $CLIENTS"
	declare -A EXPR=(
		[select1]="1"
		[native_cache1]="nextval('native1')"
		[native_cache1000]="nextval('native1000')"
		[seqdist_cached]="seqdist.seqdist_nextval('sd_cached')"
		[seqdist_strict]="seqdist.seqdist_nextval('sd_strict')"
		[uuid]="gen_random_uuid()"
	)
	declare -A TABLE=([select1]=t_select1 [native_cache1]=t_native1 [native_cache1000]=t_native1000
		[seqdist_cached]=t_sd_cached [seqdist_strict]=t_sd_strict [uuid]=t_uuid)
	SCENARIOS="select1 native_cache1 native_cache1000 seqdist_cached seqdist_strict uuid"
	declare -A TPS
	echo "scenario,statement,clients,tps,p50_ms,p99_ms,failed" >"$OUT/pgbench.csv"
	for stmt in select insert; do
		for c in $CLIENTS; do
			for sc in $SCENARIOS; do
				f=$WORK/$sc.$stmt.sql
				if [ $stmt = select ]; then echo "SELECT ${EXPR[$sc]};" >"$f"; else echo "INSERT INTO ${TABLE[$sc]} DEFAULT VALUES;" >"$f"; fi
				# a warm-up second: the first block, plans, connections
				pgbench_run warm 1 1 "$f" >/dev/null
				read -r tps p50 p99 failed < <(pgbench_run "$sc.$stmt.$c" "$c" "$SECS" "$f")
				TPS[$sc.$stmt.$c]=$tps
				echo "$sc,$stmt,$c,$tps,$p50,$p99,$failed" >>"$OUT/pgbench.csv"
				printf '    %-6s %-17s %d clients %10s tps  p50 %7s ms  p99 %7s ms\n' "$stmt" "$sc" "$c" "$tps" "$p50" "$p99"
			done
			printf '    ratios: seqdist cached / native CACHE 1 = %s (target >= 0.95), / CACHE 1000 = %s, strict / CACHE 1 = %s\n' \
				"$(fp 'a / b' -v a="${TPS[seqdist_cached.$stmt.$c]}" -v b="${TPS[native_cache1.$stmt.$c]}")" \
				"$(fp 'a / b' -v a="${TPS[seqdist_cached.$stmt.$c]}" -v b="${TPS[native_cache1000.$stmt.$c]}")" \
				"$(fp 'a / b' -v a="${TPS[seqdist_strict.$stmt.$c]}" -v b="${TPS[native_cache1.$stmt.$c]}")"
		done
	done
fi

# ---------------------------------------------------------------------------
if want inprocess; then
	say "in process: $INPROC values per call, ns per value over the count(x) baseline"
	# (work_mem large enough that generate_series's rows stay in memory: a
	# spill to disk would be timed with them)
	inproc_ms() {
		psql_ <<-SQL | tail -n 1
	SET work_mem = '1GB';
	\\o /dev/null
	SELECT count($1) FROM generate_series(1, 1000) g;
	SELECT clock_timestamp() AS t0 \\gset
	SELECT count($1) FROM generate_series(1, $INPROC) g;
	\\o
	SELECT round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz) * 1000, 3);
	SQL
	}
	echo "scenario,ns_per_value,ratio_to_native_cache1000" >"$OUT/inprocess.csv"
	# the best of three calls, each in a session of its own
	inproc_best() {
		local best= ms
		for _ in 1 2 3; do
			ms=$(inproc_ms "$1")
			best=$(fp "(b == \"\" || m < b) ? m : b" -v m="$ms" -v b="$best")
		done
		echo "$best"
	}
	base=$(inproc_best "g")
	echo "    count(g) baseline: $(fp 'm * 1e6 / n' -v m="$base" -v n="$INPROC") ns per row"
	declare -A NS
	for sc in native_cache1 native_cache1000 seqdist_cached uuid; do
		NS[$sc]=$(fp '(m - z) * 1e6 / n' -v m="$(inproc_best "${EXPR[$sc]}")" -v z="$base" -v n="$INPROC")
	done
	for sc in native_cache1 native_cache1000 seqdist_cached uuid; do
		ratio=$(fp 'a / b' -v a="${NS[$sc]}" -v b="${NS[native_cache1000]}")
		echo "$sc,${NS[$sc]},$ratio" >>"$OUT/inprocess.csv"
		if [ "$(fp 'a <= 0 || b <= 0' -v a="${NS[$sc]}" -v b="${NS[native_cache1000]}")" = 1 ]; then
			printf '    %-17s %8s ns per value  (below the noise of this machine: no ratio)\n' "$sc" "${NS[$sc]}"
			continue
		fi
		printf '    %-17s %8s ns per value  (%s x native CACHE 1000)\n' "$sc" "${NS[$sc]}" "$ratio"
	done
	if [ "$(fp 'a > 0 && b > 0' -v a="${NS[seqdist_cached]}" -v b="${NS[native_cache1000]}")" = 1 ]; then
		echo "    target: seqdist cached at most 1.2x native CACHE 1000: $( [ "$(fp 'a <= 1.2' -v a="$(fp 'a / b' -v a="${NS[seqdist_cached]}" -v b="${NS[native_cache1000]}")")" = 1 ] && echo MET || echo NOT MET)"
	else
		echo "    target: seqdist cached at most 1.2x native CACHE 1000: not measurable in this run (figures below the noise; test/bench.sh measures it with more repeats)"
	fi
fi

# ---------------------------------------------------------------------------
if want latency; then
	# The machine's other work drifts over a run: the latencies take turns,
	# $ROUNDS rounds of all of them, and each figure is the median of its rounds.
	say "added DynamoDB latency: $LATENCIES ms, seqdist cached, 2 clients, $SECS s$( [ "$ROUNDS" -eq 1 ] || echo ", $ROUNDS rounds taking turns")"
	echo "latency_ms,tps,p99_ms,backend_waits,ratio_to_0ms,rounds" >"$OUT/latency.csv"
	f=$WORK/seqdist_cached.select.sql
	declare -A LAT_TPS LAT_P99 LAT_WAITS
	for r in $(seq 1 "$ROUNDS"); do
		for l in $LATENCIES; do
			latency "$l"
			pgbench_run warm 2 2 "$f" >/dev/null
			psql_ -c "SELECT seqdist.stats_reset()" >/dev/null
			read -r tps p50 p99 failed < <(pgbench_run "lat$l" 2 "$SECS" "$f")
			waits=$(psql_ -c "SELECT coalesce(sum(backend_waits), 0) FROM seqdist.stats")
			LAT_TPS[$l]="${LAT_TPS[$l]:-} $tps"
			LAT_P99[$l]="${LAT_P99[$l]:-} $p99"
			LAT_WAITS[$l]=$((${LAT_WAITS[$l]:-0} + waits))
		done
	done
	latency 0
	# median NUMBERS...: the middle one, or the mean of the middle two
	median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
	tps0=
	for l in $LATENCIES; do
		# shellcheck disable=SC2086 # the rounds' figures, one word each
		tps=$(median ${LAT_TPS[$l]}) p99=$(median ${LAT_P99[$l]})
		[ -n "$tps0" ] || tps0=$tps
		echo "$l,$tps,$p99,${LAT_WAITS[$l]},$(fp 'a / b' -v a="$tps" -v b="$tps0"),$ROUNDS" >>"$OUT/latency.csv"
		printf '    %4d ms: %10s tps  p99 %7s ms  backend waits %s  (%s x 0 ms)\n' "$l" "$tps" "$p99" "${LAT_WAITS[$l]}" \
			"$(fp 'a / b' -v a="$tps" -v b="$tps0")"
		[ "$ROUNDS" -eq 1 ] || echo "             (rounds:$(echo "${LAT_TPS[$l]}" | sed 's/ /, /g; s/^,//') tps; tps and p99 their medians, the waits of all)"
	done
fi

# ---------------------------------------------------------------------------
# The local DynamoDB's request count (the first "total" of its stats)
dyn_total() {
	dyn stats 2>/dev/null | sed -n 's/^  "total": \([0-9]*\),$/\1/p'
}
# Backend waits and DynamoDB requests in each second after the sampler
# starts, into $1 ("second,backend_waits,dynamo_requests"), while a load
# runs.  Each sample is taken at the end of its whole second (a second
# whose sample came too late is left out, and the next one counts both; one
# that could not be read says NA).  It takes as little as it can from the
# load it measures: one connection for the whole run (a new backend each
# second is costly after a restart), no Node.js process per sample, and it
# runs niced (see its caller).
sampler() {
	local out=$1 t0 now k w r prev_w=0 prev_r
	# a psql that went away fails the write instead of killing the sampler
	trap '' PIPE
	t0=$(date +%s%N)
	prev_r=$(dyn_total); prev_r=${prev_r:-0}
	echo "second,backend_waits,dynamo_requests" >"$out"
	coproc SAMPLE_PSQL { exec "$PSQL_BIN" -X -q -At -h "$WORK" -p "$PGPORT" -U postgres -d postgres 2>/dev/null; }
	k=0
	while :; do
		k=$((k + 1))
		now=$(date +%s%N)
		if [ $((t0 + k * 1000000000)) -gt "$now" ]; then
			sleep "$(fp 'd / 1e9' -v d=$((t0 + k * 1000000000 - now)))"
		else
			k=$(((now - t0) / 1000000000 + 1))
			sleep "$(fp 'd / 1e9' -v d=$((t0 + k * 1000000000 - now)))"
		fi
		w=NA
		if [ -n "${SAMPLE_PSQL[1]:-}" ] &&
			echo "SELECT coalesce(sum(backend_waits), 0) FROM seqdist.stats_1_0();" >&"${SAMPLE_PSQL[1]}" 2>/dev/null; then
			# no answer: stop it, so that no later sample reads a late answer
			read -r -t 10 w <&"${SAMPLE_PSQL[0]}" || { w=NA; kill "${SAMPLE_PSQL_PID:-}" 2>/dev/null; }
		fi
		r=$(dyn_total)
		if [ "$w" = NA ] || [ -z "$r" ]; then
			echo "$k,NA,NA" >>"$out"
			continue
		fi
		echo "$k,$((w - prev_w)),$((r - prev_r))" >>"$out"
		prev_w=$w; prev_r=$r
	done
}
# pgbench's per-second progress out of its log into "second,tps"
progress_csv() {
	echo "second,tps" >"$2"
	sed -n 's/^progress: \([0-9.]*\) s, \([0-9.]*\) tps.*/\1,\2/p' "$1" | awk -F, '{ printf "%d,%s\n", $1 + 0.5, $2 }' >>"$2"
}

if want many; then
	say "many sequences: $MANY, picked at random, $MANY_LATENCY ms of latency, 2 clients"
	echo "sequences,phase,tps,backend_waits,dynamo_requests_per_s,native_tps,ratio_to_native,latency_ms,recovery_s" >"$OUT/many.csv"
	# the target for the steady state is 0 backend waits with 10,000 sequences at 100 ms
	steady_waits() {
		if [ "$MANY_LATENCY" -ge 100 ] && [ "$1" -ge 10000 ]; then
			echo "$2 (target 0 at 100 ms: $( [ "$2" -eq 0 ] && echo MET || echo NOT MET))"
		else
			echo "$2"
		fi
	}
	# restart_load LABEL SCRIPT: pgbench for $AFTER s right after a restart,
	# with its per-second progress (LABEL.log) and every transaction
	# (LABEL/pgbench_log.*) in the scratch directory
	restart_load() {
		rm -rf "${WORK:?}/$1"; mkdir -p "$WORK/$1"
		(cd "$WORK" && "$PGBENCH_BIN" -n -M prepared -c 2 -j 2 -T "$AFTER" -P 1 -l --log-prefix="$WORK/$1/pgbench_log" \
			-f "$2" -h "$WORK" -p "$PGPORT" -U postgres postgres >"$WORK/$1.log" 2>&1)
	}
	# recovery LABEL STEADY_TPS: sets RECOVERY to the seconds until the
	# throughput of restart_load LABEL was back to 0.9x of STEADY_TPS (empty
	# if it never was) and BACK to a sentence that says it
	recovery() {
		RECOVERY=$(bash "$SEQDIST_ROOT/test/bench/recovery_time.sh" "$WORK/$1" "$2") ||
			{ problem "recovery_time.sh failed on $1"; RECOVERY=never; }
		rm -rf "${WORK:?}/$1"
		if [ "$RECOVERY" = never ]; then
			RECOVERY='' BACK="never back to 0.9x of steady state in $AFTER s"
		else
			BACK="back to 0.9x of steady state $RECOVERY s after the first connection"
		fi
	}
	for n in $MANY; do
		latency 0
		for i in $(seq 1 "$n"); do echo "CREATE SEQUENCE m${n}_$i; CREATE SEQUENCE n${n}_$i CACHE 1000;"; done | psql_ >/dev/null ||
			problem "could not create $n sequences"
		t0=$(date +%s.%N)
		# 1,000 per transaction: each registration locks its sequence until commit
		for from in $(seq 1 1000 "$n"); do
			psql_ -c "SELECT count(seqdist.register(format('m%s_%s', $n, i)::regclass))
				FROM generate_series($from, least($from + 999, $n)) i" >/dev/null ||
				problem "could not register sequences $from to $((from + 999)) of $n"
		done
		echo "    registered $n sequences in $(fp 'b - a' -v a="$t0" -v b="$(date +%s.%N)") s"
		fm=$WORK/many$n.sql
		printf '\\set i random(1, %d)\nSELECT seqdist.seqdist_nextval((\x27m%d_\x27 || :i)::regclass);\n' "$n" "$n" >"$fm"
		fn=$WORK/native$n.sql
		printf '\\set i random(1, %d)\nSELECT nextval((\x27n%d_\x27 || :i)::regclass);\n' "$n" "$n" >"$fn"
		# every sequence's first block, before the latency; then the demand
		# estimates settle under load, and the steady state is measured
		for from in $(seq 1 1000 "$n"); do
			psql_ -c "SELECT count(seqdist.seqdist_nextval(format('m%s_%s', $n, i)::regclass))
				FROM generate_series($from, least($from + 999, $n)) i" >/dev/null
		done
		latency "$MANY_LATENCY"
		read -r ntps _ < <(pgbench_run "native$n" 2 "$SECS" "$fn")
		pgbench_run warm 2 $((SECS + 3)) "$fm" >/dev/null
		psql_ -c "SELECT seqdist.stats_reset()" >/dev/null
		r0=$(dyn_stat 'j.total')
		read -r tps _ _ _ < <(pgbench_run "steady$n" 2 "$SECS" "$fm")
		r1=$(dyn_stat 'j.total')
		waits=$(psql_ -c "SELECT coalesce(sum(backend_waits), 0) FROM seqdist.stats")
		rps=$(fp '(b - a) / s' -v a="$r0" -v b="$r1" -v s="$SECS")
		echo "$n,steady,$tps,$waits,$rps,$ntps,$(fp 'a / b' -v a="$tps" -v b="$ntps"),$MANY_LATENCY," >>"$OUT/many.csv"
		printf '    %5d sequences, steady: %10s tps (native CACHE 1000: %s, %s x), backend waits %s, %s DynamoDB requests/s\n' \
			"$n" "$tps" "$ntps" "$(fp 'a / b' -v a="$tps" -v b="$ntps")" "$(steady_waits "$n" "$waits")" "$rps"
		for pw in on off; do
			psql_ -c "ALTER SYSTEM SET seqdist.prewarm = $pw" >/dev/null
			psql_ -c "SELECT pg_reload_conf()" >/dev/null
			sleep 0.5
			# the load runs across the restart: each client reconnects at once
			pg_restart || problem "restart failed"
			latency "$MANY_LATENCY"
			sampler "$WORK/waits_${n}_$pw.csv" & SAMPLER_PID=$!
			renice -n 19 -p "$SAMPLER_PID" >/dev/null 2>&1 || true
			restart_load "restart_${n}_$pw" "$fm" ||
				problem "pgbench after the restart ($n sequences, prewarm $pw) failed"
			seqdist_stop_pid "$SAMPLER_PID"; SAMPLER_PID=
			progress_csv "$WORK/restart_${n}_$pw.log" "$WORK/tps.csv"
			# each second of pgbench's progress, with what the sampler saw in
			# that second (empty for a second whose sample came late)
			awk -F, 'FNR == 1 { next }
				NR == FNR { w[$1] = $2; r[$1] = $3; next }
				{ print $1 "," $2 "," w[$1] "," r[$1] }
				BEGIN { print "second,tps,backend_waits,dynamo_requests" }' \
				"$WORK/waits_${n}_$pw.csv" "$WORK/tps.csv" >"$OUT/restart_${n}_prewarm_$pw.csv"
			# NA when the sampler could not read one of the first 5 s
			w5=$(awk -F, 'NR > 1 && $1 <= 5 { if ($3 == "NA") na = 1; s += $3 } END { print na ? "NA" : s + 0 }' "$OUT/restart_${n}_prewarm_$pw.csv")
			first30=$(awk -F, 'NR > 1 { t += $2; n++ } END { if (n) printf "%.1f", t / n; else print 0 }' "$OUT/restart_${n}_prewarm_$pw.csv")
			recovery "restart_${n}_$pw" "$tps"
			echo "$n,restart_prewarm_$pw,$first30,$w5,,,,$MANY_LATENCY,$RECOVERY" >>"$OUT/many.csv"
			printf '    %5d sequences, restart, prewarm %-3s: %s tps on average over %d s, %s (target <= 2.0 s: %s), backend waits in the first 5 s: %s (target < %d: %s)\n' \
				"$n" "$pw" "$first30" "$AFTER" "$BACK" "$( [ -n "$RECOVERY" ] && [ "$(fp 'a <= 2.0' -v a="$RECOVERY")" = 1 ] && echo MET || echo NOT MET)" \
				"$w5" $((n / 10)) "$( [ "$w5" = NA ] && echo 'NOT MEASURED' || { [ "$w5" -lt $((n / 10)) ] && echo MET || echo NOT MET; })"
		done
		# native sequences across the same restart, for comparison
		pg_restart || problem "restart failed"
		restart_load "restart_${n}_native" "$fn" ||
			problem "pgbench after the restart ($n native sequences) failed"
		progress_csv "$WORK/restart_${n}_native.log" "$OUT/restart_${n}_native.csv"
		first30=$(awk -F, 'NR > 1 { t += $2; n++ } END { if (n) printf "%.1f", t / n; else print 0 }' "$OUT/restart_${n}_native.csv")
		recovery "restart_${n}_native" "$ntps"
		echo "$n,restart_native,$first30,,,,,$MANY_LATENCY,$RECOVERY" >>"$OUT/many.csv"
		printf '    %5d native sequences, restart: %s tps on average over %d s, %s (their own)\n' \
			"$n" "$first30" "$AFTER" "$BACK"
		psql_ -c "ALTER SYSTEM RESET seqdist.prewarm" >/dev/null
		psql_ -c "SELECT pg_reload_conf()" >/dev/null
	done
	latency 0
fi

# ---------------------------------------------------------------------------
if want capacity; then
	n=$(echo $MANY | awk '{ print $NF }')
	say "refill capacity: blocks per second the worker reserves at 100 ms ($n sequences prewarmed after a restart)"
	echo "latency_ms,refill_concurrency,sequences,blocks,ms,blocks_per_s" >"$OUT/capacity.csv"
	for conc in 16 64 256; do
		latency 0
		psql_ -c "ALTER SYSTEM SET seqdist.refill_concurrency = $conc" -c "SELECT pg_reload_conf()" >/dev/null
		# every sequence served, so that all are on the prewarm list
		for from in $(seq 1 1000 "$n"); do
			psql_ -c "SELECT count(seqdist.seqdist_nextval(format('m%s_%s', $n, i)::regclass))
				FROM generate_series($from, least($from + 999, $n)) i" >/dev/null
		done
		off=$(stat -c %s "$WORK/postgresql.log")
		"$SEQDIST_PG_BIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w stop >/dev/null
		latency 100
		"$SEQDIST_PG_BIN/pg_ctl" -D "$PGDATA_DIR" -l "$WORK/postgresql.log" -w start >/dev/null || problem "start failed"
		line=
		for _ in $(seq 1 600); do
			line=$(tail -c +$((off + 1)) "$WORK/postgresql.log" | grep -m 1 -o 'seqdist prewarmed [0-9]* of [0-9]* sequences of the prewarm list in [0-9]* ms' || true)
			[ -n "$line" ] && break
			sleep 0.2
		done
		if [ -z "$line" ]; then problem "no prewarm line in the log (refill_concurrency $conc)"; continue; fi
		blocks=$(echo "$line" | awk '{ print $3 }')
		ms=$(echo "$line" | awk '{ print $(NF - 1) }')
		bps=$(fp 'b * 1000 / (m > 0 ? m : 1)' -v b="$blocks" -v m="$ms")
		echo "100,$conc,$n,$blocks,$ms,$bps" >>"$OUT/capacity.csv"
		printf '    refill_concurrency %2d: %s blocks in %s ms: %s blocks/s (target >= 200: %s)\n' "$conc" "$blocks" "$ms" "$bps" \
			"$( [ "$(fp 'a >= 200' -v a="$bps")" = 1 ] && echo MET || echo NOT MET)"
	done
	psql_ -c "ALTER SYSTEM RESET seqdist.refill_concurrency" -c "SELECT pg_reload_conf()" >/dev/null
	latency 0
fi

# ---------------------------------------------------------------------------
if want outage; then
	say "outage: DynamoDB down for $OUTAGE s under a steady load of 200 calls/s, seqdist.runway = $RUNWAY s"
	psql_ -c "ALTER SYSTEM SET seqdist.runway = '${RUNWAY}s'" -c "SELECT pg_reload_conf()" >/dev/null
	fo=$WORK/outage.sql
	echo "INSERT INTO t_sd_cached DEFAULT VALUES;" >"$fo"
	total=$((OUTAGE + RUNWAY / 2 + 10))
	pgbench_run warm 2 3 "$fo" >/dev/null
	(cd "$WORK" && "$PGBENCH_BIN" -n -c 2 -j 2 -R 200 -T "$total" -P 1 -f "$fo" \
		-h "$WORK" -p "$PGPORT" -U postgres postgres >"$WORK/outage.log" 2>&1) & PGB=$!
	sleep 5
	psql_ -c "SELECT seqdist.stats_reset()" >/dev/null
	dyn faults '{"rules":[{"target":"*","mode":"down"}]}' >/dev/null
	sleep "$OUTAGE"
	refill_errors=$(psql_ -c "SELECT coalesce(sum(errors), 0) FROM seqdist.stats")
	bw0=$(psql_ -c "SELECT blocks_by_worker + blocks_by_backend FROM seqdist.stats WHERE sequence = 'sd_cached'::regclass")
	dyn faults '{"rules":[]}' >/dev/null
	up_at=$(date +%s.%N)
	recovered=
	while kill -0 "$PGB" 2>/dev/null; do
		# recovered: a block reserved since DynamoDB came back
		if [ "$(psql_ -c "SELECT blocks_by_worker + blocks_by_backend FROM seqdist.stats WHERE sequence = 'sd_cached'::regclass")" -gt "$bw0" ]; then
			recovered=$(fp 'b - a' -v a="$up_at" -v b="$(date +%s.%N)"); break
		fi
		sleep 0.1
	done
	wait "$PGB" || true
	failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$WORK/outage.log")
	aborted=$(grep -c -iE 'aborted|error' "$WORK/outage.log" || true)
	progress_csv "$WORK/outage.log" "$OUT/outage.csv"
	echo "outage_s,runway_s,failed,client_errors,dynamo_errors,recovered_after_s" >"$OUT/outage_summary.csv"
	echo "$OUTAGE,$RUNWAY,${failed:-0},$aborted,$refill_errors,${recovered:-}" >>"$OUT/outage_summary.csv"
	printf '    failed calls %s (target 0), client errors %s, failed DynamoDB calls during the outage %s, first block %s s after DynamoDB returned\n' "${failed:-0}" "$aborted" "$refill_errors" \
		"${recovered:-(none needed before the load ended)}"
	psql_ -c "ALTER SYSTEM RESET seqdist.runway" -c "SELECT pg_reload_conf()" >/dev/null
fi

# ---------------------------------------------------------------------------
if want requests; then
	say "DynamoDB requests in steady state: one sequence and many, 2 clients, $SECS s"
	echo "scenario,values,requests,requests_per_million_values,requests_per_s" >"$OUT/requests.csv"
	n=$(echo $MANY | awk '{ print $1 }')
	# every sequence's first block and the demand estimates first: steady state
	psql_ -c "SELECT count(seqdist.seqdist_nextval(format('m%s_%s', $n, i)::regclass)) FROM generate_series(1, $n) i" >/dev/null
	for sc in one many; do
		f=$WORK/seqdist_cached.select.sql
		[ $sc = many ] && f=$WORK/many$n.sql
		pgbench_run warm 2 $((SECS + 3)) "$f" >/dev/null
		psql_ -c "SELECT seqdist.stats_reset()" >/dev/null
		r0=$(dyn_stat 'j.total')
		read -r tps _ < <(pgbench_run "req$sc" 2 "$SECS" "$f")
		r1=$(dyn_stat 'j.total')
		vals=$(fp 't * s' -v t="$tps" -v s="$SECS")
		echo "$sc,$vals,$((r1 - r0)),$(fp 'r * 1e6 / v' -v r=$((r1 - r0)) -v v="$vals"),$(fp 'r / s' -v r=$((r1 - r0)) -v s="$SECS")" >>"$OUT/requests.csv"
		printf '    %-4s: %s requests for %s values: %s per million values, %s per second\n' "$sc" $((r1 - r0)) "$vals" \
			"$(fp 'r * 1e6 / v' -v r=$((r1 - r0)) -v v="$vals")" "$(fp 'r / s' -v r=$((r1 - r0)) -v s="$SECS")"
		echo "          (blocks by the worker, by backends, backend waits since the last reset: $(psql_ -c "SELECT sum(blocks_by_worker) || ', ' || sum(blocks_by_backend) || ', ' || sum(backend_waits) FROM seqdist.stats"))"
	done
fi

# ---------------------------------------------------------------------------
if want memory; then
	say "shared memory per sequence"
	shm() { psql_ -c "SELECT sum(allocated_size) FROM pg_shmem_allocations WHERE name ILIKE 'seqdist%'"; }
	s1=$(shm)
	psql_ -c "ALTER SYSTEM SET seqdist.max_sequences = 24000" >/dev/null
	pg_restart
	s2=$(shm)
	psql_ -c "ALTER SYSTEM RESET seqdist.max_sequences" >/dev/null
	per=$(fp '(b - a) / 12000' -v a="$s1" -v b="$s2")
	echo "bytes_at_12000,bytes_at_24000,bytes_per_sequence" >"$OUT/memory.csv"
	echo "$s1,$s2,$per" >>"$OUT/memory.csv"
	echo "    $per bytes per sequence (seqdist.max_sequences 12,000: $s1 bytes, 24,000: $s2 bytes)"
fi

# ---------------------------------------------------------------------------
say "charts"
if command -v gnuplot >/dev/null; then
	# throughput by scenario and client count, bare SELECT and INSERT
	for stmt in select insert; do
		want pgbench || break
		awk -F, -v st="$stmt" 'NR > 1 && $2 == st { t[$1, $3] = $4; sc[$1] = 1; cl[$3] = 1 }
			END { printf "scenario"; n = split("1 2 8", cs, " "); for (i = 1; i <= n; i++) printf " c%s", cs[i]; print "";
				m = split("select1 native_cache1 native_cache1000 seqdist_cached seqdist_strict uuid", ss, " ");
				for (j = 1; j <= m; j++) { printf "%s", ss[j]; for (i = 1; i <= n; i++) printf " %s", ((ss[j], cs[i]) in t) ? t[ss[j], cs[i]] : 0; print "" } }' \
			"$OUT/pgbench.csv" >"$WORK/bars_$stmt.dat"
		gnuplot <<GP || problem "gnuplot failed for pgbench_$stmt.png"
set terminal pngcairo size 900,500 font "sans,10" noenhanced
set output "$OUT/pgbench_$stmt.png"
set title "pgbench, $(echo $stmt | tr a-z A-Z): throughput by scenario and clients ($(date -u +%Y-%m-%d), $(nproc) cores, $MODE)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set ylabel "transactions per second"
set yrange [0:*]
set key outside top center horizontal
set xtics rotate by -20
set xrange [-0.6:5.6]
plot "$WORK/bars_$stmt.dat" using 2:xtic(1) title "1 client", "" using 3 title "2 clients", "" using 4 title "8 clients"
GP
	done
	for n in $MANY; do
		want many || break
		gnuplot <<GP || problem "gnuplot failed for restart_$n.png"
set terminal pngcairo size 900,500 font "sans,10" noenhanced
set output "$OUT/restart_$n.png"
set title "$n hot sequences, $MANY_LATENCY ms latency: throughput after a restart ($(date -u +%Y-%m-%d), $(nproc) cores)"
set datafile separator ","
set xlabel "seconds after the restart"
set ylabel "transactions per second (log scale)"
set y2label "backend waits per second"
set ytics nomirror
set y2tics
set logscale y
set yrange [1:*]
set y2range [0:*]
set key outside top center horizontal
plot "$OUT/restart_${n}_prewarm_on.csv" using 1:2 with linespoints lw 2 title "tps, prewarm on", \
     "$OUT/restart_${n}_prewarm_off.csv" using 1:2 with linespoints lw 2 title "tps, prewarm off", \
     "$OUT/restart_${n}_native.csv" using 1:2 with linespoints lw 1 dt 2 title "tps, native CACHE 1000", \
     "$OUT/restart_${n}_prewarm_on.csv" using (\$1 - 0.1):3 axes x1y2 with impulses lw 4 title "waits/s, prewarm on", \
     "$OUT/restart_${n}_prewarm_off.csv" using (\$1 + 0.1):3 axes x1y2 with impulses lw 4 title "waits/s, prewarm off"
GP
	done
	! want outage || gnuplot <<GP || problem "gnuplot failed for outage.png"
set terminal pngcairo size 900,400 font "sans,10" noenhanced
set output "$OUT/outage.png"
set title "DynamoDB down for $OUTAGE s (from second 5) under 200 calls/s, runway $RUNWAY s ($(date -u +%Y-%m-%d), $(nproc) cores)"
set datafile separator ","
set xlabel "seconds"
set ylabel "transactions per second"
set yrange [0:*]
set object 1 rect from 5, graph 0 to $((5 + OUTAGE)), graph 1 fc rgb "#ffdddd" behind
plot "$OUT/outage.csv" using 1:2 with lines lw 2 title "INSERT, seqdist cached"
GP
	! want latency || gnuplot <<GP || problem "gnuplot failed for latency.png"
set terminal pngcairo size 700,400 font "sans,10" noenhanced
set output "$OUT/latency.png"
set title "seqdist cached, 2 clients, by added DynamoDB latency$( [ "$ROUNDS" -eq 1 ] || echo ", medians of $ROUNDS rounds") ($(date -u +%Y-%m-%d), $(nproc) cores)"
set datafile separator ","
set style data histograms
set style fill solid 0.8 border -1
set ylabel "transactions per second"
set yrange [0:*]
plot "$OUT/latency.csv" using 2:xtic(stringcolumn(1)." ms") title "tps"
GP
	ls "$OUT"/*.png | sed 's/^/    /'
else
	echo "    gnuplot is not installed: no charts"
fi

say "done: CSV and charts in $OUT"
if [ -s "$WORK/problems" ]; then
	sed 's/^/    PROBLEM: /' "$WORK/problems"
	exit 1
fi
