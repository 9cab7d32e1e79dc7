#!/usr/bin/env bash
# The migration benchmark, on one throwaway cluster with seqdist preloaded
# and a local DynamoDB on 127.0.0.1:
#
#  1. What routing costs a query that touches no sequence: pgbench running
#     "SELECT 1" against a database where the planner hook routes (the
#     extension installed, a sequence migrated), against a database of the
#     same cluster without the extension (the hook returns at once), and
#     against the same cluster restarted without seqdist loaded (no hook).
#     Runs alternate; the median tps of each is printed with the ratios.
#  2. What a routed native nextval costs: nextval('migrated_seq') of a
#     migrated sequence (the planner hook sends it to the counter) against
#     seqdist.seqdist_nextval('migrated_seq') and against native nextval of
#     a sequence that is not migrated, in the same database and in one
#     without the extension.  Measured in the server (one statement takes
#     --values values, timed with clock_timestamp()) and with pgbench (one
#     SELECT per transaction, so each call is also planned); runs
#     alternate, medians and ratios are printed.
#  3. How long a bulk migration (CALL seqdist.migrate_in_batches), verify
#     and rollback (CALL seqdist.rollback_in_batches) take for a schema of N tables, each with a bigserial
#     column (with --latency-ms added to every DynamoDB request, as the
#     local DynamoDB's "delay" fault), and how many DynamoDB requests they
#     send.  --only-scale skips 1 and 2.
#
# A result never fails the run: the exit status is non-zero only when
# something broke.
#
#   bash test/bench_migrate.sh [--no-build] [--seconds N] [--repeats N]
#                              [--values N] [--tables N] [--latency-ms N]
#                              [--batch N] [--only-scale]
#
# Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
set -eu
SEQDIST_ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$SEQDIST_ROOT/test/lib.sh"

usage() {
	cat <<'USAGE'
usage: bash test/bench_migrate.sh [options]
  --no-build       use the installed seqdist
  --seconds N      duration of each pgbench run (default 5)
  --repeats N      runs of each configuration, alternating (default 5)
  --values N       values per in-server run of the nextval comparison (default 200000; 0: skip it)
  --tables N       tables (one bigserial sequence each) migrated and rolled back (default 1000; 0: skip)
  --latency-ms N   add N ms to every DynamoDB request during migrate and rollback
  --batch N        sequences per transaction of the bulk migration (default 500)
  --only-scale     only the migration of --tables tables, not the routing figures
USAGE
}

ORIG_ARGS=("$@")
NO_BUILD=
SECONDS_EACH=5
REPEATS=5
VALUES=200000
TABLES=1000
LATENCY_MS=0
BATCH=500
ONLY_SCALE=
need_int() { case "${2:-}" in '' | *[!0-9]*) usage >&2; die "$1 needs a non-negative integer, got '${2:-}'" ;; esac; }
while [ $# -gt 0 ]; do
	case "$1" in
		--no-build) NO_BUILD=1; shift ;;
		--seconds) need_int "$1" "${2:-}"; SECONDS_EACH=$2; shift 2 ;;
		--repeats) need_int "$1" "${2:-}"; REPEATS=$2; shift 2 ;;
		--values) need_int "$1" "${2:-}"; VALUES=$2; shift 2 ;;
		--tables) need_int "$1" "${2:-}"; TABLES=$2; shift 2 ;;
		--latency-ms) need_int "$1" "${2:-}"; LATENCY_MS=$2; shift 2 ;;
		--batch) need_int "$1" "${2:-}"; BATCH=$2; shift 2 ;;
		--only-scale) ONLY_SCALE=1; shift ;;
		-h | --help) usage; exit 0 ;;
		*) usage >&2; die "unknown option '$1'" ;;
	esac
done
[ "$SECONDS_EACH" -ge 1 ] && [ "$REPEATS" -ge 1 ] && [ "$BATCH" -ge 1 ] ||
	die "--seconds, --repeats and --batch must be at least 1"
[ -n "$NO_BUILD" ] && export SEQDIST_NO_BUILD=1
seqdist_bootstrap test/bench_migrate.sh "${ORIG_ARGS[@]}"

seqdist_test_credentials
seqdist_start_local_stack bench-migrate
PSQL=("$SEQDIST_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$WORK" -p "$PGPORT_LOCAL" -U postgres)
PGBENCH=("$SEQDIST_PG_BIN/pgbench" -n -h "$WORK" -p "$PGPORT_LOCAL" -U postgres)
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
now() { date +%s.%N; }

