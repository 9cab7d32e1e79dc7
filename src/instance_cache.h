/*-------------------------------------------------------------------------
 *
 * instance_cache.h
 *		Tier 2: blocks of values reserved by this PostgreSQL instance, in
 *		shared memory, shared by all backends.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEQDIST_INSTANCE_CACHE_H
#define SEQDIST_INSTANCE_CACHE_H

#include "datatype/timestamp.h"

#include "counter.h"
#include "refill_policy.h"
#include "stats.h"
#include "store.h"

typedef struct InstanceSlot InstanceSlot;

/* Counter keys up to this length (bytes, with the terminator) are kept in
 * the slot, which the refill worker needs; longer keys are served on demand
 * only. */
#define INSTANCE_KEY_MAX 200

/* What a block must have been reserved under to be handed out */
typedef struct InstanceDef
{
	CounterParams params;
	uint64		store_id;		/* SeqdistStore.id of the counter's store */
	uint64		key_hash;		/* store_key_hash of the counter key */
} InstanceDef;

/*
 * Called from _PG_init.  When preloading, defines seqdist.max_sequences and
 * installs the shared memory hooks; otherwise every entry point refuses.
 */
extern void instance_cache_init(bool preloading);

/* Raise an ERROR unless the library was loaded by shared_preload_libraries */
extern void instance_cache_check_preloaded(void);

/*
 * Find or create the slot of a sequence of this database.  Raises an ERROR
 * when every slot is in use.
 */
extern InstanceSlot *instance_cache_slot(Oid relid);

/*
 * Take up to n values of sequence relid from the slot, reserving a new block
 * from the counter ref names when the slot is empty (one backend reserves,
 * the others wait for it).  block_size is the smallest block; blocks grow
 * with demand unless fixed_size.  Values handed out by one slot are
 * increasing, whichever backend takes them (until a CYCLE wraps).
 *
 * Returns false, taking nothing, when the slot no longer belongs to relid
 * (slots of dropped sequences are recycled): look the slot up again.
 */
extern bool instance_cache_take(InstanceSlot *slot, Oid relid, const InstanceDef *def,
								const CounterRef *ref, int64 block_size, bool fixed_size,
								int64 n, CounterBlock *out);

/*
 * Bracket a move of the counter (setval, RESTART, ALTER): begin waits for
 * any block reservation of the slot and keeps new ones out (false, taking
 * nothing, when the slot no longer belongs to relid: look it up again and
 * begin again); end drops the
 * cached values (a gap) and lets reservations go on; the slot's definition
 * stays as it was.  moved says
 * that the counter was moved to position (the last value used), which the
 * slot's next blocks must then lie beyond.  Call end on the error path too,
 * with moved false.
 */
extern bool instance_cache_begin_move(InstanceSlot *slot, Oid relid);
extern void instance_cache_end_move(InstanceSlot *slot, Oid relid, bool moved,
									int128 position);

/*
 * Strict mode: take the mark before a strict value is reserved from
 * DynamoDB, then have the block checked against it; the check raises
 * XX001 for a block that is not beyond the last value this instance handed
 * out for the counter before the mark, and otherwise records the block.
 */
typedef struct InstanceStrictMark
{
	uint64		generation;
	bool		has_high;
	int64		high;
} InstanceStrictMark;

extern void instance_cache_strict_mark(InstanceSlot *slot, Oid relid, const InstanceDef *def,
									   InstanceStrictMark *mark);
extern void instance_cache_strict_accept(InstanceSlot *slot, Oid relid, const InstanceDef *def,
										 const CounterRef *ref, const InstanceStrictMark *mark,
										 const CounterBlock *block);

/*
 * After an ALTER of relid committed: drop the slot's cached values and
 * record def and key as what its blocks are reserved under from now on.
 */
extern void instance_cache_redefine(Oid relid, const InstanceDef *def, const char *key);

/* Drop the slot of a dropped sequence, if any */
extern void instance_cache_forget(Oid dbid, Oid relid);

