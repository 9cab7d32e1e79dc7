/* seqdist--1.0--1.1.sql: upgrade the SQL objects of seqdist 1.0 to 1.1 */
-- Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.

\echo Use "ALTER EXTENSION seqdist UPDATE TO '1.1'" to load this file. \quit

-- A fresh CREATE EXTENSION runs seqdist--1.0.sql and then this file, so
-- everything added in 1.1 is written here once.  seqdist--1.0.sql is what
-- 1.0 installed and is never changed again.
--
-- C functions keep their symbols: the library of a version serves the SQL
-- objects of every earlier version too, so that a database still at an
-- older version keeps working after the library is upgraded and the server
-- restarted, until ALTER EXTENSION seqdist UPDATE runs.  A function whose
-- columns change gets a new SQL function and C entry point named after the
-- version (as stats_1_0 is; see src/stats.c), the view moves to it, and the
-- old SQL function is dropped here; the old entry point stays in the library.

--------------------------------------------------------------------------
-- Migration: plan, migrate, verify and roll back live schemas
--------------------------------------------------------------------------
--
-- A migrated sequence is registered, its counter is seeded at or beyond the
-- native position and the extreme value of every column that uses it, its
-- column defaults call seqdist_nextval, and the native sequence is fenced
-- at its bound when the migration commits.  The planner hook (routing.c)
-- sends native nextval/currval/lastval/setval calls and identity values of
-- migrated sequences to the counter.  The state is kept in two tables that
-- pg_dump dumps, so a restored database is a migrated database.
--
-- The public functions resolve their scope under the caller's search_path
-- (through _resolve_scope, which names everything with its schema) and
-- hand OIDs to functions that pin search_path.

