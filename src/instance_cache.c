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

#include "miscadmin.h"
#include "storage/condition_variable.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/hsearch.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "seqdist.h"
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
	InstanceDef def;			/* definition the cached block belongs to */
	int64		next;			/* next value to hand out */
	int64		remaining;		/* values left in the block */
	bool		fetching;		/* a backend is reserving the next block */
	uint64		generation;		/* bumped whenever cached values are dropped */
	int64		block_size;		/* size of the next block; adapts to demand */
	TimestampTz last_fetch;		/* when the last block was reserved */
	ConditionVariable cv;		/* waiters for a fetch in flight */
};

typedef struct InstanceShared
{
	LWLock	   *lock;			/* protects the hash table */
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
		instance_shared->lock = &(GetNamedLWLockTranche(INSTANCE_TRANCHE))->lock;

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
		SpinLockInit(&slot->mutex);
		slot->dead = false;
		memset(&slot->def, 0, sizeof(slot->def));
		slot->next = 0;
		slot->remaining = 0;
		slot->fetching = false;
		slot->generation = 0;
		slot->block_size = 0;
		slot->last_fetch = 0;
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
	slot->generation++;
}

/* Hand out up to n values; the caller holds the spinlock, remaining > 0 */
static void
instance_give(InstanceSlot *slot, int64 n, CounterBlock *out)
{
	int64		m = Min(n, slot->remaining);

	out->first = slot->next;
	out->count = m;
	slot->remaining -= m;
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
			size = Min(size * 2, ceiling);
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
	TimestampTz now = GetCurrentTimestamp();
	int64		fetch_size;

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
		}
		if (slot->remaining > 0)
		{
			instance_give(slot, n, out);
			SpinLockRelease(&slot->mutex);
			if (slept)
				ConditionVariableCancelSleep();
			return true;
		}
		if (!slot->fetching)
			break;
		SpinLockRelease(&slot->mutex);

		/* another backend is reserving the next block: wait for it */
		ConditionVariableSleep(&slot->cv, PG_WAIT_EXTENSION);
		slept = true;
	}
	slot->fetching = true;
	generation = slot->generation;
	fetch_size = instance_next_block_size(slot, block_size, fixed_size, now);
	SpinLockRelease(&slot->mutex);
	if (slept)
		ConditionVariableCancelSleep();

	/* a FATAL exit skips PG_CATCH: make sure the waiters are released */
	if (!instance_exit_registered)
	{
		before_shmem_exit(instance_on_exit, (Datum) 0);
		instance_exit_registered = true;
	}
	instance_fetching = slot;

	PG_TRY();
	{
		counter_reserve(key, &def->params, fetch_size, seqname, &block);
	}
	PG_CATCH();
	{
		instance_end_fetch(slot);
		PG_RE_THROW();
	}
	PG_END_TRY();

	instance_fetching = NULL;
	SpinLockAcquire(&slot->mutex);
	slot->fetching = false;
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

void
instance_cache_discard(InstanceSlot *slot, Oid relid)
{
	SpinLockAcquire(&slot->mutex);
	if (!slot->dead && slot->key.relid == relid && slot->key.dbid == MyDatabaseId)
		instance_reset_locked(slot);
	SpinLockRelease(&slot->mutex);
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
