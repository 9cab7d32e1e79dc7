-- A hostile search_path: a non-superuser plants operators, functions and
-- tables named like the ones seqdist's statements use in a schema that a
-- superuser has on its search_path, ahead of pg_catalog.  Every extension
-- function the superuser then calls must leave them alone: each of them
-- records its call in regress_hostile.calls.
\set VERBOSITY terse
SET seqdist.block_size = 5;
CREATE SEQUENCE public.sec_seq;
CREATE SEQUENCE public.sec_other;
CREATE ROLE regress_seqdist_attacker;
CREATE SCHEMA regress_hostile AUTHORIZATION regress_seqdist_attacker;

SET ROLE regress_seqdist_attacker;
CREATE TABLE regress_hostile.calls (what text);
GRANT ALL ON regress_hostile.calls TO PUBLIC;

-- one trap per signature: record the call, then behave like the original
CREATE FUNCTION regress_hostile.trap(what text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO regress_hostile.calls VALUES (what);
    -- also seen when the caller's transaction rolls the row back
    RAISE WARNING 'trap called: %', what;
END
$$;
CREATE FUNCTION regress_hostile.eq_regclass(regclass, regclass) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN PERFORM regress_hostile.trap('=(regclass,regclass)'); RETURN $1::oid OPERATOR(pg_catalog.=) $2::oid; END $$;
CREATE OPERATOR regress_hostile.= (LEFTARG = regclass, RIGHTARG = regclass, FUNCTION = regress_hostile.eq_regclass);
CREATE FUNCTION regress_hostile.eq_oid(oid, oid) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN PERFORM regress_hostile.trap('=(oid,oid)'); RETURN $1 OPERATOR(pg_catalog.=) $2; END $$;
CREATE OPERATOR regress_hostile.= (LEFTARG = oid, RIGHTARG = oid, FUNCTION = regress_hostile.eq_oid);
CREATE FUNCTION regress_hostile.eq_text(text, text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN PERFORM regress_hostile.trap('=(text,text)'); RETURN $1 OPERATOR(pg_catalog.=) $2; END $$;
CREATE OPERATOR regress_hostile.= (LEFTARG = text, RIGHTARG = text, FUNCTION = regress_hostile.eq_text);
CREATE FUNCTION regress_hostile.ne_text(text, text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN PERFORM regress_hostile.trap('<>(text,text)'); RETURN $1 OPERATOR(pg_catalog.<>) $2; END $$;
CREATE OPERATOR regress_hostile.<> (LEFTARG = text, RIGHTARG = text, FUNCTION = regress_hostile.ne_text);
CREATE FUNCTION regress_hostile.eq_int4(integer, integer) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN PERFORM regress_hostile.trap('=(integer,integer)'); RETURN $1 OPERATOR(pg_catalog.=) $2; END $$;
CREATE OPERATOR regress_hostile.= (LEFTARG = integer, RIGHTARG = integer, FUNCTION = regress_hostile.eq_int4);
CREATE FUNCTION regress_hostile.le_int4(integer, integer) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN PERFORM regress_hostile.trap('<=(integer,integer)'); RETURN $1 OPERATOR(pg_catalog.<=) $2; END $$;
CREATE OPERATOR regress_hostile.<= (LEFTARG = integer, RIGHTARG = integer, FUNCTION = regress_hostile.le_int4);
CREATE FUNCTION regress_hostile.eq_bool(boolean, boolean) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN PERFORM regress_hostile.trap('=(boolean,boolean)'); RETURN $1 OPERATOR(pg_catalog.=) $2; END $$;
CREATE OPERATOR regress_hostile.= (LEFTARG = boolean, RIGHTARG = boolean, FUNCTION = regress_hostile.eq_bool);
CREATE FUNCTION regress_hostile.now() RETURNS timestamptz LANGUAGE plpgsql AS $$
BEGIN PERFORM regress_hostile.trap('now()'); RETURN pg_catalog.now(); END $$;
CREATE FUNCTION regress_hostile.octet_length(text) RETURNS integer LANGUAGE plpgsql AS $$
BEGIN PERFORM regress_hostile.trap('octet_length(text)'); RETURN pg_catalog.octet_length($1); END $$;
CREATE FUNCTION regress_hostile.round(numeric, integer) RETURNS numeric LANGUAGE plpgsql AS $$
BEGIN PERFORM regress_hostile.trap('round(numeric,integer)'); RETURN pg_catalog.round($1, $2); END $$;
CREATE FUNCTION regress_hostile.pg_event_trigger_dropped_objects() RETURNS SETOF record LANGUAGE plpgsql AS $$
BEGIN PERFORM regress_hostile.trap('pg_event_trigger_dropped_objects()'); END $$;
CREATE FUNCTION regress_hostile.forget_cached(oid, text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN PERFORM regress_hostile.trap('forget_cached(oid,text)'); END $$;
CREATE FUNCTION regress_hostile.quote_ident(text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN PERFORM regress_hostile.trap('quote_ident(text)'); RETURN pg_catalog.quote_ident($1); END $$;
-- tables named like the ones seqdist reads
CREATE TABLE regress_hostile.sequences (seqrelid regclass, counter_key text, block_size integer, strict boolean);
CREATE TABLE regress_hostile.pg_class (oid oid, relname name);
CREATE TABLE regress_hostile.pg_database (oid oid, datname name);
CREATE FUNCTION regress_hostile.trap_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM regress_hostile.trap(TG_TABLE_NAME || ' ' || TG_OP); RETURN NULL; END $$;
CREATE TRIGGER trap BEFORE INSERT OR UPDATE OR DELETE ON regress_hostile.sequences
    FOR EACH ROW EXECUTE FUNCTION regress_hostile.trap_row();
GRANT ALL ON regress_hostile.sequences, regress_hostile.pg_class, regress_hostile.pg_database TO PUBLIC;
RESET ROLE;

-- the superuser puts the schema first, even ahead of pg_catalog
SET search_path = regress_hostile, pg_catalog, public;

-- positive control: the traps work for an unqualified operator
SELECT 'pg_class'::regclass = 'pg_class'::regclass AS trapped;
SELECT what FROM regress_hostile.calls;
TRUNCATE regress_hostile.calls;

-- every extension function, called by the superuser
SELECT counter_key, status FROM seqdist.register('public.sec_seq');
SELECT seqdist.set_block_size('public.sec_seq', 3);
SELECT seqdist.set_block_size('public.sec_seq', NULL);
SELECT seqdist.set_strict('public.sec_seq', true);
SELECT seqdist.seqdist_nextval('public.sec_seq');
SELECT seqdist.set_strict('public.sec_seq', false);
SELECT seqdist.seqdist_nextval('public.sec_seq');
SELECT seqdist.seqdist_currval('public.sec_seq');
SELECT seqdist.seqdist_lastval();
SELECT seqdist.seqdist_setval('public.sec_seq', 100);
SELECT seqdist.seqdist_setval('public.sec_seq', 200, false);
SELECT seqdist.seqdist_nextval('public.sec_seq');
SELECT seqdist.counter_item('public.sec_seq') ->> 'last_value' AS counter_last_value;
SELECT check_name, ok FROM seqdist.health();
SELECT seqdist.create_table();
SELECT count(*) >= 0 AS readable FROM seqdist.stats;
SELECT seqdist.stats_reset();
SELECT counter_key FROM seqdist.sequences
WHERE counter_key OPERATOR(pg_catalog.~~) '%sec\_%' ORDER BY 1;
-- the event triggers
ALTER SEQUENCE public.sec_seq MAXVALUE 1000000;
SELECT seqdist.seqdist_nextval('public.sec_seq');
SELECT status FROM seqdist.register('public.sec_other');
DROP SEQUENCE public.sec_other;
DROP SEQUENCE public.sec_seq;
SELECT count(*) AS left_registered FROM seqdist.sequences
WHERE counter_key OPERATOR(pg_catalog.~~) '%sec\_%';

-- none of the traps ran
SELECT what FROM regress_hostile.calls;

-- The migration functions, called under the same hostile search_path by a
-- non-superuser who owns the tables and sequences they change, and by one
-- who has every privilege on them but not ownership.  More traps first:
-- the names the migration's statements use.
RESET search_path;
SET ROLE regress_seqdist_attacker;
GRANT USAGE ON SCHEMA regress_hostile TO PUBLIC;
CREATE FUNCTION regress_hostile.trap_true(what text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN PERFORM regress_hostile.trap(what); RETURN true; END $$;
CREATE FUNCTION regress_hostile.format(text, VARIADIC text[]) RETURNS text LANGUAGE plpgsql AS $$
BEGIN PERFORM regress_hostile.trap('format(text,text[])'); RETURN pg_catalog.format($1, VARIADIC $2); END $$;
CREATE FUNCTION regress_hostile.pg_get_expr(pg_node_tree, oid) RETURNS text LANGUAGE plpgsql AS $$
BEGIN PERFORM regress_hostile.trap('pg_get_expr(pg_node_tree,oid)'); RETURN pg_catalog.pg_get_expr($1, $2); END $$;
CREATE FUNCTION regress_hostile.to_regclass(text) RETURNS regclass LANGUAGE plpgsql AS $$
BEGIN PERFORM regress_hostile.trap('to_regclass(text)'); RETURN pg_catalog.to_regclass($1); END $$;
CREATE FUNCTION regress_hostile.to_regnamespace(text) RETURNS regnamespace LANGUAGE plpgsql AS $$
BEGIN PERFORM regress_hostile.trap('to_regnamespace(text)'); RETURN pg_catalog.to_regnamespace($1); END $$;
CREATE FUNCTION regress_hostile.nextval(regclass) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN PERFORM regress_hostile.trap('nextval(regclass)'); RETURN pg_catalog.nextval($1); END $$;
CREATE FUNCTION regress_hostile.currval(regclass) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN PERFORM regress_hostile.trap('currval(regclass)'); RETURN pg_catalog.currval($1); END $$;
CREATE FUNCTION regress_hostile.setval(regclass, bigint) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN PERFORM regress_hostile.trap('setval(regclass,bigint)'); RETURN pg_catalog.setval($1, $2); END $$;
CREATE FUNCTION regress_hostile.setval(regclass, bigint, boolean) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN PERFORM regress_hostile.trap('setval(regclass,bigint,boolean)'); RETURN pg_catalog.setval($1, $2, $3); END $$;
CREATE FUNCTION regress_hostile.pg_has_role(oid, text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN PERFORM regress_hostile.trap('pg_has_role(oid,text)'); RETURN pg_catalog.pg_has_role($1, $2); END $$;
CREATE FUNCTION regress_hostile.current_database() RETURNS name LANGUAGE plpgsql AS $$
BEGIN PERFORM regress_hostile.trap('current_database()'); RETURN pg_catalog.current_database(); END $$;
CREATE FUNCTION regress_hostile.array_to_string(text[], text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN PERFORM regress_hostile.trap('array_to_string(text[],text)'); RETURN pg_catalog.array_to_string($1, $2); END $$;
CREATE FUNCTION regress_hostile.cardinality(text[]) RETURNS integer LANGUAGE plpgsql AS $$
BEGIN PERFORM regress_hostile.trap('cardinality(text[])'); RETURN pg_catalog.cardinality($1); END $$;
CREATE FUNCTION regress_hostile.cardinality(regclass[]) RETURNS integer LANGUAGE plpgsql AS $$
BEGIN PERFORM regress_hostile.trap('cardinality(regclass[])'); RETURN pg_catalog.cardinality($1); END $$;
-- aggregates
CREATE FUNCTION regress_hostile.max_int8(bigint, bigint) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN PERFORM regress_hostile.trap('max(bigint)');
RETURN CASE WHEN $1 IS NULL OR $2 OPERATOR(pg_catalog.>) $1 THEN $2 ELSE $1 END; END $$;
CREATE AGGREGATE regress_hostile.max(bigint) (SFUNC = regress_hostile.max_int8, STYPE = bigint);
CREATE FUNCTION regress_hostile.max_int4(integer, integer) RETURNS integer LANGUAGE plpgsql AS $$
BEGIN PERFORM regress_hostile.trap('max(integer)');
RETURN CASE WHEN $1 IS NULL OR $2 OPERATOR(pg_catalog.>) $1 THEN $2 ELSE $1 END; END $$;
CREATE AGGREGATE regress_hostile.max(integer) (SFUNC = regress_hostile.max_int4, STYPE = integer);
CREATE FUNCTION regress_hostile.min_int8(bigint, bigint) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN PERFORM regress_hostile.trap('min(bigint)');
RETURN CASE WHEN $1 IS NULL OR $2 OPERATOR(pg_catalog.<) $1 THEN $2 ELSE $1 END; END $$;
CREATE AGGREGATE regress_hostile.min(bigint) (SFUNC = regress_hostile.min_int8, STYPE = bigint);
CREATE FUNCTION regress_hostile.agg_regclass(regclass[], regclass) RETURNS regclass[] LANGUAGE plpgsql AS $$
BEGIN PERFORM regress_hostile.trap('array_agg(regclass)'); RETURN pg_catalog.array_append($1, $2); END $$;
CREATE AGGREGATE regress_hostile.array_agg(regclass) (SFUNC = regress_hostile.agg_regclass, STYPE = regclass[]);
CREATE FUNCTION regress_hostile.agg_bool_or(boolean, boolean) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN PERFORM regress_hostile.trap('bool_or(boolean)'); RETURN $1 OR $2; END $$;
CREATE AGGREGATE regress_hostile.bool_or(boolean) (SFUNC = regress_hostile.agg_bool_or, STYPE = boolean);
CREATE FUNCTION regress_hostile.agg_count(bigint) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN PERFORM regress_hostile.trap('count(*)'); RETURN $1 OPERATOR(pg_catalog.+) 1; END $$;
CREATE AGGREGATE regress_hostile.count(*) (SFUNC = regress_hostile.agg_count, STYPE = bigint, INITCOND = '0');
-- operators
CREATE FUNCTION regress_hostile.gt_numeric(numeric, numeric) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN PERFORM regress_hostile.trap('>(numeric,numeric)'); RETURN $1 OPERATOR(pg_catalog.>) $2; END $$;
CREATE OPERATOR regress_hostile.> (LEFTARG = numeric, RIGHTARG = numeric, FUNCTION = regress_hostile.gt_numeric);
CREATE FUNCTION regress_hostile.lt_numeric(numeric, numeric) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN PERFORM regress_hostile.trap('<(numeric,numeric)'); RETURN $1 OPERATOR(pg_catalog.<) $2; END $$;
CREATE OPERATOR regress_hostile.< (LEFTARG = numeric, RIGHTARG = numeric, FUNCTION = regress_hostile.lt_numeric);
CREATE FUNCTION regress_hostile.ne_numeric(numeric, numeric) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN PERFORM regress_hostile.trap('<>(numeric,numeric)'); RETURN $1 OPERATOR(pg_catalog.<>) $2; END $$;
CREATE OPERATOR regress_hostile.<> (LEFTARG = numeric, RIGHTARG = numeric, FUNCTION = regress_hostile.ne_numeric);
CREATE FUNCTION regress_hostile.gt_int4(integer, integer) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN PERFORM regress_hostile.trap('>(integer,integer)'); RETURN $1 OPERATOR(pg_catalog.>) $2; END $$;
CREATE OPERATOR regress_hostile.> (LEFTARG = integer, RIGHTARG = integer, FUNCTION = regress_hostile.gt_int4);
CREATE FUNCTION regress_hostile.eq_char(
    "char", "char") RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN PERFORM regress_hostile.trap('=("char","char")'); RETURN $1 OPERATOR(pg_catalog.=) $2; END $$;
CREATE OPERATOR regress_hostile.= (LEFTARG = "char", RIGHTARG = "char", FUNCTION = regress_hostile.eq_char);
CREATE FUNCTION regress_hostile.eq_name(name, name) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN PERFORM regress_hostile.trap('=(name,name)'); RETURN $1 OPERATOR(pg_catalog.=) $2; END $$;
CREATE OPERATOR regress_hostile.= (LEFTARG = name, RIGHTARG = name, FUNCTION = regress_hostile.eq_name);
CREATE FUNCTION regress_hostile.cat_textarr(text[], text) RETURNS text[] LANGUAGE plpgsql AS $$
BEGIN PERFORM regress_hostile.trap('||(text[],text)'); RETURN pg_catalog.array_append($1, $2); END $$;
CREATE OPERATOR regress_hostile.|| (LEFTARG = text[], RIGHTARG = text, FUNCTION = regress_hostile.cat_textarr);
CREATE FUNCTION regress_hostile.like_text(text, text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN PERFORM regress_hostile.trap('~~(text,text)'); RETURN $1 OPERATOR(pg_catalog.~~) $2; END $$;
CREATE OPERATOR regress_hostile.~~ (LEFTARG = text, RIGHTARG = text, FUNCTION = regress_hostile.like_text);
CREATE FUNCTION regress_hostile.field_jsonb(jsonb, text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN PERFORM regress_hostile.trap('->>(jsonb,text)'); RETURN $1 OPERATOR(pg_catalog.->>) $2; END $$;
CREATE OPERATOR regress_hostile.->> (LEFTARG = jsonb, RIGHTARG = text, FUNCTION = regress_hostile.field_jsonb);
-- catalogs and seqdist's tables, shadowed by views that record their reads
CREATE VIEW regress_hostile.pg_depend AS
    SELECT * FROM pg_catalog.pg_depend WHERE (SELECT regress_hostile.trap_true('pg_depend'));
CREATE VIEW regress_hostile.pg_attrdef AS
    SELECT * FROM pg_catalog.pg_attrdef WHERE (SELECT regress_hostile.trap_true('pg_attrdef'));
CREATE VIEW regress_hostile.pg_attribute AS
    SELECT attrelid, attname, attnum, atttypid, attidentity, attisdropped
    FROM pg_catalog.pg_attribute WHERE (SELECT regress_hostile.trap_true('pg_attribute'));
CREATE VIEW regress_hostile.pg_sequence AS
    SELECT * FROM pg_catalog.pg_sequence WHERE (SELECT regress_hostile.trap_true('pg_sequence'));
CREATE VIEW regress_hostile.pg_namespace AS
    SELECT * FROM pg_catalog.pg_namespace WHERE (SELECT regress_hostile.trap_true('pg_namespace'));
CREATE VIEW regress_hostile.migrated_sequences AS
    SELECT * FROM seqdist.migrated_sequences WHERE (SELECT regress_hostile.trap_true('migrated_sequences'));
CREATE VIEW regress_hostile.migrated_columns AS
    SELECT * FROM seqdist.migrated_columns WHERE (SELECT regress_hostile.trap_true('migrated_columns'));
GRANT SELECT ON ALL TABLES IN SCHEMA regress_hostile TO PUBLIC;
-- a type named like the one the functions' variables have
CREATE DOMAIN regress_hostile.regclass AS pg_catalog.text CHECK (regress_hostile.trap_true('regclass'));
RESET ROLE;

-- the owner, and a stranger with every privilege but ownership; both may
-- run the migration functions and change seqdist's tables
CREATE ROLE regress_seqdist_owner;
CREATE ROLE regress_seqdist_stranger;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA seqdist TO regress_seqdist_owner, regress_seqdist_stranger;
GRANT INSERT, DELETE ON seqdist.sequences TO regress_seqdist_owner, regress_seqdist_stranger;
GRANT INSERT, DELETE ON seqdist.migrated_sequences TO regress_seqdist_owner, regress_seqdist_stranger;
GRANT INSERT, UPDATE, DELETE ON seqdist.migrated_columns TO regress_seqdist_owner, regress_seqdist_stranger;
CREATE SCHEMA regress_mig AUTHORIZATION regress_seqdist_owner;
SET ROLE regress_seqdist_owner;
CREATE TABLE regress_mig.mig_orders (id bigserial PRIMARY KEY, v text);
CREATE TABLE regress_mig.mig_events (id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v text);
INSERT INTO regress_mig.mig_orders (v) VALUES ('a'), ('b'), ('c');
INSERT INTO regress_mig.mig_orders (id, v) VALUES (20, 'explicit, beyond the sequence');
INSERT INTO regress_mig.mig_events (v) VALUES ('a');
-- a default that takes the identity column's sequence, and a sequence no
-- column uses
CREATE TABLE regress_mig.mig_refs (id integer DEFAULT nextval('regress_mig.mig_events_id_seq'));
CREATE SEQUENCE regress_mig.mig_lone;
GRANT USAGE ON SCHEMA regress_mig TO regress_seqdist_stranger;
GRANT ALL ON ALL TABLES IN SCHEMA regress_mig TO regress_seqdist_stranger;
GRANT ALL ON ALL SEQUENCES IN SCHEMA regress_mig TO regress_seqdist_stranger;

SET search_path = regress_hostile, pg_catalog, public;
-- positive control: the new traps work for unqualified names
SELECT format('%s', 'x'::pg_catalog.text) AS formatted,
       to_regclass('pg_catalog.pg_class') IS NOT NULL AS found,
       max(v) AS biggest
FROM (VALUES (1::bigint), (2::bigint)) t(v);
SELECT count(*) AS one_row FROM (SELECT FROM pg_depend LIMIT 1) d;
SELECT NULL::regclass AS domain_checked;
SELECT what FROM regress_hostile.calls ORDER BY 1;
TRUNCATE regress_hostile.calls;

-- the stranger: refused with 42501, nothing changes
SET ROLE regress_seqdist_stranger;
SELECT sequence, action, detail FROM seqdist.migration_plan('regress_mig') ORDER BY 1, 2;
SELECT * FROM seqdist.migrate('regress_mig.mig_orders');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM seqdist.migrate('regress_mig.mig_events_id_seq');
\echo :LAST_ERROR_SQLSTATE
SELECT sequence, status FROM seqdist.migrate('regress_mig');
RESET ROLE;
RESET search_path;
SELECT count(*) AS registered FROM seqdist.sequences WHERE counter_key LIKE '%regress\_mig%';
SELECT count(*) AS migrated FROM seqdist.migrated_sequences;
SELECT adrelid::regclass, pg_get_expr(adbin, adrelid) FROM pg_attrdef
WHERE adrelid IN ('regress_mig.mig_orders'::regclass, 'regress_mig.mig_refs'::regclass) ORDER BY 1;
SELECT last_value, is_called FROM regress_mig.mig_orders_id_seq;
SELECT last_value, is_called FROM regress_mig.mig_events_id_seq;

-- the owner: plan, migrate, verify under the hostile search_path
SET ROLE regress_seqdist_owner;
SET search_path = regress_hostile, pg_catalog, public;
SELECT sequence, action, object, detail FROM seqdist.migration_plan('regress_mig');
SELECT sequence, status, detail FROM seqdist.migrate('regress_mig');
SELECT sequence, ok, reason FROM seqdist.verify('regress_mig');
INSERT INTO regress_mig.mig_orders (v) VALUES ('from the counter') RETURNING id;
INSERT INTO regress_mig.mig_events (v) VALUES ('from the counter') RETURNING id;
SELECT sequence, status FROM seqdist.migrate('regress_mig.mig_orders');

-- the stranger cannot roll it back
SET ROLE regress_seqdist_stranger;
SELECT * FROM seqdist.rollback('regress_mig.mig_orders');
\echo :LAST_ERROR_SQLSTATE
SELECT sequence, status FROM seqdist.rollback('regress_mig');
SELECT sequence, ok FROM seqdist.verify('regress_mig');
RESET ROLE;
RESET search_path;
SELECT seqrelid, counter_key FROM seqdist.migrated_sequences ORDER BY 1;
SELECT tablerelid, column_name, kind, original_default FROM seqdist.migrated_columns ORDER BY 1;
SELECT last_value FROM regress_mig.mig_orders_id_seq;

-- the owner rolls back
SET ROLE regress_seqdist_owner;
SET search_path = regress_hostile, pg_catalog, public;
SELECT sequence, status, detail FROM seqdist.rollback('regress_mig');
INSERT INTO regress_mig.mig_orders (v) VALUES ('native again') RETURNING id;
INSERT INTO regress_mig.mig_events (v) VALUES ('native again') RETURNING id;
RESET ROLE;
RESET search_path;
SELECT count(*) AS registered FROM seqdist.sequences WHERE counter_key LIKE '%regress\_mig%';
SELECT count(*) AS migrated FROM seqdist.migrated_sequences;
SELECT count(*) AS columns FROM seqdist.migrated_columns;
SELECT adrelid::regclass, pg_get_expr(adbin, adrelid) FROM pg_attrdef
WHERE adrelid IN ('regress_mig.mig_orders'::regclass, 'regress_mig.mig_refs'::regclass) ORDER BY 1;

-- The owner migrates again what it rolled back: the counter item it left
-- has no clients any more, which is not a counter of other databases.
SET ROLE regress_seqdist_owner;
SET search_path = regress_hostile, pg_catalog, public;
SELECT sequence, status, detail FROM seqdist.migrate('regress_mig.mig_events');
SELECT sequence, ok, reason FROM seqdist.verify('regress_mig.mig_events');
RESET search_path;
-- its only client again, not one beside clients unknown
SELECT jsonb_array_length(c) AS clients, c ? 'format-1-clients' AS unknown_clients
FROM (SELECT seqdist._counter_item_by_key('contrib_regression.regress_mig.mig_events_id_seq') -> 'clients' AS c) i;
SET search_path = regress_hostile, pg_catalog, public;
SELECT sequence, status FROM seqdist.rollback('regress_mig.mig_events');
RESET ROLE;
RESET search_path;

-- The migration and rollback in batches (procedures, which cannot pin
-- their search_path) under the same hostile search_path, where a type
-- named record would give a variable declared "record" a checked domain.
SET ROLE regress_seqdist_attacker;
CREATE DOMAIN regress_hostile.chunkd AS pg_catalog.regclass[]
    CHECK (regress_hostile.trap_true('record'));
CREATE TYPE regress_hostile.record AS (chunk regress_hostile.chunkd, total pg_catalog.int4);
CREATE DOMAIN regress_hostile.int4 AS pg_catalog.int4 CHECK (regress_hostile.trap_true('int4'));
RESET ROLE;
GRANT EXECUTE ON PROCEDURE seqdist.migrate_in_batches(text, integer),
    seqdist.rollback_in_batches(text, integer) TO regress_seqdist_owner;
SET ROLE regress_seqdist_owner;
SET search_path = regress_hostile, pg_catalog, public;
CALL seqdist.migrate_in_batches('regress_mig', 1);
SELECT sequence, ok FROM seqdist.verify('regress_mig');
CALL seqdist.rollback_in_batches('regress_mig', 2);
SELECT count(*) AS migrated FROM seqdist.migrated_sequences;
RESET ROLE;
RESET search_path;

-- The privileges above let the owner write the migration state of any
-- sequence.  What it writes there is data: a superuser's rollback runs
-- none of it.  The owner records SQL as the original default of its
-- column, and adds a row for a table of the superuser.
SELECT sequence, status FROM seqdist.migrate('regress_mig.mig_orders');
CREATE TABLE public.sec_victim (id integer DEFAULT 7);
SET ROLE regress_seqdist_owner;
UPDATE seqdist.migrated_columns
   SET original_default = 'nextval(''regress_mig.mig_orders_id_seq''::regclass); ALTER ROLE regress_seqdist_owner SUPERUSER'
 WHERE tablerelid = 'regress_mig.mig_orders'::regclass;
INSERT INTO seqdist.migrated_columns
VALUES ('regress_mig.mig_orders_id_seq', 'public.sec_victim', 'id', 'default', '42');
RESET ROLE;
SET search_path = regress_hostile, pg_catalog, public;
SELECT sequence, status FROM seqdist.rollback('regress_mig.mig_orders');
RESET search_path;
SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_seqdist_owner';
SELECT adrelid::regclass, pg_get_expr(adbin, adrelid) FROM pg_attrdef
WHERE adrelid IN ('regress_mig.mig_orders'::regclass, 'public.sec_victim'::regclass) ORDER BY 1;
SELECT count(*) AS columns FROM seqdist.migrated_columns;
DROP TABLE public.sec_victim;

-- none of the traps ran
SELECT what FROM regress_hostile.calls;

DROP SCHEMA regress_mig CASCADE;
DROP OWNED BY regress_seqdist_owner, regress_seqdist_stranger;
DROP ROLE regress_seqdist_owner, regress_seqdist_stranger;
DROP SCHEMA regress_hostile CASCADE;
DROP ROLE regress_seqdist_attacker;
RESET seqdist.block_size;
