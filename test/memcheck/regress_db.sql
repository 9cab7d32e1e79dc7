-- regress_db.sql -- the database pg_regress would make for the suite:
-- Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
-- test/memcheck.sh runs pg_regress --use-existing, which does not.
CREATE DATABASE contrib_regression TEMPLATE template0;
ALTER DATABASE contrib_regression SET lc_messages TO 'C';
ALTER DATABASE contrib_regression SET lc_monetary TO 'C';
ALTER DATABASE contrib_regression SET lc_numeric TO 'C';
ALTER DATABASE contrib_regression SET lc_time TO 'C';
ALTER DATABASE contrib_regression SET bytea_output TO 'hex';
ALTER DATABASE contrib_regression SET timezone_abbreviations TO 'Default';
