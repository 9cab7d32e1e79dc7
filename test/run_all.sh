#!/usr/bin/env bash
# Runs every seqdist test: the SigV4 checks, the local DynamoDB's self-test,
# the pg_regress suite and the TAP tests, against real PostgreSQL clusters
# and a real DynamoDB implementation (dynalite) on 127.0.0.1.  Ends with one
# line "N passed, N failed" and exits non-zero if anything failed.
# Arguments, if any, name the suites to run: sigv4 local_dynamodb pg_regress
# memcheck fuzz tap
# (tap:NNN runs the TAP files whose name starts with NNN).
#
# Installs what it needs first (Debian packages, the pinned npm packages),
# builds and installs the extension.  PostgreSQL refuses to run as root, so
# when run as root the tests themselves run as an unprivileged user.
set -u
SEQDIST_ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$SEQDIST_ROOT/test/lib.sh"

seqdist_bootstrap test/run_all.sh "$@"

cd "$SEQDIST_ROOT"
seqdist_test_credentials
WORK=$SEQDIST_ROOT/test/tmp/run.$$
mkdir -p "$WORK"
PGXS_DIR=$(dirname "$(dirname "$(dirname "$("$SEQDIST_PG_BIN/pg_config" --pgxs)")")")
PG_REGRESS=$PGXS_DIR/src/test/regress/pg_regress
PASSED=0
FAILED=0
FAILED_NAMES=()
STARTED_PIDS=()

cleanup() {
	local pid
	for pid in "${STARTED_PIDS[@]}"; do seqdist_stop_pid "$pid"; done
}
trap cleanup EXIT

# Count one suite's results: $1 name, $2 passed, $3 failed.
record() {
	PASSED=$((PASSED + $2))
	FAILED=$((FAILED + $3))
	[ "$3" -gt 0 ] && FAILED_NAMES+=("$1")
	printf '    %s: %d passed, %d failed\n' "$1" "$2" "$3"
}

# Run a command that prints TAP; every "ok"/"not ok" line counts as a test.
# A non-zero exit without a failing assertion (a crash, a wrong plan) and a
# run with no assertion at all each count as one failure.
run_tap() {
	local name=$1; shift
	local log=$WORK/$name.log ok notok status
	say "$name"
	"$@" >"$log" 2>&1
	status=$?
	ok=$(grep -cE '^[[:space:]]*ok [0-9]+' "$log")
	notok=$(grep -cE '^[[:space:]]*not ok [0-9]+' "$log")
	grep -E '^[[:space:]]*# measured:' "$log"
	grep -E '^[[:space:]]*not ok|^#.*(got|expected|Failed)' "$log" | head -40
	if [ "$status" -ne 0 ] && [ "$notok" -eq 0 ]; then
		notok=1
		tail -20 "$log"
	fi
	if [ "$ok" -eq 0 ] && [ "$notok" -eq 0 ]; then
		echo "    $name ran no test"
		notok=1
	fi
	record "$name" "$ok" "$notok"
}

run_regress() {
	local dir=$WORK/regress port conf status ok notok
	say "pg_regress"
	seqdist_start_dynamo "$dir/dynamo" || die "cannot run pg_regress without the local DynamoDB"
	STARTED_PIDS+=("$DYNAMO_PID")
	conf=$dir/regress.conf
	{ echo "shared_preload_libraries = 'seqdist'"; seqdist_regress_conf; } >"$conf"
	port=$(seqdist_free_port)
	"$PG_REGRESS" --temp-instance="$dir/instance" --temp-config="$conf" \
		--bindir="$SEQDIST_PG_BIN" --inputdir="$SEQDIST_ROOT" --outputdir="$dir" \
		--port="$port" --dbname=contrib_regression \
		$(make -s -C "$SEQDIST_ROOT" regress-list) >"$dir/pg_regress.log" 2>&1
	status=$?
	cat "$dir/pg_regress.log" | grep -E '^(test| ) |tests? (passed|failed)|FAILED'
	ok=$(grep -cE '\.\.\. ok' "$dir/pg_regress.log")
	notok=$(grep -ciE '\.\.\. failed' "$dir/pg_regress.log")
	if [ -s "$dir/regression.diffs" ]; then
		head -100 "$dir/regression.diffs"
	fi
	[ "$status" -ne 0 ] && [ "$notok" -eq 0 ] && { notok=1; tail -20 "$dir/pg_regress.log"; }
	seqdist_stop_pid "$DYNAMO_PID"
	record pg_regress "$ok" "$notok"
}

run_tap_files() {
	local t name
	for t in "$SEQDIST_ROOT"/test/t/*.pl; do
		[ -e "$t" ] || continue
		# "tap:006" runs only the TAP files whose name starts with 006
		if [ -n "${TAP_ONLY:-}" ] && [[ "$(basename "$t")" != "$TAP_ONLY"* ]]; then continue; fi
		name=tap_$(basename "$t" .pl)
		mkdir -p "$WORK/$name"
		run_tap "$name" env PATH="$SEQDIST_PG_BIN:$PATH" \
			PERL5LIB="$PGXS_DIR/src/test/perl:$SEQDIST_ROOT/test/perl" \
			TESTDIR="$WORK/$name" PG_REGRESS="$PG_REGRESS" SEQDIST_ROOT="$SEQDIST_ROOT" \
			PG_TEST_TIMEOUT_DEFAULT=60 \
			prove -v "$t"
	done
}

# With arguments, run only the named suites (sigv4 local_dynamodb pg_regress tap)
wanted() { [ ${#SUITES[@]} -eq 0 ] && return 0; [[ " ${SUITES[*]} " == *" $1 "* ]]; }
SUITES=()
for arg in "$@"; do
	case $arg in
		tap:*) TAP_ONLY=${arg#tap:}; SUITES+=(tap) ;;
		*) SUITES+=("$arg") ;;
	esac
done
wanted sigv4 && run_tap sigv4 bash "$SEQDIST_ROOT/test/sigv4/run.sh"
wanted local_dynamodb && run_tap local_dynamodb node "$SEQDIST_ROOT/test/local_dynamodb_selftest.js"
wanted pg_regress && run_regress
wanted memcheck && run_tap memcheck bash "$SEQDIST_ROOT/test/memcheck.sh"
wanted fuzz && run_tap fuzz bash "$SEQDIST_ROOT/test/fuzz/run.sh"
wanted tap && run_tap_files

echo
[ ${#FAILED_NAMES[@]} -gt 0 ] && echo "failing suites: ${FAILED_NAMES[*]} (logs in $WORK)"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
