/*-------------------------------------------------------------------------
 *
 * instance_cache.c
 *		Tier 2: the instance cache of reserved blocks, in shared memory.
 *
 * Design:
 *	- A fixed shared hash table of slots, one per (database, sequence),
 *	  sized by seqdist.max_sequences at postmaster start.  Each slot holds
 *	  the rest of one block reserved from the sequence's counter: the next
 *	  value and how many remain.
 *	- Values are handed out under the slot's spinlock, so every value one
 *	  instance hands out for a sequence is beyond every value it handed out
 *	  before, whichever backend asks (the counter only moves forward, so each
 *	  new block lies beyond the previous one).
 *	- Single flight: when a slot is empty, the first backend marks it
 *	  "fetching" and reserves the next block from DynamoDB outside any lock;
 *	  the others sleep on the slot's condition variable (interruptibly) and
 *	  take from the new block when it arrives.  If the fetch fails, the flag
 *	  is cleared and the waiters are woken; the next one tries itself.
 *	- A slot remembers the definition its block was reserved under.  When a
 *	  backend brings a different definition (ALTER SEQUENCE), or setval
 *	  discards the slot, the cached values are dropped (a gap) and a
 *	  generation counter makes a fetch that was in flight meanwhile drop its
 *	  block too.  So no cached value outlives the definition it was reserved
 *	  for.
 *
 * Locking: seqdist's LWLock protects the hash table (shared to look up,
 * exclusive to insert or remove); each slot's spinlock protects its fields.
 * A backend keeps a pointer to its slot and re-checks under the spinlock that
 * the slot still belongs to its sequence, because dropped sequences' slots
 * are recycled.  A slot is removed only when its sequence is dropped, which
 * takes an AccessExclusiveLock that no backend using the slot can hold.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "common/pg_prng.h"
#include "miscadmin.h"
#include "storage/condition_variable.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "seqdist.h"
#include "dynamo.h"
#include "instance_cache.h"

#define INSTANCE_TRANCHE "seqdist"

typedef struct InstanceSlotKey
{
	Oid			dbid;
	Oid			relid;
} InstanceSlotKey;

struct InstanceSlot
{
	InstanceSlotKey key;		/* hash key; must be first */
	slock_t		mutex;			/* protects everything below */
	bool		dead;			/* removed from the table */
	InstanceDef def;			/* definition the cached blocks belong to */
	char		counter_key[INSTANCE_KEY_MAX];	/* for the worker and stats */
	bool		key_complete;	/* counter_key holds the whole key */
	int64		next;			/* next value to hand out */
	int64		remaining;		/* values left in the current block */
	int64		spare_first;	/* a block reserved ahead of need */
	int64		spare_count;
	bool		fetching;		/* somebody is reserving a block */
	uint64		generation;		/* bumped whenever cached values are dropped */
	int64		block_size;		/* size of the next block; adapts to demand */
	bool		fixed_size;		/* block_size is the sequence's own */
	TimestampTz last_fetch;		/* when the last block was reserved */
	ConditionVariable cv;		/* waiters for a fetch in flight */

	/* demand, sampled by the refill worker */
	uint64		taken;			/* values handed out, ever */
	uint64		taken_sampled;
	TimestampTz sampled_at;
	double		rate;			/* values per second, moving average */
	TimestampTz retry_after;	/* worker backoff after a failed refill */
	int			failures;		/* consecutive failed refills */

	InstanceStats stats;
};

typedef struct InstanceShared
{
	LWLock	   *lock;			/* protects the hash table */
	slock_t		mutex;			/* protects worker_latch */
	Latch	   *worker_latch;	/* the refill worker's, or NULL */
} InstanceShared;

static InstanceShared *instance_shared = NULL;
static HTAB *instance_table = NULL;

/* The slot this backend is fetching for, so that exit can release it */
static InstanceSlot *instance_fetching = NULL;
static bool instance_exit_registered = false;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static void instance_shmem_request(void);
static void instance_shmem_startup(void);
static Size instance_shmem_size(void);
static void instance_reset_locked(InstanceSlot *slot);
static void instance_give(InstanceSlot *slot, int64 n, CounterBlock *out);
static void instance_end_fetch(InstanceSlot *slot);
static void instance_note_fetching(InstanceSlot *slot);
static void instance_record_error(InstanceSlot *slot, MemoryContext cxt);
static void instance_wake_worker(void);
static void instance_fold_dynamo_stats(InstanceSlot *slot);
static void instance_set_key_locked(InstanceSlot *slot, const char *key);
static void instance_on_exit(int code, Datum arg);