-- One row per migrated sequence: routing.c reads this table.
CREATE TABLE migrated_sequences (
    seqrelid          regclass PRIMARY KEY,
    counter_key       text NOT NULL,
    native_last_value bigint NOT NULL,
    native_is_called  boolean NOT NULL,
    migrated_at       timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE migrated_sequences IS 'sequences migrated to seqdist: routed to their counters and fenced natively';
COMMENT ON COLUMN migrated_sequences.native_last_value IS 'the native state before the fence (informational)';
SELECT pg_catalog.pg_extension_config_dump('migrated_sequences', '');
REVOKE ALL ON migrated_sequences FROM PUBLIC;
GRANT SELECT ON migrated_sequences TO PUBLIC;

-- One row per column a migration changed or routes.
CREATE TABLE migrated_columns (
    seqrelid         regclass NOT NULL,
    tablerelid       regclass NOT NULL,
    column_name      name NOT NULL,
    kind             text NOT NULL CHECK (kind IN ('default', 'identity')),
    original_default text,
    PRIMARY KEY (tablerelid, column_name)
);
COMMENT ON TABLE migrated_columns IS 'column defaults and identity columns of migrated sequences, with each original default';
SELECT pg_catalog.pg_extension_config_dump('migrated_columns', '');
REVOKE ALL ON migrated_columns FROM PUBLIC;
GRANT SELECT ON migrated_columns TO PUBLIC;

-- Every change of the migrated set makes every backend read it again.
CREATE FUNCTION _migration_changed()
RETURNS trigger
AS 'MODULE_PATHNAME', 'seqdist_migration_changed'
LANGUAGE C;
REVOKE ALL ON FUNCTION _migration_changed() FROM PUBLIC;
CREATE TRIGGER migrated_sequences_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON migrated_sequences
    FOR EACH STATEMENT EXECUTE FUNCTION _migration_changed();
ALTER TABLE migrated_sequences ENABLE ALWAYS TRIGGER migrated_sequences_changed;

-- What the planner hook puts into queries (callable by everyone: they
-- make the checks of the native calls they replace).
CREATE FUNCTION route_nextval(regclass)
RETURNS bigint
AS 'MODULE_PATHNAME', 'seqdist_route_nextval'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION route_nextval(regclass) IS 'nextval: from the counter if the sequence is migrated, native otherwise';

CREATE FUNCTION route_currval(regclass)
RETURNS bigint
AS 'MODULE_PATHNAME', 'seqdist_route_currval'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION route_currval(regclass) IS 'currval: the counter''s if the sequence is migrated, native otherwise';

CREATE FUNCTION route_setval(regclass, bigint)
RETURNS bigint
AS 'MODULE_PATHNAME', 'seqdist_route_setval'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION route_setval(regclass, bigint) IS 'setval: moves the counter if the sequence is migrated, native otherwise';

CREATE FUNCTION route_setval(regclass, bigint, boolean)
RETURNS bigint
AS 'MODULE_PATHNAME', 'seqdist_route_setval3'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION route_setval(regclass, bigint, boolean) IS 'setval: moves the counter if the sequence is migrated, native otherwise';

CREATE FUNCTION route_lastval()
RETURNS bigint
AS 'MODULE_PATHNAME', 'seqdist_route_lastval'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION route_lastval() IS 'lastval: the counter''s or the native value, whichever this session took last';

CREATE FUNCTION identity_nextval(regclass)
RETURNS bigint
AS 'MODULE_PATHNAME', 'seqdist_identity_nextval'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION identity_nextval(regclass) IS 'the value of an identity column: from the counter if its sequence is migrated';

-- The C side of migrate and rollback.
CREATE FUNCTION _migrate_register(seqs regclass[], floors numeric[], limits numeric[])
RETURNS TABLE (seq regclass, counter_key text, last_value numeric,
               sqlstate text, message text, detail text, hint text,
               native_last_value bigint, native_is_called boolean)
AS 'MODULE_PATHNAME', 'seqdist_migrate_register'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION _migrate_register(regclass[], numeric[], numeric[]) FROM PUBLIC;

CREATE FUNCTION _migrate_adopt(seq regclass, counter_key text)
RETURNS void
AS 'MODULE_PATHNAME', 'seqdist_migrate_adopt'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION _migrate_adopt(regclass, text) FROM PUBLIC;

CREATE FUNCTION _migrate_fence(seq regclass)
RETURNS void
AS 'MODULE_PATHNAME', 'seqdist_migrate_fence'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION _migrate_fence(regclass) FROM PUBLIC;

CREATE FUNCTION _migrate_release(seq regclass)
RETURNS void
AS 'MODULE_PATHNAME', 'seqdist_migrate_release'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION _migrate_release(regclass) FROM PUBLIC;

CREATE FUNCTION _defer_reload(on_ boolean)
RETURNS void
AS 'MODULE_PATHNAME', 'seqdist_defer_reload'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION _defer_reload(boolean) FROM PUBLIC;

CREATE FUNCTION _invalidate_plans(rel regclass)
RETURNS void
AS 'MODULE_PATHNAME', 'seqdist_invalidate_plans'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION _invalidate_plans(regclass) FROM PUBLIC;

CREATE FUNCTION _counter_item_by_key(counter_key text)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'seqdist_counter_item_by_key'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION _counter_item_by_key(text) FROM PUBLIC;

CREATE FUNCTION _counter_items_by_key(counter_keys text[])
RETURNS jsonb[]
AS 'MODULE_PATHNAME', 'seqdist_counter_items_by_key'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION _counter_items_by_key(text[]) FROM PUBLIC;

-- The scope, resolved under the caller's search_path: ('d', 0) for the
-- database, ('r', relation) or ('n', schema).
CREATE FUNCTION _resolve_scope(scope pg_catalog.text, OUT kind pg_catalog."char", OUT objid pg_catalog.oid)
RETURNS record
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    IF scope IS NULL THEN
        kind := 'd';
        objid := 0;
        RETURN;
    END IF;
    objid := pg_catalog.to_regclass(scope);
    IF objid IS NOT NULL THEN
        kind := 'r';
        RETURN;
    END IF;
    objid := pg_catalog.to_regnamespace(scope);
    IF objid IS NOT NULL THEN
        kind := 'n';
        RETURN;
    END IF;
    RAISE EXCEPTION USING
        ERRCODE = 'undefined_object',
        MESSAGE = pg_catalog.format('no sequence, table or schema named %s', scope),
        HINT = 'Name a sequence, a table or a schema as in SQL (quote mixed-case names: ''"MyTable"''), or pass NULL for the whole database.';
END
$$;
REVOKE ALL ON FUNCTION _resolve_scope(text) FROM PUBLIC;

-- The sequences of a resolved scope, in name order.
CREATE FUNCTION _scope_sequences(kind "char", objid oid)
RETURNS regclass[]
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    rk "char";
    result regclass[];
BEGIN
    IF kind = 'r' THEN
        SELECT c.relkind INTO rk FROM pg_class c WHERE c.oid = objid;
        IF rk IS NULL OR rk NOT IN ('S', 'r', 'p') THEN
            RAISE EXCEPTION USING
                ERRCODE = 'wrong_object_type',
                MESSAGE = format('"%s" is not a sequence, a table or a schema', objid::regclass),
                HINT = 'Name a sequence, a table or a schema, or pass NULL for the whole database.';
        END IF;
    END IF;
    WITH users AS (
        -- column defaults that use a sequence
        SELECT dep.refobjid AS seq, d.adrelid AS tab
        FROM pg_depend dep JOIN pg_attrdef d ON d.oid = dep.objid
        WHERE dep.classid = 'pg_attrdef'::regclass AND dep.refclassid = 'pg_class'::regclass
        UNION
        -- identity columns
        SELECT dep.objid, dep.refobjid
        FROM pg_depend dep
        WHERE dep.classid = 'pg_class'::regclass AND dep.refclassid = 'pg_class'::regclass
          AND dep.deptype = 'i' AND dep.refobjsubid <> 0
    ), chosen AS (
        SELECT c.oid FROM pg_class c
        WHERE c.relkind = 'S' AND (
              (kind = 'r' AND c.oid = objid)
           OR (kind = 'r' AND c.oid IN (SELECT u.seq FROM users u WHERE u.tab = objid))
           OR (kind = 'n' AND c.relnamespace = objid)
           OR (kind = 'n' AND c.oid IN (SELECT u.seq FROM users u JOIN pg_class t ON t.oid = u.tab
                                        WHERE t.relnamespace = objid))
           OR (kind = 'd' AND c.relnamespace NOT IN ('pg_catalog'::regnamespace,
                                                     'information_schema'::regnamespace)
                          AND c.relpersistence <> 't'))
    )
    SELECT coalesce(array_agg(c.oid::regclass ORDER BY n.nspname, c.relname), '{}') INTO result
    FROM chosen ch JOIN pg_class c ON c.oid = ch.oid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE NOT EXISTS (SELECT FROM pg_depend e
                      WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid AND e.deptype = 'e');
    RETURN result;
END
$$;
REVOKE ALL ON FUNCTION _scope_sequences("char", oid) FROM PUBLIC;

-- Every column that uses seq: defaults that mention it and identity
-- columns it serves.  native: the default is exactly nextval(seq);
-- switched: it is exactly seqdist.seqdist_nextval(seq).  PL/pgSQL, not
-- SQL, so that its plan is kept from call to call; ROWS 2, so that joins
-- with it look rows up instead of hashing a catalog.
CREATE FUNCTION _column_uses(seq regclass,
    OUT tablerelid regclass, OUT column_name name, OUT kind text, OUT typid regtype,
    OUT expr text, OUT native boolean, OUT switched boolean)
RETURNS SETOF record
LANGUAGE plpgsql STABLE ROWS 2
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN QUERY
    SELECT d.adrelid::regclass, a.attname, 'default', a.atttypid::regtype, d.expr,
           d.expr = format('nextval(%L::regclass)', seq::text),
           d.expr = format('seqdist.seqdist_nextval(%L::regclass)', seq::text)
    FROM pg_depend dep
    JOIN LATERAL (SELECT ad.adrelid, ad.adnum, pg_get_expr(ad.adbin, ad.adrelid) AS expr
                    FROM pg_attrdef ad WHERE ad.oid = dep.objid OFFSET 0) d ON true
    JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
    -- coalesce keeps classid out of the index choice: without statistics on
    -- pg_depend (a database just created or restored), the planner would
    -- otherwise scan every default's dependency by pg_depend_depender_index
    WHERE coalesce(dep.classid, 0) = 'pg_attrdef'::regclass AND dep.refclassid = 'pg_class'::regclass
      AND dep.refobjid = seq
    UNION ALL
    SELECT a.attrelid::regclass, a.attname, 'identity', a.atttypid::regtype, NULL, true, true
    FROM pg_depend dep
    JOIN pg_attribute a ON a.attrelid = dep.refobjid AND a.attnum = dep.refobjsubid
    WHERE dep.classid = 'pg_class'::regclass AND dep.refclassid = 'pg_class'::regclass
      AND dep.objid = seq AND dep.deptype = 'i' AND a.attidentity <> ''
    ORDER BY 1, 2;
END
$$;
REVOKE ALL ON FUNCTION _column_uses(regclass) FROM PUBLIC;

-- The counter key seq is registered under, or the one it would get.
CREATE FUNCTION _counter_key(seq regclass)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce((SELECT r.counter_key FROM seqdist.sequences r WHERE r.seqrelid = seq),
                    (SELECT format('%s.%s.%s', quote_ident(current_database()), quote_ident(n.nspname),
                                   quote_ident(c.relname))
                       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                      WHERE c.oid = seq))
$$;
REVOKE ALL ON FUNCTION _counter_key(regclass) FROM PUBLIC;

-- Everything migrate needs to know about seq, and every reason it cannot
-- be migrated (problems, with an SQLSTATE each in codes).  Positions are
-- the last value used, in the direction of the increment; seed is where
-- the counter will be at least; position_limit is the furthest position
-- whose next value every column can hold (NULL: no limit).  item is the
-- counter item under counter_key, read by the caller (NULL: none).
CREATE FUNCTION _examine(seq regclass, counter_key text, item jsonb,
    OUT problems text[], OUT codes text[], OUT floor numeric, OUT native_position numeric,
    OUT counter_position numeric, OUT seed numeric, OUT position_limit numeric)
RETURNS record
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s record;
    u record;
    m numeric;
    ascending boolean;
    lim numeric;
    schemas oid[] := '{}';
    narrow text[] := '{}';
    narrow_limits numeric[] := '{}';
BEGIN
    problems := '{}';
    codes := '{}';
    SELECT c.relname, n.nspname, c.relpersistence, c.relowner, q.seqincrement, q.seqmin,
           q.seqmax, q.seqcycle
      INTO s
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_sequence q ON q.seqrelid = c.oid
     WHERE c.oid = seq;
    ascending := s.seqincrement > 0;
    IF NOT pg_has_role(s.relowner, 'USAGE') THEN
        problems := problems || format('permission denied: must be owner of sequence %s', seq);
        codes := codes || '42501'::text;
        RETURN;
    END IF;
    IF s.relpersistence = 't' THEN
        problems := problems || 'a temporary sequence'::text;
        codes := codes || '0A000'::text;
    END IF;
    IF s.seqcycle THEN
        problems := problems || 'a CYCLE sequence: its native side cannot be fenced (it would wrap around and hand out values again)'::text;
        codes := codes || '0A000'::text;
    END IF;
    EXECUTE format('SELECT CASE WHEN is_called THEN last_value::numeric ELSE last_value::numeric - %s END FROM %s',
                   s.seqincrement, seq)
       INTO native_position;

    FOR u IN SELECT cu.*, t.relowner, t.relnamespace
               FROM seqdist._column_uses(seq) cu JOIN pg_class t ON t.oid = cu.tablerelid LOOP
        IF NOT u.relnamespace = ANY (schemas) THEN
            schemas := schemas || u.relnamespace;
        END IF;
        IF NOT pg_has_role(u.relowner, 'USAGE') THEN
            problems := problems || format('permission denied: must be owner of table %s', u.tablerelid);
            codes := codes || '42501'::text;
            CONTINUE;
        END IF;
        IF u.kind = 'default' AND NOT (u.native OR u.switched) THEN
            problems := problems || format('the default of %s.%I does more than call nextval: %s',
                                           u.tablerelid, u.column_name, u.expr);
            codes := codes || '55000'::text;
            CONTINUE;
        END IF;
        IF u.typid NOT IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype, 'numeric'::regtype) THEN
            problems := problems || format('column %s.%I has type %s, not an integer type',
                                           u.tablerelid, u.column_name, u.typid);
            codes := codes || '42804'::text;
            CONTINUE;
        END IF;
        IF u.typid IN ('smallint'::regtype, 'integer'::regtype) THEN
            -- the furthest position whose next value the column holds
            lim := CASE WHEN u.typid = 'smallint'::regtype THEN 32767 ELSE 2147483647 END;
            lim := CASE WHEN ascending THEN lim ELSE -lim - 1 END - s.seqincrement;
            IF position_limit IS NULL OR (ascending AND lim < position_limit)
               OR (NOT ascending AND lim > position_limit) THEN
                position_limit := lim;
            END IF;
            narrow := narrow || format('%s.%I (%s)', u.tablerelid, u.column_name, u.typid);
            narrow_limits := narrow_limits || lim;
        END IF;
        EXECUTE format('SELECT %s(%I)::numeric FROM %s', CASE WHEN ascending THEN 'max' ELSE 'min' END,
                       u.column_name, u.tablerelid)
           INTO m;
        IF m IS NOT NULL AND (floor IS NULL OR (ascending AND m > floor) OR (NOT ascending AND m < floor)) THEN
            floor := m;
        END IF;
    END LOOP;
    IF cardinality(schemas) > 1 THEN
        problems := problems || 'a sequence shared by columns in several schemas'::text;
        codes := codes || '55000'::text;
    END IF;

    IF item IS NOT NULL THEN
        counter_position := (item->>'last_value')::numeric;
        IF (item->>'increment')::numeric <> s.seqincrement
           OR coalesce((item->>'cycle')::boolean, false) <> s.seqcycle THEN
            problems := problems || format('counter key %s is already used by a different definition (increment %s%s, here %s%s)',
                                           counter_key, item->>'increment',
                                           CASE WHEN (item->>'cycle')::boolean THEN ' CYCLE' ELSE '' END,
                                           s.seqincrement, CASE WHEN s.seqcycle THEN ' CYCLE' ELSE '' END);
            codes := codes || '55000'::text;
        END IF;
    END IF;

    seed := native_position;
    IF floor IS NOT NULL AND ((ascending AND floor > seed) OR (NOT ascending AND floor < seed)) THEN
        seed := floor;
    END IF;
    IF counter_position IS NOT NULL
       AND ((ascending AND counter_position > seed) OR (NOT ascending AND counter_position < seed)) THEN
        seed := counter_position;
    END IF;

    -- the next value must fit every column
    FOR i IN 1 .. cardinality(narrow) LOOP
        IF (ascending AND seed > narrow_limits[i]) OR (NOT ascending AND seed < narrow_limits[i]) THEN
            problems := problems || format('column %s is too small for the counter''s position %s', narrow[i], seed);
            codes := codes || '22003'::text;
        END IF;
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION _examine(regclass, text, jsonb) FROM PUBLIC;

