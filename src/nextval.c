/*-------------------------------------------------------------------------
 *
 * nextval.c
 *		The nextval-compatible SQL entry points: seqdist_nextval,
 *		seqdist_currval, seqdist_lastval, seqdist_setval.
 *
 * The native sequence object is the definition (increment, bounds, cycle,
 * cache, owner, privileges); the DynamoDB counter item is the position.
 * Checks are made in the order native sequence.c makes them, with its
 * messages and SQLSTATEs: the relation must be a sequence, the caller needs
 * the native privileges, and nextval/setval are refused in read-only and
 * parallel mode.
 *
 * A value comes from the first tier that has one:
 *	3. the backend's own cache (the sequence's CACHE n values at a time),
 *	2. the instance cache in shared memory (blocks of seqdist.block_size),
 *	1. the counter item in DynamoDB (one conditional UpdateItem per block).
 * A strict sequence skips tiers 3 and 2: every value is reserved from
 * DynamoDB itself, so values are globally ordered and no cache leaves gaps.
 *
 * Locking: like native nextval, each call holds RowExclusiveLock on the
 * sequence for the rest of the transaction (taken once per transaction by
 * backend_seq_open), so DROP and ALTER SEQUENCE wait for it.  A counter move
 * (setval, RESTART) holds the instance cache slot's fetching token while it
 * writes to DynamoDB, so no block reservation of this instance races it.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_class.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "backend_cache.h"
#include "block_size.h"
#include "counter.h"
#include "instance_cache.h"
#include "nextval.h"
#include "pending_ddl.h"
#include "store.h"

PG_FUNCTION_INFO_V1(seqdist_nextval);
PG_FUNCTION_INFO_V1(seqdist_currval);
PG_FUNCTION_INFO_V1(seqdist_lastval);
PG_FUNCTION_INFO_V1(seqdist_setval);
PG_FUNCTION_INFO_V1(seqdist_setval3);

/*---- settings ----*/
static bool nextval_allow_rewind = false;

/* The sequence whose value seqdist_nextval returned last in this session */
static Oid	nextval_last_relid = InvalidOid;

/* Did a counter hand out this session's latest value (routing.c clears it) */
bool		nextval_counter_was_last = false;

/* Counts the values this session took, native ones that routing.c saw too */
uint64		nextval_tick = 0;

void
nextval_init(void)
{
	DefineCustomBoolVariable("seqdist.allow_rewind",
							 "Lets seqdist_setval move a counter backwards.",
							 "Values up to the counter's position may already have been handed out; moving back hands them out again.",
							 &nextval_allow_rewind, false,
							 PGC_SUSET, 0,
							 NULL, NULL, NULL);
}

static void
nextval_require_registration(BackendSeq *seq, const SeqdistStore *store)
{
	if (!backend_seq_registered(seq, store))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("sequence \"%s\" is not registered with seqdist", seq->name),
				 errhint("Register it with SELECT seqdist.register('%s').",
						 quote_qualified_identifier(get_namespace_name(get_rel_namespace(seq->relid)),
													seq->name))));
}

/* Tiers 2 and 1: values from the instance cache, which refills itself */
static void
nextval_from_instance(BackendSeq *seq, const SeqdistStore *store, CounterBlock *block)
{
	/* a CACHE beyond the largest block is served a block at a time */
	int64		n = Min(Max(seq->cache, 1), (int64) 1000000000);
	bool		fixed = seq->block_size > 0;
	int64		block_size = fixed ? seq->block_size : block_size_default();

	CounterRef	ref = backend_seq_counter(seq, store);

	block_size = Max(block_size, n);
	while (seq->slot == NULL ||
		   !instance_cache_take(seq->slot, seq->relid, &seq->idef, &ref,
								block_size, fixed, n, block))
		seq->slot = instance_cache_slot(seq->relid);
}

/*
 * The next value of relid from its counter.  check_access makes the native
 * nextval check (USAGE or UPDATE on the sequence); the identity path of a
 * migrated column checks the table instead, as native identity does.
 */
int64
nextval_counter_value(Oid relid, bool check_access)
{
	const SeqdistStore *store;
	BackendSeq *seq;
	int64		value;

	instance_cache_check_preloaded();
	seq = backend_seq_open(relid);
	if (check_access)
		backend_seq_check_access(seq, ACL_USAGE | ACL_UPDATE);
	if (seq->persistence != RELPERSISTENCE_TEMP)
		PreventCommandIfReadOnly("nextval()");
	PreventCommandIfParallelMode("nextval()");
	store = store_current();
	nextval_require_registration(seq, store);

	if (seq->strict)
	{
		CounterBlock block;
		CounterRef	ref = backend_seq_counter(seq, store);
		InstanceStrictMark mark;

		/* no value is cached, but the slot checks each one is beyond the last */
		if (seq->slot == NULL)
			seq->slot = instance_cache_slot(seq->relid);
		instance_cache_strict_mark(seq->slot, seq->relid, &seq->idef, &mark);
		counter_reserve(&ref, &seq->params, 1, true, &block, NULL);
		instance_cache_strict_accept(seq->slot, seq->relid, &seq->idef, &ref, &mark, &block);
		value = block.first;
	}
	else if (!backend_cache_take(seq, &value))
	{
		CounterBlock block;

		nextval_from_instance(seq, store, &block);
		value = block.first;
		backend_cache_keep(seq, &block);
	}

	seq->last = value;
	seq->last_valid = true;
	seq->last_tick = ++nextval_tick;
	nextval_last_relid = relid;
	nextval_counter_was_last = true;
	return value;
}

