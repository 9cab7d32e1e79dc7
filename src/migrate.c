/*-------------------------------------------------------------------------
 *
 * migrate.c
 *		The C side of seqdist.migrate and seqdist.rollback: registration
 *		at a floor, the fence on the native sequence, and its removal.
 *
 * The plan, the choice of sequences and the column defaults are in SQL
 * (seqdist--1.0--1.1.sql); what must happen at one precise moment is here.
 *
 * The fence: a migrated sequence's native state is moved to its bound
 * (MAXVALUE, or MINVALUE for a descending sequence), so that a native
 * nextval that no routing sees (COPY filling an identity column, C code)
 * fails instead of handing out a value the counter may also hand out.  A
 * sequence's state is not transactional, so the fence is set when the
 * migrating transaction commits (XACT_EVENT_PRE_COMMIT), while it still
 * holds the sequence's ShareRowExclusiveLock: a migration that rolls back
 * leaves no fence behind, and no native nextval runs between the
 * registration and the fence.  Rollback is the mirror image: at commit the
 * counter's position is read and the native sequence set there, so its
 * next value lies beyond every value any client of the counter reserved.
 *
 * Locking: the callers hold ShareRowExclusiveLock on each sequence (taken
 * by the registration) until commit.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/inval.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "admin.h"
#include "backend_cache.h"
#include "counter.h"
#include "counter_json.h"
#include "instance_cache.h"
#include "pg_compat.h"
#include "migrate.h"
#include "pending_ddl.h"
#include "registry.h"
#include "routing.h"
#include "sequence_catalog.h"
#include "store.h"

PG_FUNCTION_INFO_V1(seqdist_migrate_register);
PG_FUNCTION_INFO_V1(seqdist_migrate_fence);
PG_FUNCTION_INFO_V1(seqdist_migrate_release);
PG_FUNCTION_INFO_V1(seqdist_counter_item_by_key);
PG_FUNCTION_INFO_V1(seqdist_migration_changed);
PG_FUNCTION_INFO_V1(seqdist_invalidate_plans);
PG_FUNCTION_INFO_V1(seqdist_defer_reload);

typedef struct NativeMove
{
	Oid			relid;
	bool		fence;			/* true: to the bound; false: to the counter */
	char	   *key;			/* the counter, for !fence */
	SubTransactionId subid;
} NativeMove;

/* In TopTransactionContext; NIL outside a transaction that has moves */
static List *native_moves = NIL;

static void migrate_xact_callback(XactEvent event, void *arg);
static void migrate_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
									 SubTransactionId parentSubid, void *arg);

void
migrate_init(void)
{
	RegisterXactCallback(migrate_xact_callback, NULL);
	RegisterSubXactCallback(migrate_subxact_callback, NULL);
}

static void
migrate_add_move(Oid relid, bool fence, const char *key)
{
	MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
	NativeMove *move = palloc0(sizeof(NativeMove));

	move->relid = relid;
	move->fence = fence;
	move->key = key ? pstrdup(key) : NULL;
	move->subid = GetCurrentSubTransactionId();
	native_moves = lappend(native_moves, move);
	MemoryContextSwitchTo(old);
}

/* Native setval(relid, value, true), whatever routing.c does with SQL calls */
static void
migrate_native_setval(Oid relid, int64 value)
{
	DirectFunctionCall3(setval3_oid, ObjectIdGetDatum(relid), Int64GetDatum(value),
						BoolGetDatum(true));
}

/* The counter's position: the last value any client reserved */
static int128
migrate_counter_position(const char *key, const char *seqname)
{
	int128		position;

	if (!counter_json_last_value(store_current(), key, &position))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the counter \"%s\" of sequence \"%s\" cannot be read", key, seqname),
				 errdetail("Without the counter's position the native sequence cannot be set beyond every value the counter handed out."),
				 errhint("Check seqdist.health() and run the rollback again.")));
	return position;
}

static void
migrate_apply(NativeMove *move)
{
	SequenceCatalog cat;

	/* dropped later in the same transaction: nothing to fence or restore */
	if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(move->relid)))
		return;
	sequence_catalog_read(move->relid, &cat);
	if (move->fence)
		migrate_native_setval(move->relid, cat.params.increment > 0 ?
							  cat.params.max_value : cat.params.min_value);
	else
	{
		int128		position = migrate_counter_position(move->key, cat.name);

		/* a counter that never moved is still at START - increment */
		if (position > cat.params.max_value)
			position = cat.params.max_value;
		if (position < cat.params.min_value)
			position = cat.params.increment > 0 ? cat.params.min_value : cat.params.max_value;
		migrate_native_setval(move->relid, (int64) position);
	}
}

/* seqdist._defer_reload: collect changes of the migrated set (see below) */
static bool reload_deferred = false;
static Oid	reload_pending = InvalidOid;

static void
migrate_xact_callback(XactEvent event, void *arg)
{
	ListCell   *lc;

	/* a deferred reload that nobody sent: send it with the commit */
	if ((event == XACT_EVENT_PRE_COMMIT || event == XACT_EVENT_PRE_PREPARE) &&
		OidIsValid(reload_pending))
	{
		CacheInvalidateRelcacheByRelid(reload_pending);
		reload_pending = InvalidOid;
	}
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PREPARE || event == XACT_EVENT_PARALLEL_COMMIT ||
		event == XACT_EVENT_PARALLEL_ABORT)
	{
		reload_deferred = false;
		reload_pending = InvalidOid;
	}
	if (native_moves == NIL)
		return;
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
			PushActiveSnapshot(GetTransactionSnapshot());
			foreach(lc, native_moves)
				migrate_apply(lfirst(lc));
			PopActiveSnapshot();
			native_moves = NIL;
			break;
		case XACT_EVENT_PRE_PREPARE:
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot PREPARE a transaction that migrated or rolled back a sequence"),
					 errdetail("The native sequence's state is set when such a transaction commits, which a prepared transaction does in another session.")));
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PREPARE:
			native_moves = NIL;
			break;
		default:
			break;
	}
}

