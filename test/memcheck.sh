#!/usr/bin/env bash
# memcheck.sh -- seqdist under AddressSanitizer, UndefinedBehaviorSanitizer and
# LeakSanitizer while the real workload runs.  Prints TAP; exits non-zero if a
# sanitizer reports anything about seqdist, or if the workload misbehaves.
#
#   bash test/memcheck.sh            (as root or as an unprivileged user)
#
# What it does, all on 127.0.0.1, stopping only what it started (by pid):
#
#  1. Builds a copy of the extension in a scratch directory with
#     -fsanitize=address,undefined (COPT, so the project's own -Werror flags
#     stay on), and installs it with DESTDIR into a *private installation
#     tree* that mirrors the system one: <tree>/usr/lib/postgresql/15/lib and
#     <tree>/usr/share/postgresql/15/extension.
#  2. Copies the system's postgres executable into <tree>/usr/lib/postgresql/
#     15/bin and symlinks everything else of the system's lib and share
#     directories into the tree.  PostgreSQL finds $libdir and its share
#     directory relative to its own executable (it is relocatable), so this
#     postgres loads seqdist from the tree: shared_preload_libraries =
#     'seqdist', CREATE EXTENSION (control file and script from the tree) and
#     '$libdir/seqdist' in pg_proc all name the instrumented library, and
#     nothing in the system installation is touched or shadowed.
#  3. Runs that postgres with the ASan runtime preloaded (LD_PRELOAD, ASan
#     must be the first library) plus a three-line stub that defines
#     swift_demangle: without it the server hangs before main().  (libp11-kit,
#     pulled in through libldap and gnutls, calls newlocale() in a
#     constructor that runs before ASan's own; ASan then initialises inside
#     newlocale's malloc, its dlsym("swift_demangle") fails, and dlerror()
#     translates the message with gettext under locks newlocale holds, which
#     corrupts glibc's _nl_state_lock.  With the symbol defined, dlerror has
#     no message to translate.)
#  4. Drives the workload: the pg_regress suite (sql/*.sql, unchanged),
#     cached, CACHE n and strict nextval in volume, setval/currval/lastval,
#     register/health/counter_item/create_table, every fault mode of the
#     local DynamoDB (http500, throttling, malformed, wrongshape, reset,
#     down, lost answers, hang with statement_timeout, request_timeout,
#     pg_cancel_backend and pg_terminate_backend of a single-flight fetcher),
#     wrong credentials and session tokens, TLS to a plain-HTTP port, a
#     missing table and item, and concurrent pgbench with faults, setval and
#     ALTER SEQUENCE racing the caches.
#  5. LeakSanitizer runs at the exit of every server process.  PostgreSQL
#     itself is not instrumented and leaks a little by design, so leak
#     reports count only when an allocation stack passes through seqdist.so;
#     the others are counted and ignored.  ASan and UBSan reports always
#     count.
#  6. Positive controls: a throwaway instrumented canary module (built here,
#     never installed) leaks 4242 bytes and reads past a 16-byte malloc; the
#     script checks that LSan and ASan report both, so that a clean result
#     means something.
#
# Set MEMCHECK_KEEP=1 to keep the scratch directory after a clean run, and
# MEMCHECK_SRC=DIR to check another copy of the sources (src/, sql/,
# expected/, Makefile, seqdist.control), e.g. an export of a commit.
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
WORK=$SEQDIST_ROOT/test/tmp/memcheck.$$
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
SAN_COPT='-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize=alignment'

# a second key pair, with a session token, that the local DynamoDB accepts
TMP_AKID=ASIAMEMCHECKTEMP01
TMP_SECRET=memcheck-temporary-secret-0123456789
TMP_TOKEN=memcheck-session-token-FQoGZXIvYXdzEXAMPLE

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

start_dynamo() {
	local dir=$WORK/dynamo i
	mkdir -p "$dir"
	node "$SEQDIST_ROOT/test/local_dynamodb.js" --port 0 --port-file "$dir/port" \
		--credentials "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
		--credentials "$TMP_AKID:$TMP_SECRET:$TMP_TOKEN" \
		--region "$AWS_REGION" >"$dir/dynamo.log" 2>&1 &
	DYNAMO_PID=$!
	for i in $(seq 1 100); do
		[ -s "$dir/port" ] && break
		kill -0 "$DYNAMO_PID" 2>/dev/null || return 1
		sleep 0.1
	done
	[ -s "$dir/port" ] || return 1
	DYNAMO_PORT=$(cat "$dir/port")
}

ctl() { sh "$SEQDIST_ROOT/test/dynamo_control.sh" "$DYNAMO_PORT" "$@" >/dev/null; }
faults() { ctl faults "{\"rules\":[$1]}"; }

