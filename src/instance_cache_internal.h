/*-------------------------------------------------------------------------
 *
 * instance_cache_internal.h
 *		The instance cache's shared-memory layout, for its own two files
 *		only: instance_cache.c (slots, take, single flight, counter moves)
 *		and instance_scan.c (scans and the refill worker's token).
 *
 * See instance_cache.c for the design and the locking rules.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEQDIST_INSTANCE_CACHE_INTERNAL_H
#define SEQDIST_INSTANCE_CACHE_INTERNAL_H

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
	bool		fetching;		/* the fetching token is taken */
	uint64		generation;		/* bumped whenever cached values are dropped */
	int64		block_size;		/* size of the next block; adapts to demand */
	bool		fixed_size;		/* block_size is the sequence's own */
	TimestampTz last_fetch;		/* when the last block was reserved */
	ConditionVariable cv;		/* waiters for the fetching token */
	int64		high;			/* last value of the newest block held */
	bool		has_high;		/* high is set: a block came since the last move */
	uint64		taken;			/* values handed out, ever */
	RefillDemand demand;		/* written by the refill worker only */
	SlotStats	stats;
};

typedef struct InstanceShared
{
	LWLock	   *lock;			/* protects the hash table */
	slock_t		mutex;			/* protects worker_latch */
	Latch	   *worker_latch;	/* the refill worker's, or NULL */
} InstanceShared;

extern InstanceShared *instance_shared;
extern HTAB *instance_table;

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
