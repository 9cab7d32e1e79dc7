/*-------------------------------------------------------------------------
 *
 * instance_cache.c
 *		Tier 2: the instance cache of reserved blocks, in shared memory.
 *
 * Design:
 *	- A fixed shared hash table of slots, one per (database, sequence),
 *	  sized by seqdist.max_sequences at postmaster start.  Each slot holds
 *	  the rest of one block reserved from the sequence's counter (the next
 *	  value and how many remain) and at most one spare block reserved ahead
 *	  of need by the refill worker.
 *	- Values are handed out under the slot's spinlock, so every value one
 *	  instance hands out for a sequence is beyond every value it handed out
 *	  before, whichever backend asks (the counter only moves forward, so each
 *	  new block lies beyond the previous one).
 *	- Single flight: when a slot is empty, the first backend takes the
 *	  slot's fetching token and reserves the next block from DynamoDB
 *	  outside any lock; the others sleep on the slot's condition variable
 *	  (interruptibly) and take from the new block when it arrives.  If the
 *	  fetch fails, the token is given back and the waiters are woken; the
 *	  next one tries itself.
 *	- A slot remembers the definition its blocks were reserved under: the
 *	  sequence's parameters, the store and the counter key.  When a backend
 *	  brings a different definition (ALTER SEQUENCE, another store), or
 *	  setval discards the slot, the cached values are dropped (a gap) and a
 *	  generation counter makes a fetch that was in flight meanwhile drop its
 *	  block too.  So no cached value outlives the definition it was reserved
 *	  for.
 *	- What the refill worker decides (demand, job size, backoff) is its own
 *	  business (refill_policy.c); instance_scan.c only gives it a copy of
 *	  each slot, keeps its demand estimate in the slot, and lets it take
 *	  the fetching token like a backend.
 *
 * Locking:
 *	- The LWLock of tranche "seqdist" protects the hash table: shared to
 *	  look a slot up or scan the table, exclusive to insert or remove one.
 *	- Each slot's spinlock protects its fields.  Only field updates and
 *	  copies happen under it: clock readings, hashes and rates are computed
 *	  before it is taken.
 *	- The fetching token (slot->fetching) is held by at most one process:
 *	  a backend reserving a block (instance_cache_take), a backend moving
 *	  the counter (begin_move .. end_move), or the refill worker
 *	  (refill_start .. refill_done/refill_failed).  Its holder gives it back
 *	  on every path, including ERROR (PG_CATCH) and FATAL exits
 *	  (before_shmem_exit), and broadcasts the condition variable.
 *	- A backend keeps a pointer to its slot and re-checks under the spinlock
 *	  that the slot still belongs to its sequence, because dropped
 *	  sequences' slots are recycled.  A slot is removed only when its
 *	  sequence is dropped, which takes an AccessExclusiveLock that no backend
 *	  using the slot can hold.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/condition_variable.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "block_size.h"
#include "instance_cache.h"
#include "instance_cache_internal.h"

#define INSTANCE_TRANCHE "seqdist"

/*---- settings ----*/
static int	instance_max_sequences = 10000;

static bool instance_preloaded = false;
InstanceShared *instance_shared = NULL;
HTAB	   *instance_table = NULL;

/* The slot whose fetching token this backend holds, so that exit gives it back */
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
static void instance_record_error(InstanceSlot *slot, MemoryContext cxt,
								  const DynamoStats *calls);
static void instance_wake_worker(void);
static void instance_set_key_locked(InstanceSlot *slot, const char *key, size_t len);
static void instance_on_exit(int code, Datum arg);

void
instance_cache_init(bool preloading)
{
	instance_preloaded = preloading;
	if (!preloading)
		return;

	/* a postmaster setting can only be defined while preloading */
	DefineCustomIntVariable("seqdist.max_sequences",
							"Sequences the instance cache can hold at once.",
							"Each costs a slot of shared memory; see the README for the size.",
							&instance_max_sequences, 10000, 16, 10000000,
							PGC_POSTMASTER, 0,
							NULL, NULL, NULL);

	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = instance_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = instance_shmem_startup;
}

void
instance_cache_check_preloaded(void)
{
	if (!instance_preloaded)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("seqdist must be loaded via shared_preload_libraries"),
				 errhint("Add seqdist to shared_preload_libraries in postgresql.conf and restart the server.")));
}

static Size
instance_shmem_size(void)
{
	return add_size(MAXALIGN(sizeof(InstanceShared)),
					hash_estimate_size(instance_max_sequences, sizeof(InstanceSlot)));
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
								   instance_max_sequences, instance_max_sequences,
								   &info, HASH_ELEM | HASH_BLOBS);
	LWLockRelease(AddinShmemInitLock);
}

