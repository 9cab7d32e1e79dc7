#!/usr/bin/env bash
# memcheck.sh -- seqdist under AddressSanitizer, UndefinedBehaviorSanitizer,
# LeakSanitizer and valgrind memcheck while the real workload runs.  Prints
# TAP; exits non-zero if a checker reports anything about seqdist, or if the
# workload misbehaves.  About a minute and a half.
#
#   bash test/memcheck.sh            (as root or as an unprivileged user)
#
# All on 127.0.0.1; it stops only what it started, by pid, and installs
# nothing outside its scratch directory: the builds go into private
# installation trees that a copy of the system's postgres loads them from.
# Positive controls (test/memcheck/canary.c) show that every checker reports
# what it should, so that a clean result means something.  How and why, step
# by step, and what the checkers cannot see: test/memcheck/README.md.  The
# workloads, the canary, the ASan preload stub and the log scanner are in
# test/memcheck/ too.
#
# MEMCHECK_KEEP=1 keeps the scratch directory (under /tmp) after a clean run;
# MEMCHECK_SRC=DIR checks another copy of the sources (src/, sql/,
# expected/, Makefile, seqdist.control), e.g. an export of a commit;
# MEMCHECK_COPT replaces the sanitizer build's compiler flags.
#
# As a suite of test/run_all.sh:
#   wanted memcheck && run_tap memcheck bash "$SEQDIST_ROOT/test/memcheck.sh"
#
# Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
set -u
SEQDIST_ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$SEQDIST_ROOT/test/lib.sh"

if [ -z "${SEQDIST_UNPRIVILEGED:-}" ]; then
	seqdist_install_dependencies >&2
	if [ "$(id -u)" -eq 0 ]; then
		seqdist_drop_root test/memcheck.sh "$@"
		exit $?
	fi
fi

cd "$SEQDIST_ROOT"
SRC=$(cd "${MEMCHECK_SRC:-$SEQDIST_ROOT}" && pwd)
HERE=$SEQDIST_ROOT/test/memcheck
seqdist_test_credentials
START_SECONDS=$SECONDS
if [ -n "${MEMCHECK_KEEP:-}" ]; then
	# outside the tree: seqdist_drop_root removes its copy after a clean run
	WORK=$(mktemp -d /tmp/seqdist-memcheck.XXXXXX)
else
	WORK=$SEQDIST_ROOT/test/tmp/memcheck.$$
fi
SANLOG=$WORK/sanitizer
mkdir -p "$WORK" "$SANLOG"

PG_CONFIG=$SEQDIST_PG_BIN/pg_config
PG_BINDIR=$("$PG_CONFIG" --bindir)
PG_PKGLIBDIR=$("$PG_CONFIG" --pkglibdir)
PG_SHAREDIR=$("$PG_CONFIG" --sharedir)
PGXS_DIR=$(dirname "$(dirname "$(dirname "$("$PG_CONFIG" --pgxs)")")")
PG_REGRESS=$PGXS_DIR/src/test/regress/pg_regress
TREE=$WORK/tree
BUILD=$WORK/build
SAN_LIB=$TREE$PG_PKGLIBDIR/seqdist.so
SAN_COPT=${MEMCHECK_COPT:--O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined}
TREE_VG=$WORK/tree-valgrind
BUILD_VG=$WORK/build-valgrind
VG_COPT='-O1 -g -fno-omit-frame-pointer'
LIBASAN=$(gcc -print-file-name=libasan.so)

PG_PID=
DYNAMO_PID=
BG_PIDS=()

#---- TAP --------------------------------------------------------------------
TESTS=0
FAILS=0
ok() { TESTS=$((TESTS + 1)); echo "ok $TESTS - $*"; }
not_ok() { TESTS=$((TESTS + 1)); FAILS=$((FAILS + 1)); echo "not ok $TESTS - $*"; }
check() {		# check DESCRIPTION COMMAND...
	local desc=$1; shift
	if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}
