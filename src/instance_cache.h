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

#include "counter.h"

typedef struct InstanceSlot InstanceSlot;

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

/* Forget the cached values of a slot (setval, RESTART): they are a gap */
extern void instance_cache_discard(InstanceSlot *slot, Oid relid);

/* Drop the slot of a dropped sequence, if any */
extern void instance_cache_forget(Oid dbid, Oid relid);

#endif							/* SEQDIST_INSTANCE_CACHE_H */