"${PSQL[@]}" -d postgres -c 'CREATE DATABASE routed' -c 'CREATE DATABASE plain'
"${PSQL[@]}" -d routed <<'SQL'
CREATE EXTENSION seqdist;
SELECT seqdist.create_table() \gset
CREATE TABLE orders (id bigserial PRIMARY KEY, v text);
CREATE SEQUENCE migrated_seq;
CREATE SEQUENCE native_seq;
SELECT (SELECT count(*) FROM seqdist.migrate('orders') WHERE status = 'migrated')
     + (SELECT count(*) FROM seqdist.migrate('migrated_seq') WHERE status = 'migrated') = 2 AS migrated \gset
\if :migrated
\else
\echo 'the benchmark sequences were not migrated'
\quit 3
\endif
SQL
"${PSQL[@]}" -d plain -c 'CREATE SEQUENCE native_seq'
# One statement that takes n values, timed inside the server (no client
# round trip per value); its count is checked.
for db in routed plain; do
	"${PSQL[@]}" -d "$db" <<'SQL'
CREATE FUNCTION bench_time(q text, n bigint) RETURNS double precision LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz;
    got bigint;
BEGIN
    t0 := clock_timestamp();
    EXECUTE q INTO got;
    IF got IS DISTINCT FROM n THEN
        RAISE EXCEPTION 'the statement counted % values, not %', got, n;
    END IF;
    RETURN extract(epoch FROM clock_timestamp() - t0) * 1000;
END
$$;
SQL
done
printf 'SELECT 1;\n' >"$WORK/select1.sql"
printf "SELECT nextval('migrated_seq');\n" >"$WORK/routed_nextval.sql"
printf "SELECT seqdist.seqdist_nextval('migrated_seq');\n" >"$WORK/seqdist_nextval.sql"
printf "SELECT nextval('native_seq');\n" >"$WORK/native_nextval.sql"

# tps DATABASE [SCRIPT]: one pgbench run, its tps
tps() {
	local out
	out=$("${PGBENCH[@]}" -T "$SECONDS_EACH" -f "$WORK/${2:-select1}.sql" "$1" 2>"$WORK/pgbench.err" |
		awk '/^tps = / { print $3 }')
	[ -n "$out" ] || { cat "$WORK/pgbench.err" >&2; die "pgbench against $1 (${2:-select1}) failed"; }
	echo "$out"
}

if [ -z "$ONLY_SCALE" ]; then
say "routing's cost for SELECT 1 (pgbench, 1 client, ${SECONDS_EACH}s runs, $REPEATS of each, alternating)"
routed=() plain=()
for _ in $(seq 1 "$REPEATS"); do
	routed+=("$(tps routed)")
	plain+=("$(tps plain)")
done
"$SEQDIST_PG_BIN/pg_ctl" -D "$WORK/pgdata" -m fast -w stop >/dev/null
sed -i "s/^shared_preload_libraries = 'seqdist'/shared_preload_libraries = ''/" "$WORK/pgdata/postgresql.conf"
"$SEQDIST_PG_BIN/pg_ctl" -D "$WORK/pgdata" -l "$WORK/postgresql.log" -w start >/dev/null
unloaded=()
for _ in $(seq 1 "$REPEATS"); do unloaded+=("$(tps plain)"); done
"$SEQDIST_PG_BIN/pg_ctl" -D "$WORK/pgdata" -m fast -w stop >/dev/null
sed -i "s/^shared_preload_libraries = ''/shared_preload_libraries = 'seqdist'/" "$WORK/pgdata/postgresql.conf"
"$SEQDIST_PG_BIN/pg_ctl" -D "$WORK/pgdata" -l "$WORK/postgresql.log" -w start >/dev/null
m_routed=$(median "${routed[@]}")
m_plain=$(median "${plain[@]}")
m_unloaded=$(median "${unloaded[@]}")
printf '    %-52s %10s tps  (runs: %s)\n' "routing on (extension installed, a sequence migrated)" "$m_routed" "${routed[*]}"
printf '    %-52s %10s tps  (runs: %s)\n' "hook installed, database without the extension" "$m_plain" "${plain[*]}"
printf '    %-52s %10s tps  (runs: %s)\n' "seqdist not loaded (same cluster, restarted)" "$m_unloaded" "${unloaded[*]}"
awk -v r="$m_routed" -v p="$m_plain" -v u="$m_unloaded" 'BEGIN {
	printf "    routing on / not loaded: %.3f   routing on / without the extension: %.3f\n", r / u, r / p }'