psql_() { "$PG_BINDIR/psql" -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PGPORT" "$@"; }
q() { psql_ -d memcheck "$@"; }

#---- 1. the instrumented build and the private installation tree ------------
mkdir -p "$BUILD/src" "$BUILD/sql"
cp "$SRC/Makefile" "$SRC/seqdist.control" "$BUILD/"
cp "$SRC"/src/*.c "$SRC"/src/*.h "$BUILD/src/"
cp "$SRC"/sql/seqdist--*.sql "$BUILD/sql/"
if make -C "$BUILD" -s with_llvm=no PG_CONFIG="$PG_CONFIG" COPT="$SAN_COPT" >"$WORK/build.log" 2>&1 &&
	make -C "$BUILD" -s with_llvm=no PG_CONFIG="$PG_CONFIG" COPT="$SAN_COPT" \
		install DESTDIR="$TREE" >>"$WORK/build.log" 2>&1; then
	ok "build seqdist with $SAN_COPT into a private tree"
else
	diag <"$WORK/build.log"
	bail "build seqdist with $SAN_COPT"
fi

mkdir -p "$TREE$PG_BINDIR"
cp "$PG_BINDIR/postgres" "$TREE$PG_BINDIR/postgres"
for f in "$PG_PKGLIBDIR"/* "$PG_SHAREDIR"/* "$PG_SHAREDIR"/extension/*; do
	rel=${f#/}
	[ -e "$TREE/$rel" ] || [ -L "$TREE/$rel" ] || ln -s "$f" "$TREE/$rel"
done

# the stub that keeps the preloaded ASan runtime from hanging (see the top)
cat >"$WORK/swift_stub.c" <<'EOF'
#include <stddef.h>
#include <stdint.h>
char *swift_demangle(const char *name, size_t len, char *out, size_t *outlen, uint32_t flags);
char *swift_demangle(const char *name, size_t len, char *out, size_t *outlen, uint32_t flags) { return NULL; }
EOF
# the positive controls: one leak and one heap overflow under the same runtime
cat >"$WORK/memcheck_canary.c" <<'EOF'
#include "postgres.h"
#include "fmgr.h"
#include <stdlib.h>
#include <string.h>
PG_MODULE_MAGIC;
PG_FUNCTION_INFO_V1(memcheck_canary_leak);
PG_FUNCTION_INFO_V1(memcheck_canary_overflow);
static void *volatile canary_sink;
Datum memcheck_canary_leak(PG_FUNCTION_ARGS)
{
	char *p = malloc(4242);
	memset(p, 'x', 4242);
	canary_sink = p;
	canary_sink = NULL;			/* the only pointer is gone */
	PG_RETURN_VOID();
}
Datum memcheck_canary_overflow(PG_FUNCTION_ARGS)
{
	volatile char *p = malloc(16);
	char c = p[PG_GETARG_INT32(0)];	/* called with 16: one past the end */
	free((void *) p);
	PG_RETURN_INT32(c);
}
EOF
LIBASAN=$(gcc -print-file-name=libasan.so)
if gcc -shared -fPIC -o "$WORK/swift_stub.so" "$WORK/swift_stub.c" >>"$WORK/build.log" 2>&1 &&
	gcc -shared -fPIC -O1 -g -fno-omit-frame-pointer -fsanitize=address \
		-I"$("$PG_CONFIG" --includedir-server)" -o "$WORK/memcheck_canary.so" \
		"$WORK/memcheck_canary.c" >>"$WORK/build.log" 2>&1 &&
	[ -f "$LIBASAN" ]; then
	ok "build the ASan preload stub and the canary module"
else
	diag <"$WORK/build.log"
	bail "build the ASan preload stub and the canary module ($LIBASAN)"
fi

#---- 2. the local DynamoDB and the instrumented cluster ----------------------
start_dynamo || { diag <"$WORK/dynamo/dynamo.log"; bail "start the local DynamoDB"; }

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
log_line_prefix = '%m [%p] '
shared_preload_libraries = 'seqdist'
seqdist.endpoint = 'http://127.0.0.1:$DYNAMO_PORT'
seqdist.region = '$AWS_REGION'
seqdist.table_name = 'seqdist_regress'
CONF

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
mkdir -p "$WORK/regress"
"$PG_REGRESS" --use-existing --host=127.0.0.1 --port="$PGPORT" --bindir="$PG_BINDIR" \
	--inputdir="$SRC" --outputdir="$WORK/regress" --dbname=contrib_regression \
	$(make -s -C "$SRC" regress-list) >"$WORK/regress/pg_regress.log" 2>&1
