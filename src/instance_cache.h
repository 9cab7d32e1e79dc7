/*-------------------------------------------------------------------------
 *
 * instance_cache.h
 *		Tier 2: blocks of values reserved by this PostgreSQL instance, in
 *		shared memory, shared by all backends.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEQDIST_INSTANCE_CACHE_H
#define SEQDIST_INSTANCE_CACHE_H

#include "datatype/timestamp.h"

#include "counter.h"

typedef struct InstanceSlot InstanceSlot;

/* Counter keys up to this length (bytes, with the terminator) are kept in
 * the slot, which the refill worker needs; longer keys are served on demand
 * only. */
#define INSTANCE_KEY_MAX 200

/* What happened to one slot; read by seqdist.stats */
typedef struct InstanceStats
{
	uint64		blocks_by_worker;
	uint64		blocks_by_backend;
	uint64		requests;
	uint64		retries;
	uint64		throttles;
	uint64		errors;
	uint64		latency[16];	/* DYNAMO_LATENCY_BUCKETS */
	uint64		waits;			/* times a backend waited for a block */
	int64		wait_us;		/* total time backends waited */
	char		last_error[160];
	TimestampTz last_error_at;
} InstanceStats;

/* What a block must have been reserved under to be handed out */
typedef struct InstanceDef
{
	CounterParams params;
	uint64		key_hash;		/* hash of the counter key */
} InstanceDef;

/* Called from _PG_init when preloading: installs the shmem hooks */
extern void instance_cache_install_hooks(void);

/* Bytes of shared memory one slot costs, for documentation and checks */
extern Size instance_cache_slot_size(void);

/*
 * Find or create the slot of a sequence of this database.  Raises an ERROR
 * when every slot is in use.
 */
extern InstanceSlot *instance_cache_slot(Oid relid);

/*
 * Take up to n values of sequence relid from the slot, reserving a new block
 * from the counter when the slot is empty (one backend reserves, the others
 * wait for it).  block_size is the smallest block; blocks grow with demand
 * unless fixed_size.  Values handed out by one slot are
 * increasing, whichever backend takes them (until a CYCLE wraps).
 *
 * Returns false, taking nothing, when the slot no longer belongs to relid
 * (slots of dropped sequences are recycled): look the slot up again.
 */
extern bool instance_cache_take(InstanceSlot *slot, Oid relid, const InstanceDef *def,
								const char *key, int64 block_size, bool fixed_size,
								int64 n, const char *seqname, CounterBlock *out);

/*
 * Bracket a move of the counter (setval, RESTART): begin waits for any block
 * reservation of the slot and keeps new ones out; end drops the cached
 * values (a gap) and lets reservations go on.  Call end on the error path
 * too.
 */
extern void instance_cache_begin_move(InstanceSlot *slot, Oid relid);
extern void instance_cache_end_move(InstanceSlot *slot, Oid relid);

/* Drop the slot of a dropped sequence, if any */
extern void instance_cache_forget(Oid dbid, Oid relid);

/*
 * The refill worker's side: a job is a slot that should get a block ahead of
 * need.  Starting a job takes the slot's fetching token (backends that run
 * dry meanwhile wait for it instead of calling DynamoDB themselves); the job
 * then ends with refill_done or refill_failed, which wake them.
 */
typedef struct RefillJob
{
	InstanceSlot *slot;
	Oid			dbid;
	Oid			relid;
	uint64		generation;
	InstanceDef def;
	char		key[INSTANCE_KEY_MAX];
	int64		size;
} RefillJob;

extern int	instance_cache_plan_refills(RefillJob *jobs, int max);
extern bool instance_cache_refill_start(const RefillJob *job);
extern void instance_cache_refill_done(const RefillJob *job, const CounterBlock *block);
extern void instance_cache_refill_failed(const RefillJob *job, const char *message);
struct Latch;
extern void instance_cache_set_worker_latch(struct Latch *latch);

/* A copy of one slot's state, for seqdist.stats */
typedef struct InstanceSnapshot
{
	Oid			dbid;
	Oid			relid;
	char		key[INSTANCE_KEY_MAX];
	int64		cached;
	double		rate;
	int64		block_size;
	InstanceStats stats;
} InstanceSnapshot;

extern int	instance_cache_snapshot(InstanceSnapshot **out);
extern void instance_cache_stats_reset(void);

#endif							/* SEQDIST_INSTANCE_CACHE_H */
