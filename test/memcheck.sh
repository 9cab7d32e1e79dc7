#!/usr/bin/env bash
# memcheck.sh -- seqdist under AddressSanitizer, UndefinedBehaviorSanitizer,
# LeakSanitizer and valgrind memcheck while the real workload runs.  Prints
# TAP; exits non-zero if a checker reports anything about seqdist, or if the
# workload misbehaves.  About a minute and a half.
#
#   bash test/memcheck.sh            (as root or as an unprivileged user)
#
# All on 127.0.0.1; it stops only what it started, by pid, and installs
# nothing outside its scratch directory.
#
#  1. Builds two copies of the extension in a scratch directory, one with
#     -fsanitize=address,undefined and one plain (both through COPT, so the
#     project's -Werror flags stay on), and installs each with DESTDIR into a
#     *private installation tree* that mirrors the system one:
#     <tree>/usr/lib/postgresql/15/lib, <tree>/usr/share/postgresql/15/extension.
#  2. Copies the system's postgres executable into <tree>/usr/lib/postgresql/
#     15/bin and symlinks everything else of the system's lib and share
#     directories into the tree.  PostgreSQL finds $libdir and its share
#     directory relative to its own executable (it is relocatable), so this
#     postgres loads seqdist from the tree: shared_preload_libraries =
#     'seqdist', CREATE EXTENSION (control file and script from the tree) and
#     '$libdir/seqdist' in pg_proc all name the tree's library; the system's
#     seqdist.so, control file and script are neither used nor touched.
#  3. Runs the ASan tree's postgres with the ASan runtime preloaded
#     (LD_PRELOAD; ASan must come first) plus a one-function stub that
#     defines swift_demangle: without it the server hangs before main().
#     (libp11-kit, pulled in through libldap and gnutls, calls newlocale() in
#     a constructor that runs before ASan's own; ASan then initialises inside
#     newlocale's malloc, its dlsym("swift_demangle") fails, and dlerror()
#     translates the message with gettext under the locale lock newlocale
#     holds, which corrupts glibc's _nl_state_lock.  With the symbol defined,
#     dlerror has nothing to translate.)
#  4. Drives the workload: the pg_regress suite (sql/*.sql, unchanged, with
#     the settings test/run_all.sh gives it), then in one session cached,
#     CACHE n and strict nextval in volume, setval/currval/lastval,
#     register/health/counter_item/create_table, every fault mode of the
#     local DynamoDB (http500, throttling, malformed, wrongshape, reset,
#     down, lost answers, hangs ended by statement_timeout and
#     request_timeout), wrong credentials and session tokens, TLS to a
#     plain-HTTP port, a missing table and item; then pg_cancel_backend of a
#     hung request, pg_terminate_backend of a hung single-flight fetcher
#     with waiters; then pgbench (8 clients) with faults, setval and ALTER
#     SEQUENCE racing the caches and the refill worker.
#  5. LeakSanitizer runs at the exit of every server process.  PostgreSQL
#     itself is not instrumented and leaks a little by design (four records
#     per process, from postmaster start-up), so leak records count only
#     when their allocation stack passes through seqdist; the others are
#     counted and ignored.  ASan and UBSan reports always count, and are
#     read from the log files and from the server's stderr (see step 8).
#  6. Then one backend of the plain tree runs under valgrind --leak-check=full
#     in single-user mode on the same data directory (uninitialised values,
#     exact leak accounting): more nextval, faults, credentials, TLS.
#  7. Positive controls: a throwaway canary module (built here, never
#     installed; instrumented for the ASan server, plain for valgrind) leaks
#     blocks, leaks memory allocated inside libjansson and libcurl, reads
#     past a 16-byte malloc and overflows an int.  The script checks that
#     every checker reports each of them, attributed to the canary, so that
#     a clean result means something.
#  8. Known limits: ASan and valgrind see malloc'd memory (libcurl, jansson,
#     OpenSSL, seqdist's own buffers), the stack and globals, but not the
#     boundaries of single palloc chunks inside a memory context block (the
#     Debian server is built without USE_VALGRIND).  With gcc, libubsan and
#     libasan are separate runtimes: once UBSan has reported in a process,
#     that process's later reports go to stderr whatever log_path says,
#     which is why stderr is scanned too.
#
# MEMCHECK_KEEP=1 keeps the scratch directory (under /tmp) after a clean run;
# MEMCHECK_SRC=DIR checks another copy of the sources (src/, sql/,
# expected/, Makefile, seqdist.control), e.g. an export of a commit;
# MEMCHECK_COPT replaces the sanitizer build's compiler flags.
#
# As a suite of test/run_all.sh:
#   wanted memcheck && run_tap memcheck bash "$SEQDIST_ROOT/test/memcheck.sh"
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

# the second key pair of test/credentials.env, valid with its session token
TMP_AKID=$SEQDIST_TEMP_ACCESS_KEY_ID
TMP_SECRET=$SEQDIST_TEMP_SECRET_ACCESS_KEY
TMP_TOKEN=$SEQDIST_TEMP_SESSION_TOKEN

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

ctl() { "${CTL[@]}" "$@" >/dev/null; }

