/*-------------------------------------------------------------------------
 *
 * stats.c
 *		seqdist.stats: what the instance cache and the refill worker did.
 *
 * Each instance cache slot keeps a SlotStats: blocks reserved by the worker
 * and by backends, what their DynamoDB calls did (the DynamoStats each call
 * fills, added to the slot when the block arrives or the call fails),
 * backend waits and the last error.  A versioned set-returning function
 * (seqdist_stats_1_0) reads a copy of every slot, taken slot by slot under
 * the slots' spinlocks by an instance cache scan, and the view
 * seqdist.stats presents it.  Latency comes from a histogram of request
 * durations in power-of-two milliseconds, so a percentile is reported as the
 * upper bound of its bucket.
 *
 * Locking: the copy is taken by an instance cache scan (the table's LWLock
 * in shared mode, each slot's spinlock for its copy); rows are built after
 * the scan has ended.
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

#define STATS_COLUMNS 19

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
stats_put_row(ReturnSetInfo *rsinfo, const InstanceView *v)
{
	Datum		values[STATS_COLUMNS];
	bool		nulls[STATS_COLUMNS];
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
	Assert(c == STATS_COLUMNS);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/*
 * The slots are copied first and the rows built afterwards, so that the
 * table is locked only for the copy.
 */
Datum
seqdist_stats_1_0(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	InstanceScan scan;
	InstanceView *views;
	int			n = 0;
	int			max;

	instance_cache_check_preloaded();
	InitMaterializedSRF(fcinfo, 0);
	max = instance_cache_scan_begin(&scan, INSTANCE_SCAN_STATS);
	views = palloc(sizeof(InstanceView) * Max(max, 1));
	while (n < max && instance_cache_scan_next(&scan, &views[n]))
		n++;
	instance_cache_scan_end(&scan);
	for (int i = 0; i < n; i++)
		stats_put_row(rsinfo, &views[i]);
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