static void
migrate_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						 SubTransactionId parentSubid, void *arg)
{
	ListCell   *lc;

	if (native_moves == NIL)
		return;
	foreach(lc, native_moves)
	{
		NativeMove *move = lfirst(lc);

		if (move->subid != mySubid)
			continue;
		if (event == SUBXACT_EVENT_COMMIT_SUB)
			move->subid = parentSubid;
		else if (event == SUBXACT_EVENT_ABORT_SUB)
			native_moves = foreach_delete_current(native_moves, lc);
	}
}

void
migrate_refence(Oid relid)
{
	if (routing_is_migrated(relid))
		migrate_add_move(relid, true, NULL);
}

static void
migrate_check_owner(Oid relid)
{
	if (!seqdist_owns_relation(relid, GetUserId()))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be owner of sequence %s", get_rel_name(relid))));
}

/*
 * seqdist._migrate_register(seq regclass, floor numeric)
 *	returns table (counter_key text, last_value numeric)
 *
 * Register seq (under its registered key or its default one) with the
 * counter at least at the native position and at floor (NULL: none).
 */
Datum
seqdist_migrate_register(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	bool		has_floor = !PG_ARGISNULL(1);
	int128		floor = 0;
	int128		last;
	char	   *key;
	TupleDesc	tupdesc;
	Datum		values[2];
	bool		nulls[2] = {false, false};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	if (has_floor)
	{
		char	   *text = DatumGetCString(DirectFunctionCall1(numeric_out,
															   PG_GETARG_DATUM(1)));

		if (!counter_parse_int128(text[0] == '-' ? text + 1 : text, &floor))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("floor %s is not an integer of at most 38 digits", text)));
		if (text[0] == '-')
			floor = -floor;
	}
	key = admin_register_for_migration(relid, has_floor, floor, &last);
	values[0] = CStringGetTextDatum(key);
	values[1] = DirectFunctionCall3(numeric_in, CStringGetDatum(counter_int128_text(last)),
									ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/* seqdist._migrate_fence(seq regclass): fence the native sequence at commit */
Datum
seqdist_migrate_fence(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);

	migrate_check_owner(relid);
	LockRelationOid(relid, ShareRowExclusiveLock);
	migrate_add_move(relid, true, NULL);
	PG_RETURN_VOID();
}

/*
 * seqdist._migrate_release(seq regclass): unregister seq; at commit its
 * native sequence is set to the counter's position and it leaves the
 * counter's clients.
 */
Datum
seqdist_migrate_release(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	char	   *key;

	instance_cache_check_preloaded();
	migrate_check_owner(relid);
	LockRelationOid(relid, ShareRowExclusiveLock);
	key = backend_seq_registered_key(relid);
	if (key == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("sequence \"%s\" is not registered with seqdist", get_rel_name(relid)),
				 errdetail("Without its counter the native sequence cannot be set beyond the values the counter handed out.")));
	registry_check_writable();
	migrate_add_move(relid, false, key);
	(void) registry_delete(relid);
	pending_ddl_leave(relid, key);
	PG_RETURN_VOID();
}

/* seqdist._counter_item_by_key(key text) returns jsonb: NULL when there is none */
Datum
seqdist_counter_item_by_key(PG_FUNCTION_ARGS)
{
	char	   *json;

	instance_cache_check_preloaded();
	json = counter_json_item(store_current(), text_to_cstring(PG_GETARG_TEXT_PP(0)));
	if (json == NULL)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(json)));
}

/*
 * Statement trigger on seqdist.migrated_sequences: every backend reads the
 * migrated set again (routing.c watches the table's relcache entry).  A
 * bulk migrate or rollback defers it to its end (seqdist._defer_reload),
 * or the migrating backend would read the growing set again for each
 * sequence.
 */
Datum
seqdist_migration_changed(PG_FUNCTION_ARGS)
{
	Relation	rel;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("seqdist._migration_changed() must be called as a trigger")));
	rel = ((TriggerData *) fcinfo->context)->tg_relation;
	if (reload_deferred)
		reload_pending = RelationGetRelid(rel);
	else
		CacheInvalidateRelcache(rel);
	return PointerGetDatum(NULL);
}

/*
 * seqdist._defer_reload(on boolean): while on, changes of the migrated set
 * are collected; turning it off sends one invalidation for them.  A
 * transaction's end turns it off (an abort drops what was collected, with
 * the changes).
 */
Datum
seqdist_defer_reload(PG_FUNCTION_ARGS)
{
	reload_deferred = PG_GETARG_BOOL(0);
	if (!reload_deferred && OidIsValid(reload_pending))
	{
		CacheInvalidateRelcacheByRelid(reload_pending);
		reload_pending = InvalidOid;
	}
	PG_RETURN_VOID();
}

/*
 * seqdist._invalidate_plans(rel regclass): cached plans that name rel are
 * planned again (a table whose identity column is now routed; the
 * sequence, which plans name as a regclass constant).
 */
Datum
seqdist_invalidate_plans(PG_FUNCTION_ARGS)
{
	CacheInvalidateRelcacheByRelid(PG_GETARG_OID(0));
	PG_RETURN_VOID();
}
