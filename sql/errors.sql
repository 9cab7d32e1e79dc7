-- Bad input gets a clear error with the right SQLSTATE and loses nothing.

-- report SQLSTATE and message of a statement without stopping the script
CREATE FUNCTION pg_temp.try(stmt text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE stmt;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

SET seqdist.block_size = 1;
CREATE SEQUENCE err_seq;
CREATE TABLE not_a_seq (x int);

-- a relation that is not a sequence, one that does not exist, one that is
-- not registered
SELECT seqdist.seqdist_nextval('not_a_seq');
SELECT seqdist.seqdist_nextval('no_such_seq');
SELECT seqdist.seqdist_nextval('err_seq');
SELECT pg_temp.try($$SELECT seqdist.register('not_a_seq')$$);
SELECT pg_temp.try($$SELECT seqdist.register('err_seq', '')$$);
SELECT status FROM seqdist.register('err_seq');

-- privileges, as for nextval: USAGE or UPDATE on the sequence
CREATE ROLE regress_seqdist_user;
GRANT USAGE ON SCHEMA seqdist TO regress_seqdist_user;
SET ROLE regress_seqdist_user;
SELECT pg_temp.try($$SELECT seqdist.seqdist_nextval('err_seq')$$);
SELECT pg_temp.try($$SELECT seqdist.register('err_seq')$$);
SELECT pg_temp.try($$SELECT seqdist.create_table()$$);
RESET ROLE;
GRANT USAGE ON SEQUENCE err_seq TO regress_seqdist_user;
SET ROLE regress_seqdist_user;
SELECT seqdist.seqdist_nextval('err_seq') > 0 AS got_value;
RESET ROLE;

-- read-only transactions may not take values
BEGIN TRANSACTION READ ONLY;
SELECT seqdist.seqdist_nextval('err_seq');
ROLLBACK;

-- a table that does not exist in DynamoDB
SET seqdist.table_name = 'seqdist_no_such_table';
SELECT seqdist.seqdist_nextval('err_seq');
SELECT check_name, ok, detail FROM seqdist.health() WHERE check_name = 'table';

-- a table without the sequence's counter item
SELECT seqdist.create_table();
SELECT seqdist.seqdist_nextval('err_seq');
SELECT seqdist.counter_item('err_seq') IS NULL AS no_item;
RESET seqdist.table_name;

-- an endpoint that does not answer
SET seqdist.endpoint = 'http://127.0.0.1:1';
SET seqdist.max_attempts = 2;
SET seqdist.retry_base_delay = '1ms';
SELECT pg_temp.try($$SELECT seqdist.seqdist_nextval('err_seq')$$);
SELECT check_name, ok FROM seqdist.health();
RESET seqdist.endpoint;

-- credentials that DynamoDB does not accept; no secret appears anywhere
SET seqdist.aws_access_key_id = 'AKIDUNKNOWN000000';
SET seqdist.aws_secret_access_key = 'do-not-print-this-secret';
SELECT pg_temp.try($$SELECT seqdist.seqdist_nextval('err_seq')$$);
SELECT check_name, ok, detail FROM seqdist.health() WHERE check_name = 'credentials';
SHOW seqdist.aws_secret_access_key;
SELECT count(*) FROM pg_settings WHERE setting LIKE '%do-not-print%';
SELECT pg_temp.try($$SELECT seqdist.seqdist_nextval('err_seq')$$) LIKE '%do-not-print%' AS leaked;

-- the right key id with a wrong secret fails the signature check
SET seqdist.aws_access_key_id = 'AKIDSEQDISTLOCAL01';
SELECT pg_temp.try($$SELECT seqdist.seqdist_nextval('err_seq')$$);
RESET seqdist.aws_access_key_id;
RESET seqdist.aws_secret_access_key;

-- after all of that the counter is intact: nothing was handed out twice
SELECT seqdist.seqdist_nextval('err_seq') AS next_after_errors;
SELECT (seqdist.counter_item('err_seq') ->> 'last_value')::bigint AS counter_position;

-- a registration lookup that fails leaves nothing stale behind: the next
-- call looks again instead of answering "not registered"
CREATE SEQUENCE stale_seq;
SELECT status FROM seqdist.register('stale_seq');
GRANT USAGE ON SEQUENCE stale_seq TO regress_seqdist_user;
REVOKE SELECT ON seqdist.sequences FROM PUBLIC;
SET ROLE regress_seqdist_user;
SELECT pg_temp.try($$SELECT seqdist.seqdist_nextval('stale_seq')$$);
RESET ROLE;
GRANT SELECT ON seqdist.sequences TO PUBLIC;
SELECT seqdist.seqdist_nextval('stale_seq') AS registered_after_failed_lookup;
DROP SEQUENCE stale_seq;

DROP OWNED BY regress_seqdist_user;
DROP ROLE regress_seqdist_user;
