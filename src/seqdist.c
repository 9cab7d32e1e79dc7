/*-------------------------------------------------------------------------
 *
 * seqdist.c
 *		Module entry point: settings and the shared_preload_libraries check.
 *
 * seqdist must be loaded by shared_preload_libraries, because the instance
 * cache lives in shared memory sized at postmaster start.  When it is loaded
 * any other way (a plain CREATE EXTENSION on a server without the setting),
 * the settings still exist so that configuration files parse, and every SQL
 * entry point fails with a hint instead of misbehaving.
 *
 * Settings that choose *which* counter a sequence draws from (endpoint,
 * region, table) can be changed only by superusers: pointing a session at a
 * different store would let it hand out values another store also hands out.
 * Credentials are superuser-only in both directions: a non-superuser can
 * neither set nor read them; SHOW masks them even for superusers; and they
 * carry no check hook, because a check hook's rejection message would echo
 * the value.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "common/hashfn.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"

#include "seqdist.h"
#include "instance_cache.h"
#include "refill_worker.h"

PG_MODULE_MAGIC;

/*---- settings ----*/
char	   *seqdist_endpoint = NULL;
char	   *seqdist_region = NULL;
char	   *seqdist_table = NULL;
char	   *seqdist_ca_file = NULL;
char	   *seqdist_access_key_id = NULL;
char	   *seqdist_secret_access_key = NULL;
char	   *seqdist_session_token = NULL;
int			seqdist_connect_timeout_ms = 2000;
int			seqdist_request_timeout_ms = 5000;
int			seqdist_max_attempts = 5;
int			seqdist_retry_base_ms = 25;
int			seqdist_retry_cap_ms = 1000;
int			seqdist_max_sequences = 10000;
int			seqdist_block_size = 1000;
int			seqdist_max_block_size = 1000000;
int			seqdist_block_target_ms = 1000;
int			seqdist_runway_s = 10;
bool		seqdist_refill = true;

/* Bumped whenever this process's endpoint, region or table changes */
int			seqdist_store_version = 0;
bool		seqdist_allow_rewind = false;

static bool seqdist_preloaded = false;

void		_PG_init(void);

static bool seqdist_check_endpoint(char **newval, void **extra, GucSource source);
static bool seqdist_check_region(char **newval, void **extra, GucSource source);
static bool seqdist_check_table(char **newval, void **extra, GucSource source);
static void seqdist_store_changed(const char *newval, void *extra);
static const char *seqdist_show_access_key(void);
static const char *seqdist_show_secret(void);
static const char *seqdist_show_token(void);

