/*-------------------------------------------------------------------------
 *
 * stats.h
 *		What each instance cache slot and its DynamoDB calls did, for the
 *		seqdist.stats view.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEQDIST_STATS_H
#define SEQDIST_STATS_H

#include "datatype/timestamp.h"

#include "dynamo.h"

#define STATS_ERROR_MAX 160

/* Kept in each slot under its spinlock; only counters and copies */
typedef struct SlotStats
{
	uint64		blocks_by_worker;
	uint64		blocks_by_backend;
	DynamoStats calls;			/* requests, retries, throttles, errors, latency */
	uint64		waits;			/* times a backend waited for a block */
	int64		wait_us;		/* total time backends waited */
	char		last_error[STATS_ERROR_MAX];
	TimestampTz last_error_at;
} SlotStats;

#endif							/* SEQDIST_STATS_H */
