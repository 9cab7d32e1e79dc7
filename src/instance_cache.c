/*-------------------------------------------------------------------------
 *
 * instance_cache.c
 *		Tier 2: the instance cache of reserved blocks, in shared memory.
 *
 * Design:
 *	- A fixed array of slots, seqdist.max_sequences of them, allocated at
 *	  postmaster start, and a fixed-size hash table from (database,
 *	  sequence) to slot.  seqdist.max_sequences is a hard limit: when every
 *	  slot is in use, the slot with the least demand that nobody is
 *	  reserving for is taken from its sequence (its cached values are a
 *	  gap); so dropped databases, temporary objects and idle sequences never
 *	  use up the cache.  Each slot holds
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
 *	  next one tries itself.  Waiters wait at most until the holder's
 *	  deadline: the longest DynamoDB call the holder's settings allow, plus
 *	  a margin.  Then they take the token over if the holder is gone, and
 *	  otherwise fail with 55P03 rather than wait on.
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
 *	- The LWLock of tranche "seqdist" protects the hash table and the free
 *	  list: shared to look a slot up, exclusive to give one out or back.
 *	- Each slot's spinlock protects its fields.  Only field updates and
 *	  copies happen under it: clock readings, hashes and rates are computed
 *	  before it is taken.
 *	- The fetching token (slot->fetching, with the holder's pid in
 *	  slot->fetcher, so nobody but the holder gives it back) is held by at
 *	  most one process:
 *	  a backend reserving a block (instance_cache_take), a backend moving
 *	  the counter (begin_move .. end_move), or the refill worker
 *	  (refill_start .. refill_done/refill_failed).  Its holder gives it back
 *	  on every path, including ERROR (PG_CATCH) and FATAL exits
 *	  (before_shmem_exit), and broadcasts the condition variable.
 *	- A backend keeps a pointer to its slot and re-checks under the spinlock
 *	  that the slot still belongs to its sequence, because slots change
 *	  hands (DROP, eviction).  A slot that changes hands keeps its mutex and
 *	  condition variable, and gets a new generation.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>

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
static void instance_adopt_def_locked(InstanceSlot *slot, const InstanceDef *def,
									  const char *key, size_t keylen);
static void instance_on_exit(int code, Datum arg);
static void instance_wait_for_holder(InstanceSlot *slot);

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
	Size		size = MAXALIGN(sizeof(InstanceShared));

	size = add_size(size, MAXALIGN(mul_size(instance_max_sequences, sizeof(int))));
	size = add_size(size, mul_size(instance_max_sequences, sizeof(InstanceSlot)));
	return add_size(size, hash_estimate_size(instance_max_sequences, sizeof(InstanceIndexEntry)));
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
	int			n = instance_max_sequences;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	instance_shared = ShmemInitStruct("seqdist instance cache",
									  add_size(MAXALIGN(sizeof(InstanceShared)),
											   add_size(MAXALIGN(mul_size(n, sizeof(int))),
														mul_size(n, sizeof(InstanceSlot)))),
									  &found);
	if (!found)
	{
		char	   *p = (char *) instance_shared + MAXALIGN(sizeof(InstanceShared));

		instance_shared->lock = &(GetNamedLWLockTranche(INSTANCE_TRANCHE))->lock;
		SpinLockInit(&instance_shared->mutex);
		instance_shared->worker_latch = NULL;
		instance_shared->prewarm_claimed = false;
		instance_shared->nslots = n;
		instance_shared->free_list = (int *) p;
		instance_shared->slots = (InstanceSlot *) (p + MAXALIGN(mul_size(n, sizeof(int))));
		instance_shared->nfree = n;
		for (int i = 0; i < n; i++)
		{
			InstanceSlot *slot = &instance_shared->slots[i];

			memset(slot, 0, sizeof(*slot));
			SpinLockInit(&slot->mutex);
			ConditionVariableInit(&slot->cv);
			slot->dead = true;
			/* hand out low indexes first */
			instance_shared->free_list[i] = n - 1 - i;
		}
	}

	memset(&info, 0, sizeof(info));
	info.keysize = sizeof(InstanceSlotKey);
	info.entrysize = sizeof(InstanceIndexEntry);
	/* a fixed size: seqdist.max_sequences is a hard limit */
	instance_table = ShmemInitHash("seqdist instance cache index", n, n,
								   &info, HASH_ELEM | HASH_BLOBS | HASH_FIXED_SIZE);
	LWLockRelease(AddinShmemInitLock);
}

