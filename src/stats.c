/*-------------------------------------------------------------------------
 *
 * stats.c
 *		seqdist.stats: what the instance cache and the refill worker did.
 *
 * Each instance cache slot keeps a SlotStats: blocks reserved by the worker
 * and by backends, what their DynamoDB calls did (the DynamoStats each call
 * fills, added to the slot when the block arrives or the call fails),
 * backend waits and the last error.  A versioned set-returning function
 * (seqdist.stats_1_0()) reads a copy of every slot, taken slot by slot under
 * the slots' spinlocks by an instance cache scan, and the view
 * seqdist.stats presents it.  Latency comes from a histogram of request
 * durations in power-of-two milliseconds, so a percentile is reported as the
 * upper bound of its bucket.
 *
 * Versions, as pg_stat_statements does them: the columns of the function
 * belong to an extension version.  A version that changes them adds a C
 * entry point named after itself (seqdist_stats_1_1 for 1.1, ...) that calls
 * stats_internal with its StatsVersion, and its upgrade script creates the
 * SQL function of that name (seqdist.stats_1_1()), points the view at it
 * and drops the old SQL function.  The library keeps every older entry
 * point, with its columns exactly as they were: after the library is
 * upgraded and the server restarted, a database whose SQL objects are still
 * at an older version (ALTER EXTENSION seqdist UPDATE not yet run, or never)
 * calls the old one.  New columns come last; stats_internal checks that the
 * caller declared as many columns as the version has.
 *
 * Locking: the copy is taken by an instance cache scan (the table's LWLock
 * in shared mode, each slot's spinlock for its copy); rows are built after
 * the scan has ended.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "instance_cache.h"
#include "refill_policy.h"
#include "stats.h"

/* The stats function's column sets, one per version that changed them */
typedef enum StatsVersion
{
	STATS_V1_0,
} StatsVersion;

#define STATS_COLUMNS_V1_0 19
#define STATS_COLUMNS_MAX STATS_COLUMNS_V1_0

static const int stats_columns[] = {
	[STATS_V1_0] = STATS_COLUMNS_V1_0,
};

PG_FUNCTION_INFO_V1(seqdist_stats_1_0);
PG_FUNCTION_INFO_V1(seqdist_stats_reset);

/* Upper bound, in ms, of the bucket holding the given fraction of requests */
static double
stats_percentile(const uint64 *hist, double fraction)
{
	uint64		total = 0;
	uint64		seen = 0;

	for (int i = 0; i < DYNAMO_LATENCY_BUCKETS; i++)
		total += hist[i];
	if (total == 0)
		return -1;
	for (int i = 0; i < DYNAMO_LATENCY_BUCKETS; i++)
	{
		seen += hist[i];
		if ((double) seen >= fraction * (double) total)
			return (double) ((int64) 1 << i);
	}
	return (double) ((int64) 1 << (DYNAMO_LATENCY_BUCKETS - 1));
}

static void
stats_put_row(ReturnSetInfo *rsinfo, const InstanceView *v, StatsVersion version)
{
	Datum		values[STATS_COLUMNS_MAX];
	bool		nulls[STATS_COLUMNS_MAX];
	const SlotStats *st = &v->stats;
	int64		cached = v->remaining + v->spare_count;
	double		rate = v->demand.rate;
	double		p50 = stats_percentile(st->calls.latency, 0.50);
	double		p99 = stats_percentile(st->calls.latency, 0.99);
	int			c = 0;

	memset(nulls, 0, sizeof(nulls));
	values[c++] = ObjectIdGetDatum(v->ticket.dbid);
	values[c] = ObjectIdGetDatum(v->ticket.relid);
	nulls[c++] = (v->ticket.dbid != MyDatabaseId);
	values[c++] = CStringGetTextDatum(v->key);
	values[c++] = Int64GetDatum(cached);
	values[c] = Float8GetDatum(rate > 0 ? (double) cached / rate : 0);
	nulls[c++] = (rate < REFILL_IDLE_RATE);
	values[c++] = Int64GetDatum(v->block_size);
	values[c++] = Float8GetDatum(rate);
	values[c++] = Int64GetDatum((int64) st->blocks_by_worker);
	values[c++] = Int64GetDatum((int64) st->blocks_by_backend);
	values[c++] = Int64GetDatum((int64) st->calls.requests);
	values[c++] = Int64GetDatum((int64) st->calls.retries);
	values[c++] = Int64GetDatum((int64) st->calls.throttles);
	values[c++] = Int64GetDatum((int64) st->calls.errors);
	values[c] = CStringGetTextDatum(st->last_error);
	nulls[c++] = (st->last_error[0] == '\0');
	values[c] = TimestampTzGetDatum(st->last_error_at);
	nulls[c++] = (st->last_error_at == 0);
	values[c] = Float8GetDatum(p50);
	nulls[c++] = (p50 < 0);
	values[c] = Float8GetDatum(p99);
	nulls[c++] = (p99 < 0);
	values[c++] = Int64GetDatum((int64) st->waits);
	values[c++] = Float8GetDatum((double) st->wait_us / 1000.0);
	/* a later version's columns follow here: if (version >= STATS_V1_1) */
	Assert(c == stats_columns[version]);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/*
 * The rows of one version's columns.  The slots are copied first and the
 * rows built afterwards, so that the table is locked only for the copy.
 */
static void
stats_internal(FunctionCallInfo fcinfo, StatsVersion version, const char *entry)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	InstanceScan scan;
	InstanceView *views;
	int			n = 0;
	int			max;

	instance_cache_check_preloaded();
	InitMaterializedSRF(fcinfo, 0);
	if (rsinfo->setDesc->natts != stats_columns[version])
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("function %s declares %d result columns, but seqdist's %s returns %d",
						get_func_name(fcinfo->flinfo->fn_oid), rsinfo->setDesc->natts,
						entry, stats_columns[version]),
				 errhint("The SQL objects of the extension do not match its library: install the library and SQL files of one build, then run ALTER EXTENSION seqdist UPDATE.")));
	max = instance_cache_scan_begin(&scan, INSTANCE_SCAN_STATS);
	views = palloc(sizeof(InstanceView) * Max(max, 1));
	while (n < max && instance_cache_scan_next(&scan, &views[n]))
		n++;
	instance_cache_scan_end(&scan);
	for (int i = 0; i < n; i++)
		stats_put_row(rsinfo, &views[i], version);
}

/* seqdist.stats_1_0(): the columns of version 1.0 */
Datum
seqdist_stats_1_0(PG_FUNCTION_ARGS)
{
	stats_internal(fcinfo, STATS_V1_0, "seqdist_stats_1_0");
	PG_RETURN_VOID();
}

Datum
seqdist_stats_reset(PG_FUNCTION_ARGS)
{
	InstanceScan scan;
	InstanceView view;

	instance_cache_check_preloaded();
	instance_cache_scan_begin(&scan, INSTANCE_SCAN_RESET_STATS);
	while (instance_cache_scan_next(&scan, &view))
		;
	instance_cache_scan_end(&scan);
	PG_RETURN_VOID();
}
