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
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "catalog/pg_class.h"
#include "catalog/pg_sequence.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "commands/event_trigger.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "seqdist.h"
#include "backend_cache.h"
#include "counter.h"
#include "instance_cache.h"
#include "nextval.h"

PG_FUNCTION_INFO_V1(seqdist_nextval);
PG_FUNCTION_INFO_V1(seqdist_currval);
PG_FUNCTION_INFO_V1(seqdist_lastval);
PG_FUNCTION_INFO_V1(seqdist_setval);
PG_FUNCTION_INFO_V1(seqdist_setval3);
PG_FUNCTION_INFO_V1(seqdist_forget_cached);

/* The sequence whose value seqdist_nextval returned last in this session */
static Oid	nextval_last_relid = InvalidOid;

char *
seqdist_open_sequence(Oid relid, LOCKMODE lockmode, CounterParams *params)
{
	Relation	rel = relation_open(relid, lockmode);
	char	   *name = pstrdup(RelationGetRelationName(rel));
	HeapTuple	tup;
	Form_pg_sequence seq;

	if (rel->rd_rel->relkind != RELKIND_SEQUENCE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a sequence", name)));
	relation_close(rel, NoLock);

	tup = SearchSysCache1(SEQRELID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for sequence %u", relid);
	seq = (Form_pg_sequence) GETSTRUCT(tup);
	params->increment = seq->seqincrement;
	params->min_value = seq->seqmin;
	params->max_value = seq->seqmax;
	params->start_value = seq->seqstart;
	params->cycle = seq->seqcycle;
	ReleaseSysCache(tup);
	return name;
}

/* One lookup of the registry for everyone: the backend's cached one */
char *
seqdist_registered_key(Oid relid)
{
	BackendSeq *seq = backend_seq_open(relid);

	return backend_seq_registered(seq) ? pstrdup(seq->key) : NULL;
}

static void
nextval_require_registration(BackendSeq *seq)
{
	if (!backend_seq_registered(seq))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("sequence \"%s\" is not registered with seqdist", seq->name),
				 errhint("Register it with SELECT seqdist.register('%s').",
						 quote_qualified_identifier(get_namespace_name(get_rel_namespace(seq->relid)),
													seq->name))));
}

/* Tiers 2 and 1: values from the instance cache, which refills itself */
static void
nextval_from_instance(BackendSeq *seq, CounterBlock *block)
{
	/* a CACHE beyond the largest block is served a block at a time */
	int64		n = Min(Max(seq->cache, 1), (int64) 1000000000);
	bool		fixed = seq->block_size > 0;
	int64		block_size = fixed ? seq->block_size : seqdist_block_size;

	block_size = Max(block_size, n);
	while (seq->slot == NULL ||
		   !instance_cache_take(seq->slot, seq->relid, &seq->idef, seq->key,
								block_size, fixed, n, seq->name, block))
		seq->slot = instance_cache_slot(seq->relid);
}

Datum
seqdist_nextval(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	BackendSeq *seq;
	int64		value;

	seqdist_check_preloaded();
	seq = backend_seq_open(relid);
	backend_seq_check_access(seq, ACL_USAGE | ACL_UPDATE);
	if (seq->persistence != RELPERSISTENCE_TEMP)
		PreventCommandIfReadOnly("nextval()");
	PreventCommandIfParallelMode("nextval()");
	nextval_require_registration(seq);

	if (seq->strict)
	{
		CounterBlock block;

		counter_reserve(seq->key, &seq->params, 1, seq->name, &block);
		value = block.first;
	}
	else if (!backend_cache_take(seq, &value))
	{
		CounterBlock block;

		nextval_from_instance(seq, &block);
		value = block.first;
		backend_cache_keep(seq, &block);
	}

	seq->last = value;
	seq->last_valid = true;
	nextval_last_relid = relid;
	PG_RETURN_INT64(value);
}

