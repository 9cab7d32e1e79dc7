/*-------------------------------------------------------------------------
 *
 * refill_policy.h
 *		The refill worker's policy: demand estimate, job size and backoff.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEQDIST_REFILL_POLICY_H
#define SEQDIST_REFILL_POLICY_H

#include "datatype/timestamp.h"

/* Demand below this (values per second) gets no blocks ahead of need */
#define REFILL_IDLE_RATE 0.5

/*
 * What the worker knows of one slot's demand and failures.  Kept in the
 * slot so that it survives a restart of the worker, but written only by the
 * worker (instance_cache_set_demand), so it needs no coordination beyond
 * the slot's spinlock for the copy.
 */
typedef struct RefillDemand
{
	uint64		taken_sampled;	/* values taken, at the last sample */
	TimestampTz sampled_at;		/* when that was */
	double		rate;			/* values per second, moving average */
	TimestampTz retry_after;	/* backoff after a failed refill */
	int			failures;		/* consecutive failed refills */
} RefillDemand;

/* Defines seqdist.runway */
extern void refill_policy_init(void);

/* Fold what the slot handed out since the last sample into the estimate */
extern void refill_policy_sample(RefillDemand *demand, uint64 taken, TimestampTz now);

/* Should a slot with this demand get a block ahead of need now? */
extern bool refill_policy_due(const RefillDemand *demand, TimestampTz now);

/* Values to reserve ahead of need: seqdist.runway seconds of demand */
extern int64 refill_policy_job_size(const RefillDemand *demand);

/* After a refill: reset, or back off with jitter */
extern void refill_policy_succeeded(RefillDemand *demand);
extern void refill_policy_failed(RefillDemand *demand, TimestampTz now);

#endif							/* SEQDIST_REFILL_POLICY_H */