/*---- a look at every slot, for the refill worker and the stats view ----*/

/* Which state of a slot a refill was planned for */
typedef struct InstanceTicket
{
	InstanceSlot *slot;
	Oid			dbid;
	Oid			relid;
	uint64		generation;		/* bumped whenever cached values are dropped */
	InstanceDef def;
} InstanceTicket;

/* A copy of one slot, taken under its spinlock */
typedef struct InstanceView
{
	InstanceTicket ticket;
	bool		key_complete;	/* the slot holds the whole counter key */
	bool		fetching;		/* somebody is reserving a block */
	int64		remaining;		/* values left in the current block */
	int64		spare_count;	/* values in the block reserved ahead */
	int64		block_size;
	bool		fixed_size;
	uint64		taken;			/* values handed out, ever */
	RefillDemand demand;
	/* filled only with INSTANCE_SCAN_STATS or INSTANCE_SCAN_KEY */
	char		key[INSTANCE_KEY_MAX];
	/* filled only with INSTANCE_SCAN_STATS */
	SlotStats	stats;
} InstanceView;

#define INSTANCE_SCAN_STATS			0x01	/* copy the key and statistics */
#define INSTANCE_SCAN_RESET_STATS	0x02	/* and zero the statistics */
#define INSTANCE_SCAN_KEY			0x04	/* copy the key */

typedef struct InstanceScan
{
	int			flags;
	int			next;			/* index of the next slot to look at */
} InstanceScan;

/*
 * Visit every slot in use, each copied under its spinlock; no lock is held
 * in between.  begin returns how many slots next can return at most.
 */
extern long instance_cache_scan_begin(InstanceScan *scan, int flags);
extern bool instance_cache_scan_next(InstanceScan *scan, InstanceView *view);
extern void instance_cache_scan_end(InstanceScan *scan);

/*---- the refill worker's side ----*/

/* Store the worker's new estimate of the slot's demand */
extern void instance_cache_set_demand(const InstanceTicket *ticket,
									  const RefillDemand *demand);

/*
 * Take the slot's fetching token for a planned refill, if the plan is still
 * about the slot's current state; copies the counter key to key
 * (INSTANCE_KEY_MAX bytes).  Backends that run dry meanwhile wait for the
 * refill instead of calling DynamoDB themselves; it ends with refill_done or
 * refill_failed, which wake them.
 */
extern bool instance_cache_refill_start(const InstanceTicket *ticket, char *key);
/*
 * Hand a refill's block to the slot: as its current block if it has none,
 * else as its spare.  split > 0 (a prewarm's block, reserved twice as large):
 * to a slot with no current block, the first split values are its current
 * block and the rest its spare, so that one request serves both and the
 * worker has nothing to send for the slot until the first half is used up.
 * False when the block lies behind the slot's last one and was dropped.
 */
extern bool instance_cache_refill_done(const InstanceTicket *ticket,
									   const CounterBlock *block, int64 split,
									   const DynamoStats *calls);
extern void instance_cache_refill_failed(const InstanceTicket *ticket,
										 const char *message,
										 const DynamoStats *calls, TimestampTz now);

struct Latch;
extern void instance_cache_set_worker_latch(struct Latch *latch);

/*
 * Prewarm after a restart: true for the first caller since shared memory
 * was set up, false for every later one (a restarted worker).
 */
extern bool instance_cache_claim_prewarm(void);

/*
 * Give a free slot to sequence relid of database dbid as a previous run of
 * the instance knew it: the definition and counter key its blocks were
 * reserved under, its block size and demand; a ticket for a refill.  False,
 * doing nothing, when the sequence has a slot already (a backend was
 * first), no slot is free, or key does not fit.  A backend that brings
 * another definition drops what was reserved under this one (a gap).
 */
extern bool instance_cache_adopt(Oid dbid, Oid relid, const InstanceDef *def,
								 const char *key, int64 block_size, bool fixed_size,
								 const RefillDemand *demand, InstanceTicket *ticket);

#endif							/* SEQDIST_INSTANCE_CACHE_H */
