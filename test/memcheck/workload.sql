-- workload.sql -- the functional and fault workload of test/memcheck.sh, in
-- Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
-- one session of the instrumented server (database memcheck): new sessions
-- are expensive under ASan and LSan, so one backend goes through every case,
-- fault rules included, which it sets itself (COPY FROM PROGRAM runs the
-- control client).  It prints TAP lines, "ok - ..." or "not ok - ...", which
-- memcheck.sh numbers, and ends with "workload complete".
--
-- psql variables: ctl (the control client's command line), port (the local
-- DynamoDB's), work (the scratch directory), secret (the test secret key),
-- tmp_akid, tmp_secret, tmp_token (the temporary key pair), san_lib (the
-- instrumented seqdist.so).  The valgrind phase (valgrind.sql) uses the
-- functions defined here.

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
-- migration: plan, migrate, the routed calls, COPY into an identity
-- column, verify, rollback
CREATE SCHEMA mig;
CREATE TABLE mig.s (id serial PRIMARY KEY, v text);
CREATE TABLE mig.i (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v text);
INSERT INTO mig.s (v) VALUES ('a'), ('b');
INSERT INTO mig.i (v) VALUES ('a');
SELECT tap((SELECT count(*)::text FROM seqdist.migration_plan('mig') WHERE action = 'register'), '2', 'migration: plan');
SELECT tap((SELECT string_agg(status, ',' ORDER BY sequence::text) FROM seqdist.migrate('mig')), 'migrated,migrated', 'migration: migrate');
INSERT INTO mig.s (v) VALUES ('c');
INSERT INTO mig.i (v) VALUES ('c');
SELECT tap((currval('mig.s_id_seq') = (SELECT max(id) FROM mig.s))::text, 'true', 'migration: currval routed');
SELECT tap(try($$SELECT nextval('mig.i_id_seq'), lastval(), setval('mig.s_id_seq', 1000000), nextval(('mig.' || 's_id_seq')::text)$$), 'ok', 'migration: nextval, lastval, setval routed');
COPY mig.i (v) FROM PROGRAM 'printf "x\ny\n"';
SELECT tap((SELECT count(*)::text FROM mig.i), '4', 'migration: COPY into an identity column');
SELECT tap((SELECT string_agg(ok::text, ',') FROM seqdist.verify('mig')), 'true,true', 'migration: verify');
SELECT tap((SELECT string_agg(status, ',') FROM seqdist.rollback('mig')), 'rolled back,rolled back', 'migration: rollback');
SELECT tap(try($$INSERT INTO mig.i (v) VALUES ('native')$$), 'ok', 'migration: native values after rollback');
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
