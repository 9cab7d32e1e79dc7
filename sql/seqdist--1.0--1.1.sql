/* seqdist--1.0--1.1.sql: upgrade the SQL objects of seqdist 1.0 to 1.1 */

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