status=$?
grep -E '^(test| ) |^ok|^not ok' "$WORK/regress/pg_regress.log" | diag
if [ "$status" -eq 0 ]; then
	ok "pg_regress ($(make -s -C "$SRC" regress-list)) passes against the instrumented build"
else
	[ -s "$WORK/regress/regression.diffs" ] && head -60 "$WORK/regress/regression.diffs" | diag
	not_ok "pg_regress passes against the instrumented build"
fi

#---- 4. the functional workload --------------------------------------------
psql_ -d postgres -c "CREATE DATABASE memcheck" >/dev/null
q >"$WORK/workload.out" 2>&1 <<SQL
CREATE EXTENSION seqdist;
SELECT seqdist.create_table();
SELECT seqdist.create_table();

-- run a statement, return 'ok' or its SQLSTATE
CREATE FUNCTION try(stmt text) RETURNS text LANGUAGE plpgsql AS \$\$
BEGIN
    EXECUTE stmt;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END \$\$;
CREATE FUNCTION expect(got text, want text, what text) RETURNS void LANGUAGE plpgsql AS \$\$
BEGIN
    IF got IS DISTINCT FROM want THEN
        RAISE EXCEPTION 'workload check failed: %: got %, expected %', what, got, want;
    END IF;
END \$\$;

-- many sequences: the backend table and the instance cache grow
DO \$\$ BEGIN
    FOR i IN 1..60 LOOP
        EXECUTE format('CREATE SEQUENCE many_%s START %s', i, i * 10);
        PERFORM seqdist.register(format('many_%s', i)::regclass);
    END LOOP;
END \$\$;
SELECT expect(sum(seqdist.seqdist_nextval(format('many_%s', i)::regclass))::text,
              (10 * 60 * 61 / 2)::text, 'first values of 60 sequences')
FROM generate_series(1, 60) i;

-- cached: small blocks, so that many blocks are fetched
CREATE SEQUENCE c1;
SELECT status FROM seqdist.register('c1');
SELECT seqdist.set_block_size('c1', 7);
SELECT expect(count(DISTINCT v)::text, '3000', 'cached values are distinct')
FROM (SELECT seqdist.seqdist_nextval('c1') v FROM generate_series(1, 3000)) s;
-- CACHE n per backend
CREATE SEQUENCE c10 CACHE 10;
SELECT status FROM seqdist.register('c10');
SELECT seqdist.set_block_size('c10', 50);
SELECT expect(count(DISTINCT v)::text, '2000', 'CACHE 10 values are distinct')
FROM (SELECT seqdist.seqdist_nextval('c10') v FROM generate_series(1, 2000)) s;
-- strict: every value is one UpdateItem
CREATE SEQUENCE st;
SELECT status FROM seqdist.register('st');
SELECT seqdist.set_strict('st', true);
SELECT expect(max(v)::text, '300', 'strict values')
FROM (SELECT seqdist.seqdist_nextval('st') v FROM generate_series(1, 300)) s;
-- descending CYCLE with a block larger than the range: the near-bound path
CREATE SEQUENCE cyc MINVALUE -5 MAXVALUE 5 INCREMENT -3 CYCLE;
SELECT status FROM seqdist.register('cyc');
SELECT seqdist.set_block_size('cyc', 4);
SELECT array_agg(seqdist.seqdist_nextval('cyc')) FROM generate_series(1, 40);
-- the int64 edges with big blocks
CREATE SEQUENCE top_edge MINVALUE 9223372036854775000;
SELECT status FROM seqdist.register('top_edge');
SELECT count(seqdist.seqdist_nextval('top_edge')) FROM generate_series(1, 807);
SELECT expect(try(\$q\$SELECT seqdist.seqdist_nextval('top_edge')\$q\$), '2200H', 'exhausted at the int64 edge');
CREATE SEQUENCE bottom_edge INCREMENT -1000000000000000000 MAXVALUE -1 MINVALUE -9223372036854775808 CYCLE;
SELECT status FROM seqdist.register('bottom_edge');
SELECT array_agg(seqdist.seqdist_nextval('bottom_edge')) FROM generate_series(1, 20);