void
instance_cache_install_hooks(void)
{
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = instance_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = instance_shmem_startup;
}

Size
instance_cache_slot_size(void)
{
	return sizeof(InstanceSlot);
}

static Size
instance_shmem_size(void)
{
	return add_size(MAXALIGN(sizeof(InstanceShared)),
					hash_estimate_size(seqdist_max_sequences, sizeof(InstanceSlot)));
}

static void
instance_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(instance_shmem_size());
	RequestNamedLWLockTranche(INSTANCE_TRANCHE, 1);
}

static void
instance_shmem_startup(void)
{
	HASHCTL		info;
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	instance_shared = ShmemInitStruct("seqdist instance cache",
									  sizeof(InstanceShared), &found);
	if (!found)
	{
		instance_shared->lock = &(GetNamedLWLockTranche(INSTANCE_TRANCHE))->lock;
		SpinLockInit(&instance_shared->mutex);
		instance_shared->worker_latch = NULL;
	}

	memset(&info, 0, sizeof(info));
	info.keysize = sizeof(InstanceSlotKey);
	info.entrysize = sizeof(InstanceSlot);
	instance_table = ShmemInitHash("seqdist instance cache slots",
								   seqdist_max_sequences, seqdist_max_sequences,
								   &info, HASH_ELEM | HASH_BLOBS);
	LWLockRelease(AddinShmemInitLock);
}

InstanceSlot *
instance_cache_slot(Oid relid)
{
	InstanceSlotKey key;
	InstanceSlot *slot;
	bool		found;

	seqdist_check_preloaded();
	memset(&key, 0, sizeof(key));
	key.dbid = MyDatabaseId;
	key.relid = relid;

	LWLockAcquire(instance_shared->lock, LW_SHARED);
	slot = hash_search(instance_table, &key, HASH_FIND, NULL);
	LWLockRelease(instance_shared->lock);
	if (slot)
		return slot;

	LWLockAcquire(instance_shared->lock, LW_EXCLUSIVE);
	slot = hash_search(instance_table, &key, HASH_ENTER_NULL, &found);
	if (slot && !found)
	{
		/* everything after the key starts at zero */
		memset((char *) slot + sizeof(InstanceSlotKey), 0,
			   sizeof(InstanceSlot) - sizeof(InstanceSlotKey));
		SpinLockInit(&slot->mutex);
		ConditionVariableInit(&slot->cv);
	}
	LWLockRelease(instance_shared->lock);

	if (slot == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("seqdist's instance cache is full"),
				 errdetail("All %d slots are in use.", seqdist_max_sequences),
				 errhint("Raise seqdist.max_sequences and restart the server.")));
	return slot;
}

/* Drop the cached values; the caller holds the spinlock */
static void
instance_reset_locked(InstanceSlot *slot)
{
	slot->remaining = 0;
	slot->spare_count = 0;
	slot->generation++;
}

/* Wake the refill worker, if it runs */
static void
instance_wake_worker(void)
{
	Latch	   *latch;

	SpinLockAcquire(&instance_shared->mutex);
	latch = instance_shared->worker_latch;
	SpinLockRelease(&instance_shared->mutex);
	if (latch)
		SetLatch(latch);
}

/* Add what this process's DynamoDB calls did to the slot's statistics */
static void
instance_fold_dynamo_stats(InstanceSlot *slot)
{
	InstanceStats *st = &slot->stats;

	st->requests += dynamo_stats.requests;
	st->retries += dynamo_stats.retries;
	st->throttles += dynamo_stats.throttles;
	st->errors += dynamo_stats.errors;
	for (int i = 0; i < DYNAMO_LATENCY_BUCKETS; i++)
		st->latency[i] += dynamo_stats.latency[i];
}

/* Remember the counter key in the slot, for the worker and the stats */
static void
instance_set_key_locked(InstanceSlot *slot, const char *key)
{
	size_t		len = strlen(key);

	slot->key_complete = len < INSTANCE_KEY_MAX;
	memcpy(slot->counter_key, key, Min(len, INSTANCE_KEY_MAX - 1));
	slot->counter_key[Min(len, INSTANCE_KEY_MAX - 1)] = '\0';
}

