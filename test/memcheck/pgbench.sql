-- pgbench.sql -- one transaction of the concurrent phase of test/memcheck.sh;
-- Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
-- the sequences and tables are made by workload.sql.
SELECT seqdist.seqdist_nextval('pb_cached');
SELECT seqdist.seqdist_nextval('pb_cache10');
SELECT seqdist.seqdist_nextval('pb_cycle');
SELECT seqdist.seqdist_currval('pb_cached'), seqdist.seqdist_lastval();
INSERT INTO pb_values VALUES (seqdist.seqdist_nextval('pb_block1'));
INSERT INTO pb_strict_values VALUES (seqdist.seqdist_nextval('pb_strict'));