-- setval / currval / lastval on cached and strict sequences
SELECT expect(try(\$q\$SELECT seqdist.seqdist_currval('many_1')\$q\$), 'ok', 'currval after nextval');
SELECT seqdist.seqdist_setval('c1', 100000);
SELECT expect(seqdist.seqdist_nextval('c1')::text, '100001', 'nextval after setval');
SELECT seqdist.seqdist_setval('c1', 200000, false);
SELECT expect(seqdist.seqdist_nextval('c1')::text, '200000', 'nextval after setval false');
SELECT expect(seqdist.seqdist_currval('c1')::text, '200000', 'currval');
SELECT expect(seqdist.seqdist_lastval()::text, '200000', 'lastval');
SELECT seqdist.seqdist_setval('st', 5000);
SELECT expect(seqdist.seqdist_nextval('st')::text, '5001', 'strict nextval after setval');
SELECT expect(try(\$q\$SELECT seqdist.seqdist_setval('st', 10)\$q\$), '55000', 'setval backwards refused');
SET seqdist.allow_rewind = on;
SELECT seqdist.seqdist_setval('st', 10);
RESET seqdist.allow_rewind;
SELECT expect(try(\$q\$SELECT seqdist.seqdist_setval('c1', -5)\$q\$), '22003', 'setval out of bounds');
SELECT expect(try(\$q\$SELECT seqdist.seqdist_currval('c10')\$q\$), 'ok', 'currval c10');
SELECT seqdist.counter_item('c1') ->> 'last_value', seqdist.counter_item('st') ->> 'increment';
SELECT count(*) FROM seqdist.health() WHERE ok;

-- registration: long and unusual keys, joining, errors
CREATE SEQUENCE longkey;
SELECT status FROM seqdist.register('longkey', repeat('k', 1024));
SELECT seqdist.seqdist_nextval('longkey');
SELECT length(seqdist.counter_item('longkey') ->> 'counter');
CREATE SEQUENCE odd;
SELECT status FROM seqdist.register('odd', E'ключ "quoted" \\\\ back\\tslash \u00e9 {"N":"1"}');
SELECT seqdist.seqdist_nextval('odd'), seqdist.counter_item('odd') ->> 'counter';
CREATE SEQUENCE joiner START 1000;
SELECT nextval('joiner');
SELECT status FROM seqdist.register('joiner', E'ключ "quoted" \\\\ back\\tslash \u00e9 {"N":"1"}');
SELECT expect(try(\$q\$SELECT seqdist.register('odd', repeat('x', 1025))\$q\$), '22023', 'key too long');
CREATE TABLE not_a_seq (x int);
SELECT expect(try(\$q\$SELECT seqdist.register('not_a_seq')\$q\$), '42809', 'register a table');
SELECT expect(try(\$q\$SELECT seqdist.seqdist_nextval('not_a_seq')\$q\$), '42809', 'nextval of a table');
CREATE SEQUENCE unreg;
SELECT expect(try(\$q\$SELECT seqdist.seqdist_nextval('unreg')\$q\$), '55000', 'not registered');
SELECT expect(try(\$q\$SELECT seqdist.counter_item('unreg')\$q\$), '55000', 'counter_item not registered');
-- a definition change: increment mismatch, then bounds
ALTER SEQUENCE many_2 INCREMENT 2;
SELECT expect(try(\$q\$SELECT seqdist.seqdist_nextval('many_2')\$q\$), '55000', 'increment mismatch');
ALTER SEQUENCE many_3 MAXVALUE 1000000;
SELECT seqdist.seqdist_nextval('many_3');
-- drop: the event trigger frees the instance cache slot
DROP SEQUENCE many_4, many_5;
SELECT expect(count(*)::text, '58', 'registrations after the drop') FROM seqdist.sequences WHERE seqrelid::text LIKE 'many_%';
-- read-only transaction and privileges
BEGIN TRANSACTION READ ONLY;
SELECT expect(try(\$q\$SELECT seqdist.seqdist_nextval('c1')\$q\$), '25006', 'read-only');
ROLLBACK;
CREATE ROLE memcheck_user;
GRANT USAGE ON SCHEMA seqdist TO memcheck_user;
GRANT EXECUTE ON FUNCTION try(text), expect(text, text, text) TO memcheck_user;
SET ROLE memcheck_user;
SELECT expect(try(\$q\$SELECT seqdist.seqdist_nextval('c1')\$q\$), '42501', 'no privilege');
SELECT expect(try(\$q\$SET seqdist.endpoint = 'http://127.0.0.1:9'\$q\$), '42501', 'endpoint is superuser-only');
RESET ROLE;

-- settings that are rejected
SELECT expect(try(\$q\$SET seqdist.endpoint = 'ftp://x'\$q\$), '22023', 'endpoint scheme');
SELECT expect(try(\$q\$SET seqdist.region = 'Bad Region'\$q\$), '22023', 'region');
SELECT expect(try(\$q\$SET seqdist.table_name = repeat('t', 256)\$q\$), '22023', 'table name');