is() {			# is GOT WANT DESCRIPTION
	if [ "$1" = "$2" ]; then ok "$3"; else not_ok "$3"; echo "#   got: '$1'"; echo "#   expected: '$2'"; fi
}
diag() { sed 's/^/# /'; }
phase() { echo "# $((SECONDS - START_SECONDS)) s: $*"; }
# Number the "ok - ..." and "not ok - ..." lines that SQL printed, pass its
# notes on.  Reads stdin; not in a pipeline, which would lose the counts.
relay_tap() {
	local line
	while IFS= read -r line; do
		case $line in
			"ok - "*) ok "${line#ok - }" ;;
			"not ok - "*) not_ok "${line#not ok - }" ;;
			"#"*) echo "$line" ;;
		esac
	done
}

finish() {
	echo "1..$TESTS"
	echo "# measured: memcheck took $((SECONDS - START_SECONDS)) s"
	if [ "$FAILS" -eq 0 ] && [ -z "${MEMCHECK_KEEP:-}" ]; then
		rm -rf "$WORK"
	else
		echo "# files kept in $WORK"
	fi
	[ "$FAILS" -eq 0 ]
	exit $?
}
bail() { not_ok "$*"; finish; }

#---- processes ------------------------------------------------------------
stop_postgres() {
	local pid=$PG_PID i
	[ -n "$pid" ] || return 0
	PG_PID=
	kill -INT "$pid" 2>/dev/null || return 0
	for i in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$pid" 2>/dev/null; then
		kill -QUIT "$pid" 2>/dev/null; sleep 2; kill -KILL "$pid" 2>/dev/null
		return 1
	fi
	wait "$pid" 2>/dev/null
	return 0
}

cleanup() {
	local pid
	for pid in "${BG_PIDS[@]}"; do seqdist_stop_pid "$pid"; done
	stop_postgres
	seqdist_stop_pid "$DYNAMO_PID"
}
trap cleanup EXIT

# Whether the instrumented server accepts connections, waiting while it runs.
server_ready() {
	local i
	for i in $(seq 1 150); do
		"$PG_BINDIR/pg_isready" -q -h 127.0.0.1 -p "$PGPORT" && return 0
		kill -0 "$PG_PID" 2>/dev/null || return 1
		sleep 0.2
	done
	return 1
}

