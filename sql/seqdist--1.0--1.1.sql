/* seqdist--1.0--1.1.sql: upgrade the SQL objects of seqdist 1.0 to 1.1 */

\echo Use "ALTER EXTENSION seqdist UPDATE TO '1.1'" to load this file. \quit

-- A fresh CREATE EXTENSION runs seqdist--1.0.sql and then this file, so
-- everything added in 1.1 is written here once.  seqdist--1.0.sql is what
-- 1.0 installed and is never changed again.
