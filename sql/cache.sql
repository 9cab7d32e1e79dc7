-- The caches: blocks in shared memory, CACHE n per backend, strict mode,
-- and currval / lastval / setval on top of them.

CREATE FUNCTION counter_position(seq regclass) RETURNS bigint LANGUAGE sql
AS $$ SELECT (seqdist.counter_item(seq) ->> 'last_value')::bigint $$;

-- a block of seqdist.block_size values is reserved at once; the setting is
-- made for the database so that it holds in the new sessions below
DO $$ BEGIN
    EXECUTE format('ALTER DATABASE %I SET seqdist.block_size = 100', current_database());
END $$;
\c
CREATE SEQUENCE blocks;
SELECT status FROM seqdist.register('blocks');
SELECT seqdist.seqdist_nextval('blocks'), seqdist.seqdist_nextval('blocks');
SELECT counter_position('blocks') AS counter_after_two_values;
SELECT count(seqdist.seqdist_nextval('blocks')) FROM generate_series(1, 150);
SELECT counter_position('blocks') AS counter_after_152_values;

-- the instance cache is shared: a new session continues the same block
\c
SELECT seqdist.seqdist_nextval('blocks') AS next_in_new_session;

-- a per-sequence block size overrides the setting
SELECT seqdist.set_block_size('blocks', 10);
SELECT seqdist.seqdist_setval('blocks', 1000);
SELECT seqdist.seqdist_nextval('blocks');
SELECT counter_position('blocks') AS counter_after_setval_and_one_value;
SELECT block_size FROM seqdist.sequences WHERE seqrelid = 'blocks'::regclass;
SELECT seqdist.set_block_size('blocks', NULL);
SELECT seqdist.set_block_size('blocks', 0);

-- CACHE n: a backend takes n values at a time from the instance cache
CREATE SEQUENCE backend_cached CACHE 5;
SELECT status FROM seqdist.register('backend_cached');
SELECT seqdist.seqdist_nextval('backend_cached');
\c
-- the first session's other four values are a gap, as with native CACHE
SELECT seqdist.seqdist_nextval('backend_cached');

-- a session hands out its CACHE n values one increment apart, and takes the
-- next n when they are used up: 9 values are three takes of 4 (1 .. 34)
CREATE SEQUENCE backend_step INCREMENT 3 CACHE 4;
SELECT status FROM seqdist.register('backend_step');
SELECT string_agg(seqdist.seqdist_nextval('backend_step')::text, ',' ORDER BY i) AS one_session
FROM generate_series(1, 9) AS i;
SELECT seqdist.seqdist_currval('backend_step');
SELECT counter_position('backend_step') AS counter_after_three_takes;
\c
-- the last take's 28, 31, 34 were the first session's: a gap
SELECT seqdist.seqdist_nextval('backend_step'), seqdist.seqdist_nextval('backend_step'),
       seqdist.seqdist_nextval('backend_step'), seqdist.seqdist_nextval('backend_step'),
       seqdist.seqdist_nextval('backend_step');

-- strict mode: every value straight from DynamoDB, the counter shows each
CREATE SEQUENCE strict_seq;
SELECT status FROM seqdist.register('strict_seq');
SELECT seqdist.set_strict('strict_seq', true);
SELECT seqdist.seqdist_nextval('strict_seq'), seqdist.seqdist_nextval('strict_seq');
SELECT counter_position('strict_seq') AS strict_counter;
SELECT seqdist.set_strict('strict_seq', false);
SELECT seqdist.seqdist_nextval('strict_seq');
SELECT counter_position('strict_seq') AS cached_again;

-- currval and lastval, with the native messages
SELECT seqdist.set_block_size('blocks', 10);
DO $$ BEGIN
    EXECUTE format('ALTER DATABASE %I SET seqdist.block_size = 10', current_database());
END $$;
\c
CREATE SEQUENCE cv;
SELECT status FROM seqdist.register('cv');
SELECT seqdist.seqdist_currval('cv');
SELECT seqdist.seqdist_nextval('cv');
SELECT seqdist.seqdist_currval('cv'), seqdist.seqdist_lastval();
SELECT seqdist.seqdist_nextval('blocks');
SELECT seqdist.seqdist_lastval() = seqdist.seqdist_currval('blocks') AS lastval_follows;
\c
SELECT seqdist.seqdist_lastval();