if [ "$VALUES" -gt 0 ]; then
	say "a routed native nextval: nextval('migrated_seq'), sent to the counter by the planner hook, against seqdist_nextval and native nextval"
	# server time of one statement taking VALUES values, after a warm-up
	# statement in the same session (the backend's first block)
	inproc() {
		"${PSQL[@]}" -At -d "$1" \
			-c "SELECT bench_time(\$q\$SELECT count($2) FROM generate_series(1, 1000)\$q\$, 1000)" \
			-c "SELECT bench_time(\$q\$SELECT count($2) FROM generate_series(1, $VALUES)\$q\$, $VALUES)" |
			tail -n 1
	}
	i_routed=() i_seqdist=() i_native=() i_plain=()
	p_routed=() p_seqdist=() p_native=() p_plain=()
	for _ in $(seq 1 "$REPEATS"); do
		i_routed+=("$(inproc routed "nextval('migrated_seq')")")
		i_seqdist+=("$(inproc routed "seqdist.seqdist_nextval('migrated_seq')")")
		i_native+=("$(inproc routed "nextval('native_seq')")")
		i_plain+=("$(inproc plain "nextval('native_seq')")")
	done
	for _ in $(seq 1 "$REPEATS"); do
		p_routed+=("$(tps routed routed_nextval)")
		p_seqdist+=("$(tps routed seqdist_nextval)")
		p_native+=("$(tps routed native_nextval)")
		p_plain+=("$(tps plain native_nextval)")
	done
	mi_routed=$(median "${i_routed[@]}") mi_seqdist=$(median "${i_seqdist[@]}")
	mi_native=$(median "${i_native[@]}") mi_plain=$(median "${i_plain[@]}")
	mp_routed=$(median "${p_routed[@]}") mp_seqdist=$(median "${p_seqdist[@]}")
	mp_native=$(median "${p_native[@]}") mp_plain=$(median "${p_plain[@]}")
	# ns per value and values per second from the median ms of VALUES values
	per_value() { awk -v ms="$1" -v n="$VALUES" 'BEGIN { printf "%8.0f ns/value %12.0f values/s", ms * 1e6 / n, n * 1000 / ms }'; }
	echo "    in the server: one statement takes $VALUES values (median of $REPEATS runs, alternating; runs in ms)"
	printf '    %-58s %s  (%s)\n' "nextval('migrated_seq'), routed to the counter" "$(per_value "$mi_routed")" "${i_routed[*]}"
	printf '    %-58s %s  (%s)\n' "seqdist.seqdist_nextval('migrated_seq')" "$(per_value "$mi_seqdist")" "${i_seqdist[*]}"
	printf '    %-58s %s  (%s)\n' "nextval('native_seq'), not migrated, same database" "$(per_value "$mi_native")" "${i_native[*]}"
	printf '    %-58s %s  (%s)\n' "nextval('native_seq'), database without the extension" "$(per_value "$mi_plain")" "${i_plain[*]}"
	awk -v r="$mi_routed" -v s="$mi_seqdist" -v n="$mi_native" -v p="$mi_plain" 'BEGIN {
		printf "    time per value: routed / seqdist_nextval %.2f   routed / native without the extension %.2f\n", r / s, r / p
		printf "                    native, same database / native without the extension %.2f\n", n / p }'
	echo "    pgbench: 1 client, one SELECT per transaction, ${SECONDS_EACH}s runs (median tps of $REPEATS, alternating)"
	printf '    %-58s %10s tps  (runs: %s)\n' "SELECT nextval('migrated_seq'), routed to the counter" "$mp_routed" "${p_routed[*]}"
	printf '    %-58s %10s tps  (runs: %s)\n' "SELECT seqdist.seqdist_nextval('migrated_seq')" "$mp_seqdist" "${p_seqdist[*]}"
	printf '    %-58s %10s tps  (runs: %s)\n' "SELECT nextval('native_seq'), not migrated, same database" "$mp_native" "${p_native[*]}"
	printf '    %-58s %10s tps  (runs: %s)\n' "SELECT nextval('native_seq'), database without the extension" "$mp_plain" "${p_plain[*]}"
	awk -v r="$mp_routed" -v s="$mp_seqdist" -v n="$mp_native" -v p="$mp_plain" 'BEGIN {
		printf "    time per transaction: routed / seqdist_nextval %.2f   routed / native without the extension %.2f\n", s / r, p / r
		printf "                          native, same database / native without the extension %.2f\n", p / n }'