void
_PG_init(void)
{
	if (IsBinaryUpgrade)
		return;

	seqdist_preloaded = process_shared_preload_libraries_in_progress;

	DefineCustomStringVariable("seqdist.endpoint",
							   "DynamoDB endpoint URL (http or https).",
							   "Empty means the regional AWS endpoint, https://dynamodb.<region>.amazonaws.com.",
							   &seqdist_endpoint, "",
							   PGC_SUSET, 0,
							   seqdist_check_endpoint, seqdist_store_changed, NULL);
	DefineCustomStringVariable("seqdist.region",
							   "AWS region used in request signatures and the default endpoint.",
							   NULL,
							   &seqdist_region, "us-east-1",
							   PGC_SUSET, 0,
							   seqdist_check_region, seqdist_store_changed, NULL);
	DefineCustomStringVariable("seqdist.table_name",
							   "DynamoDB table that holds the counter items.",
							   NULL,
							   &seqdist_table, "seqdist_counters",
							   PGC_SUSET, 0,
							   seqdist_check_table, seqdist_store_changed, NULL);
	DefineCustomStringVariable("seqdist.ca_file",
							   "File of CA certificates used to verify the endpoint's TLS certificate.",
							   "Empty means the system's default CA store.",
							   &seqdist_ca_file, "",
							   PGC_SUSET, 0,
							   NULL, NULL, NULL);
	DefineCustomStringVariable("seqdist.aws_access_key_id",
							   "AWS access key id; overrides the environment and the shared credentials file.",
							   NULL,
							   &seqdist_access_key_id, "",
							   PGC_SUSET, GUC_SUPERUSER_ONLY | GUC_NO_SHOW_ALL,
							   NULL, NULL, seqdist_show_access_key);
	DefineCustomStringVariable("seqdist.aws_secret_access_key",
							   "AWS secret access key; overrides the environment and the shared credentials file.",
							   NULL,
							   &seqdist_secret_access_key, "",
							   PGC_SUSET, GUC_SUPERUSER_ONLY | GUC_NO_SHOW_ALL,
							   NULL, NULL, seqdist_show_secret);
	DefineCustomStringVariable("seqdist.aws_session_token",
							   "AWS session token for temporary credentials.",
							   NULL,
							   &seqdist_session_token, "",
							   PGC_SUSET, GUC_SUPERUSER_ONLY | GUC_NO_SHOW_ALL,
							   NULL, NULL, seqdist_show_token);
	DefineCustomIntVariable("seqdist.connect_timeout",
							"Maximum time to establish a connection to DynamoDB.",
							NULL,
							&seqdist_connect_timeout_ms, 2000, 10, 600000,
							PGC_USERSET, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomIntVariable("seqdist.request_timeout",
							"Maximum time for one DynamoDB request, connection included.",
							NULL,
							&seqdist_request_timeout_ms, 5000, 10, 600000,
							PGC_USERSET, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomIntVariable("seqdist.max_attempts",
							"Attempts per DynamoDB operation when it fails with a retryable error.",
							NULL,
							&seqdist_max_attempts, 5, 1, 100,
							PGC_USERSET, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("seqdist.retry_base_delay",
							"First backoff delay between attempts; it doubles with each attempt.",
							NULL,
							&seqdist_retry_base_ms, 25, 1, 60000,
							PGC_USERSET, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomIntVariable("seqdist.retry_max_delay",
							"Cap on the backoff delay between attempts.",
							NULL,
							&seqdist_retry_cap_ms, 1000, 1, 600000,
							PGC_USERSET, GUC_UNIT_MS,
							NULL, NULL, NULL);

	/* a postmaster setting can only be defined while preloading */
	if (seqdist_preloaded)
		DefineCustomIntVariable("seqdist.max_sequences",
								"Sequences the instance cache can hold at once.",
								"Each costs a slot of shared memory; see the README for the size.",
								&seqdist_max_sequences, 10000, 16, 10000000,
								PGC_POSTMASTER, 0,
								NULL, NULL, NULL);
	DefineCustomIntVariable("seqdist.block_size",
							"Values reserved from DynamoDB per request, for sequences without their own block size.",
							"A restart or crash can leave up to this many values of a sequence unused.",
							&seqdist_block_size, 1000, 1, 1000000000,
							PGC_SUSET, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("seqdist.max_block_size",
							"Largest block the instance cache reserves when demand is high.",
							"A crash or restart can leave up to one block per sequence unused.",
							&seqdist_max_block_size, 1000000, 1, 1000000000,
							PGC_SUSET, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("seqdist.block_target_duration",
							"How long a block should last: blocks grow while they last less and shrink when they last much longer.",
							NULL,
							&seqdist_block_target_ms, 1000, 1, 3600000,
							PGC_SUSET, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomIntVariable("seqdist.runway",
							"Seconds of demand the refill worker keeps reserved ahead of need, per sequence.",
							"This is how long a DynamoDB outage stays invisible at the current rate.",
							&seqdist_runway_s, 10, 1, 3600,
							PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomBoolVariable("seqdist.refill",
							 "Lets the refill worker reserve blocks ahead of need.",
							 "Off, backends reserve every block themselves when they run out.",
							 &seqdist_refill, true,
							 PGC_SIGHUP, 0,
							 NULL, NULL, NULL);
	DefineCustomBoolVariable("seqdist.allow_rewind",
							 "Lets seqdist_setval move a counter backwards.",
							 "Values up to the counter's position may already have been handed out; moving back hands them out again.",
							 &seqdist_allow_rewind, false,
							 PGC_SUSET, 0,
							 NULL, NULL, NULL);

	MarkGUCPrefixReserved("seqdist");

	if (seqdist_preloaded)
	{
		instance_cache_install_hooks();
		refill_worker_register();
	}
}

/*
 * Credentials are never shown, not even to superusers or members of
 * pg_read_all_settings: SHOW and pg_settings say only whether one is set.
 */
static const char *
seqdist_show_masked(const char *value)
{
	return (value == NULL || value[0] == '\0') ? "" : "********";
}

static const char *
seqdist_show_access_key(void)
{
	return seqdist_show_masked(seqdist_access_key_id);
}

static const char *
seqdist_show_secret(void)
{
	return seqdist_show_masked(seqdist_secret_access_key);
}

static const char *
seqdist_show_token(void)
{
	return seqdist_show_masked(seqdist_session_token);
}

static void
seqdist_store_changed(const char *newval, void *extra)
{
	seqdist_store_version++;
}

/*
 * Two slots or blocks belong to the same counter only if endpoint, region,
 * table and key are all the same.
 */
uint64
seqdist_counter_hash(const char *key)
{
	uint64		h = hash_bytes_extended((const unsigned char *) key, strlen(key), 0);
	const char *parts[3] = {seqdist_effective_endpoint(), seqdist_region, seqdist_table};

	for (int i = 0; i < 3; i++)
		h = hash_combine64(h, hash_bytes_extended((const unsigned char *) parts[i],
												  strlen(parts[i]), 0));
	return h;
}

void
seqdist_check_preloaded(void)
{
	if (!seqdist_preloaded)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("seqdist must be loaded via shared_preload_libraries"),
				 errhint("Add seqdist to shared_preload_libraries in postgresql.conf and restart the server.")));
}

const char *
seqdist_effective_endpoint(void)
{
	static char buf[256];

	if (seqdist_endpoint != NULL && seqdist_endpoint[0] != '\0')
		return seqdist_endpoint;
	snprintf(buf, sizeof(buf), "https://dynamodb.%s.amazonaws.com", seqdist_region);
	return buf;
}

/*
 * The endpoint must be an http or https URL with a host and nothing that
 * would change how the request is signed (user info, query, fragment).
 */
static bool
seqdist_check_endpoint(char **newval, void **extra, GucSource source)
{
	const char *s = *newval;
	const char *host;

	if (s == NULL || s[0] == '\0')
		return true;
	if (strncmp(s, "https://", 8) == 0)
		host = s + 8;
	else if (strncmp(s, "http://", 7) == 0)
		host = s + 7;
	else
	{
		GUC_check_errdetail("The endpoint must start with \"http://\" or \"https://\".");
		return false;
	}
	if (*host == '\0' || *host == '/' || *host == ':')
	{
		GUC_check_errdetail("The endpoint must name a host.");
		return false;
	}
	for (const char *p = host; *p; p++)
	{
		if (isspace((unsigned char) *p) || *p == '@' || *p == '?' || *p == '#')
		{
			GUC_check_errdetail("The endpoint may contain only a scheme, a host, an optional port and an optional path.");
			return false;
		}
	}
	return true;
}

static bool
seqdist_check_region(char **newval, void **extra, GucSource source)
{
	const char *s = *newval;

	if (s == NULL || s[0] == '\0' || strlen(s) > 64)
	{
		GUC_check_errdetail("The region must be between 1 and 64 characters long.");
		return false;
	}
	for (const char *p = s; *p; p++)
	{
		if (!(islower((unsigned char) *p) || isdigit((unsigned char) *p) || *p == '-'))
		{
			GUC_check_errdetail("The region may contain only lower-case letters, digits and hyphens.");
			return false;
		}
	}
	return true;
}

/* DynamoDB's own rule for table names: 3 to 255 of [A-Za-z0-9_.-] */
static bool
seqdist_check_table(char **newval, void **extra, GucSource source)
{
	const char *s = *newval;
	size_t		len = s ? strlen(s) : 0;

	if (len < 3 || len > 255)
	{
		GUC_check_errdetail("A DynamoDB table name must be between 3 and 255 characters long.");
		return false;
	}
	for (const char *p = s; *p; p++)
	{
		if (!(isalnum((unsigned char) *p) || *p == '_' || *p == '-' || *p == '.'))
		{
			GUC_check_errdetail("A DynamoDB table name may contain only letters, digits, \"_\", \"-\" and \".\".");
			return false;
		}
	}
	return true;
}
