/*-------------------------------------------------------------------------
 *
 * stats.c
 *		seqdist.stats: what the instance cache and the refill worker did.
 *
 * A versioned set-returning function (seqdist_stats_1_0) reads a copy of
 * every slot, taken slot by slot under the slots' spinlocks, and the view
 * seqdist.stats presents it.  Latency comes from a histogram of request
 * durations in power-of-two milliseconds, so a percentile is reported as the
 * upper bound of its bucket.
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

#include "seqdist.h"
#include "instance_cache.h"

#define STATS_COLUMNS 19

PG_FUNCTION_INFO_V1(seqdist_stats_1_0);
PG_FUNCTION_INFO_V1(seqdist_stats_reset);

/* Upper bound, in ms, of the bucket holding the given fraction of requests */
static double
stats_percentile(const uint64 *hist, double fraction)
{
	uint64		total = 0;
	uint64		seen = 0;

	for (int i = 0; i < 16; i++)
		total += hist[i];
	if (total == 0)
		return -1;
	for (int i = 0; i < 16; i++)
	{
		seen += hist[i];
		if ((double) seen >= fraction * (double) total)
			return (double) ((int64) 1 << i);
	}
	return (double) ((int64) 1 << 15);
}

Datum
seqdist_stats_1_0(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	InstanceSnapshot *snaps;
	int			n;

	seqdist_check_preloaded();
	InitMaterializedSRF(fcinfo, 0);
	n = instance_cache_snapshot(&snaps);
	for (int i = 0; i < n; i++)
	{
		InstanceSnapshot *s = &snaps[i];
		Datum		values[STATS_COLUMNS];
		bool		nulls[STATS_COLUMNS];
		double		p50 = stats_percentile(s->stats.latency, 0.50);
		double		p99 = stats_percentile(s->stats.latency, 0.99);
		int			c = 0;

		memset(nulls, 0, sizeof(nulls));
		values[c++] = ObjectIdGetDatum(s->dbid);
		values[c] = ObjectIdGetDatum(s->relid);
		nulls[c++] = (s->dbid != MyDatabaseId);
		values[c++] = CStringGetTextDatum(s->key);
		values[c++] = Int64GetDatum(s->cached);
		values[c] = Float8GetDatum(s->rate > 0 ? (double) s->cached / s->rate : 0);
		nulls[c++] = (s->rate < 0.5);
		values[c++] = Int64GetDatum(s->block_size);
		values[c++] = Float8GetDatum(s->rate);
		values[c++] = Int64GetDatum((int64) s->stats.blocks_by_worker);
		values[c++] = Int64GetDatum((int64) s->stats.blocks_by_backend);
		values[c++] = Int64GetDatum((int64) s->stats.requests);
		values[c++] = Int64GetDatum((int64) s->stats.retries);
		values[c++] = Int64GetDatum((int64) s->stats.throttles);
		values[c++] = Int64GetDatum((int64) s->stats.errors);
		values[c] = CStringGetTextDatum(s->stats.last_error);
		nulls[c++] = (s->stats.last_error[0] == '\0');
		values[c] = TimestampTzGetDatum(s->stats.last_error_at);
		nulls[c++] = (s->stats.last_error_at == 0);
		values[c] = Float8GetDatum(p50);
		nulls[c++] = (p50 < 0);
		values[c] = Float8GetDatum(p99);
		nulls[c++] = (p99 < 0);
		values[c++] = Int64GetDatum((int64) s->stats.waits);
		values[c++] = Float8GetDatum((double) s->stats.wait_us / 1000.0);
		Assert(c == STATS_COLUMNS);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	PG_RETURN_VOID();
}

Datum
seqdist_stats_reset(PG_FUNCTION_ARGS)
{
	seqdist_check_preloaded();
	instance_cache_stats_reset();
	PG_RETURN_VOID();
}
