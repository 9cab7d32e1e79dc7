-- valgrind.sql -- the workload of the single-user backend that test/memcheck.sh
-- Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
-- runs under valgrind, in the database workload.sql made (whose functions it
-- uses).  One statement a line, as postgres --single reads them; each tap()
-- and fault_case() line is one TAP test.  memcheck.sh fills in the
-- placeholders (seqdist_fill in test/lib.sh).
SET memcheck.ctl TO '@CTL_COMMAND@'
CREATE FUNCTION memcheck_vg_canary_leak() RETURNS void AS '@WORK@/canary_plain.so', 'memcheck_canary_leak' LANGUAGE C
CREATE FUNCTION memcheck_vg_canary_overflow(int) RETURNS int AS '@WORK@/canary_plain.so', 'memcheck_canary_overflow' LANGUAGE C
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
SELECT fault_case('valgrind: http500 twice', '{"target":"UpdateItem","mode":"http500","count":2}', 'ok', 'SELECT seqdist.seqdist_nextval(''f'')')
SELECT fault_case('valgrind: throttled always', '{"target":"UpdateItem","mode":"throttle"}', '08006', 'SELECT seqdist.seqdist_nextval(''f'')')
SELECT fault_case('valgrind: malformed', '{"target":"UpdateItem","mode":"malformed"}', '08P01', 'SELECT seqdist.seqdist_nextval(''f'')')
SELECT fault_case('valgrind: wrong shape', '{"target":"UpdateItem","mode":"wrongshape"}', '08P01', 'SELECT seqdist.seqdist_nextval(''f'')')
SELECT fault_case('valgrind: TCP reset always', '{"target":"UpdateItem","mode":"reset"}', '08006', 'SELECT seqdist.seqdist_nextval(''f'')')
SELECT fault_case('valgrind: lost answer', '{"target":"UpdateItem","mode":"after_forward_reset","count":1}', 'ok', 'SELECT seqdist.seqdist_nextval(''f'')')
SELECT fault_case('valgrind: GetItem malformed', '{"target":"GetItem","mode":"malformed"}', '08P01', 'SELECT seqdist.counter_item(''f'')')
SET statement_timeout = '1s'
SELECT fault_case('valgrind: hang, statement_timeout', '{"target":"UpdateItem","mode":"hang"}', '57014', 'SELECT seqdist.seqdist_nextval(''f'')')
RESET statement_timeout
SET seqdist.request_timeout = '500ms'
SET seqdist.max_attempts = 2
SELECT fault_case('valgrind: hang, request_timeout', '{"target":"UpdateItem","mode":"hang"}', '08006', 'SELECT seqdist.seqdist_nextval(''f'')')
RESET seqdist.request_timeout
RESET seqdist.max_attempts
SET seqdist.aws_access_key_id = '@SEQDIST_TEMP_ACCESS_KEY_ID@'
SET seqdist.aws_secret_access_key = '@SEQDIST_TEMP_SECRET_ACCESS_KEY@'
SET seqdist.aws_session_token = '@SEQDIST_TEMP_SESSION_TOKEN@'
SELECT tap(try('SELECT seqdist.seqdist_nextval(''f'')'), 'ok', 'valgrind: temporary key with its session token')
SET seqdist.aws_session_token = 'not-the-token'
SELECT tap(try('SELECT seqdist.seqdist_nextval(''f'')'), '28000', 'valgrind: wrong session token')
RESET seqdist.aws_session_token
RESET seqdist.aws_access_key_id
RESET seqdist.aws_secret_access_key
SET seqdist.table_name = 'memcheck_missing'
SELECT tap(try('SELECT seqdist.seqdist_nextval(''f'')'), '42704', 'valgrind: missing table')
RESET seqdist.table_name
SET seqdist.endpoint = 'https://127.0.0.1:@DYNAMO_PORT@'
SET seqdist.max_attempts = 1
SELECT tap(try('SELECT seqdist.seqdist_nextval(''f'')'), '08006', 'valgrind: TLS to a plain HTTP port')
RESET seqdist.endpoint
RESET seqdist.max_attempts
SELECT tap(try('SELECT seqdist.seqdist_nextval(''f'')'), 'ok', 'valgrind: all is well again')
SELECT memcheck_vg_canary_leak()
SELECT memcheck_vg_canary_overflow(16) IS NOT NULL