/* Hand out up to n values; the caller holds the spinlock, remaining > 0 */
static void
instance_give(InstanceSlot *slot, int64 n, CounterBlock *out)
{
	int64		m = Min(n, slot->remaining);

	out->first = slot->next;
	out->count = m;
	slot->remaining -= m;
	slot->taken += m;
	/* past the block's last value "next" is meaningless: do not overflow */
	if (slot->remaining > 0)
		slot->next += m * slot->def.params.increment;
}

/*
 * Size the next block, the caller holding the spinlock.  A sequence with its
 * own block size (seqdist.set_block_size) always gets that size.  Otherwise a
 * block that lasted
 * less than seqdist.block_target_duration makes the next one twice as big
 * (up to seqdist.max_block_size); one that lasted more than four times as
 * long makes it half as big (down to the configured block size).  Under load
 * the instance then asks DynamoDB about once per target duration, however
 * fast values are taken; when idle, blocks, and the gaps a restart leaves,
 * stay small.
 */
static int64
instance_next_block_size(InstanceSlot *slot, int64 base, bool fixed, TimestampTz now)
{
	int64		size = Max(slot->block_size, base);
	int64		ceiling = fixed ? base : Max((int64) seqdist_max_block_size, base);

	if (slot->last_fetch != 0)
	{
		int64		elapsed_ms = (now - slot->last_fetch) / 1000;

		if (elapsed_ms < seqdist_block_target_ms)
			size = size > ceiling / 2 ? ceiling : size * 2;
		else if (elapsed_ms > 4 * (int64) seqdist_block_target_ms)
			size = Max(size / 2, base);
	}
	slot->block_size = Min(size, ceiling);
	slot->last_fetch = now;
	return slot->block_size;
}

static bool
instance_def_equal(const InstanceDef *a, const InstanceDef *b)
{
	return a->key_hash == b->key_hash &&
		a->params.increment == b->params.increment &&
		a->params.min_value == b->params.min_value &&
		a->params.max_value == b->params.max_value &&
		a->params.cycle == b->params.cycle;
}

bool
instance_cache_take(InstanceSlot *slot, Oid relid, const InstanceDef *def,
					const char *key, int64 block_size, bool fixed_size, int64 n,
					const char *seqname, CounterBlock *out)
{
	uint64		generation;
	CounterBlock block;
	bool		slept = false;
	TimestampTz now;
	volatile TimestampTz waited_from = 0;
	int64		fetch_size;
	MemoryContext caller_cxt = CurrentMemoryContext;

	for (;;)
	{
		SpinLockAcquire(&slot->mutex);
		if (slot->dead || slot->key.relid != relid || slot->key.dbid != MyDatabaseId)
		{
			SpinLockRelease(&slot->mutex);
			if (slept)
				ConditionVariableCancelSleep();
			return false;
		}
		if (!instance_def_equal(&slot->def, def))
		{
			/* a new definition: nothing reserved under the old one survives */
			instance_reset_locked(slot);
			slot->def = *def;
			instance_set_key_locked(slot, key);
		}
		slot->fixed_size = fixed_size;
		if (slot->remaining == 0 && slot->spare_count > 0)
		{
			/* the block reserved ahead of need takes over */
			slot->next = slot->spare_first;
			slot->remaining = slot->spare_count;
			slot->spare_count = 0;
			SpinLockRelease(&slot->mutex);
			instance_wake_worker();
			continue;
		}
		if (slot->remaining > 0)
		{
			instance_give(slot, n, out);
			if (waited_from != 0)
			{
				slot->stats.waits++;
				slot->stats.wait_us += GetCurrentTimestamp() - waited_from;
			}
			SpinLockRelease(&slot->mutex);
			if (slept)
				ConditionVariableCancelSleep();
			return true;
		}
		if (!slot->fetching)
			break;
		SpinLockRelease(&slot->mutex);

		/* somebody is reserving the next block: wait for it */
		if (waited_from == 0)
			waited_from = GetCurrentTimestamp();
		ConditionVariableSleep(&slot->cv, PG_WAIT_EXTENSION);
		slept = true;
	}
	/* reading the clock cannot fail or block: fine under the spinlock */
	now = GetCurrentTimestamp();
	if (waited_from == 0)
		waited_from = now;
	slot->fetching = true;
	generation = slot->generation;
	fetch_size = instance_next_block_size(slot, block_size, fixed_size, now);
	SpinLockRelease(&slot->mutex);
	if (slept)
		ConditionVariableCancelSleep();
	instance_wake_worker();

	instance_note_fetching(slot);
	dynamo_stats_reset();

	PG_TRY();
	{
		counter_reserve(key, &def->params, fetch_size, seqname, &block);
	}
	PG_CATCH();
	{
		instance_record_error(slot, caller_cxt);
		instance_end_fetch(slot);
		PG_RE_THROW();
	}
	PG_END_TRY();

	instance_fetching = NULL;
	SpinLockAcquire(&slot->mutex);
	slot->fetching = false;
	instance_fold_dynamo_stats(slot);
	slot->stats.blocks_by_backend++;
	slot->stats.waits++;
	slot->stats.wait_us += GetCurrentTimestamp() - waited_from;
	if (slot->generation == generation && instance_def_equal(&slot->def, def))
	{
		/* take ours first, publish the rest */
		slot->next = block.first;
		slot->remaining = block.count;
		instance_give(slot, n, out);
	}
	else
	{
		/*
		 * The slot was discarded while we fetched (setval, new definition):
		 * the rest of the block is a gap, but the values we reserved under
		 * our definition are ours.
		 */
		out->first = block.first;
		out->count = Min(n, block.count);
	}
	SpinLockRelease(&slot->mutex);
	ConditionVariableBroadcast(&slot->cv);
	return true;
}

