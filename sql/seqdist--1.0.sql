/* seqdist--1.0.sql: sequences whose values come from DynamoDB counters */
-- Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.

\echo Use "CREATE EXTENSION seqdist" to load this file. \quit

-- Every role may call the seqdist_* functions (they check the sequence's
-- privileges themselves, as their native twins do); the administrative
-- functions are revoked from PUBLIC one by one below.
--
-- A hostile search_path: every statement seqdist runs names its relations,
-- functions and operators with their schema (OPERATOR(pg_catalog.=)), and
-- the functions that run statements also pin search_path to pg_catalog,
-- pg_temp, so that objects a non-superuser planted in a schema on a
-- superuser's search_path never run in the superuser's name.  The
-- seqdist_* functions are left without it: they are the hot path, and their
-- one statement (the registration lookup) is qualified.
GRANT USAGE ON SCHEMA @extschema@ TO PUBLIC;

-- Which native sequences take their values from which DynamoDB counter.
CREATE TABLE sequences (
    seqrelid      regclass PRIMARY KEY,
    counter_key   text NOT NULL CHECK (counter_key <> '' AND octet_length(counter_key) <= 1024),
    block_size    integer CHECK (block_size BETWEEN 1 AND 1000000000),
    strict        boolean NOT NULL DEFAULT false,
    registered_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON COLUMN sequences.block_size IS 'values reserved per DynamoDB request; NULL means seqdist.block_size';
COMMENT ON COLUMN sequences.strict IS 'every value straight from DynamoDB: globally ordered, no cache gaps';
COMMENT ON TABLE sequences IS 'native sequences registered with seqdist and their DynamoDB counter keys';
SELECT pg_catalog.pg_extension_config_dump('sequences', '');
REVOKE ALL ON sequences FROM PUBLIC;
GRANT SELECT ON sequences TO PUBLIC;

CREATE FUNCTION seqdist_nextval(regclass)
RETURNS bigint
AS 'MODULE_PATHNAME', 'seqdist_nextval'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION seqdist_nextval(regclass) IS 'next value of a registered sequence, from its DynamoDB counter';

CREATE FUNCTION seqdist_currval(regclass)
RETURNS bigint
AS 'MODULE_PATHNAME', 'seqdist_currval'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION seqdist_currval(regclass) IS 'value most recently returned by seqdist_nextval in this session, like currval';

CREATE FUNCTION seqdist_lastval()
RETURNS bigint
AS 'MODULE_PATHNAME', 'seqdist_lastval'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION seqdist_lastval() IS 'value most recently returned by seqdist_nextval in this session for any sequence, like lastval';

CREATE FUNCTION seqdist_setval(regclass, bigint)
RETURNS bigint
AS 'MODULE_PATHNAME', 'seqdist_setval'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION seqdist_setval(regclass, bigint) IS 'set the counter position, like setval';

CREATE FUNCTION seqdist_setval(regclass, bigint, boolean)
RETURNS bigint
AS 'MODULE_PATHNAME', 'seqdist_setval3'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION seqdist_setval(regclass, bigint, boolean) IS 'set the counter position and is_called flag, like setval';

CREATE FUNCTION set_block_size(seq regclass, block_size integer)
RETURNS void
AS 'MODULE_PATHNAME', 'seqdist_set_block_size'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION set_block_size(regclass, integer) IS 'fix the values reserved per DynamoDB request for this sequence; NULL lets blocks adapt again';
REVOKE ALL ON FUNCTION set_block_size(regclass, integer) FROM PUBLIC;

CREATE FUNCTION set_strict(seq regclass, strict boolean)
RETURNS void
AS 'MODULE_PATHNAME', 'seqdist_set_strict'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION set_strict(regclass, boolean) IS 'strict mode: every value straight from DynamoDB, globally ordered, no cache gaps';
REVOKE ALL ON FUNCTION set_strict(regclass, boolean) FROM PUBLIC;

CREATE FUNCTION forget_cached(oid, text)
RETURNS void
AS 'MODULE_PATHNAME', 'seqdist_forget_cached'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION forget_cached(oid, text) IS 'free the instance cache slot of a dropped sequence and leave its counter (used by the drop trigger)';
REVOKE ALL ON FUNCTION forget_cached(oid, text) FROM PUBLIC;

CREATE FUNCTION create_table()
RETURNS text
AS 'MODULE_PATHNAME', 'seqdist_create_table'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION create_table() IS 'create the DynamoDB counter table (seqdist.table_name) if missing and wait until it is active';
REVOKE ALL ON FUNCTION create_table() FROM PUBLIC;

CREATE FUNCTION health(OUT check_name text, OUT ok boolean, OUT detail text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'seqdist_health'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION health() IS 'is DynamoDB reachable, are the credentials accepted, is the counter table active';
REVOKE ALL ON FUNCTION health() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION health() TO pg_monitor;

CREATE FUNCTION register(seq regclass, counter_key text DEFAULT NULL,
                         OUT counter_key text, OUT status text, OUT last_value numeric)
RETURNS record
AS 'MODULE_PATHNAME', 'seqdist_register'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION register(regclass, text) IS 'create or join the DynamoDB counter of a native sequence, seeded from its current state';
REVOKE ALL ON FUNCTION register(regclass, text) FROM PUBLIC;

CREATE FUNCTION counter_item(seq regclass)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'seqdist_counter_item'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION counter_item(regclass) IS 'the DynamoDB counter item of a registered sequence, read consistently';

-- What the instance cache and the refill worker did, one row per cached
-- sequence of the instance (all databases).
CREATE FUNCTION stats_1_0(
    OUT dbid oid, OUT seqrelid oid, OUT counter_key text,
    OUT cached_values bigint, OUT runway_seconds float8, OUT block_size bigint,
    OUT values_per_second float8,
    OUT blocks_by_worker bigint, OUT blocks_by_backend bigint,
    OUT requests bigint, OUT retries bigint, OUT throttles bigint, OUT errors bigint,
    OUT last_error text, OUT last_error_at timestamptz,
    OUT latency_p50_ms float8, OUT latency_p99_ms float8,
    OUT backend_waits bigint, OUT backend_wait_ms float8)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'seqdist_stats_1_0'
LANGUAGE C STRICT VOLATILE PARALLEL SAFE;
REVOKE ALL ON FUNCTION stats_1_0() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION stats_1_0() TO pg_monitor;

CREATE VIEW stats AS
    SELECT d.datname AS database, s.seqrelid::regclass AS sequence, s.counter_key,
           s.cached_values, round(s.runway_seconds::numeric, 1) AS runway_seconds,
           s.block_size, round(s.values_per_second::numeric, 1) AS values_per_second,
           s.blocks_by_worker, s.blocks_by_backend, s.requests, s.retries,
           s.throttles, s.errors, s.last_error, s.last_error_at,
           s.latency_p50_ms, s.latency_p99_ms, s.backend_waits,
           round(s.backend_wait_ms::numeric, 3) AS backend_wait_ms
    FROM stats_1_0() s LEFT JOIN pg_database d ON d.oid = s.dbid;
COMMENT ON VIEW stats IS 'seqdist instance cache and refill worker, one row per cached sequence';
REVOKE ALL ON stats FROM PUBLIC;
GRANT SELECT ON stats TO pg_monitor;

CREATE FUNCTION stats_reset()
RETURNS void
AS 'MODULE_PATHNAME', 'seqdist_stats_reset'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION stats_reset() FROM PUBLIC;

-- Forget registrations and cached values of sequences that are dropped.
CREATE FUNCTION forget_dropped_sequences()
RETURNS event_trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    dropped record;
BEGIN
    FOR dropped IN
        DELETE FROM seqdist.sequences s
        USING pg_event_trigger_dropped_objects() d
        WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
          AND d.objid OPERATOR(pg_catalog.=) s.seqrelid::pg_catalog.oid
        RETURNING d.objid, s.counter_key
    LOOP
        PERFORM seqdist.forget_cached(dropped.objid, dropped.counter_key);
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION forget_dropped_sequences() FROM PUBLIC;
CREATE EVENT TRIGGER seqdist_forget_dropped_sequences ON sql_drop
    EXECUTE FUNCTION forget_dropped_sequences();
-- also under session_replication_role = replica (logical replication apply, pg_restore --disable-triggers)
ALTER EVENT TRIGGER seqdist_forget_dropped_sequences ENABLE ALWAYS;

-- Keep counter items in step with ALTER SEQUENCE of registered sequences.
-- (No pinned search_path: it finds the altered sequence by the name the
-- command used, under the command's own search_path.)
CREATE FUNCTION on_alter_sequence()
RETURNS event_trigger
AS 'MODULE_PATHNAME', 'seqdist_on_alter_sequence'
LANGUAGE C;
REVOKE ALL ON FUNCTION on_alter_sequence() FROM PUBLIC;
CREATE EVENT TRIGGER seqdist_alter_sequence ON ddl_command_end
    WHEN TAG IN ('ALTER SEQUENCE', 'ALTER TABLE')
    EXECUTE FUNCTION on_alter_sequence();
ALTER EVENT TRIGGER seqdist_alter_sequence ENABLE ALWAYS;
