/*-------------------------------------------------------------------------
 *
 * refill_policy.c
 *		How much the refill worker reserves ahead of need, and when.
 *
 * Demand is an exponentially weighted moving average of the values a slot
 * handed out per second, with a time constant of REFILL_RATE_SECONDS, so a
 * change of load is mostly noticed within a few seconds and a short burst
 * does not make the next block huge.  A slot whose demand is at least
 * REFILL_IDLE_RATE gets a spare block sized for seqdist.runway seconds of
 * that demand (within the block size bounds): the spare is what rides out a
 * DynamoDB outage.
 *
 * A failed refill backs the slot off: a delay of REFILL_BACKOFF_BASE_MS
 * plus full jitter up to a ceiling that doubles per consecutive failure and
 * is capped at REFILL_BACKOFF_CAP_MS, so refills resume within about a
 * second of DynamoDB answering again, and a fleet of instances does not
 * retry in step.
 *
 * Everything here works on the worker's own copy of RefillDemand, outside
 * any lock.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "common/pg_prng.h"
#include "utils/guc.h"

#include "block_size.h"
#include "refill_policy.h"

#define REFILL_RATE_SECONDS 3.0
/* Samples closer together than this are skipped: too noisy to weigh */
#define REFILL_MIN_SAMPLE_SECONDS 0.05
#define REFILL_BACKOFF_BASE_MS 100
#define REFILL_BACKOFF_CAP_MS 1000
/* Doubling stops long before the shift could overflow */
#define REFILL_MAX_FAILURES 30

/*---- settings ----*/
static int	refill_runway_s = 10;

void
refill_policy_init(void)
{
	DefineCustomIntVariable("seqdist.runway",
							"Seconds of demand the refill worker keeps reserved ahead of need, per sequence.",
							"This is how long a DynamoDB outage stays invisible at the current rate.",
							&refill_runway_s, 10, 1, 3600,
							PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);
}

void
refill_policy_sample(RefillDemand *demand, uint64 taken, TimestampTz now)
{
	double		dt;

	if (demand->sampled_at == 0)
	{
		demand->sampled_at = now;
		demand->taken_sampled = taken;
		return;
	}
	dt = (double) (now - demand->sampled_at) / USECS_PER_SEC;
	if (dt < REFILL_MIN_SAMPLE_SECONDS)
		return;
	demand->rate += (1.0 - exp(-dt / REFILL_RATE_SECONDS)) *
		((double) (taken - demand->taken_sampled) / dt - demand->rate);
	demand->taken_sampled = taken;
	demand->sampled_at = now;
}

bool
refill_policy_due(const RefillDemand *demand, TimestampTz now)
{
	return now >= demand->retry_after && demand->rate >= REFILL_IDLE_RATE;
}

int64
refill_policy_job_size(const RefillDemand *demand)
{
	return block_size_clamp(demand->rate * refill_runway_s);
}

void
refill_policy_succeeded(RefillDemand *demand)
{
	demand->failures = 0;
	demand->retry_after = 0;
}

void
refill_policy_failed(RefillDemand *demand, TimestampTz now)
{
	int64		ceiling;

	demand->failures = Min(demand->failures + 1, REFILL_MAX_FAILURES);
	ceiling = Min((int64) REFILL_BACKOFF_BASE_MS << demand->failures,
				  (int64) REFILL_BACKOFF_CAP_MS);
	/* full jitter, but never sooner than the base delay */
	demand->retry_after = now + REFILL_BACKOFF_BASE_MS * 1000 +
		(int64) (pg_prng_double(&pg_global_prng_state) * ceiling * 1000);
}
