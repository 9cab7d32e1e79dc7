/*-------------------------------------------------------------------------
 *
 * seqdist.c
 *		Module entry point: _PG_init calls each module's init function, and
 *		each module defines the settings it reads.
 *
 * seqdist must be loaded by shared_preload_libraries, because the instance
 * cache lives in shared memory sized at postmaster start.  When it is loaded
 * any other way (a plain CREATE EXTENSION on a server without the setting),
 * the settings still exist so that configuration files parse, and every SQL
 * entry point fails with a hint instead of misbehaving.
 *
 * The rooms of src/, from the SQL surface down to the wire:
 *	nextval.c			seqdist_nextval() and friends (the hot path)
 *	admin.c				create_table, health, register, counter_item, ...
 *	ddl_triggers.c		the ALTER SEQUENCE and DROP event triggers
 *	pending_ddl.c		counter changes of DDL, made at commit
 *	routing.c			native sequence calls of migrated sequences to counters
 *	migrate.c			migration: registration at a floor, the native fence
 *	stats.c				the seqdist.stats view
 *	backend_cache.c		tier 3: each backend's state and CACHE n values
 *	registry.c			the seqdist.sequences table
 *	sequence_catalog.c	the native sequence's definition
 *	instance_cache.c	tier 2: shared-memory blocks, single flight
 *	block_size.c		how big a block is
 *	refill_worker.c		the background worker that refills ahead of need
 *	refill_policy.c		its demand estimate, job size and backoff
 *	prewarm.c			the prewarm list in the data directory
 *	counter.c			tier 1: the counter item protocol
 *	counter_table.c		the DynamoDB table: create, describe
 *	counter_json.c		a counter item as plain JSON
 *	store.c				which table: endpoint, region, table name
 *	dynamo.c			one DynamoDB call: sign, send, retry, map errors
 *	credentials.c		where AWS credentials come from (the chain); log redaction
 *	credentials_file.c	the shared credentials/config file parser (no PostgreSQL dependency)
 *	credentials_remote.c	web identity (STS), container and instance metadata credentials
 *	credentials_cache.c	the instance's temporary credentials, in shared memory
 *	credentials_parse.c	the STS XML and timestamp parsers (no PostgreSQL dependency)
 *	http.c				the libcurl transport (timeouts, cancellation)
 *	sigv4.c				AWS Signature Version 4 (no PostgreSQL dependency)
 *	pg_compat.h			what differs between PostgreSQL 15, 16 and 17
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"

#include "block_size.h"
#include "credentials.h"
#include "ddl_triggers.h"
#include "migrate.h"
#include "dynamo.h"
#include "http.h"
#include "instance_cache.h"
#include "nextval.h"
#include "pending_ddl.h"
#include "refill_policy.h"
#include "refill_worker.h"
#include "routing.h"
#include "store.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	bool		preloading;

	if (IsBinaryUpgrade)
		return;
	preloading = process_shared_preload_libraries_in_progress;

	store_init();
	credentials_init(preloading);
	http_init();
	dynamo_init();
	block_size_init();
	instance_cache_init(preloading);
	refill_policy_init();
	refill_worker_init(preloading);
	nextval_init();
	ddl_triggers_init(preloading);
	pending_ddl_init();
	routing_init(preloading);
	migrate_init();

	MarkGUCPrefixReserved("seqdist");
}
