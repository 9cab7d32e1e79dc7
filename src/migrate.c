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
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/inval.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/tuplestore.h"

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
PG_FUNCTION_INFO_V1(seqdist_migrate_adopt);
PG_FUNCTION_INFO_V1(seqdist_counter_items_by_key);
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

/* The ERROR for a counter whose position (the last value reserved) is unknown */
static void
migrate_no_position(const char *key, const char *seqname)
{
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("the counter \"%s\" of sequence \"%s\" cannot be read", key, seqname),
			 errdetail("Without the counter's position the native sequence cannot be set beyond every value the counter handed out."),
			 errhint("Check seqdist.health() and run the rollback again.")));
}

/*
 * Set every native sequence of the moves as the commit needs: a fenced
 * one at its bound, a released one at its counter's position (the items
 * of all of them read at once).
 */
static void
migrate_apply_all(List *moves)
{
	int			n = list_length(moves);
	NativeMove **todo = palloc(sizeof(NativeMove *) * Max(n, 1));
	SequenceCatalog *cats = palloc(sizeof(SequenceCatalog) * Max(n, 1));
	char	  **keys = palloc(sizeof(char *) * Max(n, 1));
	int128	   *positions = palloc(sizeof(int128) * Max(n, 1));
	bool	   *known = palloc(sizeof(bool) * Max(n, 1));
	int			m = 0;
	int			nkeys = 0;
	ListCell   *lc;

	foreach(lc, moves)
	{
		NativeMove *move = lfirst(lc);

		/* dropped later in the same transaction: nothing to fence or restore */
		if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(move->relid)))
			continue;
		sequence_catalog_read(move->relid, &cats[m]);
		if (!move->fence)
			keys[nkeys++] = move->key;
		todo[m++] = move;
	}
	counter_read_positions(store_current(), keys, nkeys, dynamo_bulk_width(), positions, known);
	nkeys = 0;
	for (int i = 0; i < m; i++)
	{
		CounterParams *params = &cats[i].params;

		if (todo[i]->fence)
			migrate_native_setval(todo[i]->relid, params->increment > 0 ?
								  params->max_value : params->min_value);
		else
		{
			int128		position = positions[nkeys];

			if (!known[nkeys++])
				migrate_no_position(todo[i]->key, cats[i].name);
			/* a counter that never moved is still at START - increment */
			if (position > params->max_value)
				position = params->max_value;
			if (position < params->min_value)
				position = params->increment > 0 ? params->min_value : params->max_value;
			migrate_native_setval(todo[i]->relid, (int64) position);
		}
	}
}

/* seqdist._defer_reload: collect changes of the migrated set (see below) */
static bool reload_deferred = false;
static Oid	reload_pending = InvalidOid;

static void
migrate_xact_callback(XactEvent event, void *arg)
{
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
			migrate_apply_all(native_moves);
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

/* A numeric argument as an int128 (an ERROR unless an integer of <= 38 digits) */
static int128
migrate_int128(Datum value, const char *what)
{
	char	   *text = DatumGetCString(DirectFunctionCall1(numeric_out, value));
	int128		v;

	if (!counter_parse_int128(text[0] == '-' ? text + 1 : text, &v))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("%s %s is not an integer of at most 38 digits", what, text)));
	return text[0] == '-' ? -v : v;
}

/* One sequence of seqdist._migrate_register */
typedef struct MigrateOne
{
	Oid			relid;
	bool		has_floor;
	int128		floor;
	bool		has_limit;
	int128		limit;
	CounterJoin join;
	int64		native_last;	/* the native state, read under the lock */
	bool		native_called;
	bool		ok;
	int			sqlerrcode;		/* when not ok */
	char	   *message;
	char	   *detail;			/* or NULL */
	char	   *hint;			/* or NULL */
} MigrateOne;

/*
 * Run fn(one) in a subtransaction: its ERROR is recorded in one (not ok),
 * and what it did is undone, locks included; otherwise its locks are kept
 * until the transaction ends.  A cancel, a shutdown or a lack of resources
 * (say, of lock table space) is raised: it concerns the whole call.
 */
static void
migrate_try(void (*fn) (MigrateOne *), MigrateOne *one)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		fn(one);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;
		int			category;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		category = ERRCODE_TO_CATEGORY(edata->sqlerrcode);
		if (category == ERRCODE_OPERATOR_INTERVENTION ||
			category == ERRCODE_INSUFFICIENT_RESOURCES ||
			category == ERRCODE_PROGRAM_LIMIT_EXCEEDED)
			ReThrowError(edata);
		one->ok = false;
		one->sqlerrcode = edata->sqlerrcode;
		one->message = pstrdup(edata->message ? edata->message : "");
		one->detail = edata->detail ? pstrdup(edata->detail) : NULL;
		one->hint = edata->hint ? pstrdup(edata->hint) : NULL;
		FreeErrorData(edata);
	}
	PG_END_TRY();
}