psql_() { "$PG_BINDIR/psql" -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PGPORT" "$@"; }
q() { psql_ -d memcheck "$@"; }

#---- 1. two builds, two private installation trees -----------------------
phase "build"
# build_tree DIR COPT TREE: a copy of the sources built in DIR with COPT
# (COPT, so that the project's -Werror flags stay on) and installed with
# DESTDIR into TREE, which mirrors the system's installation: a copy of its
# postgres executable and links to everything else of its lib and share
# directories.  PostgreSQL finds $libdir and its share directory relative to
# its own executable, so that postgres loads seqdist from TREE alone.
build_tree() {
	local dir=$1 copt=$2 tree=$3 f rel
	mkdir -p "$dir"
	# src/ and sql/ whole, whatever files they hold now, without the
	# source tree's own build products
	tar -C "$SRC" --exclude='*.o' --exclude='*.so' --exclude='*.bc' -cf - Makefile seqdist.control src sql |
		tar -C "$dir" -xf - &&
		make -C "$dir" -s -j2 with_llvm=no PG_CONFIG="$PG_CONFIG" COPT="$copt" &&
		make -C "$dir" -s with_llvm=no PG_CONFIG="$PG_CONFIG" COPT="$copt" install DESTDIR="$tree" || return 1
	mkdir -p "$tree$PG_BINDIR"
	cp "$PG_BINDIR/postgres" "$tree$PG_BINDIR/postgres"
	for f in "$PG_PKGLIBDIR"/* "$PG_SHAREDIR"/* "$PG_SHAREDIR"/extension/*; do
		rel=${f#/}
		[ -e "$tree/$rel" ] || [ -L "$tree/$rel" ] || ln -s "$f" "$tree/$rel"
	done
} >>"$WORK/build.log" 2>&1
# The ASan preload stub (swift_stub.c says why) and the canary, instrumented
# for the ASan server and plain for valgrind.
build_helpers() {
	local cflags="-shared -fPIC -O1 -g -fno-omit-frame-pointer -I$("$PG_CONFIG" --includedir-server)"
	[ -f "$LIBASAN" ] || { echo "no ASan runtime: $LIBASAN"; return 1; }
	gcc -shared -fPIC -o "$WORK/swift_stub.so" "$HERE/swift_stub.c" &&
		gcc $cflags -fsanitize=address,undefined -o "$WORK/canary.so" "$HERE/canary.c" -ljansson -lcurl &&
		gcc $cflags -o "$WORK/canary_plain.so" "$HERE/canary.c" -ljansson -lcurl
} >>"$WORK/build.log" 2>&1
built() {		# built DESCRIPTION COMMAND...: a step the rest needs
	local desc=$1; shift
	if "$@"; then ok "$desc"; else diag <"$WORK/build.log"; bail "$desc"; fi
}
built "build seqdist with $SAN_COPT into a private tree" build_tree "$BUILD" "$SAN_COPT" "$TREE"
built "build seqdist with $VG_COPT (for valgrind) into a second private tree" \
	build_tree "$BUILD_VG" "$VG_COPT" "$TREE_VG"
built "build the ASan preload stub and the canary modules" build_helpers

#---- 2. the local DynamoDB and the instrumented cluster ----------------------
seqdist_start_dynamo "$WORK/dynamo" "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
	"$SEQDIST_TEMP_ACCESS_KEY_ID:$SEQDIST_TEMP_SECRET_ACCESS_KEY:$SEQDIST_TEMP_SESSION_TOKEN" \
	2>"$WORK/dynamo.err" || { diag <"$WORK/dynamo.err"; bail "start the local DynamoDB"; }
# The one client of its control API, for this script and for SQL (COPY FROM
# PROGRAM, run by the instrumented server: without the sanitizer environment)
CTL=(env -u LD_PRELOAD -u ASAN_OPTIONS -u UBSAN_OPTIONS sh "$SEQDIST_ROOT/test/dynamo_control.sh" "$DYNAMO_PORT")
CTL_COMMAND=${CTL[*]}
ctl() { "${CTL[@]}" "$@" >/dev/null; }
faults() { ctl faults "{\"rules\":[$1]}"; }

DATA=$WORK/data
"$PG_BINDIR/initdb" -D "$DATA" -A trust --no-sync -E UTF8 --locale=C >"$WORK/initdb.log" 2>&1 ||
	{ diag <"$WORK/initdb.log"; bail "initdb"; }
PGPORT=$(seqdist_free_port)
cat >>"$DATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PGPORT
unix_socket_directories = ''
max_connections = 40
fsync = off
jit = off
autovacuum = off
log_line_prefix = '%m [%p] '
shared_preload_libraries = 'seqdist'
seqdist.endpoint = 'http://127.0.0.1:$DYNAMO_PORT'
seqdist.region = '$AWS_REGION'
seqdist.table_name = 'seqdist_regress'
include_if_exists = 'memcheck_regress.conf'
CONF
# The pg_regress phase uses the settings of test/regress.conf (stable counter
# positions); they are removed for the rest.
seqdist_regress_conf >"$DATA/memcheck_regress.conf"

# The server reads its credentials from a shared credentials file (so the
# file parser runs under ASan on every request); sessions override them with
# settings, including a temporary key with a session token.
cat >"$WORK/aws_credentials" <<CREDS
# memcheck credentials file
[default]
aws_access_key_id = AKIDWRONGDEFAULT00
aws_secret_access_key = wrong-default-secret

  [ memcheck ]
aws_access_key_id=$AWS_ACCESS_KEY_ID
; a comment inside the profile
aws_secret_access_key =   $AWS_SECRET_ACCESS_KEY
region = $AWS_REGION
CREDS
SERVER_ENV=(env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN
	AWS_SHARED_CREDENTIALS_FILE="$WORK/aws_credentials" AWS_PROFILE=memcheck)

# detect_leaks with exitcode=0: leaks are written to the log at every process
# exit without changing its exit status (PostgreSQL would take an exit code
# for a crash); real memory errors still abort (abort_on_error).  The ASan
# runtime must come first in LD_PRELOAD.
ASAN_OPTS="log_path=$SANLOG/asan:abort_on_error=1:detect_leaks=1:leak_check_at_exit=1:exitcode=0"
ASAN_OPTS+=":fast_unwind_on_malloc=0:malloc_context_size=40:detect_stack_use_after_return=0"
"${SERVER_ENV[@]}" \
	LD_PRELOAD="$LIBASAN $WORK/swift_stub.so" \
	ASAN_OPTIONS="$ASAN_OPTS" \
	UBSAN_OPTIONS="log_path=$SANLOG/ubsan:print_stacktrace=1:halt_on_error=0" \
	"$TREE$PG_BINDIR/postgres" -D "$DATA" >"$WORK/postmaster.log" 2>&1 &
PG_PID=$!
server_ready || { diag <"$WORK/postmaster.log"; bail "start the instrumented cluster"; }

maps=$(cat "/proc/$PG_PID/maps" 2>/dev/null)
if grep -q "$SAN_LIB" <<<"$maps" && grep -q libasan <<<"$maps" &&
	! grep -q " $PG_PKGLIBDIR/seqdist.so" <<<"$maps"; then
	ok "the postmaster runs with libasan and preloads $SAN_LIB"
else
	grep -E 'seqdist|asan' <<<"$maps" | diag
	not_ok "the postmaster runs with libasan and preloads $SAN_LIB"
fi

#---- 3. the pg_regress suite, unchanged ------------------------------------
phase "pg_regress"
mkdir -p "$WORK/regress"
psql_ -d postgres -f "$HERE/regress_db.sql" >/dev/null
REGRESS_TESTS=$(make -s -C "$SRC" regress-list)
PGTZ=PST8PDT PGDATESTYLE='Postgres, MDY' "$PG_REGRESS" --use-existing --host=127.0.0.1 --port="$PGPORT" \
	--bindir="$PG_BINDIR" --inputdir="$SRC" --outputdir="$WORK/regress" --dbname=contrib_regression \
	$REGRESS_TESTS >"$WORK/regress/pg_regress.log" 2>&1
status=$?
grep -E '^(test| ) ' "$WORK/regress/pg_regress.log" | diag
echo "# with the settings of test/regress.conf:" $(grep -v '^#' "$DATA/memcheck_regress.conf")
if [ "$status" -eq 0 ]; then
	ok "pg_regress ($REGRESS_TESTS) passes against the instrumented build"
else
	[ -s "$WORK/regress/regression.diffs" ] && head -60 "$WORK/regress/regression.diffs" | diag
	not_ok "pg_regress ($REGRESS_TESTS) passes against the instrumented build"
fi

rm -f "$DATA/memcheck_regress.conf"
psql_ -d postgres -c "SELECT pg_reload_conf()" >/dev/null
sleep 0.5

#---- 4. the functional and fault workload, in one session --------------------
phase "functional and fault workload"
psql_ -d postgres -c "CREATE DATABASE memcheck" >/dev/null
q -v ctl="$CTL_COMMAND" -v port="$DYNAMO_PORT" -v work="$WORK" -v secret="$AWS_SECRET_ACCESS_KEY" \
	-v tmp_akid="$SEQDIST_TEMP_ACCESS_KEY_ID" -v tmp_secret="$SEQDIST_TEMP_SECRET_ACCESS_KEY" \
	-v tmp_token="$SEQDIST_TEMP_SESSION_TOKEN" -v san_lib="$SAN_LIB" \
	-f "$HERE/workload.sql" >"$WORK/workload.out" 2>&1
status=$?
relay_tap <"$WORK/workload.out"
if [ "$status" -eq 0 ] && grep -q '^workload complete$' "$WORK/workload.out"; then
	ok "the workload ran to its end"
else
	tail -20 "$WORK/workload.out" | diag
	not_ok "the workload ran to its end"
fi

#---- 5. cancel, terminate, single flight -------------------------------------
phase "cancel, terminate, single flight"
bg_session() {		# bg_session OUTFILE SETTINGS STATEMENT: prints the backend pid first
	q -c "SELECT pg_backend_pid()" -c "$2 SELECT try(\$q\$$3\$q\$)" >"$1" 2>&1 &
	BG_PIDS+=($!)
}

# pg_cancel_backend while a strict request hangs
faults '{"target":"UpdateItem","mode":"hang"}'
bg_session "$WORK/cancel.out" "" "SELECT seqdist.seqdist_nextval('f')"
bgpid=$!
q -c "SELECT wait_extension(1)" -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE wait_event_type = 'Extension' AND pid <> pg_backend_pid()" >/dev/null
wait "$bgpid"
ctl reset
is "$(tail -1 "$WORK/cancel.out")" 57014 "hang, pg_cancel_backend -> 57014"

# single flight: A reserves a block and hangs; B waits for A's block; C waits
# too and is canceled by statement_timeout; A is terminated, so B must take
# over the reservation, and succeeds once the hang is lifted.  The refill
# worker is off meanwhile, so that the backends are the ones that fetch.
q -c "ALTER SYSTEM SET seqdist.refill = off" -c "SELECT pg_reload_conf()" >/dev/null
sleep 0.5
q -c "SELECT seqdist.seqdist_setval('sf', 1000000)" >/dev/null
faults '{"target":"UpdateItem","mode":"hang"}'
bg_session "$WORK/fetcher.out" "" "SELECT seqdist.seqdist_nextval('sf')"
pid_a=$!
q -c "SELECT wait_extension(1)" >/dev/null
bg_session "$WORK/waiter.out" "" "SELECT seqdist.seqdist_nextval('sf')"
pid_b=$!
q -c "SELECT wait_extension(2)" >/dev/null
bg_session "$WORK/timeout_waiter.out" "SET statement_timeout = '1s';" "SELECT seqdist.seqdist_nextval('sf')"
pid_c=$!
wait "$pid_c"
is "$(tail -1 "$WORK/timeout_waiter.out")" 57014 "single flight: a waiter is canceled by statement_timeout"
q -c "SELECT pg_terminate_backend($(head -1 "$WORK/fetcher.out"))" >/dev/null
wait "$pid_a"
q -c "SELECT wait_extension(1)" >/dev/null	# B is the fetcher now, and hangs
ctl reset					# which releases B's request: B retries and succeeds
wait "$pid_b"
if grep -q 'terminating connection due to administrator command' "$WORK/fetcher.out"; then
	ok "single flight: the hung fetcher is terminated"
else
	diag <"$WORK/fetcher.out"
	not_ok "single flight: the hung fetcher is terminated"
fi
is "$(tail -1 "$WORK/waiter.out")" ok "single flight: the waiter takes over after the fetcher died"
is "$(q -c "SELECT seqdist.seqdist_nextval('sf') > 1000000")" t "single flight: the sequence still works"
q -c "ALTER SYSTEM RESET seqdist.refill" -c "SELECT pg_reload_conf()" >/dev/null

#---- 6. concurrency ----------------------------------------------------------
phase "pgbench"
PGOPTIONS='-c seqdist.max_attempts=12 -c seqdist.retry_base_delay=2ms' \
	"$PG_BINDIR/pgbench" -n -h 127.0.0.1 -p "$PGPORT" -c 8 -j 2 -T 6 -f "$HERE/pgbench.sql" memcheck \
	>"$WORK/pgbench.out" 2>&1 &
bench=$!
BG_PIDS+=($bench)
sleep 1.5
faults '{"target":"UpdateItem","mode":"http500","count":5},{"target":"UpdateItem","mode":"throttle","count":5}'
sleep 1
q -c "SELECT seqdist.seqdist_setval('pb_cached', 1000000000)" >/dev/null 2>>"$WORK/racers.out"
q -c "ALTER SEQUENCE pb_cache10 MAXVALUE 9000000000000000000" >/dev/null 2>>"$WORK/racers.out"
sleep 1
faults '{"target":"UpdateItem","mode":"delay","ms":30,"count":40}'
q -c "SELECT seqdist.seqdist_setval('pb_cached', 2000000000)" >/dev/null 2>>"$WORK/racers.out"
q -c "ALTER SEQUENCE pb_cycle MAXVALUE 60" >/dev/null 2>>"$WORK/racers.out"
wait "$bench"
status=$?
ctl reset
grep -E 'number of (transactions actually processed|failed)|tps|aborted' "$WORK/pgbench.out" | diag
if [ "$status" -eq 0 ] && ! grep -q 'aborted' "$WORK/pgbench.out" && [ ! -s "$WORK/racers.out" ]; then
	ok "pgbench: 8 clients, cached/CACHE 10/CYCLE/block 1/strict, with faults, setval and ALTER SEQUENCE racing"
else
	tail -20 "$WORK/pgbench.out" | diag; diag <"$WORK/racers.out"
	not_ok "pgbench with faults, setval and ALTER SEQUENCE racing"
fi
is "$(q -c "SELECT count(*) > 0 FROM pb_values")$(q -c "SELECT count(*) > 0 FROM pb_strict_values")" tt \
	"pgbench: values were handed out (primary keys guarantee no duplicates)"

#---- 7. positive controls -----------------------------------------------------
phase "positive controls"
log_lines_before_canary=$(wc -l <"$WORK/postmaster.log")
for f in leak:void overflow:int ubsan:int; do
	q -c "CREATE FUNCTION memcheck_canary_${f%%:*}($([ "${f#*:}" = int ] && echo int)) RETURNS ${f#*:} AS '$WORK/canary.so', 'memcheck_canary_${f%%:*}' LANGUAGE C" >/dev/null
done
canary_out=$(q -c "SELECT pg_backend_pid()" -c "SELECT memcheck_canary_leak()" -c "SELECT memcheck_canary_ubsan(1)" 2>&1)
canary_leak_pid=${canary_out%%$'\n'*}
# the crash below kills every backend: let the leak check at exit finish first
for i in $(seq 1 100); do kill -0 "$canary_leak_pid" 2>/dev/null || break; sleep 0.1; done
q -c "SELECT memcheck_canary_overflow(16)" >/dev/null 2>&1
sleep 0.2	# for the postmaster to see the crash and begin the restart
server_ready

#---- 8. stop, then read the sanitizer logs -----------------------------------
phase "shutdown and sanitizer logs"
if stop_postgres && ! grep -q 'abnormal database system shutdown' "$WORK/postmaster.log"; then
	ok "the instrumented server shut down cleanly"
else
	tail -20 "$WORK/postmaster.log" | diag
	not_ok "the instrumented server shut down cleanly"
fi

crashes=$(head -n "$log_lines_before_canary" "$WORK/postmaster.log" |
	grep -E 'was terminated by signal|exited with exit code [^01]')
if [ -z "$crashes" ]; then
	ok "no server process crashed during the workload"
else
	diag <<<"$crashes"
	not_ok "no server process crashed during the workload"
fi

# The reports are read from the log files and from the server's stderr: with
# gcc, libubsan and libasan are separate runtimes, and once UBSan has
# reported in a process, that process's later reports go to stderr whatever
# log_path says.
perl "$HERE/scan.pl" sanitizer "$BUILD/src" "$SAN_LIB" "$SANLOG" "$WORK/postmaster.log" >"$WORK/scan.out"
val() { awk -v k="$1" '$1 == k { print $2; exit }' "$2"; }
show_reports() { sed -n '/^REPORT$/,$p' "$1" | grep -v '^REPORT$' | head -400 | diag; }
S=$WORK/scan.out
echo "# sanitizer logs: $(ls "$SANLOG" | wc -l) files in $SANLOG, and the server's stderr"
is "$(val asan_errors "$S")" 0 "no AddressSanitizer error report"
is "$(val ubsan "$S")" 0 "no UndefinedBehaviorSanitizer report"
is "$(val lsan_fatal "$S")" 0 "LeakSanitizer ran in every process"
is "$(val seqdist_leaks "$S")" 0 "LSan: no leak whose allocation stack passes through seqdist ($(val other_leaks "$S") PostgreSQL-internal leak records in $(val leak_reports "$S") process exits ignored)"
[ "$(val asan_errors "$S")$(val ubsan "$S")$(val seqdist_leaks "$S")" = 000 ] || show_reports "$S"
check "positive control: ASan reports the canary's heap-buffer-overflow" [ "$(val canary_overflow "$S")" -ge 1 ]
check "positive control: UBSan reports the canary's signed overflow" [ "$(val canary_ubsan "$S")" -ge 1 ]
check "positive control: LSan reports the canary's leaked blocks" [ "$(val canary_leak "$S")" -ge 1 ]
check "positive control: LSan attributes memory leaked inside libjansson and libcurl to their caller" \
	[ "$(val canary_jansson "$S")" -ge 1 -a "$(val canary_curl "$S")" -ge 1 ]

#---- 9. valgrind memcheck on a single-user backend --------------------------
# The same data directory and local DynamoDB, the plain build (tree 2), one
# backend under valgrind --leak-check=full: uninitialised values and exact
# leak accounting, which ASan does not give.
phase "valgrind"
seqdist_fill "$HERE/valgrind.sql" CTL_COMMAND WORK DYNAMO_PORT \
	SEQDIST_TEMP_ACCESS_KEY_ID SEQDIST_TEMP_SECRET_ACCESS_KEY SEQDIST_TEMP_SESSION_TOKEN >"$WORK/valgrind.sql"
vg_start=$SECONDS
"${SERVER_ENV[@]}" \
	valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect,possible \
	--errors-for-leak-kinds=definite,indirect --track-origins=yes --num-callers=40 --error-limit=no \
	--child-silent-after-fork=yes --log-file="$WORK/valgrind.log" \
	"$TREE_VG$PG_BINDIR/postgres" --single -D "$DATA" -c autovacuum=off memcheck \
	<"$WORK/valgrind.sql" >"$WORK/valgrind.out" 2>&1
status=$?
seqdist_stop_pid "$DYNAMO_PID"
DYNAMO_PID=
# the single-user backend prints each value as: 1: tap = "ok - ..."	(typeid ...)
vg_tap=$(sed -n 's/^[[:space:]]*1: \(tap\|fault_case\) = "\(\(not \)\{0,1\}ok - [^"]*\)"\{0,1\}.*$/\2/p' "$WORK/valgrind.out")
relay_tap <<<"$vg_tap"
vg_planned=$(grep -cE '^SELECT (tap|fault_case)\(' "$WORK/valgrind.sql")
if [ "$status" -eq 0 ] && [ "$(grep -c . <<<"$vg_tap")" -eq "$vg_planned" ]; then
	ok "valgrind: the single-user backend ran the workload and exited ($((SECONDS - vg_start)) s)"
else
	tail -30 "$WORK/valgrind.out" | diag
	not_ok "valgrind: the single-user backend ran the workload and exited (status $status)"
fi

perl "$HERE/scan.pl" valgrind "$BUILD_VG/src" "$WORK/valgrind.log" >"$WORK/valgrind-scan.out"
V=$WORK/valgrind-scan.out
grep '^OTHER ' "$V" | grep -v '^OTHER POSSIBLY ' | sed 's/^OTHER /ignored, inside PostgreSQL: /' | sort | uniq -c | diag
is "$(val errors "$V")" 0 "valgrind: no invalid access or use of an uninitialised value"
is "$(val seqdist_leaks "$V")" 0 "valgrind: no definitely or indirectly lost block allocated through seqdist ($(val other_leaks "$V") PostgreSQL-internal records ignored)"
[ "$(val errors "$V")$(val seqdist_leaks "$V")" = 00 ] || show_reports "$V"
[ "$(val seqdist_possible "$V")" = 0 ] || {
	echo "# 'possibly lost' (an interior pointer still points into the block), not counted:"
	sed -n 's/^OTHER POSSIBLY /  /p' "$V" | diag
}
check "valgrind positive control: the canary's invalid read is reported" [ "$(val canary_overflow "$V")" -ge 1 ]
check "valgrind positive control: the canary's leaks, also inside libjansson and libcurl, are reported" \
	[ "$(val canary_leak "$V")" -ge 1 -a "$(val canary_jansson "$V")" -ge 1 -a "$(val canary_curl "$V")" -ge 1 ]

finish