/* Remember the slot whose token we hold: a FATAL exit skips PG_CATCH */
static void
instance_note_fetching(InstanceSlot *slot)
{
	if (!instance_exit_registered)
	{
		before_shmem_exit(instance_on_exit, (Datum) 0);
		instance_exit_registered = true;
	}
	instance_fetching = slot;
}

/*
 * Note the error being raised in the slot's statistics (called in PG_CATCH;
 * the error is re-thrown afterwards, so its state is left alone).
 */
static void
instance_record_error(InstanceSlot *slot, MemoryContext cxt)
{
	MemoryContext ecxt = MemoryContextSwitchTo(cxt);
	ErrorData  *edata = CopyErrorData();

	MemoryContextSwitchTo(ecxt);
	SpinLockAcquire(&slot->mutex);
	instance_fold_dynamo_stats(slot);
	strlcpy(slot->stats.last_error, edata->message ? edata->message : "",
			sizeof(slot->stats.last_error));
	slot->stats.last_error_at = GetCurrentTimestamp();
	SpinLockRelease(&slot->mutex);
	FreeErrorData(edata);
}

/* Give up a fetch: clear the flag and wake the waiters */
static void
instance_end_fetch(InstanceSlot *slot)
{
	instance_fetching = NULL;
	SpinLockAcquire(&slot->mutex);
	slot->fetching = false;
	SpinLockRelease(&slot->mutex);
	ConditionVariableBroadcast(&slot->cv);
}

static void
instance_on_exit(int code, Datum arg)
{
	if (instance_fetching != NULL)
		instance_end_fetch(instance_fetching);
}

/*
 * Moving a counter (setval, RESTART) must not race with a block reservation
 * for the same slot: a block reserved from the old position and handed out
 * after the move would break native semantics, and one reserved from the new
 * position and then discarded would skip values.  So the mover takes the
 * slot's "fetching" token first, waiting for a reservation in flight, and
 * gives it back with the slot emptied.
 */
void
instance_cache_begin_move(InstanceSlot *slot, Oid relid)
{
	bool		slept = false;

	for (;;)
	{
		SpinLockAcquire(&slot->mutex);
		if (slot->dead || slot->key.relid != relid || slot->key.dbid != MyDatabaseId)
		{
			/* not our slot any more: nothing is cached that could race */
			SpinLockRelease(&slot->mutex);
			break;
		}
		if (!slot->fetching)
		{
			slot->fetching = true;
			SpinLockRelease(&slot->mutex);
			instance_note_fetching(slot);
			break;
		}
		SpinLockRelease(&slot->mutex);
		ConditionVariableSleep(&slot->cv, PG_WAIT_EXTENSION);
		slept = true;
	}
	if (slept)
		ConditionVariableCancelSleep();
}

void
instance_cache_end_move(InstanceSlot *slot, Oid relid)
{
	SpinLockAcquire(&slot->mutex);
	if (!slot->dead && slot->key.relid == relid && slot->key.dbid == MyDatabaseId)
		instance_reset_locked(slot);
	SpinLockRelease(&slot->mutex);
	instance_end_fetch(slot);
}