InstanceSlot *
instance_cache_slot(Oid relid)
{
	InstanceSlotKey key;
	InstanceSlot *slot;
	bool		found;

	instance_cache_check_preloaded();
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
				 errdetail("All %d slots are in use.", instance_max_sequences),
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

/* Remember the counter key in the slot, for the worker and the stats */
static void
instance_set_key_locked(InstanceSlot *slot, const char *key, size_t len)
{
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

bool
instance_cache_take(InstanceSlot *slot, Oid relid, const InstanceDef *def,
					const CounterRef *ref, int64 block_size, bool fixed_size, int64 n,
					CounterBlock *out)
{
	uint64		generation;
	CounterBlock block;
	DynamoStats calls;
	bool		slept = false;
	TimestampTz now = 0;		/* read before the spinlock is taken */
	volatile TimestampTz waited_from = 0;
	int64		fetch_size;
	size_t		keylen = strlen(ref->key);
	MemoryContext caller_cxt = CurrentMemoryContext;

	for (;;)
	{
		SpinLockAcquire(&slot->mutex);
		if (!instance_slot_is(slot, MyDatabaseId, relid))
		{
			SpinLockRelease(&slot->mutex);
			if (slept)
				ConditionVariableCancelSleep();
			return false;
		}
		if (!instance_def_equal(&slot->def, def))
		{
			/* a new definition: nothing reserved under the old one survives */
			if (slot->def.store_id != def->store_id || slot->def.key_hash != def->key_hash)
				slot->has_high = false;
			instance_reset_locked(slot);
			slot->def = *def;
			instance_set_key_locked(slot, ref->key, keylen);
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
				slot->stats.wait_us += now - waited_from;
			}
			SpinLockRelease(&slot->mutex);
			if (slept)
				ConditionVariableCancelSleep();
			return true;
		}
		if (!slot->fetching && now != 0)
			break;
		SpinLockRelease(&slot->mutex);

		if (now == 0)
		{
			/* about to fetch: look again with the clock read */
			now = GetCurrentTimestamp();
			continue;
		}
		/* somebody is reserving the next block: wait for it */
		if (waited_from == 0)
			waited_from = now;
		ConditionVariableSleep(&slot->cv, PG_WAIT_EXTENSION);
		slept = true;
		now = GetCurrentTimestamp();
	}
	if (waited_from == 0)
		waited_from = now;
	slot->fetching = true;
	generation = slot->generation;
	slot->block_size = block_size_next(slot->block_size, block_size, fixed_size,
									   slot->last_fetch, now);
	slot->last_fetch = now;
	fetch_size = slot->block_size;
	SpinLockRelease(&slot->mutex);
	if (slept)
		ConditionVariableCancelSleep();
	instance_wake_worker();

	instance_note_fetching(slot);
	memset(&calls, 0, sizeof(calls));

	PG_TRY();
	{
		counter_reserve(ref, &def->params, fetch_size, &block, &calls);
	}
	PG_CATCH();
	{
		instance_record_error(slot, caller_cxt, &calls);
		instance_end_fetch(slot);
		PG_RE_THROW();
	}
	PG_END_TRY();

	now = GetCurrentTimestamp();
	instance_fetching = NULL;
	SpinLockAcquire(&slot->mutex);
	slot->fetching = false;
	dynamo_stats_add(&slot->stats.calls, &calls);
	slot->stats.blocks_by_backend++;
	slot->stats.waits++;
	slot->stats.wait_us += now - waited_from;
	if (slot->generation == generation && instance_def_equal(&slot->def, def))
	{
		int64		high = slot->high;

		if (!instance_accept_block(slot, &block))
		{
			SpinLockRelease(&slot->mutex);
			ConditionVariableBroadcast(&slot->cv);
			instance_raise_behind(ref->key, high, block.first);
		}
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

void
instance_raise_behind(const char *key, int64 high, int64 first)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("counter \"%s\" moved backwards under this instance", key),
			 errdetail("This instance held values up to " INT64_FORMAT " and DynamoDB returned a block starting at " INT64_FORMAT "; no value of that block was handed out.",
					   high, first),
			 errhint("The counter item was moved back, deleted or replaced by another client.  Move it beyond every value already handed out, then run seqdist_setval on this sequence.")));
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
instance_record_error(InstanceSlot *slot, MemoryContext cxt, const DynamoStats *calls)
{
	MemoryContext ecxt = MemoryContextSwitchTo(cxt);
	ErrorData  *edata = CopyErrorData();
	TimestampTz now = GetCurrentTimestamp();

	MemoryContextSwitchTo(ecxt);
	SpinLockAcquire(&slot->mutex);
	dynamo_stats_add(&slot->stats.calls, calls);
	strlcpy(slot->stats.last_error, edata->message ? edata->message : "",
			sizeof(slot->stats.last_error));
	slot->stats.last_error_at = now;
	SpinLockRelease(&slot->mutex);
	FreeErrorData(edata);
}

/* Give the fetching token back and wake the waiters */
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
 * slot's fetching token first, waiting for a reservation in flight, and
 * gives it back with the slot emptied.
 */
void
instance_cache_begin_move(InstanceSlot *slot, Oid relid)
{
	bool		slept = false;

	for (;;)
	{
		SpinLockAcquire(&slot->mutex);
		if (!instance_slot_is(slot, MyDatabaseId, relid))
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
instance_cache_end_move(InstanceSlot *slot, Oid relid, const InstanceDef *def,
						const char *key)
{
	size_t		keylen = strlen(key);

	SpinLockAcquire(&slot->mutex);
	if (instance_slot_is(slot, MyDatabaseId, relid))
	{
		instance_reset_locked(slot);
		slot->def = *def;
		instance_set_key_locked(slot, key, keylen);
		/* we moved the counter: its next blocks may lie anywhere */
		slot->has_high = false;
	}
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