fi
fi # not --only-scale

# What the local DynamoDB saw since the last reset: "requests max_in_flight"
dynamo_seen() {
	seqdist_dynamo_control stats |
		node -e 'let s = ""; process.stdin.on("data", (d) => s += d).on("end", () => {
			const j = JSON.parse(s); console.log(j.total + " " + j.max_in_flight); })'
}

if [ "$TABLES" -gt 0 ]; then
	say "migrate, verify and rollback of $TABLES tables (one bigserial each), added DynamoDB latency ${LATENCY_MS} ms, ${BATCH} sequences per transaction"
	# verify is one call, one transaction: it reads (and so locks) every
	# table and its index until it ends
	locks=$(( (TABLES * 2) / 100 + 64 ))
	echo "max_locks_per_transaction = $locks" >>"$WORK/pgdata/postgresql.conf"
	"$SEQDIST_PG_BIN/pg_ctl" -D "$WORK/pgdata" -m fast -w restart -l "$WORK/postgresql.log" >/dev/null
	"${PSQL[@]}" -d postgres -c 'CREATE DATABASE scale'
	"${PSQL[@]}" -d scale -c 'CREATE EXTENSION seqdist' -c 'CREATE SCHEMA app'
	for from in $(seq 1 1000 "$TABLES"); do
		to=$((from + 999 < TABLES ? from + 999 : TABLES))
		"${PSQL[@]}" -d scale -c "DO \$\$ BEGIN FOR i IN $from .. $to LOOP
			EXECUTE format('CREATE TABLE app.t%s (id bigserial PRIMARY KEY, v text)', i);
			EXECUTE format('INSERT INTO app.t%s (v) VALUES (''x'')', i);
		END LOOP; END \$\$"
	done
	seqdist_dynamo_control reset >/dev/null
	if [ "$LATENCY_MS" -gt 0 ]; then
		seqdist_dynamo_control faults "{\"rules\":[{\"target\":\"*\",\"mode\":\"delay\",\"ms\":$LATENCY_MS}]}" >/dev/null
	fi
	t0=$(now)
	"${PSQL[@]}" -d scale -c "SET client_min_messages = warning" -c "CALL seqdist.migrate_in_batches('app', $BATCH)"
	t1=$(now)
	read -r q1 f1 < <(dynamo_seen)
	n=$("${PSQL[@]}" -d scale -At -c "SELECT count(*) FROM seqdist.migrated_sequences")
	ok=$("${PSQL[@]}" -d scale -At -c "SELECT count(*) FROM seqdist.verify('app') WHERE ok")
	t2=$(now)
	read -r q2 f2 < <(dynamo_seen)
	"${PSQL[@]}" -d scale -c "SET client_min_messages = warning" -c "CALL seqdist.rollback_in_batches('app', $BATCH)"
	r=$(( TABLES - $("${PSQL[@]}" -d scale -At -c "SELECT count(*) FROM seqdist.migrated_sequences") ))
	t3=$(now)
	read -r q3 f3 < <(dynamo_seen)
	awk -v n="$n" -v ok="$ok" -v r="$r" -v t0="$t0" -v t1="$t1" -v t2="$t2" -v t3="$t3" -v N="$TABLES" \
		-v q1="$q1" -v q2="$q2" -v q3="$q3" -v f="$f3" 'BEGIN {
		printf "    migrate:  %d of %d sequences in %.1f s (%.2f ms each), %d DynamoDB requests (%.2f per sequence)\n",
			n, N, t1 - t0, (t1 - t0) * 1000 / N, q1, q1 / N
		printf "    verify:   %d ok in %.1f s, %d DynamoDB requests\n", ok, t2 - t1, q2 - q1
		printf "    rollback: %d in %.1f s (%.2f ms each), %d DynamoDB requests (%.2f per sequence)\n",
			r, t3 - t2, (t3 - t2) * 1000 / N, q3 - q2, (q3 - q2) / N
		printf "    most DynamoDB requests in flight at once: %d\n", f }'
	[ "$n" = "$TABLES" ] && [ "$ok" = "$TABLES" ] && [ "$r" = "$TABLES" ] || die "not every sequence was migrated, verified and rolled back"
fi
