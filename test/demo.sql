-- Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
\set ECHO queries
\pset footer off
-- seqdist demo: a legacy table keeps its DEFAULT, values now come from DynamoDB

CREATE EXTENSION seqdist;
SELECT seqdist.create_table();
SELECT * FROM seqdist.health();

-- an existing sequence that has already handed out 1000 values
CREATE SEQUENCE orders_id_seq;
SELECT setval('orders_id_seq', 1000);

-- register it: its DynamoDB counter starts from the sequence's high-water mark
SELECT * FROM seqdist.register('orders_id_seq', 'shop.orders_id_seq');

CREATE TABLE orders (
    id   bigint PRIMARY KEY DEFAULT seqdist.seqdist_nextval('orders_id_seq'),
    item text NOT NULL
);
INSERT INTO orders (item) VALUES ('coffee'), ('tea'), ('cake');
SELECT id, item FROM orders ORDER BY id;

-- a second database (think: another shard) joins the same counter
CREATE DATABASE shop_shard2;
\c shop_shard2
\set ECHO queries
CREATE EXTENSION seqdist;
CREATE SEQUENCE orders_id_seq;
SELECT * FROM seqdist.register('orders_id_seq', 'shop.orders_id_seq');
CREATE TABLE orders (
    id   bigint PRIMARY KEY DEFAULT seqdist.seqdist_nextval('orders_id_seq'),
    item text NOT NULL
);
INSERT INTO orders (item) VALUES ('scone'), ('juice');
SELECT id, item FROM orders ORDER BY id;

-- the counter item in DynamoDB: the position both databases share
SELECT jsonb_pretty(seqdist.counter_item('orders_id_seq')) AS counter_item;
