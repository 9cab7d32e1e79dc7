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

RESET search_path;
DROP SCHEMA regress_hostile CASCADE;
DROP ROLE regress_seqdist_attacker;
RESET seqdist.block_size;
