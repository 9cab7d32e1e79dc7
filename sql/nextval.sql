-- seqdist_nextval() end to end: registration, defaults, bounds, sharing.
-- One value per DynamoDB request here, so that the counter shows every step;
-- the caches are tested in cache.sql.
SET seqdist.block_size = 1;

-- a fresh sequence: its counter starts where the sequence would
CREATE SEQUENCE orders_id_seq;
SELECT * FROM seqdist.register('orders_id_seq');
-- registering again is harmless and changes nothing
SELECT * FROM seqdist.register('orders_id_seq');

CREATE TABLE orders (
    id   bigint PRIMARY KEY DEFAULT seqdist.seqdist_nextval('orders_id_seq'),
    item text NOT NULL
);
INSERT INTO orders (item) SELECT 'item ' || g FROM generate_series(1, 5) g;
SELECT id, item FROM orders ORDER BY id;
SELECT key, value FROM jsonb_each(seqdist.counter_item('orders_id_seq'))
WHERE key NOT IN ('created_at', 'clients', 'write_token') ORDER BY key;
-- one client: this sequence; the write token is random
SELECT jsonb_array_length(item -> 'clients') AS clients,
       length(item ->> 'write_token') AS token_length
FROM seqdist.counter_item('orders_id_seq') item;

-- the native sequence is not advanced: it is only the definition now
SELECT last_value, is_called FROM orders_id_seq;

-- a sequence that was in use: the counter is seeded from its high-water mark
CREATE SEQUENCE used_seq START 10 INCREMENT 5;
SELECT nextval('used_seq'), nextval('used_seq');
SELECT counter_key, status, last_value FROM seqdist.register('used_seq');
SELECT seqdist.seqdist_nextval('used_seq');

-- setval(..., false) means the value itself is the next one
CREATE SEQUENCE reset_seq;
SELECT setval('reset_seq', 100, false);
SELECT status, last_value FROM seqdist.register('reset_seq');
SELECT seqdist.seqdist_nextval('reset_seq');

-- descending sequences count down from -1
CREATE SEQUENCE down_seq INCREMENT -1;
SELECT status, last_value FROM seqdist.register('down_seq');
SELECT seqdist.seqdist_nextval('down_seq'), seqdist.seqdist_nextval('down_seq');

-- values are not given back on rollback, as with nextval
BEGIN;
SELECT seqdist.seqdist_nextval('down_seq');
ROLLBACK;
SELECT seqdist.seqdist_nextval('down_seq');

-- two sequences joining one counter key share one position, which never
-- moves back: the later registration advances it only when it is ahead
CREATE SEQUENCE shared_a;
CREATE SEQUENCE shared_b;
SELECT setval('shared_b', 50);
SELECT status, last_value FROM seqdist.register('shared_a', 'shared-counter');
SELECT status, last_value FROM seqdist.register('shared_b', 'shared-counter');
SELECT seqdist.seqdist_nextval('shared_a'), seqdist.seqdist_nextval('shared_b'),
       seqdist.seqdist_nextval('shared_a');
CREATE SEQUENCE shared_c;
SELECT status, last_value FROM seqdist.register('shared_c', 'shared-counter');
SELECT seqdist.seqdist_nextval('shared_c');
-- a sequence keeps the key it was registered with
SELECT * FROM seqdist.register('shared_c', 'another-key');

-- bounds: the native messages and SQLSTATE when a sequence is exhausted
\set VERBOSITY sqlstate
CREATE SEQUENCE small_seq MAXVALUE 3;
SELECT status FROM seqdist.register('small_seq');
SELECT seqdist.seqdist_nextval('small_seq') FROM generate_series(1, 3);
SELECT seqdist.seqdist_nextval('small_seq');
\set VERBOSITY default
SELECT seqdist.seqdist_nextval('small_seq');

CREATE SEQUENCE small_down MINVALUE -2 MAXVALUE -1 INCREMENT -1;
SELECT status FROM seqdist.register('small_down');
SELECT seqdist.seqdist_nextval('small_down'), seqdist.seqdist_nextval('small_down');
SELECT seqdist.seqdist_nextval('small_down');

-- CYCLE wraps to the far bound, as native sequences do
CREATE SEQUENCE cyc MINVALUE 1 MAXVALUE 3 CYCLE;
SELECT status FROM seqdist.register('cyc');
SELECT array_agg(seqdist.seqdist_nextval('cyc')) FROM generate_series(1, 7);
CREATE SEQUENCE cyc_down MINVALUE 1 MAXVALUE 3 INCREMENT -2 CYCLE;
SELECT status FROM seqdist.register('cyc_down');
SELECT array_agg(seqdist.seqdist_nextval('cyc_down')) FROM generate_series(1, 5);

-- the int64 limits do not overflow
CREATE SEQUENCE top_seq MINVALUE 9223372036854775805;
SELECT status, last_value FROM seqdist.register('top_seq');
SELECT seqdist.seqdist_nextval('top_seq') FROM generate_series(1, 3);
SELECT seqdist.seqdist_nextval('top_seq');
CREATE SEQUENCE bottom_seq INCREMENT -1 MAXVALUE -9223372036854775807 MINVALUE -9223372036854775808;
SELECT status, last_value FROM seqdist.register('bottom_seq');
SELECT seqdist.seqdist_nextval('bottom_seq') FROM generate_series(1, 2);
SELECT seqdist.seqdist_nextval('bottom_seq');
CREATE SEQUENCE huge_step INCREMENT 9223372036854775807 MINVALUE 0 START 0;
SELECT status FROM seqdist.register('huge_step');
SELECT seqdist.seqdist_nextval('huge_step'), seqdist.seqdist_nextval('huge_step');
SELECT seqdist.seqdist_nextval('huge_step');

-- a dropped sequence's registration is forgotten; its counter stays
DROP SEQUENCE reset_seq;
SELECT counter_key FROM seqdist.sequences WHERE counter_key LIKE '%reset_seq';
SELECT count(*) FROM seqdist.sequences;

-- a counter that cycles can only be shared by sequences that cycle alike
CREATE SEQUENCE cyc_share MINVALUE 1 MAXVALUE 3 CYCLE;
SELECT status FROM seqdist.register('cyc_share', 'cycling-counter');
CREATE SEQUENCE no_cyc_share MINVALUE 1 MAXVALUE 3;
SELECT status FROM seqdist.register('no_cyc_share', 'cycling-counter');
CREATE SEQUENCE other_bounds MINVALUE 1 MAXVALUE 5 CYCLE;
SELECT status FROM seqdist.register('other_bounds', 'cycling-counter');
CREATE SEQUENCE same_cycle MINVALUE 1 MAXVALUE 3 CYCLE;
SELECT status FROM seqdist.register('same_cycle', 'cycling-counter');
