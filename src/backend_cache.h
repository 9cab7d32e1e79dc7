/*-------------------------------------------------------------------------
 *
 * backend_cache.h
 *		Tier 3: what one backend knows and holds about each sequence.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEQDIST_BACKEND_CACHE_H
#define SEQDIST_BACKEND_CACHE_H

#include "utils/acl.h"

#include "counter.h"
#include "instance_cache.h"
#include "store.h"

typedef struct BackendSeq
{
	Oid			relid;			/* hash key */

	/* the native definition; reloaded when invalidated */
	bool		def_valid;
	char	   *name;			/* relation name, for messages */
	char		persistence;
	CounterParams params;
	int64		cache;			/* the sequence's CACHE */
	Oid			filenode;		/* changes on RESTART */

	/* the registration; reloaded when invalidated */
	bool		reg_valid;
	uint64		reg_invalidations;	/* bumped by every invalidation */
	bool		registered;
	char	   *key;			/* counter key */
	char	   *client;			/* our name in the counter's clients */
	int64		block_size;		/* 0: seqdist.block_size */
	bool		strict;
	InstanceDef idef;			/* what cached values were reserved under */
	InstanceSlot *slot;

	/* values taken from the instance cache and not handed out yet */
	int64		next;
	int64		remaining;

	/* currval() state, as native */
	int64		last;
	bool		last_valid;
	uint64		last_tick;		/* nextval_tick when last was set */

	LocalTransactionId lxid;	/* transaction that holds our lock */
} BackendSeq;

/*
 * The entry of a sequence, locked in RowExclusiveLock once per transaction
 * (as native nextval does) and with a current definition.  Raises the native
 * error when relid is not a sequence.
 */
extern BackendSeq *backend_seq_open(Oid relid);

/* Raise the native "permission denied" unless the user has one of mode */
extern void backend_seq_check_access(BackendSeq *seq, AclMode mode);

/*
 * Load the registration if it is not current; false if not registered.
 * Values cached for another store are dropped.
 */
extern bool backend_seq_registered(BackendSeq *seq, const SeqdistStore *store);

/* The counter the registration names, for tier-1 calls; valid until the next call */
extern CounterRef backend_seq_counter(BackendSeq *seq, const SeqdistStore *store);

/* The counter key registered for relid, or NULL (palloc'd); locks it as nextval does */
extern char *backend_seq_registered_key(Oid relid);

/* Take one value from the backend's own cache; false when empty */
static inline bool
backend_cache_take(BackendSeq *seq, int64 *value)
{
	if (seq->remaining <= 0)
		return false;
	*value = seq->next;
	if (--seq->remaining > 0)
		seq->next += seq->params.increment;
	return true;
}

/* Keep the rest of a block after its first value for later calls */
extern void backend_cache_keep(BackendSeq *seq, const CounterBlock *block);

/* Forget values cached by this backend (setval, new definition) */
extern void backend_cache_forget(BackendSeq *seq);

#endif							/* SEQDIST_BACKEND_CACHE_H */
