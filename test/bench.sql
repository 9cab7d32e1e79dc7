-- bench.sql: the objects test/bench.sh measures (run once, on a fresh cluster).
-- Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
--
--   s_cache1, s_cache1000   native sequences, CACHE 1 and CACHE 1000
--   n1                      native, CACHE 1 (pgbench SELECT nextval)
--   d, d1                   registered with seqdist, CACHE 1000 and CACHE 1
--   t_native, t_seqdist     bigserial-like tables for the pgbench INSERTs; their
--                           sequences are CACHE 1, the id is the primary key
--   bench_time(q)           runs q (which returns one bigint) and times it with
--                           clock_timestamp() inside the server
\set ON_ERROR_STOP 1

CREATE EXTENSION seqdist;
SELECT seqdist.create_table();

CREATE SEQUENCE s_cache1 CACHE 1;
CREATE SEQUENCE s_cache1000 CACHE 1000;
CREATE SEQUENCE n1 CACHE 1;

CREATE SEQUENCE d CACHE 1000;
CREATE SEQUENCE d1;
SELECT * FROM seqdist.register('d');
SELECT * FROM seqdist.register('d1');

CREATE SEQUENCE t_native_id_seq;
CREATE TABLE t_native (
    id bigint PRIMARY KEY DEFAULT nextval('t_native_id_seq')
);
ALTER SEQUENCE t_native_id_seq OWNED BY t_native.id;

CREATE SEQUENCE t_seqdist_id_seq;
SELECT * FROM seqdist.register('t_seqdist_id_seq');
CREATE TABLE t_seqdist (
    id bigint PRIMARY KEY DEFAULT seqdist.seqdist_nextval('t_seqdist_id_seq')
);
ALTER SEQUENCE t_seqdist_id_seq OWNED BY t_seqdist.id;

-- One timed statement: n is what q returns (a count), ms the server-side
-- wall time of q alone (no client round trip, no psql overhead).
CREATE FUNCTION bench_time(q text, OUT n bigint, OUT ms double precision)
LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz;
BEGIN
    t0 := clock_timestamp();
    EXECUTE q INTO n;
    ms := extract(epoch FROM clock_timestamp() - t0) * 1000;
END
$$;