void
instance_cache_forget(Oid dbid, Oid relid)
{
	InstanceSlotKey key;
	InstanceSlot *slot;

	if (instance_table == NULL)
		return;
	memset(&key, 0, sizeof(key));
	key.dbid = dbid;
	key.relid = relid;

	LWLockAcquire(instance_shared->lock, LW_EXCLUSIVE);
	slot = hash_search(instance_table, &key, HASH_FIND, NULL);
	if (slot)
	{
		SpinLockAcquire(&slot->mutex);
		slot->dead = true;
		slot->remaining = 0;
		SpinLockRelease(&slot->mutex);
		hash_search(instance_table, &key, HASH_REMOVE, NULL);
	}
	LWLockRelease(instance_shared->lock);
}

/*---- the refill worker's side ----*/

/* Moving average of demand: a change is mostly noticed within this time */
#define INSTANCE_RATE_SECONDS 3.0
/* Demand below this (values per second) does not get blocks ahead of need */
#define INSTANCE_IDLE_RATE 0.5
/* Backoff of a slot whose refill failed: 100 ms doubling up to 1 s, so that
 * refills resume within about a second of DynamoDB answering again */
#define INSTANCE_BACKOFF_BASE_MS 100
#define INSTANCE_BACKOFF_CAP_MS 1000

/* Update the slot's demand estimate; the caller holds the spinlock */
static void
instance_sample_locked(InstanceSlot *slot, TimestampTz now)
{
	double		dt;

	if (slot->sampled_at == 0)
	{
		slot->sampled_at = now;
		slot->taken_sampled = slot->taken;
		return;
	}
	dt = (double) (now - slot->sampled_at) / USECS_PER_SEC;
	if (dt < 0.05)
		return;
	slot->rate += (1.0 - exp(-dt / INSTANCE_RATE_SECONDS)) *
		((double) (slot->taken - slot->taken_sampled) / dt - slot->rate);
	slot->taken_sampled = slot->taken;
	slot->sampled_at = now;
}

int
instance_cache_plan_refills(RefillJob *jobs, int max)
{
	HASH_SEQ_STATUS status;
	InstanceSlot *slot;
	TimestampTz now = GetCurrentTimestamp();
	int			n = 0;

	LWLockAcquire(instance_shared->lock, LW_SHARED);
	hash_seq_init(&status, instance_table);
	while ((slot = hash_seq_search(&status)) != NULL)
	{
		RefillJob  *job = &jobs[n];
		bool		wanted;

		SpinLockAcquire(&slot->mutex);
		instance_sample_locked(slot, now);
		wanted = seqdist_refill && n < max && !slot->dead && slot->key_complete &&
			slot->def.params.increment != 0 && !slot->fetching &&
			slot->spare_count == 0 && now >= slot->retry_after &&
			slot->rate >= INSTANCE_IDLE_RATE &&
			/* the worker's settings must name the same store */
			seqdist_counter_hash(slot->counter_key) == slot->def.key_hash;
		if (wanted)
		{
			double		want = slot->rate * seqdist_runway_s;
			int64		base = Max((int64) seqdist_block_size, 1);

			job->slot = slot;
			job->dbid = slot->key.dbid;
			job->relid = slot->key.relid;
			job->generation = slot->generation;
			job->def = slot->def;
			memcpy(job->key, slot->counter_key, INSTANCE_KEY_MAX);
			if (slot->fixed_size && slot->block_size > 0)
				job->size = slot->block_size;
			else
				job->size = (int64) Max(Min(want, (double) seqdist_max_block_size), (double) base);
			n++;
		}
		SpinLockRelease(&slot->mutex);
	}
	LWLockRelease(instance_shared->lock);
	return n;
}

/* Is the job still about the slot's current state? Spinlock held. */
static bool
instance_job_current(const RefillJob *job)
{
	InstanceSlot *slot = job->slot;

	return !slot->dead && slot->key.dbid == job->dbid && slot->key.relid == job->relid &&
		slot->generation == job->generation && instance_def_equal(&slot->def, &job->def);
}

/*
 * Take the slot's fetching token for a planned job, if the job still makes
 * sense.  Jobs are started one at a time, so backends of other slots never
 * wait behind this one.
 */
bool
instance_cache_refill_start(const RefillJob *job)
{
	InstanceSlot *slot = job->slot;
	bool		go;

	SpinLockAcquire(&slot->mutex);
	go = instance_job_current(job) && !slot->fetching && slot->spare_count == 0;
	if (go)
		slot->fetching = true;
	SpinLockRelease(&slot->mutex);
	return go;
}