/* The local half: checks, the sequence's lock, the registration to send */
static void
migrate_prepare_one(MigrateOne *one)
{
	migrate_check_owner(one->relid);
	admin_prepare_migration(one->relid, one->has_floor, one->floor, &one->join,
							&one->native_last, &one->native_called);
	one->join.has_limit = one->has_limit;
	one->join.limit = one->limit;
	if (one->has_limit &&
		(one->join.params.increment > 0 ? one->join.position > one->limit
		 : one->join.position < one->limit))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("the next value of sequence \"%s\" after %s would not fit the columns that use it",
						one->join.ref.seqname, counter_int128_text(one->join.position)),
				 errhint("Widen the columns (ALTER TABLE ... ALTER COLUMN ... TYPE bigint), then migrate again.")));
	one->ok = true;
}

/* What counter_register_batch left: decided alone, with its precise ERROR */
static void
migrate_register_alone(MigrateOne *one)
{
	CounterJoin *j = &one->join;

	if (j->state == COUNTER_JOIN_FAILED)
		dynamo_raise(&j->err);
	j->outcome = counter_register(&j->ref, &j->params, j->position, j->origin,
								  j->may_join_foreign, j->has_limit ? &j->limit : NULL,
								  &j->last_value);
	j->state = COUNTER_JOIN_DONE;
}

/* Elements of a one-dimensional array argument, NULLs included */
static void
migrate_array(ArrayType *array, Oid elemtype, Datum **values, bool **nulls, int *n)
{
	int16		typlen;
	bool		typbyval;
	char		typalign;

	if (ARR_NDIM(array) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("expected a one-dimensional array")));
	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	deconstruct_array(array, elemtype, typlen, typbyval, typalign, values, nulls, n);
}

/*
 * seqdist._migrate_register(seqs regclass[], floors numeric[], limits numeric[])
 *	returns table (seq regclass, counter_key text, last_value numeric,
 *				   sqlstate text, message text, detail text, hint text,
 *				   native_last_value bigint, native_is_called boolean)
 *
 * Register each sequence of seqs (under its registered key or its default
 * one) with the counter at least at the native position and at floors[i]
 * (NULL: none), refusing a counter already beyond limits[i] (NULL: none),
 * the furthest position the columns that use it can take.  The checks and
 * locks are taken one sequence at a time; the DynamoDB requests are sent
 * seqdist.bulk_concurrency at a time (counter_register_batch).  One row
 * per sequence: its key, the counter's position and the native state
 * before the migration, or the SQLSTATE, message, detail and hint of what
 * failed (nothing of that sequence was registered; its
 * counter may have been created or joined).  Nothing is recorded locally:
 * seqdist._migrate_adopt does that, with the rest of the sequence's
 * migration.
 */