/*
 * Give the slot to key, under its spinlock: the old owner's cached values
 * are dropped (a gap) and its tickets and pointers see another key and a
 * new generation.  mutex and cv are left alone; see InstanceSlot.
 */
static void
instance_rekey(InstanceSlot *slot, const InstanceSlotKey *key, bool dead)
{
	uint64		generation;

	SpinLockAcquire(&slot->mutex);
	generation = slot->generation + 1;
	memset(&slot->key, 0, sizeof(InstanceSlot) - offsetof(InstanceSlot, key));
	slot->generation = generation;
	slot->key = *key;
	slot->dead = dead;
	SpinLockRelease(&slot->mutex);
}

/*
 * A slot to take from its sequence when none is free, found by a clock
 * sweep: the hand passes over the slots, clearing the "used" mark a take
 * sets, and stops at the first slot nobody took from since it last passed
 * and nobody is reserving for.  So the slots of dropped databases and idle
 * sequences go first.  The victim's cached values become a gap.  Called
 * with the table locked exclusively; -1 when every slot is busy.
 */
static int
instance_pick_victim(void)
{
	int			n = instance_shared->nslots;

	/* two rounds: the first may only clear marks */
	for (int step = 0; step < 2 * n; step++)
	{
		int			i = instance_shared->clock_hand;
		InstanceSlot *slot = &instance_shared->slots[i];
		bool		take;

		instance_shared->clock_hand = (i + 1) % n;
		SpinLockAcquire(&slot->mutex);
		take = !slot->fetching && !slot->used;
		slot->used = false;
		SpinLockRelease(&slot->mutex);
		if (take)
			return i;
	}
	return -1;
}

/* Find the slot of key, or give it one; NULL when every slot is busy */
static InstanceSlot *
instance_slot_enter(const InstanceSlotKey *key)
{
	InstanceIndexEntry *entry;
	bool		found;
	int			index;

	entry = hash_search(instance_table, key, HASH_FIND, NULL);
	if (entry)
		return &instance_shared->slots[entry->slot];
	if (instance_shared->nfree > 0)
		index = instance_shared->free_list[--instance_shared->nfree];
	else
	{
		InstanceSlot *victim;

		index = instance_pick_victim();
		if (index < 0)
			return NULL;
		victim = &instance_shared->slots[index];
		hash_search(instance_table, &victim->key, HASH_REMOVE, NULL);
	}
	/* the table has a free entry: it holds at most nslots entries */
	entry = hash_search(instance_table, key, HASH_ENTER, &found);
	entry->slot = index;
	instance_rekey(&instance_shared->slots[index], key, false);
	return &instance_shared->slots[index];
}

/* The slot of relid in this database, or NULL when it has none */
static InstanceSlot *
instance_slot_find(Oid relid)
{
	InstanceSlotKey key;
	InstanceIndexEntry *entry;
	InstanceSlot *slot;

	memset(&key, 0, sizeof(key));
	key.dbid = MyDatabaseId;
	key.relid = relid;
	LWLockAcquire(instance_shared->lock, LW_SHARED);
	entry = hash_search(instance_table, &key, HASH_FIND, NULL);
	slot = entry ? &instance_shared->slots[entry->slot] : NULL;
	LWLockRelease(instance_shared->lock);
	return slot;
}