/* Is the slot still the job's sequence? Spinlock held. */
static bool
instance_job_slot(const RefillJob *job)
{
	InstanceSlot *slot = job->slot;

	return !slot->dead && slot->key.dbid == job->dbid && slot->key.relid == job->relid;
}

void
instance_cache_refill_done(const RefillJob *job, const CounterBlock *block)
{
	InstanceSlot *slot = job->slot;

	SpinLockAcquire(&slot->mutex);
	if (instance_job_slot(job))
	{
		/* the token is ours; the block only if nothing was discarded meanwhile */
		slot->fetching = false;
		instance_fold_dynamo_stats(slot);
		slot->stats.blocks_by_worker++;
		slot->failures = 0;
		slot->retry_after = 0;
		if (instance_job_current(job))
		{
			if (slot->remaining == 0)
			{
				slot->next = block->first;
				slot->remaining = block->count;
			}
			else
			{
				slot->spare_first = block->first;
				slot->spare_count = block->count;
			}
		}
	}
	SpinLockRelease(&slot->mutex);
	ConditionVariableBroadcast(&slot->cv);
}

void
instance_cache_refill_failed(const RefillJob *job, const char *message)
{
	InstanceSlot *slot = job->slot;
	TimestampTz now = GetCurrentTimestamp();

	SpinLockAcquire(&slot->mutex);
	if (instance_job_slot(job))
	{
		int64		ceiling;

		slot->fetching = false;
		instance_fold_dynamo_stats(slot);
		strlcpy(slot->stats.last_error, message, sizeof(slot->stats.last_error));
		slot->stats.last_error_at = now;
		slot->failures = Min(slot->failures + 1, 30);
		ceiling = Min((int64) INSTANCE_BACKOFF_BASE_MS << slot->failures,
					  (int64) INSTANCE_BACKOFF_CAP_MS);
		/* full jitter, but never sooner than the base delay */
		slot->retry_after = now + INSTANCE_BACKOFF_BASE_MS * 1000 +
			(int64) (pg_prng_double(&pg_global_prng_state) * ceiling * 1000);
	}
	SpinLockRelease(&slot->mutex);
	ConditionVariableBroadcast(&slot->cv);
}

void
instance_cache_set_worker_latch(Latch *latch)
{
	SpinLockAcquire(&instance_shared->mutex);
	instance_shared->worker_latch = latch;
	SpinLockRelease(&instance_shared->mutex);
}

/*---- statistics ----*/

int
instance_cache_snapshot(InstanceSnapshot **out)
{
	HASH_SEQ_STATUS status;
	InstanceSlot *slot;
	InstanceSnapshot *snaps;
	int			n = 0;
	long		count;

	LWLockAcquire(instance_shared->lock, LW_SHARED);
	count = hash_get_num_entries(instance_table);
	snaps = palloc0(sizeof(InstanceSnapshot) * Max(count, 1));
	hash_seq_init(&status, instance_table);
	while ((slot = hash_seq_search(&status)) != NULL)
	{
		InstanceSnapshot *s = &snaps[n];

		if (n >= count)
		{
			hash_seq_term(&status);
			break;
		}
		SpinLockAcquire(&slot->mutex);
		if (!slot->dead && slot->def.params.increment != 0)
		{
			s->dbid = slot->key.dbid;
			s->relid = slot->key.relid;
			memcpy(s->key, slot->counter_key, INSTANCE_KEY_MAX);
			s->cached = slot->remaining + slot->spare_count;
			s->rate = slot->rate;
			s->block_size = slot->block_size;
			s->stats = slot->stats;
			n++;
		}
		SpinLockRelease(&slot->mutex);
	}
	LWLockRelease(instance_shared->lock);
	*out = snaps;
	return n;
}

void
instance_cache_stats_reset(void)
{
	HASH_SEQ_STATUS status;
	InstanceSlot *slot;

	LWLockAcquire(instance_shared->lock, LW_SHARED);
	hash_seq_init(&status, instance_table);
	while ((slot = hash_seq_search(&status)) != NULL)
	{
		SpinLockAcquire(&slot->mutex);
		memset(&slot->stats, 0, sizeof(slot->stats));
		SpinLockRelease(&slot->mutex);
	}
	LWLockRelease(instance_shared->lock);
}