-- Take the locks a migration or rollback of seq needs, tables first (in
-- OID order) and then the sequence, the order in which inserts take them:
-- ACCESS EXCLUSIVE on tables whose default changes, SHARE ROW EXCLUSIVE on
-- the others (no insert until commit, reads go on).
CREATE FUNCTION _lock_users(seq regclass, defaults_change boolean)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT u.tablerelid, bool_or(u.kind = 'default') AS has_default
               FROM seqdist._column_uses(seq) u
              GROUP BY u.tablerelid ORDER BY u.tablerelid::oid LOOP
        EXECUTE format('LOCK TABLE %s IN %s MODE', t.tablerelid,
                       CASE WHEN t.has_default AND defaults_change THEN 'ACCESS EXCLUSIVE'
                            ELSE 'SHARE ROW EXCLUSIVE' END);
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION _lock_users(regclass, boolean) FROM PUBLIC;

-- seqs cut into arrays of at most size elements, in order.
CREATE FUNCTION _chunks(seqs regclass[], size integer)
RETURNS SETOF regclass[]
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT seqs[lo : lo + size - 1] FROM generate_series(1, cardinality(seqs), greatest(size, 1)) lo
$$;
REVOKE ALL ON FUNCTION _chunks(regclass[], integer) FROM PUBLIC;