InstanceSlot *
instance_cache_slot(Oid relid)
{
	InstanceSlotKey key;
	InstanceSlot *slot;

	instance_cache_check_preloaded();

	/*
	 * Whoever may take a slot's fetching token gives it back at exit; the
	 * callback is in place before any token can be taken.
	 */
	if (!instance_exit_registered)
	{
		before_shmem_exit(instance_on_exit, (Datum) 0);
		instance_exit_registered = true;
	}
	slot = instance_slot_find(relid);
	if (slot)
		return slot;

	memset(&key, 0, sizeof(key));
	key.dbid = MyDatabaseId;
	key.relid = relid;
	LWLockAcquire(instance_shared->lock, LW_EXCLUSIVE);
	slot = instance_slot_enter(&key);
	LWLockRelease(instance_shared->lock);

	if (slot == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("seqdist's instance cache is full"),
				 errdetail("All %d slots are reserving a block right now.", instance_max_sequences),
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

/*
 * A new definition: nothing reserved under the old one survives, and the
 * check of blocks against the last one held is only kept for the same
 * counter.  The caller holds the spinlock.
 */
static void
instance_adopt_def_locked(InstanceSlot *slot, const InstanceDef *def, const char *key,
						  size_t keylen)
{
	if (slot->def.store_id != def->store_id || slot->def.key_hash != def->key_hash)
		slot->has_high = false;
	instance_reset_locked(slot);
	slot->def = *def;
	instance_set_key_locked(slot, key, keylen);
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
	TimestampTz deadline = 0;	/* ours, should we take the token */
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
			instance_adopt_def_locked(slot, def, ref->key, keylen);
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
			slot->used = true;
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
			deadline = instance_holder_deadline(now);
			continue;
		}
		/* somebody is reserving the next block: wait for it */
		if (waited_from == 0)
			waited_from = now;
		instance_wait_for_holder(slot);
		slept = true;
		now = GetCurrentTimestamp();
		deadline = instance_holder_deadline(now);
	}
	if (waited_from == 0)
		waited_from = now;
	instance_take_token_locked(slot, deadline);
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
		counter_reserve(ref, &def->params, fetch_size, true, &block, &calls);
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
	if (instance_holds_token_locked(slot))
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
		slot->used = true;
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

/*
 * Strict mode.  A strict value is reserved from DynamoDB by each backend
 * itself, without the fetching token, so that backends do not wait for one
 * another; reservations of several backends may arrive in any order.  The
 * check is therefore against the last value this instance handed out before
 * the request was sent (the mark): DynamoDB applied every reservation
 * answered before then ahead of ours, so ours lies beyond it unless the
 * counter was moved back.  A move by this instance meanwhile (a new
 * generation) voids the mark.
 */
void
instance_cache_strict_mark(InstanceSlot *slot, Oid relid, const InstanceDef *def,
						   InstanceStrictMark *mark)
{
	SpinLockAcquire(&slot->mutex);
	mark->generation = slot->generation;
	mark->high = slot->high;
	mark->has_high = instance_slot_is(slot, MyDatabaseId, relid) && slot->has_high &&
		slot->def.store_id == def->store_id && slot->def.key_hash == def->key_hash;
	SpinLockRelease(&slot->mutex);
}

void
instance_cache_strict_accept(InstanceSlot *slot, Oid relid, const InstanceDef *def,
							 const CounterRef *ref, const InstanceStrictMark *mark,
							 const CounterBlock *block)
{
	int64		inc = def->params.increment;
	int64		last = block->first + (block->count - 1) * inc;
	size_t		keylen = strlen(ref->key);
	bool		behind;

	behind = mark->has_high && !def->params.cycle &&
		(inc > 0 ? block->first <= mark->high : block->first >= mark->high);

	SpinLockAcquire(&slot->mutex);
	if (!instance_slot_is(slot, MyDatabaseId, relid))
	{
		/* taken by another sequence meanwhile: what it knew is gone */
		SpinLockRelease(&slot->mutex);
		return;
	}
	if (slot->generation != mark->generation)
		behind = false;
	if (!behind)
	{
		if (!instance_def_equal(&slot->def, def))
			instance_adopt_def_locked(slot, def, ref->key, keylen);
		if (!slot->has_high || def->params.cycle ||
			(inc > 0 ? last > slot->high : last < slot->high))
			slot->high = last;
		slot->has_high = true;
		slot->used = true;
	}
	SpinLockRelease(&slot->mutex);
	if (behind)
		instance_raise_behind(ref->key, mark->high, block->first);
}

/*
 * Remember the slot whose token we hold: a FATAL exit skips PG_CATCH, and
 * instance_on_exit, registered by instance_cache_slot, gives it back
 */
static void
instance_note_fetching(InstanceSlot *slot)
{
	Assert(instance_exit_registered);
	instance_fetching = slot;
}

TimestampTz
instance_holder_deadline(TimestampTz now)
{
	return now + (dynamo_call_bound_ms() + INSTANCE_WAIT_MARGIN_MS) * 1000;
}

/*
 * Sleep on the slot's condition variable while another process holds its
 * fetching token, at most until that holder's deadline; the caller looks
 * at the slot again afterwards.  Past the deadline, a holder that exited
 * without giving the token back (it cannot have run instance_on_exit) loses
 * it; one that is still there has taken longer than its settings allow, and
 * the waiter gets an ERROR instead of waiting on.  No lock is held.
 */
static void
instance_wait_for_holder(InstanceSlot *slot)
{
	TimestampTz now = GetCurrentTimestamp();
	TimestampTz deadline;
	bool		fetching;
	int			holder;
	char		key[INSTANCE_KEY_MAX];

	SpinLockAcquire(&slot->mutex);
	fetching = slot->fetching;
	holder = slot->fetcher;
	deadline = slot->fetch_deadline;
	memcpy(key, slot->counter_key, sizeof(key));
	SpinLockRelease(&slot->mutex);

	if (!fetching)
		return;
	if (now < deadline)
	{
		long		ms = TimestampDifferenceMilliseconds(now, deadline);

		(void) ConditionVariableTimedSleep(&slot->cv, Max(ms, 1), PG_WAIT_EXTENSION);
		return;
	}
	if (kill(holder, 0) != 0 && errno == ESRCH)
	{
		SpinLockAcquire(&slot->mutex);
		if (slot->fetching && slot->fetcher == holder && slot->fetch_deadline == deadline)
			slot->fetching = false;
		SpinLockRelease(&slot->mutex);
		ConditionVariableBroadcast(&slot->cv);
		return;
	}
	ConditionVariableCancelSleep();
	ereport(ERROR,
			(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
			 errmsg("gave up waiting for process %d, which is reserving a block of counter \"%s\"",
					holder, key),
			 errdetail("It has been reserving for longer than its settings allow: seqdist.request_timeout times seqdist.max_attempts, plus the backoff between attempts, plus %d ms.",
					   INSTANCE_WAIT_MARGIN_MS),
			 errhint("DynamoDB may be slow to answer or unreachable; try again.")));
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
	if (instance_holds_token_locked(slot))
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
bool
instance_cache_begin_move(InstanceSlot *slot, Oid relid)
{
	bool		slept = false;
	bool		ours;

	for (;;)
	{
		TimestampTz deadline = instance_holder_deadline(GetCurrentTimestamp());

		SpinLockAcquire(&slot->mutex);
		if (!instance_slot_is(slot, MyDatabaseId, relid))
		{
			/* recycled meanwhile: the caller looks its slot up again */
			SpinLockRelease(&slot->mutex);
			ours = false;
			break;
		}
		if (!slot->fetching)
		{
			instance_take_token_locked(slot, deadline);
			SpinLockRelease(&slot->mutex);
			instance_note_fetching(slot);
			ours = true;
			break;
		}
		SpinLockRelease(&slot->mutex);
		instance_wait_for_holder(slot);
		slept = true;
	}
	if (slept)
		ConditionVariableCancelSleep();
	return ours;
}

void
instance_cache_end_move(InstanceSlot *slot, Oid relid, bool moved, int128 position)
{
	SpinLockAcquire(&slot->mutex);
	if (instance_slot_is(slot, MyDatabaseId, relid))
	{
		/*
		 * The definition stays as it was: a new one is installed only when
		 * the ALTER that made it commits (instance_cache_redefine).
		 */
		instance_reset_locked(slot);

		/*
		 * We moved the counter: the next blocks lie beyond the new position.
		 * A move that was refused or never made leaves the check as it was.
		 */
		if (moved)
		{
			slot->has_high = position >= PG_INT64_MIN && position <= PG_INT64_MAX;
			slot->high = (int64) position;
		}
	}
	SpinLockRelease(&slot->mutex);
	instance_end_fetch(slot);
}

/*
 * An ALTER of relid committed: its slot, if it has one, drops what was
 * reserved under the old definition and takes the new one, so that the
 * refill worker reserves under it from now on.  Runs after the commit, so
 * it raises no error.
 */
void
instance_cache_redefine(Oid relid, const InstanceDef *def, const char *key)
{
	InstanceSlot *slot;
	size_t		keylen = strlen(key);

	if (instance_table == NULL)
		return;
	slot = instance_slot_find(relid);
	if (slot == NULL)
		return;

	SpinLockAcquire(&slot->mutex);
	if (instance_slot_is(slot, MyDatabaseId, relid))
		instance_adopt_def_locked(slot, def, key, keylen);
	SpinLockRelease(&slot->mutex);
	ConditionVariableBroadcast(&slot->cv);
}

void
instance_cache_forget(Oid dbid, Oid relid)
{
	InstanceSlotKey key;
	InstanceIndexEntry *entry;

	if (instance_table == NULL)
		return;
	memset(&key, 0, sizeof(key));
	key.dbid = dbid;
	key.relid = relid;

	LWLockAcquire(instance_shared->lock, LW_EXCLUSIVE);
	entry = hash_search(instance_table, &key, HASH_FIND, NULL);
	if (entry)
	{
		InstanceSlotKey none;
		int			index = entry->slot;

		memset(&none, 0, sizeof(none));
		hash_search(instance_table, &key, HASH_REMOVE, NULL);
		instance_rekey(&instance_shared->slots[index], &none, true);
		instance_shared->free_list[instance_shared->nfree++] = index;
	}
	LWLockRelease(instance_shared->lock);
}

bool
instance_cache_claim_prewarm(void)
{
	bool		first;

	SpinLockAcquire(&instance_shared->mutex);
	first = !instance_shared->prewarm_claimed;
	instance_shared->prewarm_claimed = true;
	SpinLockRelease(&instance_shared->mutex);
	return first;
}

bool
instance_cache_adopt(Oid dbid, Oid relid, const InstanceDef *def, const char *key,
					 int64 block_size, bool fixed_size, const RefillDemand *demand,
					 InstanceTicket *ticket)
{
	InstanceSlotKey skey;
	InstanceSlot *slot = NULL;
	size_t		keylen = strlen(key);
	bool		adopted;

	if (instance_table == NULL || keylen >= INSTANCE_KEY_MAX || def->params.increment == 0)
		return false;
	memset(&skey, 0, sizeof(skey));
	skey.dbid = dbid;
	skey.relid = relid;

	LWLockAcquire(instance_shared->lock, LW_EXCLUSIVE);
	/* never at another sequence's expense: only a free slot */
	if (hash_search(instance_table, &skey, HASH_FIND, NULL) == NULL &&
		instance_shared->nfree > 0)
		slot = instance_slot_enter(&skey);
	LWLockRelease(instance_shared->lock);
	if (slot == NULL)
		return false;

	SpinLockAcquire(&slot->mutex);
	adopted = instance_slot_is(slot, dbid, relid) && slot->def.params.increment == 0;
	if (adopted)
	{
		slot->def = *def;
		instance_set_key_locked(slot, key, keylen);
		slot->block_size = block_size;
		slot->fixed_size = fixed_size;
		slot->demand = *demand;
		ticket->slot = slot;
		ticket->dbid = dbid;
		ticket->relid = relid;
		ticket->generation = slot->generation;
		ticket->def = slot->def;
	}
	SpinLockRelease(&slot->mutex);
	return adopted;
}
