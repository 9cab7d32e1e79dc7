-- Installing seqdist and creating the DynamoDB counter table.
CREATE EXTENSION seqdist;

SELECT extname, extversion, extnamespace::regnamespace AS schema
FROM pg_extension WHERE extname = 'seqdist';

-- the table is created once; asking again is harmless
SELECT seqdist.create_table();
SELECT seqdist.create_table();

SELECT check_name, ok FROM seqdist.health();

-- the objects the extension owns (but the row types of its table and view,
-- which PostgreSQL 17 lists too)
SELECT pg_describe_object(classid, objid, 0) AS object
FROM pg_depend
WHERE refclassid = 'pg_extension'::regclass
  AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'seqdist')
  AND classid <> 'pg_type'::regclass
ORDER BY 1;
