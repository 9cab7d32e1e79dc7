/*-------------------------------------------------------------------------
 *
 * store.c
 *		The settings that name the DynamoDB table holding the counters, and
 *		the store object built from them.
 *
 * Settings that choose *which* counter a sequence draws from (endpoint,
 * region, table) can be changed only by superusers: pointing a session at a
 * different store would let it hand out values another store also hands
 * out.  Their assign hooks only note that the store changed; the next
 * store_current() builds the new store (URL split into host and path, and
 * its identity hash) once, so the hot path compares one integer.
 *
 * Instance cache slots and refill jobs record the identity of the store
 * their blocks came from, so that a block is never handed out by a backend
 * or refilled by the worker whose settings name another table.
 *
 * Locking: none; the store is built per process from its own settings.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "common/hashfn.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "http.h"
#include "store.h"

static char *store_endpoint_setting = NULL;
static char *store_region_setting = NULL;
static char *store_table_setting = NULL;

/* Bumped by the assign hooks; store_built_version is what store_cur holds */
static uint64 store_version = 1;
static uint64 store_built_version = 0;
static SeqdistStore store_cur;
static MemoryContext store_cxt = NULL;

static bool store_check_endpoint(char **newval, void **extra, GucSource source);
static bool store_check_region(char **newval, void **extra, GucSource source);
static bool store_check_table(char **newval, void **extra, GucSource source);
static void store_changed(const char *newval, void *extra);
static void store_build(void);

void
store_init(void)
{
	DefineCustomStringVariable("seqdist.endpoint",
							   "DynamoDB endpoint URL (http or https).",
							   "Empty means the regional AWS endpoint, https://dynamodb.<region>.amazonaws.com.",
							   &store_endpoint_setting, "",
							   PGC_SUSET, 0,
							   store_check_endpoint, store_changed, NULL);
	DefineCustomStringVariable("seqdist.region",
							   "AWS region used in request signatures and the default endpoint.",
							   NULL,
							   &store_region_setting, "us-east-1",
							   PGC_SUSET, 0,
							   store_check_region, store_changed, NULL);
	DefineCustomStringVariable("seqdist.table_name",
							   "DynamoDB table that holds the counter items.",
							   NULL,
							   &store_table_setting, "seqdist_counters",
							   PGC_SUSET, 0,
							   store_check_table, store_changed, NULL);
}

static void
store_changed(const char *newval, void *extra)
{
	store_version++;
}

static uint64
store_hash_text(uint64 h, const char *s)
{
	return hash_combine64(h, hash_bytes_extended((const unsigned char *) s, strlen(s), 0));
}

uint64
store_key_hash(const char *key)
{
	return hash_bytes_extended((const unsigned char *) key, strlen(key), 0);
}

/* Build store_cur from the settings, in a context of its own */
static void
store_build(void)
{
	MemoryContext old;
	const char *endpoint = store_endpoint_setting;
	const char *rest;
	const char *slash;

	if (store_cxt == NULL)
		store_cxt = AllocSetContextCreate(TopMemoryContext, "seqdist store",
										  ALLOCSET_SMALL_SIZES);
	else
		MemoryContextReset(store_cxt);
	old = MemoryContextSwitchTo(store_cxt);

	if (endpoint == NULL || endpoint[0] == '\0')
		endpoint = psprintf("https://dynamodb.%s.amazonaws.com", store_region_setting);
	store_cur.endpoint = pstrdup(endpoint);
	store_cur.region = pstrdup(store_region_setting);
	store_cur.table = pstrdup(store_table_setting);

	/* the Host header and path are signed, so they must be what is sent */
	rest = strstr(store_cur.endpoint, "://");
	rest = rest ? rest + 3 : store_cur.endpoint;
	slash = strchr(rest, '/');
	store_cur.host = slash ? pnstrdup(rest, slash - rest) : pstrdup(rest);
	store_cur.path = slash ? pstrdup(slash) : pstrdup("/");

	store_cur.id = store_hash_text(store_hash_text(store_hash_text(0, store_cur.endpoint),
												   store_cur.region),
								   store_cur.table);
	MemoryContextSwitchTo(old);
}

const SeqdistStore *
store_current(void)
{
	if (store_built_version != store_version)
	{
		store_build();
		store_built_version = store_version;
	}
	return &store_cur;
}

/*
 * The endpoint must be an http or https URL with a host and nothing that
 * would change how the request is signed (user info, query, fragment).
 */
static bool
store_check_endpoint(char **newval, void **extra, GucSource source)
{
	const char *s = *newval;
	const char *problem;
	const char *host;

	if (s == NULL || s[0] == '\0')
		return true;
	problem = http_url_problem(s, "endpoint", true);
	if (problem)
	{
		GUC_check_errdetail("%s", problem);
		return false;
	}
	host = strstr(s, "://") + 3;
	/* the path is signed as sent, so it must need no normalising */
	if (strstr(host, "//") || strstr(host, "/./") || strstr(host, "/../") ||
		(strlen(host) >= 2 && strcmp(host + strlen(host) - 2, "/.") == 0) ||
		(strlen(host) >= 3 && strcmp(host + strlen(host) - 3, "/..") == 0))
	{
		GUC_check_errdetail("The endpoint's path may not contain empty, \".\" or \"..\" segments.");
		return false;
	}
	return true;
}

/*
 * Is s between min and max bytes long and made only of characters that
 * allowed accepts?  If not, say which rule it breaks.
 */
static bool
store_check_text(const char *s, size_t min, size_t max, bool (*allowed) (unsigned char),
				 const char *length_rule, const char *char_rule)
{
	size_t		len = s ? strlen(s) : 0;

	if (len < min || len > max)
	{
		GUC_check_errdetail("%s", length_rule);
		return false;
	}
	for (const char *p = s; *p; p++)
	{
		if (!allowed((unsigned char) *p))
		{
			GUC_check_errdetail("%s", char_rule);
			return false;
		}
	}
	return true;
}

static bool
store_region_char(unsigned char c)
{
	return islower(c) || isdigit(c) || c == '-';
}

static bool
store_table_char(unsigned char c)
{
	return isalnum(c) || c == '_' || c == '-' || c == '.';
}

static bool
store_check_region(char **newval, void **extra, GucSource source)
{
	return store_check_text(*newval, 1, 64, store_region_char,
							"The region must be between 1 and 64 characters long.",
							"The region may contain only lower-case letters, digits and hyphens.");
}

/* DynamoDB's own rule for table names: 3 to 255 of [A-Za-z0-9_.-] */
static bool
store_check_table(char **newval, void **extra, GucSource source)
{
	return store_check_text(*newval, 3, 255, store_table_char,
							"A DynamoDB table name must be between 3 and 255 characters long.",
							"A DynamoDB table name may contain only letters, digits, \"_\", \"-\" and \".\".");
}
