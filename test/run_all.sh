#!/usr/bin/env bash
# Runs every seqdist test: the SigV4 checks, the local DynamoDB's self-test,
# the pg_regress suite and the TAP tests, against real PostgreSQL clusters
# and a real DynamoDB implementation (dynalite) on 127.0.0.1.  Ends with one
# line "N passed, N failed, N skipped" and exits non-zero if anything failed
# (a skipped test is counted as skipped, never as passed).
# Arguments, if any, name the suites to run: sigv4 local_dynamodb pg_regress
# memcheck fuzz tap pg17 (the default: all of these), and coverage, which is
# not run by default (tap:NNN runs the TAP files whose name starts with NNN;
# pg17:all runs every TAP file on PostgreSQL 17 instead of the core ones).
#
# Installs what it needs first (Debian packages, the pinned npm packages),
# builds and installs the extension.  PostgreSQL refuses to run as root, so
# when run as root the tests themselves run as an unprivileged user.
#
# Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
set -u
SEQDIST_ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$SEQDIST_ROOT/test/lib.sh"

# "coverage": the coverage build is installed instead of the plain one
[[ " $* " == *" coverage "* ]] && export SEQDIST_COVERAGE=1

# pg17: the build, pg_regress and TAP files on PostgreSQL 17 in a Debian 13
# root (test/debian13.sh).  It needs root for debootstrap and chroot, so it
# runs first, before the rest of the run drops root; its log is counted with
# the other suites at the end.
if [ -z "${SEQDIST_UNPRIVILEGED:-}" ] && [[ $# -eq 0 || " $* " == *" pg17 "* || " $* " == *" pg17:"* ]]; then
	pg17_args=()
	[[ " $* " == *" pg17:all "* ]] && pg17_args=(all)
	seqdist_install_dependencies
	say "pg17 (test/debian13.sh ${pg17_args[*]})"
	SEQDIST_PG17_LOG=$(mktemp /tmp/seqdist-pg17.XXXXXX)
	chmod 644 "$SEQDIST_PG17_LOG"
	pg17_started=$(date +%s)
	bash "$SEQDIST_ROOT/test/debian13.sh" "${pg17_args[@]}" 2>&1 | tee "$SEQDIST_PG17_LOG" | sed -u 's/^/    [pg17] /'
	SEQDIST_PG17_STATUS=${PIPESTATUS[0]}
	echo "    [pg17] took $(( $(date +%s) - pg17_started )) s"
	export SEQDIST_PG17_LOG SEQDIST_PG17_STATUS
fi
seqdist_bootstrap test/run_all.sh "$@"

cd "$SEQDIST_ROOT"
seqdist_test_credentials
WORK=$SEQDIST_ROOT/test/tmp/run.$$
mkdir -p "$WORK"
PGXS_DIR=$(dirname "$(dirname "$(dirname "$("$SEQDIST_PG_BIN/pg_config" --pgxs)")")")
PG_REGRESS=$PGXS_DIR/src/test/regress/pg_regress
PASSED=0
FAILED=0
SKIPPED=0
FAILED_NAMES=()
STARTED_PIDS=()

cleanup() {
	local pid
	for pid in "${STARTED_PIDS[@]}"; do seqdist_stop_pid "$pid"; done
}
trap cleanup EXIT

# Count one suite's results: $1 name, $2 passed, $3 failed, $4 skipped.
record() {
	local skipped=${4:-0}
	PASSED=$((PASSED + $2))
	FAILED=$((FAILED + $3))
	SKIPPED=$((SKIPPED + skipped))
	[ "$3" -gt 0 ] && FAILED_NAMES+=("$1")
	printf '    %s: %d passed, %d failed, %d skipped\n' "$1" "$2" "$3" "$skipped"
}

# Run a command that prints TAP and count its results with test/tap_count.pl:
# every test line once, a "# SKIP" as skipped, a subtest's summary line not
# on top of its children.  A non-zero exit without a failing assertion (a
# crash, a wrong plan) and a run with no assertion at all each count as one
# failure.
run_tap() {
	local name=$1; shift
	local log=$WORK/$name.log ok notok skipped status
	say "$name"
	"$@" >"$log" 2>&1
	status=$?
	read -r ok notok skipped < <(perl "$SEQDIST_ROOT/test/tap_count.pl" "$log")
	grep -E '^[[:space:]]*# measured:' "$log"
	grep -iE '^[[:space:]]*ok [0-9]+.*# skip' "$log"
	grep -E '^[[:space:]]*not ok|^#.*(got|expected|Failed)' "$log" | head -40
	if [ "$status" -ne 0 ] && [ "$notok" -eq 0 ]; then
		notok=1
		tail -20 "$log"
	fi
	if [ "$ok" -eq 0 ] && [ "$notok" -eq 0 ] && [ "$skipped" -eq 0 ]; then
		echo "    $name ran no test"
		notok=1
	fi
	record "$name" "$ok" "$notok" "$skipped"
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
	# PostgreSQL 15 prints "test name ... ok", 16 and later TAP ("ok 1 - name")
	grep -E '^(test| ) |^(not )?ok [0-9]|tests? (passed|failed)|FAILED' "$dir/pg_regress.log"
	ok=$(grep -cE '\.\.\. ok|^ok [0-9]' "$dir/pg_regress.log")
	notok=$(grep -ciE '\.\.\. failed|^not ok [0-9]' "$dir/pg_regress.log")
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
		if [ ${#TAP_ONLY[@]} -gt 0 ] && ! tap_chosen "$(basename "$t")"; then continue; fi
		name=tap_$(basename "$t" .pl)
		mkdir -p "$WORK/$name"
		# TESTDIR for PostgreSQL 15 and 16, TESTDATADIR and TESTLOGDIR for 17
		# and later: the same directories
		run_tap "$name" env PATH="$SEQDIST_PG_BIN:$PATH" SEQDIST_COVERAGE="${SEQDIST_COVERAGE:-}" \
			PERL5LIB="$PGXS_DIR/src/test/perl:$SEQDIST_ROOT/test/perl" \
			TESTDIR="$WORK/$name" PG_REGRESS="$PG_REGRESS" SEQDIST_ROOT="$SEQDIST_ROOT" \
			TESTDATADIR="$WORK/$name/tmp_check" TESTLOGDIR="$WORK/$name/tmp_check/log" \
			PG_TEST_TIMEOUT_DEFAULT=60 \
			prove -v "$t"
	done
}

# The pg17 suite's result, from the log of its run at the start: the inner
# run's own counts; a skip (status 77: debootstrap cannot reach the Debian
# archive) counts as one skipped test, and a run without a result line as a
# failure.
record_pg17() {
	local counts
	say "pg17"
	if [ -z "${SEQDIST_PG17_LOG:-}" ] || [ ! -r "$SEQDIST_PG17_LOG" ]; then
		echo "    pg17 did not run (it runs only when test/run_all.sh starts as root or with sudo)"
		record pg17 0 1
		return
	fi
	if [ "${SEQDIST_PG17_STATUS:-1}" -eq 77 ]; then
		grep '^skipped:' "$SEQDIST_PG17_LOG" | sed 's/^/    pg17 /'
		record pg17 0 0 1
		return
	fi
	counts=$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$SEQDIST_PG17_LOG" | tail -1)
	if [ -z "$counts" ]; then
		echo "    pg17 ended without a result line (log: $SEQDIST_PG17_LOG)"
		record pg17 0 1
		return
	fi
	[[ $counts =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed,\ ([0-9]+)\ skipped$ ]]
	local passed=${BASH_REMATCH[1]} failed=${BASH_REMATCH[2]} skipped=${BASH_REMATCH[3]}
	# a non-zero exit with no failure counted is one failure
	[ "$SEQDIST_PG17_STATUS" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1
	record pg17 "$passed" "$failed" "$skipped"
}

tap_chosen() {
	local prefix
	for prefix in "${TAP_ONLY[@]}"; do [[ "$1" == "$prefix"* ]] && return 0; done
	return 1
}

# With arguments, run only the named suites
wanted() { [ ${#SUITES[@]} -eq 0 ] && return 0; [[ " ${SUITES[*]} " == *" $1 "* ]]; }
SUITES=()
TAP_ONLY=()
for arg in "$@"; do
	case $arg in
		tap:*) TAP_ONLY+=("${arg#tap:}"); SUITES+=(tap) ;;
		pg17:*) SUITES+=(pg17) ;;
		*) SUITES+=("$arg") ;;
	esac
done
# coverage: the regression and TAP suites against the coverage build, unless
# the arguments choose among them
if wanted coverage && [ ${#SUITES[@]} -gt 0 ] && ! wanted pg_regress && ! wanted tap; then
	SUITES+=(pg_regress tap)
fi
if wanted coverage && [ ${#SUITES[@]} -gt 0 ] && [ -z "${SEQDIST_COVERAGE_DIR:-}" ]; then
	die "coverage: no coverage build (run test/run_all.sh itself, which makes one)"
fi
wanted sigv4 && run_tap sigv4 bash "$SEQDIST_ROOT/test/sigv4/run.sh"
wanted local_dynamodb && run_tap local_dynamodb node "$SEQDIST_ROOT/test/local_dynamodb_selftest.js"
wanted pg_regress && run_regress
wanted memcheck && run_tap memcheck bash "$SEQDIST_ROOT/test/memcheck.sh"
wanted fuzz && run_tap fuzz bash "$SEQDIST_ROOT/test/fuzz/run.sh"
wanted tap && run_tap_files
wanted pg17 && record_pg17
if [ ${#SUITES[@]} -gt 0 ] && wanted coverage; then
	run_tap coverage bash "$SEQDIST_ROOT/test/coverage_report.sh" "$SEQDIST_COVERAGE_DIR"
	grep -E '^# ' "$WORK/coverage.log" | grep -v '^# HTML'
	grep -E '^# HTML' "$WORK/coverage.log"
else
	echo
	echo "line coverage: not measured in this run (bash test/run_all.sh coverage measures it)"
fi

echo
[ ${#FAILED_NAMES[@]} -gt 0 ] && echo "failing suites: ${FAILED_NAMES[*]} (logs in $WORK)"
echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
[ "$FAILED" -eq 0 ]