psql_() { "$PG_BINDIR/psql" -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PGPORT" "$@"; }
q() { psql_ -d memcheck "$@"; }

#---- 1. two builds, two private installation trees -----------------------
phase "build"
# build_into DIR COPT DESTDIR
build_into() {
	mkdir -p "$1"
	# src/ and sql/ whole, whatever files they hold now, without the
	# source tree's own build products
	tar -C "$SRC" --exclude='*.o' --exclude='*.so' --exclude='*.bc' -cf - Makefile seqdist.control src sql |
		tar -C "$1" -xf - || return 1
	make -C "$1" -s -j2 with_llvm=no PG_CONFIG="$PG_CONFIG" COPT="$2" >>"$WORK/build.log" 2>&1 &&
		make -C "$1" -s with_llvm=no PG_CONFIG="$PG_CONFIG" COPT="$2" install DESTDIR="$3" \
			>>"$WORK/build.log" 2>&1
}
# mirror_tree TREE: the system's postgres executable, lib and share
# directories around the seqdist installed in TREE
mirror_tree() {
	local f rel
	mkdir -p "$1$PG_BINDIR"
	cp "$PG_BINDIR/postgres" "$1$PG_BINDIR/postgres"
	for f in "$PG_PKGLIBDIR"/* "$PG_SHAREDIR"/* "$PG_SHAREDIR"/extension/*; do
		rel=${f#/}
		[ -e "$1/$rel" ] || [ -L "$1/$rel" ] || ln -s "$f" "$1/$rel"
	done
}
if build_into "$BUILD" "$SAN_COPT" "$TREE" && mirror_tree "$TREE"; then
	ok "build seqdist with $SAN_COPT into a private tree"
else
	diag <"$WORK/build.log"
	bail "build seqdist with $SAN_COPT"
fi
if build_into "$BUILD_VG" "$VG_COPT" "$TREE_VG" && mirror_tree "$TREE_VG"; then
	ok "build seqdist with $VG_COPT (for valgrind) into a second private tree"
else
	diag <"$WORK/build.log"
	bail "build seqdist with $VG_COPT"
fi

# the stub that keeps the preloaded ASan runtime from hanging (see the top)
cat >"$WORK/swift_stub.c" <<'STUB'
#include <stddef.h>
#include <stdint.h>
char *swift_demangle(const char *name, size_t len, char *out, size_t *outlen, uint32_t flags);
char *swift_demangle(const char *name, size_t len, char *out, size_t *outlen, uint32_t flags) { return NULL; }
STUB
# The positive controls: leaks (also from inside libjansson and libcurl, to
# show that stacks unwind through uninstrumented libraries to their caller),
# a heap overflow and a signed overflow.  Built twice: instrumented for the
# ASan server, plain for valgrind.
cat >"$WORK/memcheck_canary.c" <<'CANARY'
#include "postgres.h"
#include "fmgr.h"
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include <jansson.h>
PG_MODULE_MAGIC;
PG_FUNCTION_INFO_V1(memcheck_canary_leak);
PG_FUNCTION_INFO_V1(memcheck_canary_overflow);
PG_FUNCTION_INFO_V1(memcheck_canary_ubsan);
static void *volatile canary_sink;
/* 100 blocks of 4242 bytes whose only pointers are overwritten at once */
static void __attribute__((noinline)) canary_leak_blocks(void)
{
	for (int i = 0; i < 100; i++)
	{
		char *p = malloc(4242);
		memset(p, 'x', 4242);
		canary_sink = p;
	}
	canary_sink = NULL;
}
/* memory allocated inside the libraries seqdist uses */
static void __attribute__((noinline)) canary_leak_libs(void)
{
	canary_sink = json_pack("{s:s, s:[i,i]}", "canary", "leak", "n", 1, 2);
	canary_sink = curl_easy_init();
	canary_sink = NULL;
}
/* no stale copy of a pointer stays on the stack */
static void __attribute__((noinline)) canary_scrub_stack(void)
{
	volatile char buf[65536];
	memset((char *) buf, 0, sizeof(buf));
}
Datum memcheck_canary_leak(PG_FUNCTION_ARGS)
{
	canary_leak_blocks();
	canary_leak_libs();
	canary_scrub_stack();
	PG_RETURN_VOID();
}
Datum memcheck_canary_overflow(PG_FUNCTION_ARGS)
{
	volatile char *p = malloc(16);
	char c = p[PG_GETARG_INT32(0)];	/* called with 16: one past the end */
	free((void *) p);
	PG_RETURN_INT32(c);
}
Datum memcheck_canary_ubsan(PG_FUNCTION_ARGS)
{
	volatile int x = INT_MAX;
	int y = x + PG_GETARG_INT32(0);	/* called with 1: signed overflow */
	PG_RETURN_INT32(y);
}
CANARY
LIBASAN=$(gcc -print-file-name=libasan.so)
CANARY_CFLAGS="-shared -fPIC -O1 -g -fno-omit-frame-pointer -I$("$PG_CONFIG" --includedir-server)"
if gcc -shared -fPIC -o "$WORK/swift_stub.so" "$WORK/swift_stub.c" >>"$WORK/build.log" 2>&1 &&
	gcc $CANARY_CFLAGS -fsanitize=address,undefined -o "$WORK/memcheck_canary.so" \
		"$WORK/memcheck_canary.c" -ljansson -lcurl >>"$WORK/build.log" 2>&1 &&
	gcc $CANARY_CFLAGS -o "$WORK/memcheck_canary_plain.so" \
		"$WORK/memcheck_canary.c" -ljansson -lcurl >>"$WORK/build.log" 2>&1 &&
	[ -f "$LIBASAN" ]; then
	ok "build the ASan preload stub and the canary modules"
else
	diag <"$WORK/build.log"
	bail "build the ASan preload stub and the canary modules ($LIBASAN)"
fi

#---- 2. the local DynamoDB and the instrumented cluster ----------------------
seqdist_start_dynamo "$WORK/dynamo" "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" "$TMP_AKID:$TMP_SECRET:$TMP_TOKEN" \
	2>"$WORK/dynamo.err" || { diag <"$WORK/dynamo.err"; bail "start the local DynamoDB"; }
# The one client of its control API, for this script and for SQL (COPY FROM
# PROGRAM, run by the instrumented server: without the sanitizer environment)
CTL=(env -u LD_PRELOAD -u ASAN_OPTIONS -u UBSAN_OPTIONS sh "$SEQDIST_ROOT/test/dynamo_control.sh" "$DYNAMO_PORT")

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

# detect_leaks with exitcode=0: leaks are written to the log at every process
# exit without changing its exit status (PostgreSQL would take an exit code
# for a crash); real memory errors still abort (abort_on_error).
ASAN_OPTS="log_path=$SANLOG/asan:abort_on_error=1:detect_leaks=1:leak_check_at_exit=1:exitcode=0"
ASAN_OPTS+=":fast_unwind_on_malloc=0:malloc_context_size=40:detect_stack_use_after_return=0"
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN \
	AWS_SHARED_CREDENTIALS_FILE="$WORK/aws_credentials" AWS_PROFILE=memcheck \
	LD_PRELOAD="$LIBASAN $WORK/swift_stub.so" \
	ASAN_OPTIONS="$ASAN_OPTS" \
	UBSAN_OPTIONS="log_path=$SANLOG/ubsan:print_stacktrace=1:halt_on_error=0" \
	"$TREE$PG_BINDIR/postgres" -D "$DATA" >"$WORK/postmaster.log" 2>&1 &
PG_PID=$!
for i in $(seq 1 150); do
	"$PG_BINDIR/pg_isready" -q -h 127.0.0.1 -p "$PGPORT" && break
	kill -0 "$PG_PID" 2>/dev/null || break
	sleep 0.2
done
"$PG_BINDIR/pg_isready" -q -h 127.0.0.1 -p "$PGPORT" ||
	{ diag <"$WORK/postmaster.log"; bail "start the instrumented cluster"; }

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
# --use-existing does not create the database: create it as pg_regress would
psql_ -d postgres >/dev/null <<'SQL'
CREATE DATABASE contrib_regression TEMPLATE template0;
ALTER DATABASE contrib_regression SET lc_messages TO 'C';
ALTER DATABASE contrib_regression SET lc_monetary TO 'C';
ALTER DATABASE contrib_regression SET lc_numeric TO 'C';
ALTER DATABASE contrib_regression SET lc_time TO 'C';
ALTER DATABASE contrib_regression SET bytea_output TO 'hex';
ALTER DATABASE contrib_regression SET timezone_abbreviations TO 'Default';
SQL
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
# Fault rules are set from SQL (COPY FROM PROGRAM runs test/dynamo_control.sh,
# without the sanitizer environment), so that one backend goes through every
# case: new sessions are expensive under ASan and LSan.  The SQL prints TAP
# lines ("ok - ..." / "not ok - ..."), numbered here.
phase "functional and fault workload"
psql_ -d postgres -c "CREATE DATABASE memcheck" >/dev/null
q -v ctl="${CTL[*]}" -v port="$DYNAMO_PORT" -v work="$WORK" -v secret="$AWS_SECRET_ACCESS_KEY" \
	-v tmp_akid="$TMP_AKID" -v tmp_secret="$TMP_SECRET" -v tmp_token="$TMP_TOKEN" -v san_lib="$SAN_LIB" \
	>"$WORK/workload.out" 2>&1 <<'SQL'
CREATE EXTENSION seqdist;
SELECT seqdist.create_table();
SELECT seqdist.create_table();

-- 'ok' or the SQLSTATE of a statement; its DETAIL; a TAP line
CREATE FUNCTION try(stmt text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE stmt;
    RETURN 'ok';
EXCEPTION WHEN OTHERS OR query_canceled THEN
    RETURN SQLSTATE;
END $$;
CREATE FUNCTION try_detail(stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE d text; m text;
BEGIN
    EXECUTE stmt;
    RETURN 'no error';
EXCEPTION WHEN OTHERS OR query_canceled THEN
    GET STACKED DIAGNOSTICS m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL;
    RETURN m || ' / ' || d;
END $$;
CREATE FUNCTION tap(got text, want text, what text) RETURNS text LANGUAGE sql AS $$
    SELECT CASE WHEN got IS NOT DISTINCT FROM want THEN 'ok - ' || what
           ELSE 'not ok - ' || what || E'\n#   got: ' || coalesce(got, 'NULL') || E'\n#   expected: ' || want END
$$;
GRANT EXECUTE ON FUNCTION try(text) TO PUBLIC;

-- fault rules of the local DynamoDB, from SQL
ALTER DATABASE memcheck SET memcheck.ctl TO :'ctl';
SELECT set_config('memcheck.ctl', :'ctl', false) IS NOT NULL AS ctl_set;
CREATE TABLE memcheck_ctl_out (line text);
CREATE FUNCTION fault(rules text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('COPY memcheck_ctl_out FROM PROGRAM %L',
                   current_setting('memcheck.ctl') || ' faults ''{"rules":[' ||
                   replace(rules, '''', '') || ']}'' >/dev/null');
END $$;
CREATE FUNCTION fault_reset() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('COPY memcheck_ctl_out FROM PROGRAM %L',
                   current_setting('memcheck.ctl') || ' reset >/dev/null');
END $$;
-- one fault case: set the rules, run the statement, clear the rules
CREATE FUNCTION fault_case(what text, rules text, want text, stmt text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE got text;
BEGIN
    PERFORM fault(rules);
    got := try(stmt);
    PERFORM fault_reset();
    RETURN tap(got, want, 'fault: ' || what || ' -> ' || want);
END $$;

---- nextval in volume ----
-- many sequences: the backend table and the instance cache grow
DO $$ BEGIN
    FOR i IN 1..60 LOOP
        EXECUTE format('CREATE SEQUENCE many_%s START %s', i, i * 10);
        PERFORM seqdist.register(format('many_%s', i)::regclass);
    END LOOP;
END $$;
SELECT tap(sum(seqdist.seqdist_nextval(format('many_%s', i)::regclass))::text,
           (10 * 60 * 61 / 2)::text, 'first values of 60 sequences')
FROM generate_series(1, 60) i;
-- '$libdir/seqdist' of the functions is the preloaded library of the tree
SELECT tap(string_agg(DISTINCT m[1], ' '), :'san_lib', 'this backend maps seqdist.so once, from the private tree')
FROM regexp_matches(pg_read_file('/proc/self/maps'), '(/\S*seqdist\.so)', 'g') m;
-- cached, small blocks: many block fetches
CREATE SEQUENCE c1;
SELECT status FROM seqdist.register('c1');
SELECT seqdist.set_block_size('c1', 7);
SELECT tap(count(DISTINCT v)::text || ' ' || max(v), '3000 3000', 'cached (block 7): 3000 distinct values')
FROM (SELECT seqdist.seqdist_nextval('c1') v FROM generate_series(1, 3000)) s;
-- CACHE n per backend
CREATE SEQUENCE c10 CACHE 10;
SELECT status FROM seqdist.register('c10');
SELECT seqdist.set_block_size('c10', 50);
SELECT tap(count(DISTINCT v)::text, '2000', 'CACHE 10 (block 50): 2000 distinct values')
FROM (SELECT seqdist.seqdist_nextval('c10') v FROM generate_series(1, 2000)) s;
-- strict: one UpdateItem per value
CREATE SEQUENCE st;
SELECT status FROM seqdist.register('st');
SELECT seqdist.set_strict('st', true);
SELECT tap(max(v)::text, '300', 'strict: 300 values')
FROM (SELECT seqdist.seqdist_nextval('st') v FROM generate_series(1, 300)) s;
-- descending CYCLE, block larger than the range: the near-bound path
CREATE SEQUENCE cyc MINVALUE -5 MAXVALUE 5 INCREMENT -3 CYCLE;
SELECT status FROM seqdist.register('cyc');
SELECT seqdist.set_block_size('cyc', 4);
SELECT tap(array_agg(v)::text, '{5,2,-1,-4,5,2,-1,-4,5,2}', 'descending CYCLE wraps')
FROM (SELECT seqdist.seqdist_nextval('cyc') v FROM generate_series(1, 10)) s;
-- the int64 edges
CREATE SEQUENCE top_edge MINVALUE 9223372036854775000;
SELECT status FROM seqdist.register('top_edge');
SELECT tap(max(v)::text, '9223372036854775807', 'up to the int64 maximum')
FROM (SELECT seqdist.seqdist_nextval('top_edge') v FROM generate_series(1, 808)) s;
SELECT tap(try($q$SELECT seqdist.seqdist_nextval('top_edge')$q$), '2200H', 'exhausted at the int64 maximum');
CREATE SEQUENCE bottom_edge INCREMENT -4000000000000000000 MAXVALUE -1 MINVALUE -9223372036854775808 CYCLE;
SELECT status FROM seqdist.register('bottom_edge');
SELECT tap(array_agg(v)::text, '{-1,-4000000000000000001,-8000000000000000001,-1,-4000000000000000001}',
           'huge negative increment cycles without overflow')
FROM (SELECT seqdist.seqdist_nextval('bottom_edge') v FROM generate_series(1, 5)) s;

---- setval, currval, lastval ----
SELECT tap(try($q$SELECT seqdist.seqdist_currval('unknown_yet')$q$), '42P01', 'currval of a missing relation');
SELECT seqdist.seqdist_setval('c1', 100000);
SELECT tap(seqdist.seqdist_nextval('c1')::text, '100001', 'nextval after setval');
SELECT seqdist.seqdist_setval('c1', 200000, false);
SELECT tap(seqdist.seqdist_nextval('c1')::text, '200000', 'nextval after setval(..., false)');
SELECT tap(seqdist.seqdist_currval('c1')::text || ' ' || seqdist.seqdist_lastval(), '200000 200000', 'currval and lastval');
SELECT seqdist.seqdist_setval('st', 5000);
SELECT tap(seqdist.seqdist_nextval('st')::text, '5001', 'strict nextval after setval');
SELECT tap(try($q$SELECT seqdist.seqdist_setval('st', 10)$q$), '55000', 'setval backwards is refused');
SET seqdist.allow_rewind = on;
SELECT tap(try($q$SELECT seqdist.seqdist_setval('st', 10)$q$), 'ok', 'setval backwards with allow_rewind');
RESET seqdist.allow_rewind;
SELECT tap(try($q$SELECT seqdist.seqdist_setval('c1', -5)$q$), '22003', 'setval out of bounds');
SELECT tap((seqdist.counter_item('c1') ->> 'increment') || ' ' || (seqdist.counter_item('st') ->> 'last_value'),
           '1 10', 'counter_item');
SELECT tap(count(*)::text, '3', 'health: all checks pass') FROM seqdist.health() WHERE ok;

---- registration ----
CREATE SEQUENCE longkey;
SELECT status FROM seqdist.register('longkey', repeat('k', 1024));
SELECT tap(length(seqdist.counter_item('longkey') ->> 'counter')::text || ' ' || seqdist.seqdist_nextval('longkey'),
           '1024 1', '1024-byte counter key');
CREATE SEQUENCE odd;
SELECT status FROM seqdist.register('odd', E'ключ "quoted" \\ back\tslash \u00e9 {"N":"1"}');
SELECT tap(seqdist.counter_item('odd') ->> 'counter', E'ключ "quoted" \\ back\tslash \u00e9 {"N":"1"}',
           'counter key with quotes, backslash, tab and UTF-8');
CREATE SEQUENCE joiner START 1000;
SELECT nextval('joiner');
SELECT tap(status || ' ' || last_value, 'advanced 1000', 'joining a counter moves it forward')
FROM seqdist.register('joiner', E'ключ "quoted" \\ back\tslash \u00e9 {"N":"1"}');
SELECT tap(try($q$SELECT seqdist.register('unreg', repeat('x', 1025))$q$), '42P01', 'register a missing relation');
CREATE SEQUENCE unreg;
SELECT tap(try($q$SELECT seqdist.register('unreg', repeat('x', 1025))$q$), '22023', 'counter key too long');
CREATE TABLE not_a_seq (x int);
SELECT tap(try($q$SELECT seqdist.register('not_a_seq')$q$), '42809', 'register a table');
SELECT tap(try($q$SELECT seqdist.seqdist_nextval('not_a_seq')$q$), '42809', 'nextval of a table');
SELECT tap(try($q$SELECT seqdist.seqdist_nextval('unreg')$q$), '55000', 'nextval of an unregistered sequence');
SELECT tap(try($q$SELECT seqdist.counter_item('unreg')$q$), '55000', 'counter_item of an unregistered sequence');
SELECT try($q$ALTER SEQUENCE many_2 INCREMENT 2$q$) AS alter_increment;
SELECT try($q$SELECT seqdist.seqdist_nextval('many_2')$q$) AS after_alter_increment;
SELECT try($q$ALTER SEQUENCE many_2 INCREMENT -1$q$) AS alter_direction;
SELECT try($q$SELECT seqdist.seqdist_nextval('many_2')$q$) AS after_alter_direction;
SELECT try($q$ALTER SEQUENCE many_2 RESTART$q$) AS alter_restart;
ALTER SEQUENCE many_3 MAXVALUE 1000000;
SELECT tap(try($q$SELECT seqdist.seqdist_nextval('many_3')$q$), 'ok', 'nextval after ALTER SEQUENCE MAXVALUE');
DROP SEQUENCE many_4, many_5;
SELECT tap(count(*)::text, '58', 'the drop trigger forgets dropped sequences')
FROM seqdist.sequences WHERE seqrelid::text LIKE 'many\_%';
BEGIN TRANSACTION READ ONLY;
SELECT tap(try($q$SELECT seqdist.seqdist_nextval('c1')$q$), '25006', 'nextval in a read-only transaction');
ROLLBACK;
CREATE ROLE memcheck_user;
GRANT USAGE ON SCHEMA seqdist TO memcheck_user;
SET ROLE memcheck_user;
SELECT tap(try($q$SELECT seqdist.seqdist_nextval('c1')$q$), '42501', 'nextval without privilege');
SELECT tap(try($q$SET seqdist.endpoint = 'http://127.0.0.1:9'$q$), '42501', 'endpoint is superuser-only');
RESET ROLE;
SELECT tap(try($q$SET seqdist.endpoint = 'ftp://x'$q$), '22023', 'endpoint scheme is checked');
SELECT tap(try($q$SET seqdist.region = 'Bad Region'$q$), '22023', 'region is checked');
SELECT tap(try($q$SET seqdist.table_name = 'x'$q$), '22023', 'table name is checked');

---- credentials ----
SET seqdist.aws_access_key_id = :'tmp_akid';
SET seqdist.aws_secret_access_key = :'tmp_secret';
SET seqdist.aws_session_token = :'tmp_token';
SELECT tap(try($q$SELECT seqdist.seqdist_nextval('st')$q$), 'ok', 'temporary key with its session token');
SET seqdist.aws_session_token = 'not-the-token';
SELECT tap(try($q$SELECT seqdist.seqdist_nextval('st')$q$), '28000', 'wrong session token');
RESET seqdist.aws_session_token;
SELECT tap(try($q$SELECT seqdist.seqdist_nextval('st')$q$), '28000', 'temporary key without its token');
SET seqdist.aws_secret_access_key = 'wrong-secret-wrong-secret';
SELECT tap(try($q$SELECT seqdist.seqdist_nextval('st')$q$), '28000', 'wrong secret');
SELECT tap(ok::text, 'false', 'health: credentials rejected') FROM seqdist.health() WHERE check_name = 'credentials';
SET seqdist.aws_access_key_id = 'AKIDUNKNOWNUNKNOWN';
SELECT tap(try($q$SELECT seqdist.seqdist_nextval('st')$q$), '28000', 'unknown key id');
RESET seqdist.aws_access_key_id;
RESET seqdist.aws_secret_access_key;
SET seqdist.region = 'eu-west-1';
SELECT tap(try($q$SELECT seqdist.seqdist_nextval('st')$q$), '28000', 'signed for the wrong region');
RESET seqdist.region;

---- a missing table, a missing item ----
SET seqdist.table_name = 'memcheck_missing';
SELECT tap(try($q$SELECT seqdist.seqdist_nextval('st')$q$), '42704', 'missing table');
SELECT tap(try($q$SELECT seqdist.counter_item('st')$q$), '42704', 'counter_item in a missing table');
SELECT tap(ok::text, 'false', 'health: missing table') FROM seqdist.health() WHERE check_name = 'table';
SET seqdist.table_name = 'memcheck_other';
SELECT seqdist.create_table();
SELECT tap(try($q$SELECT seqdist.seqdist_nextval('st')$q$), '42704', 'missing item (strict)');
SELECT tap(try($q$SELECT seqdist.seqdist_setval('st', 1)$q$), '42704', 'setval of a missing item');
SELECT tap((seqdist.counter_item('st') IS NULL)::text, 'true', 'counter_item of a missing item is NULL');
RESET seqdist.table_name;

---- transports that fail ----
SET seqdist.max_attempts = 2;
SET seqdist.retry_base_delay = '1ms';
SET seqdist.endpoint = 'http://127.0.0.1:1';
SELECT tap(try($q$SELECT seqdist.seqdist_nextval('st')$q$), '08006', 'connection refused');
SELECT tap(ok::text, 'false', 'health: endpoint unreachable') FROM seqdist.health() WHERE check_name = 'endpoint';
SELECT set_config('seqdist.endpoint', 'https://127.0.0.1:' || :'port', false) IS NOT NULL AS https;
SELECT tap(try($q$SELECT seqdist.seqdist_nextval('st')$q$), '08006', 'TLS to a plain HTTP port');
SELECT set_config('seqdist.ca_file', :'work' || '/no-such-ca.pem', false) IS NOT NULL AS ca;
SELECT tap(try($q$SELECT seqdist.seqdist_nextval('st')$q$), '08006', 'missing CA file');
RESET seqdist.ca_file;
SELECT tap(try(format($q$SET seqdist.endpoint = 'http://127.0.0.1:%s/some/./odd/../path/'$q$, :'port')), '22023', 'an endpoint path that needs normalising is refused');
SELECT set_config('seqdist.endpoint', 'http://127.0.0.1:' || :'port' || '/some/odd/path%20x/', false) IS NOT NULL AS path;
SELECT try($q$SELECT seqdist.seqdist_nextval('st')$q$) AS endpoint_with_path;
RESET seqdist.endpoint;
RESET seqdist.max_attempts;
RESET seqdist.retry_base_delay;
SELECT tap(try($q$SELECT seqdist.seqdist_nextval('st')$q$), 'ok', 'all is well again');

---- faults injected by the local DynamoDB ----
CREATE SEQUENCE f;
SELECT status FROM seqdist.register('f');
SELECT seqdist.set_strict('f', true);
CREATE SEQUENCE sf;
SELECT status FROM seqdist.register('sf');
CREATE SEQUENCE nb MAXVALUE 3;
SELECT status FROM seqdist.register('nb');
CREATE SEQUENCE fault_reg;
SET seqdist.retry_base_delay = '1ms';
SET seqdist.retry_max_delay = '5ms';
\set nv 'SELECT seqdist.seqdist_nextval(''f'')'
SELECT fault_case('http500 twice, then answered', '{"target":"UpdateItem","mode":"http500","count":2}', 'ok', :'nv');
SELECT fault_case('http500 always', '{"target":"UpdateItem","mode":"http500"}', '08006', :'nv');
SELECT fault_case('throttled twice, then answered', '{"target":"UpdateItem","mode":"throttle","count":2}', 'ok', :'nv');
SET seqdist.max_attempts = 3;
SELECT fault_case('ThrottlingException always', '{"target":"*","mode":"throttling"}', '08006', :'nv');
SELECT fault_case('RequestLimitExceeded always', '{"target":"*","mode":"requestlimit"}', '08006', :'nv');
RESET seqdist.max_attempts;
SELECT fault_case('malformed answer', '{"target":"UpdateItem","mode":"malformed"}', '08P01', :'nv');
SELECT fault_case('malformed long answer', format('{"target":"UpdateItem","mode":"malformed","body":"%s %s"}',
                  repeat('garbage', 60), :'secret'), '08P01', :'nv');
SELECT fault(format('{"target":"UpdateItem","mode":"malformed","body":"%s %s"}', repeat('garbage', 60), :'secret'));
SELECT tap((d LIKE '%garbage%' AND position(:'secret' in d) = 0)::text, 'true',
           'a malformed answer is quoted, with the secret redacted')
FROM try_detail(:'nv') d;
SELECT fault_reset();
SELECT fault_case('wrong-shape answer', '{"target":"UpdateItem","mode":"wrongshape"}', '08P01', :'nv');
SELECT fault_case('wrong-shape JSON array', '{"target":"UpdateItem","mode":"wrongshape","body":"[1,2,3]"}', '08P01', :'nv');
SELECT fault_case('200 answer with an unexpected object',
                  '{"target":"UpdateItem","mode":"wrongshape","body":"{\"message\":\"no type\"}"}', '08P01', :'nv');
SELECT fault_case('TCP reset twice, then answered', '{"target":"UpdateItem","mode":"reset","count":2}', 'ok', :'nv');
SELECT fault_case('TCP reset always', '{"target":"UpdateItem","mode":"reset"}', '08006', :'nv');
SELECT fault_case('outage (down)', '{"target":"*","mode":"down"}', '08006', :'nv');
SELECT fault_case('lost answer (after_forward_reset)', '{"target":"UpdateItem","mode":"after_forward_reset","count":1}', 'ok', :'nv');
SELECT fault_case('delay 100ms', '{"target":"UpdateItem","mode":"delay","ms":100,"count":1}', 'ok', :'nv');
SET statement_timeout = '300ms';
SELECT fault_case('hang, statement_timeout', '{"target":"UpdateItem","mode":"hang"}', '57014', :'nv');
SELECT fault_case('hang, statement_timeout during an instance-cache fetch', '{"target":"UpdateItem","mode":"hang"}',
                  '57014', $q$SELECT seqdist.seqdist_nextval('sf')$q$);
RESET statement_timeout;
SET seqdist.request_timeout = '200ms';
SET seqdist.max_attempts = 2;
SELECT fault_case('hang, request_timeout', '{"target":"UpdateItem","mode":"hang"}', '08006', :'nv');
RESET seqdist.request_timeout;
RESET seqdist.max_attempts;
SELECT fault_case('GetItem malformed (counter_item)', '{"target":"GetItem","mode":"malformed"}', '08P01',
                  $q$SELECT seqdist.counter_item('f')$q$);
SELECT fault_case('GetItem with odd attribute types (counter_item)',
                  '{"target":"GetItem","mode":"wrongshape","body":"{\"Item\":{\"counter\":{\"S\":\"f\"},\"last_value\":{\"N\":\"1e5\"},\"l\":{\"L\":[]},\"b\":{\"BOOL\":true}}}"}',
                  'ok', $q$SELECT seqdist.counter_item('f')$q$);
SELECT fault_case('near the bound, GetItem finds a non-counter item',
                  '{"target":"GetItem","mode":"wrongshape","body":"{\"Item\":{\"counter\":{\"S\":\"nb\"},\"last_value\":{\"S\":\"1\"}}}"}',
                  'XX001', $q$SELECT seqdist.seqdist_nextval('nb')$q$);
SELECT fault_case('DescribeTable http500 (health)', '{"target":"DescribeTable","mode":"http500"}', 'ok',
                  $q$SELECT 1 FROM seqdist.health()$q$);
SELECT fault_case('DescribeTable wrong shape (create_table)', '{"target":"DescribeTable","mode":"wrongshape"}', '08P01',
                  $q$SELECT seqdist.create_table()$q$);
SET seqdist.table_name = 'memcheck_never';
SELECT fault_case('CreateTable http500 (create_table)', '{"target":"CreateTable","mode":"http500"}', '08006',
                  $q$SELECT seqdist.create_table()$q$);
RESET seqdist.table_name;
SELECT fault_case('PutItem throttled once (register)', '{"target":"PutItem","mode":"throttle","count":1}', 'ok',
                  $q$SELECT seqdist.register('fault_reg')$q$);
SELECT tap(try(:'nv'), 'ok', 'the strict sequence works after all the faults');

---- for the concurrent cases and pgbench ----
CREATE FUNCTION wait_extension(n int) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1..300 LOOP
        PERFORM pg_stat_clear_snapshot();
        IF (SELECT count(*) FROM pg_stat_activity
            WHERE wait_event_type = 'Extension' AND query LIKE '%seqdist_nextval%'
              AND pid <> pg_backend_pid()) >= n THEN
            RETURN true;
        END IF;
        PERFORM pg_sleep(0.05);
    END LOOP;
    RETURN false;
END $$;
CREATE SEQUENCE pb_cached;
SELECT status FROM seqdist.register('pb_cached');
SELECT seqdist.set_block_size('pb_cached', 20);
CREATE SEQUENCE pb_cache10 CACHE 10;
SELECT status FROM seqdist.register('pb_cache10');
SELECT seqdist.set_block_size('pb_cache10', 25);
CREATE SEQUENCE pb_cycle MINVALUE 1 MAXVALUE 50 CYCLE;
SELECT status FROM seqdist.register('pb_cycle');
SELECT seqdist.set_block_size('pb_cycle', 8);
CREATE SEQUENCE pb_block1;
SELECT status FROM seqdist.register('pb_block1');
SELECT seqdist.set_block_size('pb_block1', 1);
CREATE SEQUENCE pb_strict;
SELECT status FROM seqdist.register('pb_strict');
SELECT seqdist.set_strict('pb_strict', true);
CREATE TABLE pb_values (v bigint PRIMARY KEY);
CREATE TABLE pb_strict_values (v bigint PRIMARY KEY);
SELECT 'workload complete';
SQL
status=$?
while IFS= read -r line; do
	case $line in
		"ok - "*) ok "${line#ok - }" ;;
		"not ok - "*) not_ok "${line#not ok - }" ;;
		"#"*) echo "$line" ;;
	esac
done <"$WORK/workload.out"
if [ "$status" -eq 0 ] && grep -q '^workload complete$' "$WORK/workload.out"; then
	ok "the workload ran to its end"
else
	tail -20 "$WORK/workload.out" | diag
	not_ok "the workload ran to its end"
fi

#---- 5. cancel, terminate, single flight -------------------------------------
phase "cancel, terminate, single flight"
faults() { ctl faults "{\"rules\":[$1]}"; }
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
cat >"$WORK/pgbench.sql" <<'EOF'
SELECT seqdist.seqdist_nextval('pb_cached');
SELECT seqdist.seqdist_nextval('pb_cache10');
SELECT seqdist.seqdist_nextval('pb_cycle');
SELECT seqdist.seqdist_currval('pb_cached'), seqdist.seqdist_lastval();
INSERT INTO pb_values VALUES (seqdist.seqdist_nextval('pb_block1'));
INSERT INTO pb_strict_values VALUES (seqdist.seqdist_nextval('pb_strict'));
EOF
PGOPTIONS='-c seqdist.max_attempts=12 -c seqdist.retry_base_delay=2ms' \
	"$PG_BINDIR/pgbench" -n -h 127.0.0.1 -p "$PGPORT" -c 8 -j 2 -T 6 -f "$WORK/pgbench.sql" memcheck \
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
canary=$WORK/memcheck_canary.so
for f in leak:void overflow:int ubsan:int; do
	q -c "CREATE FUNCTION memcheck_canary_${f%%:*}($([ "${f#*:}" = int ] && echo int)) RETURNS ${f#*:} AS '$canary', 'memcheck_canary_${f%%:*}' LANGUAGE C" >/dev/null
done
canary_out=$(q -c "SELECT pg_backend_pid()" -c "SELECT memcheck_canary_leak()" -c "SELECT memcheck_canary_ubsan(1)" 2>&1)
canary_leak_pid=${canary_out%%$'\n'*}
# the crash below kills every backend: let the leak check at exit finish first
for i in $(seq 1 100); do kill -0 "$canary_leak_pid" 2>/dev/null || break; sleep 0.1; done
q -c "SELECT memcheck_canary_overflow(16)" >/dev/null 2>&1
for i in $(seq 1 100); do		# the crash restart after the canary
	sleep 0.2
	"$PG_BINDIR/pg_isready" -q -h 127.0.0.1 -p "$PGPORT" && break
done

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

# Classify every sanitizer report, from the log files and from the server's
# stderr (with gcc, libubsan and libasan are separate runtimes, and once
# UBSan has reported in a process, that process's later reports go to
# stderr whatever log_path says): ASan errors, UBSan reports, leaks with and
# without a seqdist frame, and the canaries'.  Prints "key value" lines, then
# the reports that count.
# A frame is seqdist's when it names one of its source files (symbolized
# frames give the path as compiled, "src/http.c:152", and no module) or the
# library itself (unsymbolized frames).
srcs=$(find "$BUILD/src" -name '*.c' -printf '%f\n' | sed 's/\.c$//' | paste -sd'|')
perl - "$SANLOG" "$WORK/postmaster.log" "$SAN_LIB" "$srcs" >"$WORK/scan.out" <<'PERL'
use strict; use warnings;
my ($dir, $stderr, $lib, $srcs) = @ARGV;
my %n = map { $_ => 0 } qw(asan_errors ubsan seqdist_leaks other_leaks leak_reports lsan_fatal
	canary_overflow canary_leak canary_jansson canary_curl canary_ubsan);
my @show;
sub ours {
	my $t = shift;
	return $t =~ /^\s+#\d+ 0x[0-9a-f]+ in \S+ (?:\S*\/)?(?:$srcs)\.c:\d+/m ||
		index($t, "$lib+") >= 0 || $t =~ /\/seqdist\.so\+0x/;
}
sub scan {
	my ($name, $text) = @_;
	$n{lsan_fatal}++ while $text =~ /LeakSanitizer has encountered a fatal error/g;
	# UBSan: the "runtime error" line and the stack or notes indented below it
	while ($text =~ /^(\S+:\d+:\d+: runtime error: .*(?:\n(?:[ \t].*|0x[0-9a-f]+: note.*))*)/mg) {
		my $r = $1;
		if ($r =~ /memcheck_canary\.c:\d+:\d+: runtime error: signed integer overflow/) { $n{canary_ubsan}++; next; }
		next if $r =~ /memcheck_canary\.c:\d+:\d+: runtime error/;	# the overflow canary, seen by UBSan too
		$n{ubsan}++; push @show, "== $name ==\n$r";
	}
	# ASan errors, up to ABORTING
	while ($text =~ /(==\d+==ERROR: AddressSanitizer:.*?)(?=\n==\d+==ABORTING|\z)/sg) {
		my $err = $1;
		if ($err =~ /heap-buffer-overflow/ && $err =~ /memcheck_canary_overflow/) { $n{canary_overflow}++; next; }
		$n{asan_errors}++; push @show, "== $name ==\n$err";
	}
	# leak reports, up to their SUMMARY line
	while ($text =~ /==\d+==ERROR: LeakSanitizer: detected memory leaks\n(.*?)(?=\nSUMMARY: AddressSanitizer|\z)/sg) {
		my $report = $1;
		$n{leak_reports}++;
		for my $blk (split /\n(?=(?:Direct|Indirect) leak of )/, $report) {
			next unless $blk =~ /^(?:Direct|Indirect) leak of/;
			$blk =~ s/\n\s*\n.*//s;
			if ($blk =~ /canary_leak_blocks/) { $n{canary_leak}++; next; }
			if ($blk =~ /canary_leak_libs/) {
				$n{canary_jansson}++ if $blk =~ /libjansson|json_/;
				$n{canary_curl}++ if $blk =~ /libcurl|curl_easy_init/;
				next;
			}
			if (ours($blk)) { $n{seqdist_leaks}++; push @show, "== $name ==\n$blk"; }
			else { $n{other_leaks}++; }
		}
	}
}
sub slurp { my $f = shift; open(my $fh, '<', $f) or die "$f: $!"; local $/; my $t = <$fh>; close $fh; return $t; }
opendir(my $dh, $dir) or die;
scan($_, slurp("$dir/$_")) for sort grep { /^(asan|ubsan)\.\d+$/ } readdir $dh;
scan('server stderr', slurp($stderr));
print "$_ $n{$_}\n" for sort keys %n;
print "REPORT\n$_\n" for @show;
PERL
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
NV="SELECT seqdist.seqdist_nextval(''f'')"
cat >"$WORK/valgrind.sql" <<SQL
SET memcheck.ctl TO '${CTL[*]}'
CREATE FUNCTION memcheck_vg_canary_leak() RETURNS void AS '$WORK/memcheck_canary_plain.so', 'memcheck_canary_leak' LANGUAGE C
CREATE FUNCTION memcheck_vg_canary_overflow(int) RETURNS int AS '$WORK/memcheck_canary_plain.so', 'memcheck_canary_overflow' LANGUAGE C
SELECT tap(count(DISTINCT v)::text, '500', 'valgrind: 500 cached values') FROM (SELECT seqdist.seqdist_nextval('c1') v FROM generate_series(1, 500)) s
SELECT tap(count(DISTINCT v)::text, '200', 'valgrind: 200 CACHE 10 values') FROM (SELECT seqdist.seqdist_nextval('c10') v FROM generate_series(1, 200)) s
SELECT tap(count(DISTINCT v)::text, '100', 'valgrind: 100 strict values') FROM (SELECT seqdist.seqdist_nextval('st') v FROM generate_series(1, 100)) s
SELECT tap((count(*) = 6 AND bool_and(v IN (5, 2, -1, -4)))::text, 'true', 'valgrind: descending CYCLE') FROM (SELECT seqdist.seqdist_nextval('cyc') v FROM generate_series(1, 6)) s
SELECT seqdist.seqdist_setval('c1', 5000000)
SELECT tap(seqdist.seqdist_nextval('c1')::text || ' ' || seqdist.seqdist_currval('c1') || ' ' || seqdist.seqdist_lastval(), '5000001 5000001 5000001', 'valgrind: setval, nextval, currval, lastval')
SELECT tap(count(*)::text, '3', 'valgrind: health') FROM seqdist.health() WHERE ok
SELECT tap(((seqdist.counter_item('odd') ->> 'counter') LIKE 'ключ%')::text, 'true', 'valgrind: counter_item')
CREATE SEQUENCE vg_new START 100
SELECT tap(status || ' ' || last_value, 'created 99', 'valgrind: register') FROM seqdist.register('vg_new')
SELECT tap(seqdist.create_table(), 'exists', 'valgrind: create_table')
SET seqdist.retry_base_delay = '1ms'
SET seqdist.retry_max_delay = '5ms'
SELECT fault_case('valgrind: http500 twice', '{"target":"UpdateItem","mode":"http500","count":2}', 'ok', '$NV')
SELECT fault_case('valgrind: throttled always', '{"target":"UpdateItem","mode":"throttle"}', '08006', '$NV')
SELECT fault_case('valgrind: malformed', '{"target":"UpdateItem","mode":"malformed"}', '08P01', '$NV')
SELECT fault_case('valgrind: wrong shape', '{"target":"UpdateItem","mode":"wrongshape"}', '08P01', '$NV')
SELECT fault_case('valgrind: TCP reset always', '{"target":"UpdateItem","mode":"reset"}', '08006', '$NV')
SELECT fault_case('valgrind: lost answer', '{"target":"UpdateItem","mode":"after_forward_reset","count":1}', 'ok', '$NV')
SELECT fault_case('valgrind: GetItem malformed', '{"target":"GetItem","mode":"malformed"}', '08P01', 'SELECT seqdist.counter_item(''f'')')
SET statement_timeout = '1s'
SELECT fault_case('valgrind: hang, statement_timeout', '{"target":"UpdateItem","mode":"hang"}', '57014', '$NV')
RESET statement_timeout
SET seqdist.request_timeout = '500ms'
SET seqdist.max_attempts = 2
SELECT fault_case('valgrind: hang, request_timeout', '{"target":"UpdateItem","mode":"hang"}', '08006', '$NV')
RESET seqdist.request_timeout
RESET seqdist.max_attempts
SET seqdist.aws_access_key_id = '$TMP_AKID'
SET seqdist.aws_secret_access_key = '$TMP_SECRET'
SET seqdist.aws_session_token = '$TMP_TOKEN'
SELECT tap(try('$NV'), 'ok', 'valgrind: temporary key with its session token')
SET seqdist.aws_session_token = 'not-the-token'
SELECT tap(try('$NV'), '28000', 'valgrind: wrong session token')
RESET seqdist.aws_session_token
RESET seqdist.aws_access_key_id
RESET seqdist.aws_secret_access_key
SET seqdist.table_name = 'memcheck_missing'
SELECT tap(try('$NV'), '42704', 'valgrind: missing table')
RESET seqdist.table_name
SET seqdist.endpoint = 'https://127.0.0.1:$DYNAMO_PORT'
SET seqdist.max_attempts = 1
SELECT tap(try('$NV'), '08006', 'valgrind: TLS to a plain HTTP port')
RESET seqdist.endpoint
RESET seqdist.max_attempts
SELECT tap(try('$NV'), 'ok', 'valgrind: all is well again')
SELECT memcheck_vg_canary_leak()
SELECT memcheck_vg_canary_overflow(16) IS NOT NULL
SQL
vg_start=$SECONDS
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN \
	AWS_SHARED_CREDENTIALS_FILE="$WORK/aws_credentials" AWS_PROFILE=memcheck \
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
while IFS= read -r line; do
	case $line in
		"ok - "*) ok "${line#ok - }" ;;
		"not ok - "*) not_ok "${line#not ok - }" ;;
	esac
done <<<"$vg_tap"
vg_planned=$(grep -cE '^SELECT (tap|fault_case)\(' "$WORK/valgrind.sql")
if [ "$status" -eq 0 ] && [ "$(grep -c . <<<"$vg_tap")" -eq "$vg_planned" ]; then
	ok "valgrind: the single-user backend ran the workload and exited ($((SECONDS - vg_start)) s)"
else
	tail -30 "$WORK/valgrind.out" | diag
	not_ok "valgrind: the single-user backend ran the workload and exited (status $status)"
fi

perl - "$WORK/valgrind.log" "$srcs" >"$WORK/valgrind-scan.out" <<'PERL'
use strict; use warnings;
my ($log, $srcs) = @ARGV;
my %n = map { $_ => 0 } qw(errors other_errors seqdist_leaks seqdist_possible other_leaks
	canary_overflow canary_leak canary_jansson canary_curl);
my (@show, @other);
open(my $fh, '<', $log) or die; local $/; my $text = <$fh>; close $fh;
$text =~ s/^==\d+== ?//mg;
for my $rec (split /\n\n+/, $text) {
	my $ours = $rec =~ /\((?:$srcs)\.c:\d+\)|\/seqdist\.so\)/;
	if ($rec =~ /^\S.* are (definitely|indirectly|possibly) lost in loss record/) {
		my $kind = $1;
		if ($rec =~ /canary_leak_blocks/) { $n{canary_leak}++; next; }
		if ($rec =~ /canary_leak_libs/) {
			$n{canary_jansson}++ if $rec =~ /libjansson|json_/;
			$n{canary_curl}++ if $rec =~ /libcurl|curl_easy_init/;
			next;
		}
		if (!$ours) { $n{other_leaks}++; next; }
		if ($kind eq 'possibly') {
			$n{seqdist_possible}++;
			my @l = split /\n/, $rec;
			push @other, "POSSIBLY $l[0]", map { "POSSIBLY $_" } grep { /\((?:$srcs)\.c:\d+\)/ } @l;
			next;
		}
		$n{seqdist_leaks}++; push @show, $rec;
	} elsif ($rec =~ /^(Invalid (read|write|free)|Conditional jump|Use of uninitialised|Syscall param|Mismatched free|Source and destination overlap|Argument .* of function|Jump to the invalid|Process terminating)/) {
		if ($rec =~ /memcheck_canary_overflow/ && $rec =~ /^Invalid read/) { $n{canary_overflow}++; next; }
		# uninitialised bytes that PostgreSQL itself passes around (WAL
		# padding written by XLogFlush, for one): not ours unless a seqdist
		# frame is on the stack or in the origin stack
		if ($rec =~ /^(Conditional jump|Use of uninitialised|Syscall param)/ && !$ours) {
			my ($first) = $rec =~ /^(.*)/;
			my ($fn) = $rec =~ /by 0x[0-9A-F]+: (\w+) /;
			$n{other_errors}++; push @other, "$first (in ${\($fn // '?')})"; next;
		}
		$n{errors}++; push @show, $rec;
	}
}
print "$_ $n{$_}\n" for sort keys %n;
print "OTHER $_\n" for @other;
print "REPORT\n$_\n" for @show;
PERL
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