-- The sequences of a resolved scope in chunks of size, each with the total.
CREATE FUNCTION _scope_chunks(kind "char", objid oid, size integer)
RETURNS TABLE (chunk regclass[], total integer)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    seqs regclass[];
BEGIN
    IF size IS NULL OR size < 1 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('batch size must be at least 1, not %s', coalesce(size::text, 'NULL'));
    END IF;
    seqs := seqdist._scope_sequences(kind, objid);
    RETURN QUERY SELECT c, cardinality(seqs) FROM seqdist._chunks(seqs, size) c;
END
$$;
REVOKE ALL ON FUNCTION _scope_chunks("char", oid, integer) FROM PUBLIC;

CREATE FUNCTION _plan(kind "char", objid oid)
RETURNS TABLE (sequence regclass, action text, object text, detail text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    seqs regclass[] := seqdist._scope_sequences(kind, objid);
    chunk regclass[];
    keys text[];
    items jsonb[];
    seq regclass;
    e record;
    u record;
    p text;
BEGIN
    FOR chunk IN SELECT c FROM seqdist._chunks(seqs, 1000) c LOOP
        -- the counter items of a chunk are read at once
        keys := ARRAY(SELECT seqdist._counter_key(x) FROM unnest(chunk) WITH ORDINALITY t(x, o) ORDER BY o);
        items := seqdist._counter_items_by_key(keys);
        FOR i IN 1 .. cardinality(chunk) LOOP
            seq := chunk[i];
            sequence := seq;
            IF EXISTS (SELECT FROM seqdist.migrated_sequences m WHERE m.seqrelid = seq) THEN
                action := 'already migrated';
                object := (SELECT m.counter_key FROM seqdist.migrated_sequences m WHERE m.seqrelid = seq);
                detail := NULL;
                RETURN NEXT;
                CONTINUE;
            END IF;
            e := seqdist._examine(seq, keys[i], items[i]);
            IF cardinality(e.problems) > 0 THEN
                FOREACH p IN ARRAY e.problems LOOP
                    action := 'cannot migrate';
                    object := NULL;
                    detail := p;
                    RETURN NEXT;
                END LOOP;
                CONTINUE;
            END IF;
            action := 'register';
            object := keys[i];
            detail := format('counter at least at %s (native position %s, columns %s, counter %s)',
                             e.seed, e.native_position, coalesce(e.floor::text, 'empty'),
                             coalesce(e.counter_position::text, 'new'));
            RETURN NEXT;
            FOR u IN SELECT * FROM seqdist._column_uses(seq) LOOP
                object := format('%s.%I', u.tablerelid, u.column_name);
                IF u.kind = 'identity' THEN
                    action := 'route identity';
                    detail := format('identity column (%s), values from the counter',
                                     (SELECT CASE a.attidentity WHEN 'a' THEN 'ALWAYS' ELSE 'BY DEFAULT' END
                                        FROM pg_attribute a
                                       WHERE a.attrelid = u.tablerelid AND a.attname = u.column_name));
                ELSIF u.switched THEN
                    action := 'keep default';
                    detail := u.expr;
                ELSE
                    action := 'switch default';
                    detail := format('%s -> seqdist.seqdist_nextval(%L::regclass)', u.expr, seq::text);
                END IF;
                RETURN NEXT;
            END LOOP;
            -- functions whose text names the sequence: routed when they run
            FOR u IN SELECT pr.oid::regprocedure AS f FROM pg_proc pr
                      WHERE pr.prosrc LIKE '%' || (SELECT c.relname FROM pg_class c WHERE c.oid = seq) || '%'
                        AND pr.pronamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
                        AND NOT EXISTS (SELECT FROM pg_depend x WHERE x.classid = 'pg_proc'::regclass
                                         AND x.objid = pr.oid AND x.deptype = 'e')
                      ORDER BY 1::text LOOP
                action := 'caller';
                object := u.f::text;
                detail := 'function text names the sequence: its native calls are routed to the counter';
                RETURN NEXT;
            END LOOP;
            action := 'fence';
            object := seq::text;
            detail := 'native nextval fails from the commit on (the sequence is set to its bound)';
            RETURN NEXT;
        END LOOP;
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION _plan("char", oid) FROM PUBLIC;

-- Raise an error recorded by a C function: its SQLSTATE, message, detail
-- and hint (either may be NULL).
CREATE FUNCTION _raise(state text, msg text, det text, hin text)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF det IS NULL AND hin IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = state, MESSAGE = msg;
    ELSIF hin IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = state, MESSAGE = msg, DETAIL = det;
    ELSIF det IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = state, MESSAGE = msg, HINT = hin;
    END IF;
    RAISE EXCEPTION USING ERRCODE = state, MESSAGE = msg, DETAIL = det, HINT = hin;
END
$$;
REVOKE ALL ON FUNCTION _raise(text, text, text, text) FROM PUBLIC;

-- A sequence that a bulk call skips: the WARNING, which names it.
CREATE FUNCTION _warn_skipped(seq regclass, verb text, msg text, state text)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE WARNING USING
        MESSAGE = CASE WHEN msg LIKE format('sequence %s %%', seq) THEN msg
                       ELSE format('sequence %s not %s: %s', seq, verb, msg) END,
        DETAIL = format('SQLSTATE %s; nothing of this sequence was changed.', state);
END
$$;
REVOKE ALL ON FUNCTION _warn_skipped(regclass, text, text, text) FROM PUBLIC;

-- Migrate the sequences of seqs, in three steps:
--  1. one subtransaction each: lock the tables that use it, examine it
--     (the counter items of all of them are read at once beforehand);
--  2. register them all with their counters (seqdist._migrate_register:
--     the sequences are locked one by one, and the DynamoDB requests sent
--     seqdist.bulk_concurrency at a time);
--  3. one subtransaction each: record the registration, switch the
--     defaults, record the migration, fence the native sequence.
-- A sequence that fails a step is skipped with a WARNING (or, if single,
-- its error is the call's), and nothing of it is changed locally; its
-- counter may have been created or joined in step 2, which moves no value
-- backwards and is taken up by a later migrate.  A lack of resources or a
-- cancel ends the whole call.  One row per sequence, in the order of seqs.
CREATE FUNCTION _migrate_chunk(seqs regclass[], single boolean)
RETURNS TABLE (sequence regclass, status text, detail text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    keys text[];
    items jsonb[];
    todo regclass[] := '{}';
    seeds numeric[] := '{}';
    limits numeric[] := '{}';
    done regclass[] := '{}';
    statuses text[] := '{}';
    details text[] := '{}';
    seq regclass;
    e record;
    reg record;
    u record;
    msg text;
    state text;
BEGIN
    keys := ARRAY(SELECT seqdist._counter_key(x) FROM unnest(seqs) WITH ORDINALITY t(x, o) ORDER BY o);
    items := seqdist._counter_items_by_key(keys);
    FOR i IN 1 .. cardinality(seqs) LOOP
        seq := seqs[i];
        BEGIN
            PERFORM seqdist._lock_users(seq, true);
            IF EXISTS (SELECT FROM seqdist.migrated_sequences m WHERE m.seqrelid = seq) THEN
                -- columns that started to use it since: switch them too
                FOR u IN SELECT * FROM seqdist._column_uses(seq) c WHERE c.kind = 'default' AND c.native LOOP
                    EXECUTE format('ALTER TABLE %s ALTER COLUMN %I SET DEFAULT seqdist.seqdist_nextval(%L::regclass)',
                                   u.tablerelid, u.column_name, seq::text);
                    INSERT INTO seqdist.migrated_columns VALUES (seq, u.tablerelid, u.column_name, u.kind, u.expr)
                        ON CONFLICT DO NOTHING;
                END LOOP;
                done := done || seq;
                statuses := statuses || 'already migrated'::text;
                details := details || NULL::text;
            ELSE
                e := seqdist._examine(seq, keys[i], items[i]);
                IF cardinality(e.problems) > 0 THEN
                    RAISE EXCEPTION USING
                        ERRCODE = e.codes[1],
                        MESSAGE = format('sequence %s cannot be migrated: %s', seq, array_to_string(e.problems, '; ')),
                        HINT = 'seqdist.migration_plan() lists what cannot be migrated and why.';
                END IF;
                todo := todo || seq;
                seeds := seeds || e.seed;
                limits := limits || e.position_limit;
            END IF;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, state = RETURNED_SQLSTATE;
            IF single OR left(state, 2) IN ('53', '54', '57') THEN
                RAISE;
            END IF;
            PERFORM seqdist._warn_skipped(seq, 'migrated', msg, state);
            done := done || seq;
            statuses := statuses || 'skipped'::text;
            details := details || msg;
        END;
    END LOOP;

    FOR reg IN SELECT * FROM seqdist._migrate_register(todo, seeds, limits) LOOP
        seq := reg.seq;
        BEGIN
            IF reg.sqlstate IS NOT NULL THEN
                PERFORM seqdist._raise(reg.sqlstate, reg.message, reg.detail, reg.hint);
            END IF;
            PERFORM seqdist._migrate_adopt(seq, reg.counter_key);
            FOR u IN SELECT DISTINCT ON (c.tablerelid, c.column_name) c.*
                       FROM seqdist._column_uses(seq) c ORDER BY c.tablerelid, c.column_name LOOP
                IF u.kind = 'default' AND u.native THEN
                    EXECUTE format('ALTER TABLE %s ALTER COLUMN %I SET DEFAULT seqdist.seqdist_nextval(%L::regclass)',
                                   u.tablerelid, u.column_name, seq::text);
                END IF;
                INSERT INTO seqdist.migrated_columns
                    VALUES (seq, u.tablerelid, u.column_name, u.kind,
                            CASE WHEN u.kind = 'default' THEN format('nextval(%L::regclass)', seq::text) END)
                    ON CONFLICT (tablerelid, column_name) DO UPDATE
                    SET seqrelid = EXCLUDED.seqrelid, kind = EXCLUDED.kind,
                        original_default = EXCLUDED.original_default;
                PERFORM seqdist._invalidate_plans(u.tablerelid);
            END LOOP;
            INSERT INTO seqdist.migrated_sequences (seqrelid, counter_key, native_last_value, native_is_called)
                VALUES (seq, reg.counter_key, reg.native_last_value, reg.native_is_called);
            PERFORM seqdist._invalidate_plans(seq);
            PERFORM seqdist._migrate_fence(seq);
            done := done || seq;
            statuses := statuses || 'migrated'::text;
            details := details || format('counter %s at %s', reg.counter_key, reg.last_value);
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, state = RETURNED_SQLSTATE;
            IF single OR left(state, 2) IN ('53', '54', '57') THEN
                RAISE;
            END IF;
            PERFORM seqdist._warn_skipped(seq, 'migrated', msg, state);
            done := done || seq;
            statuses := statuses || 'skipped'::text;
            details := details || msg;
        END;
    END LOOP;

    RETURN QUERY
        SELECT d.seq, d.status, d.detail
          FROM unnest(done, statuses, details) AS d(seq, status, detail)
          ORDER BY array_position(seqs, d.seq);
END
$$;
REVOKE ALL ON FUNCTION _migrate_chunk(regclass[], boolean) FROM PUBLIC;

CREATE FUNCTION _verify(kind "char", objid oid)
RETURNS TABLE (sequence regclass, ok boolean, reason text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    seq regclass;
    s record;
    u record;
    st record;
    item jsonb;
    key text;
    pos numeric;
    m numeric;
    reasons text[];
    ascending boolean;
    n_switched integer;
    n_routed integer;
    chunk regclass[];
    keys text[];
    items jsonb[];
BEGIN
    FOR chunk IN SELECT c FROM seqdist._chunks(ARRAY(
                     SELECT x FROM unnest(seqdist._scope_sequences(kind, objid)) WITH ORDINALITY t(x, o)
                      WHERE EXISTS (SELECT FROM seqdist.migrated_sequences ms WHERE ms.seqrelid = x)
                      ORDER BY o), 1000) c LOOP
        -- the counter items of a chunk are read at once
        keys := ARRAY(SELECT r.counter_key FROM unnest(chunk) WITH ORDINALITY t(x, o)
                        LEFT JOIN seqdist.sequences r ON r.seqrelid = t.x ORDER BY t.o);
        items := seqdist._counter_items_by_key(keys);
        FOR i IN 1 .. cardinality(chunk) LOOP
            seq := chunk[i];
            sequence := seq;
            reasons := '{}';
            n_switched := 0;
            n_routed := 0;
            SELECT q.seqincrement, q.seqmin, q.seqmax, q.seqcycle, q.seqstart INTO s
              FROM pg_sequence q WHERE q.seqrelid = seq;
            ascending := s.seqincrement > 0;
            key := keys[i];
            pos := NULL;
            IF key IS NULL THEN
                reasons := reasons || 'not registered with seqdist'::text;
            ELSE
                item := items[i];
                IF item IS NULL THEN
                    reasons := reasons || format('counter item %s missing', key);
                ELSE
                    pos := (item->>'last_value')::numeric;
                    IF (item->>'increment')::numeric <> s.seqincrement
                       OR coalesce((item->>'cycle')::boolean, false) <> s.seqcycle THEN
                        reasons := reasons || format('the counter''s definition (increment %s) differs from the sequence''s (increment %s)',
                                                     item->>'increment', s.seqincrement);
                    END IF;
                END IF;
            END IF;
            FOR u IN SELECT * FROM seqdist._column_uses(seq) LOOP
                -- a default calls seqdist_nextval; an identity column keeps its
                -- sequence and the planner hook routes its values
                IF u.kind = 'identity' THEN
                    n_routed := n_routed + 1;
                ELSIF u.switched THEN
                    n_switched := n_switched + 1;
                END IF;
                IF u.kind = 'default' AND NOT u.switched THEN
                    reasons := reasons || format('the default of %s.%I is %s', u.tablerelid, u.column_name, u.expr);
                END IF;
                IF pos IS NOT NULL AND u.typid IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype, 'numeric'::regtype) THEN
                    EXECUTE format('SELECT %s(%I)::numeric FROM %s', CASE WHEN ascending THEN 'max' ELSE 'min' END,
                                   u.column_name, u.tablerelid)
                       INTO m;
                    IF m IS NOT NULL AND ((ascending AND m > pos) OR (NOT ascending AND m < pos)) THEN
                        reasons := reasons || format('%s.%I holds %s, beyond the counter''s position %s',
                                                     u.tablerelid, u.column_name, m, pos);
                    END IF;
                END IF;
            END LOOP;
            EXECUTE format('SELECT last_value, is_called FROM %s', seq) INTO st;
            IF NOT st.is_called OR st.last_value <> (CASE WHEN ascending THEN s.seqmax ELSE s.seqmin END) THEN
                reasons := reasons || format('the native sequence is not fenced (last_value %s)', st.last_value);
            END IF;
            ok := cardinality(reasons) = 0;
            reason := CASE WHEN ok THEN format('counter %s at %s; %s; native sequence fenced', key, pos,
                                               CASE WHEN n_switched + n_routed = 0 THEN 'no column uses it'
                                                    ELSE concat_ws(', ',
                                                        CASE WHEN n_switched > 0 THEN format('%s column(s) switched', n_switched) END,
                                                        CASE WHEN n_routed > 0 THEN format('%s identity column(s) routed', n_routed) END) END)
                           ELSE array_to_string(reasons, '; ') END;
            RETURN NEXT;
        END LOOP;
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION _verify("char", oid) FROM PUBLIC;

-- Roll back the sequences of seqs, each in its own subtransaction; one row
-- per sequence.  A sequence that fails is skipped with a WARNING (or, if
-- single, its error is the call's); a lack of resources or a cancel ends
-- the whole call.  The native sequences are set, and the counters left,
-- when the transaction commits (seqdist._migrate_release), all at once.
CREATE FUNCTION _rollback_chunk(seqs regclass[], single boolean)
RETURNS TABLE (sequence regclass, status text, detail text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    seq regclass;
    c record;
    msg text;
    state text;
BEGIN
    FOREACH seq IN ARRAY seqs LOOP
        sequence := seq;
        IF NOT EXISTS (SELECT FROM seqdist.migrated_sequences m WHERE m.seqrelid = seq) THEN
            status := 'not migrated';
            detail := NULL;
            RETURN NEXT;
            CONTINUE;
        END IF;
        BEGIN
            IF NOT pg_has_role((SELECT r.relowner FROM pg_class r WHERE r.oid = seq), 'USAGE') THEN
                RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
                    MESSAGE = format('must be owner of sequence %s', seq);
            END IF;
            PERFORM seqdist._lock_users(seq, true);
            -- migrate switched only defaults that were exactly nextval(seq):
            -- that is what comes back, written from seq, and only where a
            -- default still uses seq.  The recorded text is never run: those
            -- who may write migrated_columns are not all superusers.
            FOR c IN SELECT mc.tablerelid, mc.column_name FROM seqdist.migrated_columns mc
                      JOIN seqdist._column_uses(seq) cu ON cu.tablerelid = mc.tablerelid
                                                       AND cu.column_name = mc.column_name
                     WHERE mc.seqrelid = seq AND mc.kind = 'default' AND cu.kind = 'default' LOOP
                EXECUTE format('ALTER TABLE %s ALTER COLUMN %I SET DEFAULT nextval(%L::regclass)',
                               c.tablerelid, c.column_name, seq::text);
            END LOOP;
            PERFORM seqdist._invalidate_plans(cu.tablerelid)
               FROM (SELECT DISTINCT x.tablerelid FROM seqdist._column_uses(seq) x) cu;
            PERFORM seqdist._invalidate_plans(seq);
            DELETE FROM seqdist.migrated_columns mc WHERE mc.seqrelid = seq;
            DELETE FROM seqdist.migrated_sequences m WHERE m.seqrelid = seq;
            PERFORM seqdist._migrate_release(seq);
            status := 'rolled back';
            detail := 'native sequence set beyond the counter''s position at commit';
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, state = RETURNED_SQLSTATE;
            IF single OR left(state, 2) IN ('53', '54', '57') THEN
                RAISE;
            END IF;
            PERFORM seqdist._warn_skipped(seq, 'rolled back', msg, state);
            status := 'skipped';
            detail := msg;
        END;
        RETURN NEXT;
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION _rollback_chunk(regclass[], boolean) FROM PUBLIC;

-- migrate and rollback alike: a chunk of either (action 'migrate' or
-- 'rollback'), the status a sequence it changed gets, and the progress
-- NOTICE after a chunk.
CREATE FUNCTION _bulk_chunk(action text, chunk regclass[], single boolean)
RETURNS TABLE (sequence regclass, status text, detail text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF action = 'migrate' THEN
        RETURN QUERY SELECT * FROM seqdist._migrate_chunk(chunk, single);
    ELSE
        RETURN QUERY SELECT * FROM seqdist._rollback_chunk(chunk, single);
    END IF;
END
$$;
REVOKE ALL ON FUNCTION _bulk_chunk(text, regclass[], boolean) FROM PUBLIC;

CREATE FUNCTION _bulk_changed(action text)
RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT CASE action WHEN 'migrate' THEN 'migrated' ELSE 'rolled back' END $$;
REVOKE ALL ON FUNCTION _bulk_changed(text) FROM PUBLIC;

CREATE FUNCTION _bulk_progress(action text, total integer, done integer, changed integer,
    skipped integer)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF total > 1 THEN
        RAISE NOTICE 'seqdist %: % of % sequences done (% %, % skipped)',
            action, done, total, changed, seqdist._bulk_changed(action), skipped;
    END IF;
END
$$;
REVOKE ALL ON FUNCTION _bulk_progress(text, integer, integer, integer, integer) FROM PUBLIC;

-- migrate or rollback of a resolved scope in one transaction, in chunks of
-- 500; one row per sequence.
CREATE FUNCTION _bulk(action text, kind "char", objid oid)
RETURNS TABLE (sequence regclass, status text, detail text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    seqs regclass[] := seqdist._scope_sequences(kind, objid);
    -- a sequence or table named: any failure is the call's error
    single boolean := kind = 'r';
    changed_status text := seqdist._bulk_changed(action);
    done integer := 0;
    changed integer := 0;
    skipped integer := 0;
    chunk regclass[];
BEGIN
    PERFORM seqdist._defer_reload(true);
    FOR chunk IN SELECT c FROM seqdist._chunks(seqs, 500) c LOOP
        FOR sequence, status, detail IN SELECT * FROM seqdist._bulk_chunk(action, chunk, single) LOOP
            done := done + 1;
            changed := changed + (status = changed_status)::integer;
            skipped := skipped + (status = 'skipped')::integer;
            RETURN NEXT;
        END LOOP;
        PERFORM seqdist._bulk_progress(action, cardinality(seqs), done, changed, skipped);
    END LOOP;
    PERFORM seqdist._defer_reload(false);
END
$$;
REVOKE ALL ON FUNCTION _bulk(text, "char", oid) FROM PUBLIC;

-- One step of a bulk call in batches: a chunk in the caller's transaction,
-- then the progress NOTICE; the counts so far in, the new counts out.
CREATE FUNCTION _bulk_step(action text, chunk regclass[], total integer,
    INOUT done integer, INOUT changed integer, INOUT skipped integer)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    changed_status text := seqdist._bulk_changed(action);
    r record;
BEGIN
    PERFORM seqdist._defer_reload(true);
    FOR r IN SELECT * FROM seqdist._bulk_chunk(action, chunk, false) LOOP
        done := done + 1;
        changed := changed + (r.status = changed_status)::integer;
        skipped := skipped + (r.status = 'skipped')::integer;
    END LOOP;
    PERFORM seqdist._defer_reload(false);
    PERFORM seqdist._bulk_progress(action, total, done, changed, skipped);
END
$$;
REVOKE ALL ON FUNCTION _bulk_step(text, regclass[], integer, integer, integer, integer) FROM PUBLIC;

-- The public functions: the scope is resolved under the caller's search_path.
CREATE FUNCTION migration_plan(scope text DEFAULT NULL)
RETURNS TABLE (sequence regclass, action text, object text, detail text)
LANGUAGE sql VOLATILE
AS $$ SELECT p.* FROM seqdist._resolve_scope($1) r, seqdist._plan(r.kind, r.objid) p $$;
COMMENT ON FUNCTION migration_plan(text) IS 'what migrate would do for a sequence, table, schema or (NULL) the database, and what it cannot migrate and why; changes nothing';
REVOKE ALL ON FUNCTION migration_plan(text) FROM PUBLIC;

CREATE FUNCTION migrate(scope text DEFAULT NULL)
RETURNS TABLE (sequence regclass, status text, detail text)
LANGUAGE sql VOLATILE
AS $$ SELECT m.* FROM seqdist._resolve_scope($1) r, seqdist._bulk('migrate', r.kind, r.objid) m $$;
COMMENT ON FUNCTION migrate(text) IS 'register, seed, switch and fence every sequence of a sequence, table, schema or (NULL) the database; each sequence all or nothing';
REVOKE ALL ON FUNCTION migrate(text) FROM PUBLIC;

-- A bulk migration in steps of batch_size sequences, each step its own
-- transaction: for schemas too large for one transaction's locks.  CALL it
-- outside a transaction block.  No SET clause (a procedure with one cannot
-- commit): every name is qualified, and the work is done by functions that
-- pin search_path.
CREATE PROCEDURE migrate_in_batches(scope text DEFAULT NULL, batch_size integer DEFAULT 500)
LANGUAGE plpgsql
AS $$
DECLARE
    -- every type named with its schema, or as an SQL keyword: a procedure
    -- has no SET search_path, and a type is found on the caller's
    chunk pg_catalog.regclass[];
    total pg_catalog.int4;
    done integer := 0;
    migrated integer := 0;
    skipped integer := 0;
BEGIN
    FOR chunk, total IN SELECT b.chunk, b.total FROM seqdist._resolve_scope(scope) r,
                             seqdist._scope_chunks(r.kind, r.objid, batch_size) b LOOP
        SELECT * INTO done, migrated, skipped
          FROM seqdist._bulk_step('migrate', chunk, total, done, migrated, skipped);
        COMMIT;
    END LOOP;
END
$$;
COMMENT ON PROCEDURE migrate_in_batches(text, integer) IS 'migrate, batch_size sequences per transaction: for a schema too large for one transaction';
REVOKE ALL ON PROCEDURE migrate_in_batches(text, integer) FROM PUBLIC;

CREATE FUNCTION verify(scope text DEFAULT NULL)
RETURNS TABLE (sequence regclass, ok boolean, reason text)
LANGUAGE sql VOLATILE
AS $$ SELECT v.* FROM seqdist._resolve_scope($1) r, seqdist._verify(r.kind, r.objid) v $$;
COMMENT ON FUNCTION verify(text) IS 'per migrated sequence: counter beyond every column, same definition, every default switched (identity columns are routed), native side fenced';
REVOKE ALL ON FUNCTION verify(text) FROM PUBLIC;

CREATE FUNCTION rollback(scope text DEFAULT NULL)
RETURNS TABLE (sequence regclass, status text, detail text)
LANGUAGE sql VOLATILE
AS $$ SELECT b.* FROM seqdist._resolve_scope($1) r, seqdist._bulk('rollback', r.kind, r.objid) b $$;
COMMENT ON FUNCTION rollback(text) IS 'undo migrate: original defaults, native sequence beyond the counter, unregistered';
REVOKE ALL ON FUNCTION rollback(text) FROM PUBLIC;

-- rollback in steps of batch_size sequences, each step its own transaction
-- (see migrate_in_batches).
CREATE PROCEDURE rollback_in_batches(scope text DEFAULT NULL, batch_size integer DEFAULT 500)
LANGUAGE plpgsql
AS $$
DECLARE
    -- every type named with its schema, or as an SQL keyword: a procedure
    -- has no SET search_path, and a type is found on the caller's
    chunk pg_catalog.regclass[];
    total pg_catalog.int4;
    done integer := 0;
    rolled_back integer := 0;
    skipped integer := 0;
BEGIN
    FOR chunk, total IN SELECT b.chunk, b.total FROM seqdist._resolve_scope(scope) r,
                             seqdist._scope_chunks(r.kind, r.objid, batch_size) b LOOP
        SELECT * INTO done, rolled_back, skipped
          FROM seqdist._bulk_step('rollback', chunk, total, done, rolled_back, skipped);
        COMMIT;
    END LOOP;
END
$$;
COMMENT ON PROCEDURE rollback_in_batches(text, integer) IS 'rollback, batch_size sequences per transaction: for a schema too large for one transaction';
REVOKE ALL ON PROCEDURE rollback_in_batches(text, integer) FROM PUBLIC;

-- Forget the migration of a dropped sequence, table or column.
CREATE FUNCTION forget_dropped_migrations()
RETURNS event_trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    DELETE FROM seqdist.migrated_columns c
     USING pg_event_trigger_dropped_objects() d
     WHERE d.classid = 'pg_class'::regclass
       AND ((d.objsubid = 0 AND d.objid IN (c.seqrelid::oid, c.tablerelid::oid))
         OR (d.objsubid <> 0 AND d.objid = c.tablerelid::oid
             AND d.object_identity = format('%s.%I', c.tablerelid, c.column_name)));
    DELETE FROM seqdist.migrated_sequences s
     USING pg_event_trigger_dropped_objects() d
     WHERE d.classid = 'pg_class'::regclass AND d.objsubid = 0 AND d.objid = s.seqrelid::oid;
END
$$;
REVOKE ALL ON FUNCTION forget_dropped_migrations() FROM PUBLIC;
CREATE EVENT TRIGGER seqdist_forget_dropped_migrations ON sql_drop
    EXECUTE FUNCTION forget_dropped_migrations();
ALTER EVENT TRIGGER seqdist_forget_dropped_migrations ENABLE ALWAYS;
