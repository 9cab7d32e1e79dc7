-- Settings are validated when they are set, and secrets stay secret.

SELECT name, unit, context, boot_val FROM pg_settings
WHERE name LIKE 'seqdist.%' ORDER BY name;

-- invalid values are rejected at SET
SET seqdist.endpoint = 'ftp://127.0.0.1:8000';
SET seqdist.endpoint = 'http://';
SET seqdist.endpoint = 'http://user@127.0.0.1:8000';
SET seqdist.region = 'US East';
SET seqdist.table_name = 'x';
SET seqdist.table_name = 'ok_name';
SHOW seqdist.table_name;
SET seqdist.table_name = 'counters with spaces';
-- (the SQLSTATE only: the wording of this message differs between PostgreSQL versions)
\set VERBOSITY sqlstate
SET seqdist.connect_timeout = -1;
\set VERBOSITY default
SET seqdist.request_timeout = 'soon';
SET seqdist.max_attempts = 0;
SET seqdist.retry_max_delay = '1 year';
-- valid values, with units
SET seqdist.endpoint = 'https://dynamodb.eu-west-1.amazonaws.com';
SET seqdist.region = 'eu-west-1';
SET seqdist.request_timeout = '1.5s';
SHOW seqdist.request_timeout;
RESET ALL;
-- the proxy is the server's: set in its configuration, taken at reload
SET seqdist.proxy = 'http://127.0.0.1:3128';

-- which settings a non-superuser may change, and that none can read secrets
CREATE ROLE regress_seqdist_plain;
SET seqdist.aws_secret_access_key = 'super-secret-value';
SHOW seqdist.aws_secret_access_key;
SET ROLE regress_seqdist_plain;
-- a session holding a sequence's single-flight token makes every backend
-- wait as long as its own timeouts and retries say: those are the server's
SET seqdist.request_timeout = '2s';
SET seqdist.max_attempts = 100;
SET seqdist.retry_base_delay = '60s';
SET seqdist.endpoint = 'http://127.0.0.1:9';
SET seqdist.aws_access_key_id = 'AKIDX';
-- (the SQLSTATE only: the wording of this message differs between PostgreSQL versions)
\set VERBOSITY sqlstate
SHOW seqdist.aws_secret_access_key;
\set VERBOSITY default
SELECT count(*) AS visible FROM pg_settings WHERE name LIKE 'seqdist.aws%';
RESET ROLE;
GRANT pg_read_all_settings TO regress_seqdist_plain;
SET ROLE regress_seqdist_plain;
SHOW seqdist.aws_secret_access_key;
SELECT setting FROM pg_settings WHERE name = 'seqdist.aws_secret_access_key';
RESET ROLE;
RESET ALL;
DROP ROLE regress_seqdist_plain;