-- setval: the next value follows the new position, as native
SELECT counter_position('cv') AS reserved_so_far;
SELECT seqdist.seqdist_setval('cv', 500);
SELECT seqdist.seqdist_currval('cv');
SELECT seqdist.seqdist_nextval('cv');
SELECT seqdist.seqdist_setval('cv', 700, false);
SELECT seqdist.seqdist_currval('cv');
SELECT seqdist.seqdist_nextval('cv'), seqdist.seqdist_nextval('cv');
SELECT seqdist.seqdist_setval('cv', 0);
-- moving back could hand out values again: refused unless allowed
SELECT seqdist.seqdist_setval('cv', 10);
SET seqdist.allow_rewind = on;
SELECT seqdist.seqdist_setval('cv', 10);
SELECT seqdist.seqdist_nextval('cv');
RESET seqdist.allow_rewind;

-- privileges, as native: SELECT or USAGE for currval, UPDATE for setval
CREATE ROLE regress_seqdist_cache;
GRANT USAGE ON SCHEMA seqdist TO regress_seqdist_cache;
GRANT USAGE ON SEQUENCE cv TO regress_seqdist_cache;
SET ROLE regress_seqdist_cache;
SELECT seqdist.seqdist_nextval('cv') > 0 AS got_value;
SELECT seqdist.seqdist_currval('cv') > 0 AS got_currval;
SELECT seqdist.seqdist_setval('cv', 2000);
RESET ROLE;
DROP OWNED BY regress_seqdist_cache;
DROP ROLE regress_seqdist_cache;

-- read-only transactions may not setval
BEGIN TRANSACTION READ ONLY;
SELECT seqdist.seqdist_setval('cv', 2000);
ROLLBACK;

-- ALTER SEQUENCE: cached values under the old bounds are never handed out.
-- The rest of the block reserved before (2..10) is a gap: the new bound
-- leaves 11 and 12.
CREATE SEQUENCE narrowing;
SELECT status FROM seqdist.register('narrowing');
SELECT seqdist.seqdist_nextval('narrowing');
ALTER SEQUENCE narrowing MAXVALUE 12;
SELECT seqdist.seqdist_nextval('narrowing'), seqdist.seqdist_nextval('narrowing');
SELECT seqdist.seqdist_nextval('narrowing');

-- ALTER SEQUENCE INCREMENT is recorded in the counter item, so that other
-- clients of the counter see it; a change of direction is refused
CREATE SEQUENCE alt;
SELECT status FROM seqdist.register('alt');
SELECT seqdist.seqdist_nextval('alt');
ALTER SEQUENCE alt INCREMENT 5;
SELECT seqdist.counter_item('alt') ->> 'increment' AS counter_increment;
SELECT seqdist.seqdist_nextval('alt'), seqdist.seqdist_nextval('alt');
ALTER SEQUENCE alt INCREMENT -1;
SELECT increment_by FROM pg_sequences WHERE sequencename = 'alt';

-- RESTART moves the counter forward; backward only when allowed
ALTER SEQUENCE alt RESTART WITH 1000;
SELECT seqdist.seqdist_nextval('alt');
ALTER SEQUENCE alt RESTART;
SET seqdist.allow_rewind = on;
ALTER SEQUENCE alt RESTART;
RESET seqdist.allow_rewind;
SELECT seqdist.seqdist_nextval('alt');

-- drop and recreate under the same counter key: the counter never moves back
CREATE SEQUENCE phoenix;
SELECT status FROM seqdist.register('phoenix', 'phoenix-counter');
SELECT seqdist.seqdist_nextval('phoenix');
DROP SEQUENCE phoenix;
CREATE SEQUENCE phoenix;
SELECT status, last_value FROM seqdist.register('phoenix', 'phoenix-counter');
SELECT seqdist.seqdist_nextval('phoenix');

DO $$ BEGIN
    EXECUTE format('ALTER DATABASE %I RESET seqdist.block_size', current_database());
END $$;

-- the functions are parallel unsafe, like their native twins
SELECT proname, proparallel FROM pg_proc
WHERE pronamespace = 'seqdist'::regnamespace AND proname LIKE 'seqdist_%'
ORDER BY proname, pronargs;

-- seqdist.stats: one row per cached sequence (the refill worker is off here)
SELECT sequence, counter_key, cached_values > 0 AS has_values, blocks_by_worker,
       blocks_by_backend > 0 AS backend_blocks, requests >= blocks_by_backend AS requests_counted,
       errors, backend_waits > 0 AS waited, latency_p50_ms IS NOT NULL AS has_latency
FROM seqdist.stats WHERE sequence = 'cv'::regclass;
SELECT seqdist.stats_reset();
SELECT requests, backend_waits FROM seqdist.stats WHERE sequence = 'cv'::regclass;
SELECT has_table_privilege('pg_monitor', 'seqdist.stats', 'SELECT') AS monitor_can_read,
       has_table_privilege('public', 'seqdist.stats', 'SELECT') AS public_can_read;