Datum
seqdist_nextval(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(nextval_counter_value(PG_GETARG_OID(0), true));
}

Datum
seqdist_currval(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	BackendSeq *seq;

	instance_cache_check_preloaded();
	seq = backend_seq_open(relid);
	backend_seq_check_access(seq, ACL_SELECT | ACL_USAGE);
	if (!seq->last_valid)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("currval of sequence \"%s\" is not yet defined in this session",
						seq->name)));
	PG_RETURN_INT64(seq->last);
}

Datum
seqdist_lastval(PG_FUNCTION_ARGS)
{
	BackendSeq *seq;

	instance_cache_check_preloaded();
	/* the sequence may have been dropped since, as native lastval checks */
	if (nextval_last_relid == InvalidOid ||
		!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(nextval_last_relid)))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("lastval is not yet defined in this session")));
	seq = backend_seq_open(nextval_last_relid);
	backend_seq_check_access(seq, ACL_SELECT | ACL_USAGE);
	PG_RETURN_INT64(seq->last);
}

/*
 * Change the counter of a registered sequence under the instance cache
 * slot's fetching token, so that no block reservation of this instance
 * races the change: move it to where (move), or only empty the cache.
 * Values cached before are not handed out after (a strict sequence may have
 * a slot from before it was made strict).
 */
static void
nextval_change_counter(BackendSeq *seq, bool move, int128 where)
{
	InstanceSlot *slot = instance_cache_slot(seq->relid);
	CounterRef	ref = backend_seq_counter(seq, store_current());
	volatile bool moved = false;

	while (!instance_cache_begin_move(slot, seq->relid))
		slot = instance_cache_slot(seq->relid);
	PG_TRY();
	{
		if (move)
		{
			counter_set_position(&ref, &seq->params, where, nextval_allow_rewind, superuser());
			moved = true;
		}
	}
	PG_FINALLY();
	{
		instance_cache_end_move(slot, seq->relid, moved, where);
	}
	PG_END_TRY();
	seq->slot = slot;
	backend_cache_forget(seq);
}

void
nextval_move_counter(BackendSeq *seq, int128 position)
{
	nextval_change_counter(seq, true, position);
}

void
nextval_discard_cached(BackendSeq *seq)
{
	nextval_change_counter(seq, false, 0);
}

/*
 * ALTER SEQUENCE of a registered sequence: refuse at once what the counter
 * would refuse, move it for RESTART, and leave the new definition for the
 * counter item to the transaction's commit (pending_ddl.c), so that an ALTER
 * that rolls back never changes what the counter's clients agreed on.
 */
void
nextval_alter_counter(BackendSeq *seq, bool restart, int128 restart_position)
{
	CounterRef	ref = backend_seq_counter(seq, store_current());

	counter_check_definition(&ref, &seq->params, restart);
	if (restart)
		nextval_move_counter(seq, restart_position);
	else
		nextval_discard_cached(seq);
	pending_ddl_redefine(seq->relid, restart);
}

int64
nextval_setval(Oid relid, int64 value, bool iscalled)
{
	BackendSeq *seq;
	int128		position;

	instance_cache_check_preloaded();
	seq = backend_seq_open(relid);
	backend_seq_check_access(seq, ACL_UPDATE);
	if (seq->persistence != RELPERSISTENCE_TEMP)
		PreventCommandIfReadOnly("setval()");
	PreventCommandIfParallelMode("setval()");

	if (value < seq->params.min_value || value > seq->params.max_value)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("setval: value %lld is out of bounds for sequence \"%s\" (%lld..%lld)",
						(long long) value, seq->name,
						(long long) seq->params.min_value,
						(long long) seq->params.max_value)));
	nextval_require_registration(seq, store_current());

	position = iscalled ? (int128) value : (int128) value - seq->params.increment;
	nextval_move_counter(seq, position);
	if (iscalled)
	{
		seq->last = value;
		seq->last_valid = true;
		seq->last_tick = ++nextval_tick;
	}
	return value;
}

Datum
seqdist_setval(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(nextval_setval(PG_GETARG_OID(0), PG_GETARG_INT64(1), true));
}

Datum
seqdist_setval3(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(nextval_setval(PG_GETARG_OID(0), PG_GETARG_INT64(1), PG_GETARG_BOOL(2)));
}