-- credentials: settings override the file; a temporary key with its token
SET seqdist.aws_access_key_id = '$TMP_AKID';
SET seqdist.aws_secret_access_key = '$TMP_SECRET';
SET seqdist.aws_session_token = '$TMP_TOKEN';
SELECT expect(try(\$q\$SELECT seqdist.seqdist_nextval('st')\$q\$), 'ok', 'temporary key with session token');
SET seqdist.aws_session_token = 'not-the-token';
SELECT expect(try(\$q\$SELECT seqdist.seqdist_nextval('st')\$q\$), '28000', 'wrong session token');
RESET seqdist.aws_session_token;
SELECT expect(try(\$q\$SELECT seqdist.seqdist_nextval('st')\$q\$), '28000', 'temporary key without its token');
SET seqdist.aws_secret_access_key = 'wrong-secret-wrong-secret';
SELECT expect(try(\$q\$SELECT seqdist.seqdist_nextval('st')\$q\$), '28000', 'wrong secret');
SELECT detail LIKE '%rejected%' FROM seqdist.health() WHERE check_name = 'credentials';
SET seqdist.aws_access_key_id = 'AKIDUNKNOWNUNKNOWN';
SELECT expect(try(\$q\$SELECT seqdist.seqdist_nextval('st')\$q\$), '28000', 'unknown key id');
RESET seqdist.aws_access_key_id;
RESET seqdist.aws_secret_access_key;
SET seqdist.region = 'eu-west-1';
SELECT try(\$q\$SELECT seqdist.seqdist_nextval('st')\$q\$) AS wrong_region;
RESET seqdist.region;

-- a missing table, then a table without the item
SET seqdist.table_name = 'memcheck_missing';
SELECT expect(try(\$q\$SELECT seqdist.seqdist_nextval('st')\$q\$), '42704', 'missing table');
SELECT expect(try(\$q\$SELECT seqdist.counter_item('st')\$q\$), '42704', 'counter_item of a missing table');
SELECT ok FROM seqdist.health() WHERE check_name = 'table';
SET seqdist.table_name = 'memcheck_other';
SELECT seqdist.create_table();
SELECT expect(try(\$q\$SELECT seqdist.seqdist_nextval('st')\$q\$), '42704', 'missing item (strict)');
SELECT expect(try(\$q\$SELECT seqdist.seqdist_setval('st', 1)\$q\$), '42704', 'setval of a missing item');
SELECT expect((seqdist.counter_item('st') IS NULL)::text, 'true', 'counter_item of a missing item');
RESET seqdist.table_name;

-- transports that fail: nothing listening, TLS to a plain HTTP port, a path
SET seqdist.max_attempts = 2;
SET seqdist.retry_base_delay = '1ms';
SET seqdist.endpoint = 'http://127.0.0.1:1';
SELECT expect(try(\$q\$SELECT seqdist.seqdist_nextval('st')\$q\$), '08006', 'connection refused');
SELECT ok FROM seqdist.health() WHERE check_name = 'endpoint';
SET seqdist.endpoint = 'https://127.0.0.1:$DYNAMO_PORT';
SELECT expect(try(\$q\$SELECT seqdist.seqdist_nextval('st')\$q\$), '08006', 'TLS to a plain HTTP port');
SET seqdist.ca_file = '$WORK/no-such-ca.pem';
SELECT expect(try(\$q\$SELECT seqdist.seqdist_nextval('st')\$q\$), '08006', 'missing CA file');
RESET seqdist.ca_file;
SET seqdist.endpoint = 'http://127.0.0.1:$DYNAMO_PORT/some/./odd/../path%20x/';
SELECT try(\$q\$SELECT seqdist.seqdist_nextval('st')\$q\$) AS endpoint_with_path;
RESET seqdist.endpoint;
RESET seqdist.max_attempts;
RESET seqdist.retry_base_delay;
SELECT expect(try(\$q\$SELECT seqdist.seqdist_nextval('st')\$q\$), 'ok', 'all is well again');

-- sequences for the fault cases and for pgbench
CREATE SEQUENCE f;
SELECT status FROM seqdist.register('f');
SELECT seqdist.set_strict('f', true);
CREATE SEQUENCE sf;
SELECT status FROM seqdist.register('sf');
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
CREATE SEQUENCE nb MAXVALUE 3;
SELECT status FROM seqdist.register('nb');
CREATE SEQUENCE fault_reg;
CREATE TABLE pb_values (v bigint PRIMARY KEY);
CREATE TABLE pb_strict_values (v bigint PRIMARY KEY);
SQL
status=$?
if [ "$status" -eq 0 ]; then
	ok "functional workload (nextval in volume, setval/currval/lastval, registration, credentials, missing table and item, transports)"
else
	tail -20 "$WORK/workload.out" | diag
	not_ok "functional workload"
fi