Datum
seqdist_migrate_register(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Datum	   *seqs,
			   *floors,
			   *limits;
	bool	   *seqnulls,
			   *floornulls,
			   *limitnulls;
	int			n,
				nfloors,
				nlimits;
	MigrateOne *all;
	CounterJoin *joins;
	int		   *which;

	instance_cache_check_preloaded();
	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the arrays of sequences, floors and limits must not be NULL")));
	migrate_array(PG_GETARG_ARRAYTYPE_P(0), REGCLASSOID, &seqs, &seqnulls, &n);
	migrate_array(PG_GETARG_ARRAYTYPE_P(1), NUMERICOID, &floors, &floornulls, &nfloors);
	migrate_array(PG_GETARG_ARRAYTYPE_P(2), NUMERICOID, &limits, &limitnulls, &nlimits);
	if (nfloors != n || nlimits != n)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("the arrays of sequences, floors and limits must have the same length")));

	all = palloc0(sizeof(MigrateOne) * Max(n, 1));
	joins = palloc0(sizeof(CounterJoin) * Max(n, 1));
	which = palloc(sizeof(int) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		MigrateOne *one = &all[i];

		if (seqnulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("a sequence to register must not be NULL")));
		one->relid = DatumGetObjectId(seqs[i]);
		one->has_floor = !floornulls[i];
		if (one->has_floor)
			one->floor = migrate_int128(floors[i], "floor");
		one->has_limit = !limitnulls[i];
		if (one->has_limit)
			one->limit = migrate_int128(limits[i], "limit");
		migrate_try(migrate_prepare_one, one);
	}

	/* the DynamoDB side: streams of dynamo_bulk_width() requests in flight */
	{
		int			m = 0;

		for (int i = 0; i < n; i++)
			if (all[i].ok)
			{
				joins[m] = all[i].join;
				which[m++] = i;
			}
		counter_register_batch(joins, m, dynamo_bulk_width());
		for (int k = 0; k < m; k++)
			all[which[k]].join = joins[k];
	}
	for (int i = 0; i < n; i++)
		if (all[i].ok && all[i].join.state != COUNTER_JOIN_DONE)
			migrate_try(migrate_register_alone, &all[i]);

	for (int i = 0; i < n; i++)
	{
		MigrateOne *one = &all[i];
		Datum		values[9];
		bool		nulls[9] = {false, false, false, false, false, false, false, false, false};

		values[0] = ObjectIdGetDatum(one->relid);
		if (one->ok)
		{
			values[1] = CStringGetTextDatum(one->join.ref.key);
			values[2] = DirectFunctionCall3(numeric_in,
											CStringGetDatum(counter_int128_text(one->join.last_value)),
											ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
			values[7] = Int64GetDatum(one->native_last);
			values[8] = BoolGetDatum(one->native_called);
			nulls[3] = nulls[4] = nulls[5] = nulls[6] = true;
		}
		else
		{
			nulls[1] = nulls[2] = true;
			values[3] = CStringGetTextDatum(unpack_sql_state(one->sqlerrcode));
			values[4] = CStringGetTextDatum(one->message);
			nulls[5] = one->detail == NULL;
			if (one->detail)
				values[5] = CStringGetTextDatum(one->detail);
			nulls[6] = one->hint == NULL;
			if (one->hint)
				values[6] = CStringGetTextDatum(one->hint);
			nulls[7] = nulls[8] = true;
		}
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	PG_RETURN_NULL();
}

/*
 * seqdist._migrate_adopt(seq regclass, counter_key text): record seq as
 * registered under counter_key, once seqdist._migrate_register has
 * registered it with the counter.
 */
Datum
seqdist_migrate_adopt(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	char	   *key = text_to_cstring(PG_GETARG_TEXT_PP(1));
	char	   *existing;

	instance_cache_check_preloaded();
	migrate_check_owner(relid);
	LockRelationOid(relid, ShareRowExclusiveLock);
	existing = backend_seq_registered_key(relid);
	if (existing != NULL && strcmp(existing, key) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("sequence \"%s\" is already registered with counter key \"%s\"",
						get_rel_name(relid), existing)));
	if (existing == NULL)
		registry_insert(relid, key);
	PG_RETURN_VOID();
}

/*
 * seqdist._counter_items_by_key(keys text[]) returns jsonb[]: each item,
 * read consistently, as seqdist._counter_item_by_key returns it (NULL for
 * a NULL key), read with BatchGetItem, seqdist.bulk_concurrency
 * requests at once.
 */
Datum
seqdist_counter_items_by_key(PG_FUNCTION_ARGS)
{
	Datum	   *keys;
	bool	   *keynulls;
	int			n;
	int			m = 0;
	char	  **texts;
	char	  **items;
	char	  **found;
	int		   *which;
	Datum	   *result;
	bool	   *resultnulls;
	int			dims[1];
	int			lbs[1] = {1};

	instance_cache_check_preloaded();
	migrate_array(PG_GETARG_ARRAYTYPE_P(0), TEXTOID, &keys, &keynulls, &n);
	texts = palloc(sizeof(char *) * Max(n, 1));
	items = palloc0(sizeof(char *) * Max(n, 1));
	found = palloc0(sizeof(char *) * Max(n, 1));
	which = palloc(sizeof(int) * Max(n, 1));
	for (int i = 0; i < n; i++)
		if (!keynulls[i])
		{
			which[m] = i;
			texts[m++] = TextDatumGetCString(keys[i]);
		}
	counter_json_items(store_current(), texts, m, dynamo_bulk_width(), found);
	for (int k = 0; k < m; k++)
		items[which[k]] = found[k];
	result = palloc(sizeof(Datum) * Max(n, 1));
	resultnulls = palloc(sizeof(bool) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		resultnulls[i] = items[i] == NULL;
		result[i] = items[i] ? DirectFunctionCall1(jsonb_in, CStringGetDatum(items[i])) : (Datum) 0;
	}
	dims[0] = n;
	PG_RETURN_ARRAYTYPE_P(construct_md_array(result, resultnulls, 1, dims, lbs, JSONBOID,
											 -1, false, TYPALIGN_INT));
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