Datum
seqdist_currval(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	BackendSeq *seq;

	seqdist_check_preloaded();
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

	seqdist_check_preloaded();
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
 * Move the counter of a registered sequence; values cached before the move
 * are not handed out after it (a strict sequence may have a slot from before
 * it was made strict).
 */
static void
nextval_move_counter(BackendSeq *seq, int128 position)
{
	InstanceSlot *slot = instance_cache_slot(seq->relid);

	instance_cache_begin_move(slot, seq->relid);
	PG_TRY();
	{
		counter_set_position(seq->key, &seq->params, position, seqdist_allow_rewind, seq->name);
	}
	PG_FINALLY();
	{
		instance_cache_end_move(slot, seq->relid);
	}
	PG_END_TRY();
	seq->slot = slot;
}

static int64
nextval_setval(Oid relid, int64 value, bool iscalled)
{
	BackendSeq *seq;
	int128		position;

	seqdist_check_preloaded();
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
	nextval_require_registration(seq);

	position = iscalled ? (int128) value : (int128) value - seq->params.increment;
	nextval_move_counter(seq, position);
	backend_cache_forget(seq);
	if (iscalled)
	{
		seq->last = value;
		seq->last_valid = true;
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

/*
 * seqdist.forget_cached(oid): called by the sql_drop event trigger to free
 * the instance cache slot of a dropped sequence.
 */
Datum
seqdist_forget_cached(PG_FUNCTION_ARGS)
{
	seqdist_check_preloaded();
	instance_cache_forget(MyDatabaseId, PG_GETARG_OID(0));
	PG_RETURN_VOID();
}

/*
 * seqdist.on_alter_sequence(): event trigger at the end of ALTER SEQUENCE.
 *
 * For a registered sequence, the new definition is recorded in the counter
 * item (a change of direction is refused), and RESTART moves the counter
 * forward to the restart value, or backward only with seqdist.allow_rewind,
 * for the same reason as seqdist_setval.  Cached values reserved under the
 * old definition are dropped by every backend when it sees the new one; a
 * RESTART also drops the instance cache explicitly, since the definition
 * may be unchanged.
 *
 * DynamoDB is not transactional with the ALTER: if the transaction later
 * rolls back, the counter keeps the new definition and position, and the
 * next seqdist_nextval reports the mismatch; repeating the ALTER repairs it.
 */
PG_FUNCTION_INFO_V1(seqdist_on_alter_sequence);

Datum
seqdist_on_alter_sequence(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata;
	AlterSeqStmt *stmt;
	Oid			relid;
	char	   *key;
	char	   *name;
	CounterParams params;
	ListCell   *lc;
	bool		restart = false;
	int64		restart_value = 0;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("seqdist.on_alter_sequence() must be called as an event trigger")));
	trigdata = (EventTriggerData *) fcinfo->context;
	if (!IsA(trigdata->parsetree, AlterSeqStmt))
		PG_RETURN_VOID();
	stmt = (AlterSeqStmt *) trigdata->parsetree;
	relid = RangeVarGetRelid(stmt->sequence, NoLock, true);
	if (!OidIsValid(relid) || (key = seqdist_registered_key(relid)) == NULL)
		PG_RETURN_VOID();
	seqdist_check_preloaded();

	name = seqdist_open_sequence(relid, NoLock, &params);
	foreach(lc, stmt->options)
	{
		DefElem    *opt = lfirst_node(DefElem, lc);

		if (strcmp(opt->defname, "restart") == 0)
		{
			restart = true;
			restart_value = opt->arg ? defGetInt64(opt) : params.start_value;
		}
	}

	counter_update_definition(key, &params, name);
	if (restart)
	{
		BackendSeq *seq = backend_seq_open(relid);

		if (!backend_seq_registered(seq))
			PG_RETURN_VOID();
		nextval_move_counter(seq, (int128) restart_value - params.increment);
		backend_cache_forget(seq);
	}
	/* other backends reload the definition from the catalog invalidation */
	CacheInvalidateRelcacheByRelid(relid);
	PG_RETURN_VOID();
}