#---- 5. fault injection ------------------------------------------------------
# fault_case DESCRIPTION RULES EXPECTED STATEMENT [SETTINGS]
fault_case() {
	local desc=$1 rules=$2 want=$3 stmt=$4 settings=${5:-} got
	faults "$rules"
	got=$(q -c "SET seqdist.retry_base_delay = '1ms'; SET seqdist.retry_max_delay = '5ms'; $settings" \
		-c "SELECT try(\$q\$$stmt\$q\$)" 2>&1)
	ctl reset
	is "$got" "$want" "fault: $desc -> $want"
}
NV="SELECT seqdist.seqdist_nextval('f')"
fault_case "http500 twice, then answered" '{"target":"UpdateItem","mode":"http500","count":2}' ok "$NV"
fault_case "http500 always" '{"target":"UpdateItem","mode":"http500"}' 08006 "$NV"
fault_case "throttle twice, then answered" '{"target":"UpdateItem","mode":"throttle","count":2}' ok "$NV"
fault_case "ThrottlingException always" '{"target":"*","mode":"throttling"}' 08006 "$NV" "SET seqdist.max_attempts = 3;"
fault_case "RequestLimitExceeded always" '{"target":"*","mode":"requestlimit"}' 08006 "$NV" "SET seqdist.max_attempts = 3;"
fault_case "malformed answer" '{"target":"UpdateItem","mode":"malformed"}' 08P01 "$NV"
fault_case "malformed long answer with a secret in it" \
	"{\"target\":\"UpdateItem\",\"mode\":\"malformed\",\"body\":\"$(printf 'garbage%.0s' $(seq 1 60)) $AWS_SECRET_ACCESS_KEY\"}" 08P01 "$NV"
fault_case "wrong-shape answer" '{"target":"UpdateItem","mode":"wrongshape"}' 08P01 "$NV"
fault_case "wrong-shape JSON array" '{"target":"UpdateItem","mode":"wrongshape","body":"[1,2,3]"}' 08P01 "$NV"
fault_case "200 answer with an unexpected object" \
	'{"target":"UpdateItem","mode":"wrongshape","body":"{\"message\":\"no type here\"}"}' 08P01 "$NV"
fault_case "TCP reset twice, then answered" '{"target":"UpdateItem","mode":"reset","count":2}' ok "$NV"
fault_case "TCP reset always" '{"target":"UpdateItem","mode":"reset"}' 08006 "$NV"
fault_case "outage (down)" '{"target":"*","mode":"down"}' 08006 "$NV"
fault_case "lost answer (after_forward_reset)" '{"target":"UpdateItem","mode":"after_forward_reset","count":1}' ok "$NV"
fault_case "delay 100ms" '{"target":"UpdateItem","mode":"delay","ms":100,"count":1}' ok "$NV"
fault_case "hang with statement_timeout" '{"target":"UpdateItem","mode":"hang"}' 57014 "$NV" \
	"SET statement_timeout = '300ms';"
fault_case "hang with request_timeout" '{"target":"UpdateItem","mode":"hang"}' 08006 "$NV" \
	"SET seqdist.request_timeout = '200ms'; SET seqdist.max_attempts = 2;"
fault_case "hang with statement_timeout during an instance-cache fetch" '{"target":"UpdateItem","mode":"hang"}' 57014 \
	"SELECT seqdist.seqdist_nextval('sf')" "SET statement_timeout = '300ms';"
fault_case "GetItem malformed (counter_item)" '{"target":"GetItem","mode":"malformed"}' 08P01 \
	"SELECT seqdist.counter_item('f')"
fault_case "GetItem wrong shape (counter_item)" \
	'{"target":"GetItem","mode":"wrongshape","body":"{\"Item\":{\"counter\":{\"S\":\"f\"},\"last_value\":{\"N\":\"1e5\"},\"x\":{\"L\":[]},\"b\":{\"BOOL\":true}}}"}' ok \
	"SELECT seqdist.counter_item('f')"
fault_case "near the bound, GetItem finds a non-counter item" \
	'{"target":"GetItem","mode":"wrongshape","body":"{\"Item\":{\"counter\":{\"S\":\"nb\"},\"last_value\":{\"S\":\"1\"}}}"}' \
	XX001 "SELECT seqdist.seqdist_nextval('nb')"
fault_case "DescribeTable http500 (health)" '{"target":"DescribeTable","mode":"http500"}' ok \
	"SELECT 1 FROM seqdist.health()"
fault_case "DescribeTable wrong shape (create_table)" '{"target":"DescribeTable","mode":"wrongshape"}' 08P01 \
	"SELECT seqdist.create_table()"
fault_case "CreateTable http500 (create_table)" '{"target":"CreateTable","mode":"http500"}' 08006 \
	"SELECT seqdist.create_table()" "SET seqdist.table_name = 'memcheck_never';"
fault_case "PutItem throttled once (register)" '{"target":"PutItem","mode":"throttle","count":1}' ok \
	"SELECT seqdist.register('fault_reg')"

