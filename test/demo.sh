#!/usr/bin/env bash
# The demo: builds and installs seqdist, starts a throwaway PostgreSQL with
# seqdist preloaded and a local DynamoDB (dynalite) on 127.0.0.1, shows a
# table whose id defaults to seqdist_nextval(), and stops what it started.
set -eu
SEQDIST_ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$SEQDIST_ROOT/test/lib.sh"

seqdist_bootstrap test/demo.sh "$@"

seqdist_test_credentials
WORK=$(mktemp -d "${TMPDIR:-/tmp}/seqdist-demo.XXXXXX")
PGDATA_DIR=$WORK/pgdata
PG_STARTED=

stop_all() {
	if [ -n "$PG_STARTED" ]; then
		"$SEQDIST_PG_BIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w stop >/dev/null 2>&1 || true
	fi
	seqdist_stop_pid "${DYNAMO_PID:-}"
	rm -rf "$WORK"
}
trap stop_all EXIT

say "starting a local DynamoDB (dynalite) on 127.0.0.1"
seqdist_start_dynamo "$WORK/dynamo"
echo "    http://127.0.0.1:$DYNAMO_PORT"

say "starting a throwaway PostgreSQL with shared_preload_libraries = 'seqdist'"
PGPORT_DEMO=$(seqdist_free_port)
"$SEQDIST_PG_BIN/initdb" -D "$PGDATA_DIR" -A trust -U postgres >/dev/null
cat >>"$PGDATA_DIR/postgresql.conf" <<CONF
listen_addresses = ''
port = $PGPORT_DEMO
unix_socket_directories = '$WORK'
shared_preload_libraries = 'seqdist'
seqdist.endpoint = 'http://127.0.0.1:$DYNAMO_PORT'
seqdist.region = '$AWS_REGION'
CONF
"$SEQDIST_PG_BIN/pg_ctl" -D "$PGDATA_DIR" -l "$WORK/postgresql.log" -w start >/dev/null
PG_STARTED=1

say "seqdist at work"
"$SEQDIST_PG_BIN/psql" -X -v ON_ERROR_STOP=1 -h "$WORK" -p "$PGPORT_DEMO" -U postgres \
	-d postgres -f "$SEQDIST_ROOT/test/demo.sql"

say "demo finished; stopping PostgreSQL and the local DynamoDB"
