#!/usr/bin/env bash
# The demo: builds and installs seqdist, starts a throwaway PostgreSQL with
# seqdist preloaded and a local DynamoDB (dynalite) on 127.0.0.1, shows a
# table whose id defaults to seqdist_nextval(), and stops what it started.
#
# Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
set -eu
SEQDIST_ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$SEQDIST_ROOT/test/lib.sh"

seqdist_bootstrap test/demo.sh "$@"

seqdist_test_credentials
say "starting a local DynamoDB (dynalite) on 127.0.0.1 and a throwaway PostgreSQL"
echo "    with shared_preload_libraries = 'seqdist'"
seqdist_start_local_stack demo
echo "    DynamoDB at http://127.0.0.1:$DYNAMO_PORT"

say "seqdist at work"
"$SEQDIST_PG_BIN/psql" -X -v ON_ERROR_STOP=1 -h "$WORK" -p "$PGPORT_LOCAL" -U postgres \
	-d postgres -f "$SEQDIST_ROOT/test/demo.sql"

say "demo finished; stopping PostgreSQL and the local DynamoDB"