# wait until N sessions other than ours are in the Extension wait event
wait_extension() {
	local n=$1 i
	for i in $(seq 1 100); do
		[ "$(q -c "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Extension' AND query LIKE '%seqdist_nextval%' AND pid <> pg_backend_pid()")" -ge "$n" ] && return 0
		sleep 0.1
	done
	return 1
}
bg_session() {		# bg_session OUTFILE STATEMENT
	q -c "SELECT pg_backend_pid()" -c "SELECT try(\$q\$$2\$q\$)" >"$1" 2>&1 &
	BG_PIDS+=($!)
}

# pg_cancel_backend while a strict request hangs
faults '{"target":"UpdateItem","mode":"hang"}'
bg_session "$WORK/cancel.out" "$NV"
bgpid=$!
if wait_extension 1; then
	q -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE wait_event_type = 'Extension' AND pid <> pg_backend_pid()" >/dev/null
fi
wait "$bgpid"
ctl reset
is "$(tail -1 "$WORK/cancel.out")" 57014 "fault: hang, pg_cancel_backend -> 57014"

# single flight: A fetches a block and hangs, B waits for A's block; A is
# terminated, so B must take over the fetch; C waits and times out
q -c "SELECT seqdist.seqdist_setval('sf', 1000000)" >/dev/null
faults '{"target":"UpdateItem","mode":"hang"}'
bg_session "$WORK/fetcher.out" "SELECT seqdist.seqdist_nextval('sf')"
pid_a=$!
wait_extension 1
bg_session "$WORK/waiter.out" "SELECT seqdist.seqdist_nextval('sf')"
pid_b=$!
wait_extension 2
q -c "SET statement_timeout = '1500ms'" -c "SELECT try(\$q\$SELECT seqdist.seqdist_nextval('sf')\$q\$)" >"$WORK/timeout_waiter.out" 2>&1 &
pid_c=$!
BG_PIDS+=($pid_c)
wait_extension 3
backend_a=$(head -1 "$WORK/fetcher.out")
wait "$pid_c"
is "$(tail -1 "$WORK/timeout_waiter.out")" 57014 "single flight: a waiter canceled by statement_timeout -> 57014"
q -c "SELECT pg_terminate_backend($backend_a)" >/dev/null
wait "$pid_a"
sleep 0.3
ctl reset			# releases B's hung request: it retries and succeeds
wait "$pid_b"
if grep -q 'terminating connection due to administrator command' "$WORK/fetcher.out"; then
	ok "single flight: the hung fetcher is terminated"
else
	diag <"$WORK/fetcher.out"; not_ok "single flight: the hung fetcher is terminated"
fi
is "$(tail -1 "$WORK/waiter.out")" ok "single flight: the waiter takes over the fetch after the fetcher died"
is "$(q -c "SELECT seqdist.seqdist_nextval('sf') > 1000000")" t "single flight: the sequence still works"

#---- 6. concurrency ----------------------------------------------------------
cat >"$WORK/pgbench.sql" <<'EOF'
SELECT seqdist.seqdist_nextval('pb_cached');
SELECT seqdist.seqdist_nextval('pb_cache10');
SELECT seqdist.seqdist_nextval('pb_cycle');
SELECT seqdist.seqdist_currval('pb_cached'), seqdist.seqdist_lastval();
INSERT INTO pb_values VALUES (seqdist.seqdist_nextval('pb_block1'));
INSERT INTO pb_strict_values VALUES (seqdist.seqdist_nextval('pb_strict'));
EOF
PGOPTIONS='-c seqdist.max_attempts=12 -c seqdist.retry_base_delay=2ms' \
	"$PG_BINDIR/pgbench" -n -h 127.0.0.1 -p "$PGPORT" -c 8 -j 2 -T 8 -f "$WORK/pgbench.sql" memcheck \
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
q -c "ALTER SEQUENCE pb_cycle MAXVALUE 40" >/dev/null 2>>"$WORK/racers.out"
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
log_lines_before_canary=$(wc -l <"$WORK/postmaster.log")
canary=$WORK/memcheck_canary.so
q -c "CREATE FUNCTION memcheck_canary_leak() RETURNS void AS '$canary', 'memcheck_canary_leak' LANGUAGE C" \
	-c "CREATE FUNCTION memcheck_canary_overflow(int) RETURNS int AS '$canary', 'memcheck_canary_overflow' LANGUAGE C" >/dev/null
canary_leak_pid=$(q -c "SELECT pg_backend_pid()" -c "SELECT memcheck_canary_leak()" | head -1)
canary_crash_pid=$(q -c "SELECT pg_backend_pid()" -c "SELECT memcheck_canary_overflow(16)" 2>/dev/null | head -1)
sleep 1

#---- 8. stop, then read the sanitizer logs -----------------------------------
for i in $(seq 1 100); do		# the crash restart after the canary
	"$PG_BINDIR/pg_isready" -q -h 127.0.0.1 -p "$PGPORT" && break
	sleep 0.1
done
pid=$PG_PID
if stop_postgres && ! grep -q 'abnormal database system shutdown' "$WORK/postmaster.log"; then
	ok "the instrumented server shut down cleanly"
else
	tail -20 "$WORK/postmaster.log" | diag
	not_ok "the instrumented server shut down cleanly"
fi
seqdist_stop_pid "$DYNAMO_PID"
DYNAMO_PID=

crashes=$(head -n "$log_lines_before_canary" "$WORK/postmaster.log" |
	grep -E 'was terminated by signal|exited with exit code [^01]')
if [ -z "$crashes" ]; then
	ok "no server process crashed during the workload"
else
	diag <<<"$crashes"
	not_ok "no server process crashed during the workload"
fi

# Classify every report: ASan errors, UBSan reports, leaks with and without a
# seqdist frame.  Prints "key value" lines, and the reports that count.
perl - "$SANLOG" "$SAN_LIB" "$BUILD/src/" "$canary_leak_pid" "$canary_crash_pid" >"$WORK/scan.out" <<'PERL'
use strict; use warnings;
my ($dir, $lib, $src, $leak_pid, $crash_pid) = @ARGV;
my %n = (asan_errors => 0, ubsan => 0, seqdist_leaks => 0, other_leaks => 0,
	leak_logs => 0, lsan_fatal => 0, canary_overflow => 0, canary_leak => 0);
my @show;
opendir(my $dh, $dir) or die;
for my $f (sort grep { /^(asan|ubsan)\.\d+$/ } readdir $dh) {
	my ($kind, $pid) = $f =~ /^(\w+)\.(\d+)$/;
	open(my $fh, '<', "$dir/$f") or die; local $/; my $text = <$fh>; close $fh;
	if ($kind eq 'ubsan') { $n{ubsan}++; push @show, "== $f ==\n$text"; next; }
	$n{lsan_fatal}++ if $text =~ /LeakSanitizer has encountered a fatal error/;
	# ASan error reports (everything except the leak report)
	for my $err ($text =~ /(==\d+==ERROR: AddressSanitizer:.*?)(?=\n==\d+==ABORTING|\z)/sg) {
		if ($pid eq $crash_pid && $err =~ /heap-buffer-overflow/ && $err =~ /memcheck_canary_overflow/) {
			$n{canary_overflow}++; next;
		}
		$n{asan_errors}++; push @show, "== $f ==\n$err";
	}
	if ($text =~ /ERROR: LeakSanitizer: detected memory leaks/) {
		$n{leak_logs}++;
		for my $blk (split /\n(?=(?:Direct|Indirect) leak of )/, $text) {
			next unless $blk =~ /^(?:Direct|Indirect) leak of/;
			$blk =~ s/\n\s*\n.*//s;		# up to the blank line
			if ($pid eq $leak_pid && $blk =~ /4242 byte/ && $blk =~ /memcheck_canary_leak/) {
				$n{canary_leak}++; next;
			}
			if (index($blk, $lib) >= 0 || index($blk, $src) >= 0 || $blk =~ /\bseqdist\.so\b/) {
				$n{seqdist_leaks}++; push @show, "== $f ==\n$blk";
			} else {
				$n{other_leaks}++;
			}
		}
	}
}
print "$_ $n{$_}\n" for sort keys %n;
print "REPORT\n$_\n" for @show;
PERL
val() { awk -v k="$1" '$1 == k { print $2; exit }' "$WORK/scan.out"; }
show_reports() { sed -n '/^REPORT$/,$p' "$WORK/scan.out" | grep -v '^REPORT$' | head -400 | diag; }
files=$(ls "$SANLOG" | wc -l)
echo "# sanitizer logs: $files files in $SANLOG"
is "$(val asan_errors)" 0 "no AddressSanitizer error report"
is "$(val ubsan)" 0 "no UndefinedBehaviorSanitizer report"
is "$(val lsan_fatal)" 0 "LeakSanitizer ran in every process"
is "$(val seqdist_leaks)" 0 "no leak whose allocation stack passes through seqdist ($(val other_leaks) PostgreSQL-internal leak records in $(val leak_logs) process exits ignored)"
[ "$(val asan_errors)$(val ubsan)$(val seqdist_leaks)" = 000 ] || show_reports
check "positive control: ASan reports the canary's heap-buffer-overflow" [ "$(val canary_overflow)" -ge 1 ]
check "positive control: LSan reports the canary's 4242-byte leak" [ "$(val canary_leak)" -ge 1 ]

finish
