/*-------------------------------------------------------------------------
 *
 * instance_cache_internal.h
 *		The instance cache's shared-memory layout, for its own two files
 *		only: instance_cache.c (slots, take, single flight, counter moves)
 *		and instance_scan.c (scans and the refill worker's token).
 *
 * See instance_cache.c for the design and the locking rules.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEQDIST_INSTANCE_CACHE_INTERNAL_H
#define SEQDIST_INSTANCE_CACHE_INTERNAL_H

#include "miscadmin.h"
#include "storage/condition_variable.h"
#include "storage/lwlock.h"
#include "storage/spin.h"
#include "utils/hsearch.h"

#include "instance_cache.h"

typedef struct InstanceSlotKey
{
	Oid			dbid;
	Oid			relid;
} InstanceSlotKey;

/* An entry of the lookup table: which slot a sequence has */
typedef struct InstanceIndexEntry
{
	InstanceSlotKey key;		/* hash key; must be first */
	int			slot;			/* index into InstanceShared.slots */
} InstanceIndexEntry;

/*
 * A slot.  Slots live in a fixed array and are never freed: a slot of a
 * dropped or evicted sequence is given to another one by rewriting its key
 * under the spinlock, so a backend that still holds a pointer to it, spins
 * on its mutex or sleeps on its condition variable is never left holding
 * freed or reinitialised memory; it re-checks the key and looks again.
 */
struct InstanceSlot
{
	slock_t		mutex;			/* protects everything below; never reinitialised */
	ConditionVariable cv;		/* waiters for the fetching token; likewise */
	uint64		generation;		/* bumped whenever cached values are dropped,
								 * and when the slot changes hands */
	/* everything below is cleared when the slot changes hands */
	InstanceSlotKey key;		/* whose slot it is */
	bool		dead;			/* free: nobody's slot */
	int			fetcher;		/* pid holding the fetching token */
	TimestampTz fetch_deadline; /* when waiters stop waiting for the holder */
	bool		used;			/* taken from since the clock hand passed */
	InstanceDef def;			/* definition the cached blocks belong to */
	char		counter_key[INSTANCE_KEY_MAX];	/* for the worker and stats */
	bool		key_complete;	/* counter_key holds the whole key */
	int64		next;			/* next value to hand out */
	int64		remaining;		/* values left in the current block */
	int64		spare_first;	/* a block reserved ahead of need */
	int64		spare_count;
	bool		fetching;		/* the fetching token is taken */
	int64		block_size;		/* size of the next block; adapts to demand */
	bool		fixed_size;		/* block_size is the sequence's own */
	TimestampTz last_fetch;		/* when the last block was reserved */
	int64		high;			/* last value of the newest block held */
	bool		has_high;		/* high is set: a block came since the last move */
	uint64		taken;			/* values handed out, ever */
	RefillDemand demand;		/* written by the refill worker only */
	SlotStats	stats;
};

typedef struct InstanceShared
{
	LWLock	   *lock;			/* protects the lookup table and free list */
	slock_t		mutex;			/* protects worker_latch */
	Latch	   *worker_latch;	/* the refill worker's, or NULL */
	bool		prewarm_claimed;	/* a worker has prewarmed; protected by mutex */
	int			nslots;
	int			nfree;			/* free_list[0 .. nfree-1] are free slots */
	int			clock_hand;		/* where the search for a slot to take goes on */
	int		   *free_list;
	InstanceSlot *slots;
} InstanceShared;

extern InstanceShared *instance_shared;
extern HTAB *instance_table;

/*
 * How long waiters wait for a holder of the fetching token beyond the
 * longest DynamoDB call its settings allow (dynamo_call_bound_ms)
 */
#define INSTANCE_WAIT_MARGIN_MS 1000

/*
 * Until when waiters wait for a process that takes the token at now: the
 * longest DynamoDB call its settings allow plus the margin.  Read the clock
 * and call this before taking the spinlock.
 */
extern TimestampTz instance_holder_deadline(TimestampTz now);

/*
 * Take the fetching token, with the deadline from instance_holder_deadline;
 * the spinlock is held
 */
static inline void
instance_take_token_locked(InstanceSlot *slot, TimestampTz deadline)
{
	slot->fetching = true;
	slot->fetcher = MyProcPid;
	slot->fetch_deadline = deadline;
}

/* Does this process hold the slot's token?  Spinlock held. */
static inline bool
instance_holds_token_locked(InstanceSlot *slot)
{
	return slot->fetching && slot->fetcher == MyProcPid;
}

/* Does the slot still belong to this sequence?  Spinlock held. */
static inline bool
instance_slot_is(InstanceSlot *slot, Oid dbid, Oid relid)
{
	return !slot->dead && slot->key.dbid == dbid && slot->key.relid == relid;
}

/* Were blocks reserved under a and b interchangeable? */
static inline bool
instance_def_equal(const InstanceDef *a, const InstanceDef *b)
{
	return a->store_id == b->store_id &&
		a->key_hash == b->key_hash &&
		a->params.increment == b->params.increment &&
		a->params.min_value == b->params.min_value &&
		a->params.max_value == b->params.max_value &&
		a->params.cycle == b->params.cycle;
}

/*
 * Does block lie beyond every block the slot held for its counter since
 * this instance last moved it?  The counter only moves forward unless a
 * client moves it back, which only its sole client may do; so a block
 * behind means the item was moved back, deleted or replaced under us, and
 * handing its values out could repeat them.  Cycling counters go back by
 * design.  Records the block when it is accepted.  Spinlock held.
 */
static inline bool
instance_accept_block(InstanceSlot *slot, const CounterBlock *block)
{
	int64		inc = slot->def.params.increment;

	if (slot->has_high && !slot->def.params.cycle &&
		(inc > 0 ? block->first <= slot->high : block->first >= slot->high))
		return false;
	/* the block lies within the bounds, so its last value fits in int64 */
	slot->high = block->first + (block->count - 1) * inc;
	slot->has_high = true;
	return true;
}

/* The ERROR for a block instance_accept_block refused */
extern void instance_raise_behind(const char *key, int64 high, int64 first)
			pg_attribute_noreturn();

#endif							/* SEQDIST_INSTANCE_CACHE_INTERNAL_H */
