/*-------------------------------------------------------------------------
 *
 * routing.c
 *		No caller left on the native sequence: the planner hook that sends
 *		native nextval/currval/lastval/setval calls and identity values of
 *		migrated sequences to their counters, and the COPY check.
 *
 * A query that names a migrated sequence is changed before it is planned:
 *
 *	nextval(...), currval(...), setval(...)
 *						-> seqdist.route_*(...), which decide at run time,
 *						   under the sequence's lock
 *	lastval()			-> seqdist.route_lastval()
 *	identity value		-> seqdist.identity_nextval(seq, typmod) cast back
 *						   to the column's type
 *
 * In a database with a migrated sequence, native nextval calls and identity
 * values of the other sequences go through route_nextval and
 * identity_nextval too, which call the native code: that is how lastval
 * knows whether the session's latest value came from a counter.
 *
 * The migrated set is read from seqdist.migrated_sequences once and kept
 * per backend until a relcache invalidation says it may have changed: a
 * statement trigger on that table invalidates every relcache entry (which
 * also makes every cached plan be planned again).  A database without the
 * extension or without a migrated sequence costs a query one flag test.
 *
 * What no planner hook sees is fenced (migrate.c): COPY FROM filling an
 * identity column builds its NextValueExpr itself, and C code calls
 * nextval_internal.  COPY into such a column is refused here, before it
 * starts, with the fix; anything else meets the native sequence at its
 * bound.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/planner.h"
#include "parser/parse_func.h"
#include "tcop/utility.h"
#include "storage/lmgr.h"
#include "executor/spi.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/formatting.h"
#include "utils/fmgroids.h"
#include "utils/fmgrprotos.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "backend_cache.h"
#include "nextval.h"
#include "pg_compat.h"
#include "routing.h"
#include "sequence_catalog.h"

PG_FUNCTION_INFO_V1(seqdist_route_nextval);
PG_FUNCTION_INFO_V1(seqdist_route_currval);
PG_FUNCTION_INFO_V1(seqdist_route_setval);
PG_FUNCTION_INFO_V1(seqdist_route_setval3);
PG_FUNCTION_INFO_V1(seqdist_route_lastval);
PG_FUNCTION_INFO_V1(seqdist_identity_nextval);

static planner_hook_type routing_prev_planner = NULL;
static ProcessUtility_hook_type routing_prev_utility = NULL;

/* The functions routing puts into queries */
typedef enum RoutingFunc
{
	RF_ROUTE_NEXTVAL,
	RF_ROUTE_CURRVAL,
	RF_ROUTE_SETVAL,
	RF_ROUTE_SETVAL3,
	RF_ROUTE_LASTVAL,
	RF_IDENTITY_NEXTVAL,
	RF_COUNT
} RoutingFunc;

/* The backend's view of the migrated set */
static bool routing_valid = false;
static bool routing_loading = false;
static Oid	routing_table = InvalidOid;	/* seqdist.migrated_sequences */
static bool routing_ready = false;	/* the extension's 1.1 functions exist here */
static Oid *routing_seqs = NULL;	/* sorted, in routing_cxt */
static int	routing_nseqs = 0;
static Oid	routing_funcs[RF_COUNT];
static char **routing_names = NULL;	/* "name" of each, for the fence's hint */
static MemoryContext routing_cxt = NULL;

static emit_log_hook_type routing_prev_emit_log = NULL;

static void
routing_on_relcache(Datum arg, Oid relid)
{
	/* without the table, any new relation may be the extension's */
	if (relid == InvalidOid || relid == routing_table || !OidIsValid(routing_table))
		routing_valid = false;
}

static int
routing_oid_cmp(const void *a, const void *b)
{
	Oid			x = *(const Oid *) a;
	Oid			y = *(const Oid *) b;

	return x < y ? -1 : x > y ? 1 : 0;
}

static Oid
routing_lookup_func(Oid nsp, const char *name, int nargs, Oid arg0, Oid arg1, Oid arg2)
{
	Oid			argtypes[3] = {arg0, arg1, arg2};
	List	   *qname = list_make2(makeString(get_namespace_name(nsp)), makeString(pstrdup(name)));

	return LookupFuncName(qname, nargs, argtypes, true);
}

/* Read the migrated set and the routing functions' OIDs */
static void
routing_load(void)
{
	Oid			nsp = get_namespace_oid("seqdist", true);
	Oid			table = OidIsValid(nsp) ? get_relname_relid("migrated_sequences", nsp) : InvalidOid;
	Oid		   *seqs = NULL;
	int			n = 0;
	int			cap = 0;
	Relation	rel;
	SysScanDesc scan;
	HeapTuple	tup;
	Datum	   *values;
	bool	   *nulls;

	routing_table = table;
	routing_nseqs = 0;
	routing_ready = false;
	if (!OidIsValid(table))
		return;

	rel = table_open(table, AccessShareLock);
	values = palloc(RelationGetDescr(rel)->natts * sizeof(Datum));
	nulls = palloc(RelationGetDescr(rel)->natts * sizeof(bool));
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		heap_deform_tuple(tup, RelationGetDescr(rel), values, nulls);
		if (nulls[0])
			continue;
		if (n == cap)
		{
			cap = cap ? cap * 2 : 64;
			seqs = seqs ? repalloc(seqs, cap * sizeof(Oid)) : palloc(cap * sizeof(Oid));
		}
		seqs[n++] = DatumGetObjectId(values[0]);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);

	routing_funcs[RF_ROUTE_NEXTVAL] = routing_lookup_func(nsp, "route_nextval", 1, REGCLASSOID, 0, 0);
	routing_funcs[RF_ROUTE_CURRVAL] = routing_lookup_func(nsp, "route_currval", 1, REGCLASSOID, 0, 0);
	routing_funcs[RF_ROUTE_SETVAL] = routing_lookup_func(nsp, "route_setval", 2, REGCLASSOID, INT8OID, 0);
	routing_funcs[RF_ROUTE_SETVAL3] = routing_lookup_func(nsp, "route_setval", 3, REGCLASSOID, INT8OID, BOOLOID);
	routing_funcs[RF_ROUTE_LASTVAL] = routing_lookup_func(nsp, "route_lastval", 0, 0, 0, 0);
	routing_funcs[RF_IDENTITY_NEXTVAL] = routing_lookup_func(nsp, "identity_nextval", 1, REGCLASSOID, 0, 0);
	routing_ready = true;
	for (int i = 0; i < RF_COUNT; i++)
		if (!OidIsValid(routing_funcs[i]))
			routing_ready = false;	/* an extension older than 1.1: no routing */

	if (routing_cxt == NULL)
		routing_cxt = AllocSetContextCreate(TopMemoryContext, "seqdist routing",
											ALLOCSET_SMALL_SIZES);
	MemoryContextReset(routing_cxt);
	routing_seqs = NULL;
	routing_names = NULL;
	if (n > 0)
	{
		qsort(seqs, n, sizeof(Oid), routing_oid_cmp);
		routing_seqs = MemoryContextAlloc(routing_cxt, n * sizeof(Oid));
		memcpy(routing_seqs, seqs, n * sizeof(Oid));
		routing_names = MemoryContextAllocZero(routing_cxt, n * sizeof(char *));
		for (int i = 0; i < n; i++)
		{
			char	   *name = get_rel_name(seqs[i]);

			if (name)
				routing_names[i] = MemoryContextStrdup(routing_cxt, psprintf("\"%s\"", name));
		}
	}
	routing_nseqs = n;
}

/*
 * Is routing on in this database (the extension is installed)?  Cheap when
 * it is known.  Routing is on before the first sequence is migrated, so
 * that a statement planned while a migration is under way decides at run
 * time, after it waited for the migration's locks.
 */
static bool
routing_active(void)
{
	if (routing_valid)
		return routing_ready;
	if (routing_loading || !IsTransactionState())
		return false;
	routing_loading = true;
	PG_TRY();
	{
		/* an invalidation arriving while we read leaves the set stale */
		routing_valid = true;
		routing_load();
	}
	PG_CATCH();
	{
		routing_valid = false;
		routing_loading = false;
		PG_RE_THROW();
	}
	PG_END_TRY();
	routing_loading = false;
	return routing_ready;
}

bool
routing_is_migrated(Oid relid)
{
	if (!routing_active() || routing_nseqs == 0)
		return false;
	return bsearch(&relid, routing_seqs, routing_nseqs, sizeof(Oid), routing_oid_cmp) != NULL;
}

/*---- the planner hook ----*/

static bool
routing_native_func(Oid funcid)
{
	return funcid == F_NEXTVAL || funcid == F_CURRVAL || funcid == F_SETVAL_REGCLASS_INT8 ||
		funcid == F_SETVAL_REGCLASS_INT8_BOOL || funcid == F_LASTVAL;
}

/* Is there anything to route in the tree? (no copy is made) */
static bool
routing_needed_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, NextValueExpr))
		return true;
	if (IsA(node, FuncExpr) && routing_native_func(((FuncExpr *) node)->funcid))
		return true;
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, routing_needed_walker, context, 0);
	return expression_tree_walker(node, routing_needed_walker, context);
}

static Node *
routing_mutator(Node *node, void *context)
{
	if (node == NULL)
		return NULL;
	if (IsA(node, Query))
		return (Node *) query_tree_mutator((Query *) node, routing_mutator, context, 0);
	if (IsA(node, NextValueExpr))
	{
		NextValueExpr *nve = (NextValueExpr *) node;
		Node	   *value;

		value = (Node *) makeFuncExpr(routing_funcs[RF_IDENTITY_NEXTVAL], INT8OID,
									  list_make1(makeConst(REGCLASSOID, -1, InvalidOid, sizeof(Oid),
														   ObjectIdGetDatum(nve->seqid), false, true)),
									  InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
		/* back to the column's type, as the identity value is: checked */
		if (nve->typeId == INT4OID)
			value = (Node *) makeFuncExpr(F_INT4_INT8, INT4OID, list_make1(value),
										  InvalidOid, InvalidOid, COERCE_IMPLICIT_CAST);
		else if (nve->typeId == INT2OID)
			value = (Node *) makeFuncExpr(F_INT2_INT8, INT2OID, list_make1(value),
										  InvalidOid, InvalidOid, COERCE_IMPLICIT_CAST);
		return value;
	}
	if (IsA(node, FuncExpr) && routing_native_func(((FuncExpr *) node)->funcid))
	{
		FuncExpr   *fexpr = (FuncExpr *) expression_tree_mutator(node, routing_mutator, context);

		/*
		 * Every call is decided at run time, under the sequence's lock, even
		 * for a constant sequence: a plan may outlive a migration or
		 * rollback that commits between planning and execution.  And every
		 * call goes there, so that currval and lastval know which side
		 * handed out the session's latest value.
		 */
		switch (fexpr->funcid)
		{
			case F_NEXTVAL:
				fexpr->funcid = routing_funcs[RF_ROUTE_NEXTVAL];
				break;
			case F_CURRVAL:
				fexpr->funcid = routing_funcs[RF_ROUTE_CURRVAL];
				break;
			case F_SETVAL_REGCLASS_INT8:
				fexpr->funcid = routing_funcs[RF_ROUTE_SETVAL];
				break;
			case F_SETVAL_REGCLASS_INT8_BOOL:
				fexpr->funcid = routing_funcs[RF_ROUTE_SETVAL3];
				break;
			case F_LASTVAL:
				fexpr->funcid = routing_funcs[RF_ROUTE_LASTVAL];
				break;
		}
		return (Node *) fexpr;
	}
	return expression_tree_mutator(node, routing_mutator, context);
}

static PlannedStmt *
routing_planner(Query *parse, const char *query_string, int cursorOptions,
				ParamListInfo boundParams)
{
	if (routing_active() && routing_needed_walker((Node *) parse, NULL))
		parse = query_tree_mutator(parse, routing_mutator, NULL, 0);
	if (routing_prev_planner)
		return routing_prev_planner(parse, query_string, cursorOptions, boundParams);
	return standard_planner(parse, query_string, cursorOptions, boundParams);
}

/*---- the functions routing puts into queries ----*/

/*
 * Is relid migrated, decided under the sequence's lock: a statement planned
 * while a migration of relid was under way waits here for its commit, and
 * the lock processes the invalidation the migration sent, so it sees the
 * migration instead of meeting the fence.  nextval takes this lock anyway.
 */
static bool
routing_locked_is_migrated(Oid relid)
{
	LockRelationOid(relid, RowExclusiveLock);
	return routing_is_migrated(relid);
}

/* When this session last took a native value of each sequence routing saw */
typedef struct NativeTick
{
	Oid			relid;
	uint64		tick;
} NativeTick;

static HTAB *routing_native_ticks = NULL;

static void
routing_native_taken(Oid relid)
{
	NativeTick *entry;

	if (routing_native_ticks == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(NativeTick);
		routing_native_ticks = hash_create("seqdist native values", 16, &ctl,
										   HASH_ELEM | HASH_BLOBS);
	}
	entry = hash_search(routing_native_ticks, &relid, HASH_ENTER, NULL);
	entry->tick = ++nextval_tick;
	nextval_counter_was_last = false;
}

static uint64
routing_native_tick(Oid relid)
{
	NativeTick *entry = routing_native_ticks ?
		hash_search(routing_native_ticks, &relid, HASH_FIND, NULL) : NULL;

	return entry ? entry->tick : 0;
}

/* A native nextval that routing saw: currval and lastval answer natively next */
static Datum
routing_native_nextval(Oid relid)
{
	Datum		value = DirectFunctionCall1(nextval_oid, ObjectIdGetDatum(relid));

	routing_native_taken(relid);
	return value;
}

/* seqdist.route_nextval(regclass): the counter's value if migrated, else native */
Datum
seqdist_route_nextval(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);

	if (routing_locked_is_migrated(relid))
		PG_RETURN_INT64(nextval_counter_value(relid, true));
	return routing_native_nextval(relid);
}

/*
 * seqdist.route_currval(regclass): the value this session took last from
 * the sequence, from whichever side handed it out (a session that inserted
 * through the counter and then saw the migration rolled back still gets
 * its counter value, and the other way round).
 */
Datum
seqdist_route_currval(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	bool		migrated = routing_locked_is_migrated(relid);
	BackendSeq *seq;

	seq = backend_seq_open(relid);
	if (seq->last_valid && seq->last_tick > routing_native_tick(relid))
	{
		backend_seq_check_access(seq, ACL_SELECT | ACL_USAGE);
		PG_RETURN_INT64(seq->last);
	}
	if (migrated && routing_native_tick(relid) == 0)
		return DirectFunctionCall1(seqdist_currval, ObjectIdGetDatum(relid));
	return DirectFunctionCall1(currval_oid, ObjectIdGetDatum(relid));
}

/*
 * setval of a migrated sequence moves its counter, except the one setval
 * that sets the fence itself (value at the bound, is_called): that is what
 * pg_dump writes for a migrated sequence, and it stays native so that a
 * restored database is fenced again.
 */
static Datum
routing_setval(Oid relid, int64 value, bool iscalled)
{
	if (routing_locked_is_migrated(relid))
	{
		SequenceCatalog cat;

		sequence_catalog_read(relid, &cat);
		if (!(iscalled && value == (cat.params.increment > 0 ?
									cat.params.max_value : cat.params.min_value)))
			PG_RETURN_INT64(nextval_setval(relid, value, iscalled));
	}
	return DirectFunctionCall3(setval3_oid, ObjectIdGetDatum(relid), Int64GetDatum(value),
							   BoolGetDatum(iscalled));
}

Datum
seqdist_route_setval(PG_FUNCTION_ARGS)
{
	return routing_setval(PG_GETARG_OID(0), PG_GETARG_INT64(1), true);
}

Datum
seqdist_route_setval3(PG_FUNCTION_ARGS)
{
	return routing_setval(PG_GETARG_OID(0), PG_GETARG_INT64(1), PG_GETARG_BOOL(2));
}

/* seqdist.route_lastval(): the counter's or the native answer, whichever came last */
Datum
seqdist_route_lastval(PG_FUNCTION_ARGS)
{
	LOCAL_FCINFO(native, 0);

	if (nextval_counter_was_last)
		return seqdist_lastval(fcinfo);
	InitFunctionCallInfoData(*native, NULL, 0, InvalidOid, NULL, NULL);
	return lastval(native);
}

/*
 * seqdist.identity_nextval(regclass): the value of an identity column.
 * The rewriter's NextValueExpr checks no privilege on the sequence (the
 * INSERT's privileges on the table were checked); a function anyone can
 * call must check something, so it asks for INSERT or UPDATE on the table
 * that owns the identity sequence, or the native nextval privileges.
 */
Datum
seqdist_identity_nextval(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	Oid			table;
	int32		column;
	bool		allowed;
	int64		value;

	allowed = pg_class_aclcheck(relid, GetUserId(), ACL_USAGE | ACL_UPDATE) == ACLCHECK_OK;
	if (!allowed && sequenceIsOwned(relid, DEPENDENCY_INTERNAL, &table, &column))
		allowed = pg_class_aclcheck(table, GetUserId(), ACL_INSERT | ACL_UPDATE) == ACLCHECK_OK;
	if (!allowed)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for sequence %s", get_rel_name(relid))));
	if (routing_locked_is_migrated(relid))
		PG_RETURN_INT64(nextval_counter_value(relid, false));
	value = nextval_internal(relid, false);
	routing_native_taken(relid);
	PG_RETURN_INT64(value);
}

/*---- the fence's hint ----*/

/*
 * A native nextval that reached the fence fails with the native "reached
 * maximum value of sequence" error, which names the sequence but not the
 * fix: when the sequence is one of the migrated ones, say what happened.
 * No catalog access here (the transaction is failing): the names were read
 * with the migrated set.
 */
static void
routing_emit_log(ErrorData *edata)
{
	size_t		len = edata->filename ? strlen(edata->filename) : 0;

	/* the native sequence's own error (seqdist's has the same text) */
	if (edata->elevel >= ERROR && edata->sqlerrcode == ERRCODE_SEQUENCE_GENERATOR_LIMIT_EXCEEDED &&
		len >= 10 && strcmp(edata->filename + len - 10, "sequence.c") == 0 &&
		edata->hint == NULL && edata->message != NULL && routing_valid && routing_names != NULL)
	{
		for (int i = 0; i < routing_nseqs; i++)
		{
			char		hint[NAMEDATALEN * 4 + 400];

			if (routing_names[i] == NULL || strstr(edata->message, routing_names[i]) == NULL)
				continue;
			snprintf(hint, sizeof(hint),
					 "Sequence %s is migrated to seqdist and its native side is fenced: "
					 "take values with seqdist.seqdist_nextval(), or through SQL that the planner sees "
					 "(C code that calls the native sequence is not routed).",
					 routing_names[i]);
			edata->hint = MemoryContextStrdup(ErrorContext, hint);
			break;
		}
	}
	if (routing_prev_emit_log)
		routing_prev_emit_log(edata);
}

/*---- COPY ----*/

/*
 * COPY FROM that leaves a migrated identity column to its default would
 * meet the fence row after row: PostgreSQL computes that default itself,
 * without the planner.  Such a COPY takes a detour instead: the rows go
 * into a temporary table of the listed columns (by the same COPY, with its
 * options and WHERE clause), and from there into the table with INSERT ...
 * SELECT, whose identity values the planner hook routes.  Triggers, RLS and
 * constraints apply as to COPY; the command tag counts the rows inserted.
 * FREEZE cannot be kept, so COPY ... FREEZE is refused with the fix.
 *
 * Returns the migrated identity column COPY omits, or NULL.
 */
static char *
routing_copy_omitted_identity(CopyStmt *stmt, Oid *seq_out)
{
	Relation	rel;
	TupleDesc	desc;
	char	   *omitted = NULL;

	/*
	 * Not "no sequence is migrated yet": the first migration may be the one
	 * this COPY is about to wait for.
	 */
	if (!stmt->is_from || stmt->relation == NULL || stmt->attlist == NIL || !routing_active())
		return NULL;
	rel = table_openrv(stmt->relation, RowExclusiveLock);
	desc = RelationGetDescr(rel);
	for (int i = 0; i < desc->natts && omitted == NULL; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		ListCell   *lc;
		bool		listed = false;
		Oid			seq;

		if (att->attisdropped || !att->attidentity)
			continue;
		foreach(lc, stmt->attlist)
			if (strcmp(strVal(lfirst(lc)), NameStr(att->attname)) == 0)
				listed = true;
		if (listed)
			continue;
		seq = seqdist_identity_sequence(RelationGetRelid(rel), att->attnum);

		/*
		 * Decided under the lock the identity values take anyway (as
		 * routing_locked_is_migrated does): a migration of the sequence that
		 * is under way holds a conflicting lock until it commits, and the
		 * wait processes its invalidation.  Decided before the wait, the
		 * COPY would take native values and meet the migration's fence.
		 */
		if (OidIsValid(seq) && routing_locked_is_migrated(seq))
		{
			omitted = pstrdup(NameStr(att->attname));
			*seq_out = seq;
		}
	}
	table_close(rel, NoLock);
	return omitted;
}

/*
 * DROP EXTENSION seqdist while sequences are migrated: refused.  A migrated
 * identity column keeps its native sequence, fenced at its bound, and no
 * dependency stops the drop, so every insert would fail afterwards; a
 * default that calls seqdist_nextval is protected by its dependency already.
 */
static void
routing_check_drop_extension(DropStmt *stmt)
{
	ListCell   *lc;
	bool		ours = false;

	if (stmt->removeType != OBJECT_EXTENSION)
		return;
	foreach(lc, stmt->objects)
		if (strcmp(strVal(lfirst(lc)), "seqdist") == 0)
			ours = true;
	if (!ours || !routing_active() || routing_nseqs == 0)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
			 errmsg("cannot drop extension seqdist because %d sequence(s) of this database are migrated to it",
					routing_nseqs),
			 errdetail("Their native sequences are fenced at their bounds: without seqdist, their columns could take no value."),
			 errhint("Roll the migration back first: SELECT * FROM seqdist.rollback();")));
}

static void
routing_copy_detour(PlannedStmt *pstmt, CopyStmt *stmt, const char *column, Oid seq,
					const char *queryString, bool readOnlyTree,
					ProcessUtilityContext context, ParamListInfo params,
					QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	static int	detours = 0;
	char	   *staging = psprintf("seqdist_copy_%d_%d", MyProcPid, ++detours);
	Relation	rel;
	TupleDesc	desc;
	StringInfoData defs;
	StringInfoData cols;
	ListCell   *lc;
	char	   *target;
	CopyStmt   *detour;
	PlannedStmt *detour_pstmt;
	QueryCompletion copied;
	uint64		inserted;

	foreach(lc, stmt->options)
		if (strcmp(lfirst_node(DefElem, lc)->defname, "freeze") == 0)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("COPY FREEZE cannot fill identity column \"%s\": its sequence \"%s\" is migrated to seqdist",
							column, get_rel_name(seq)),
					 errdetail("COPY computes identity values without the planner; seqdist takes such a COPY through a temporary table, which FREEZE does not allow."),
					 errhint("Leave out FREEZE, or list column \"%s\" in the COPY with values from seqdist.seqdist_nextval('%s').",
							 column,
							 quote_qualified_identifier(get_namespace_name(get_rel_namespace(seq)),
														get_rel_name(seq)))));

	rel = table_openrv(stmt->relation, RowExclusiveLock);
	desc = RelationGetDescr(rel);
	target = quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
										RelationGetRelationName(rel));
	initStringInfo(&defs);
	initStringInfo(&cols);
	foreach(lc, stmt->attlist)
	{
		const char *name = strVal(lfirst(lc));
		AttrNumber	attnum = InvalidAttrNumber;

		for (int i = 0; i < desc->natts; i++)
			if (!TupleDescAttr(desc, i)->attisdropped &&
				strcmp(NameStr(TupleDescAttr(desc, i)->attname), name) == 0)
				attnum = i + 1;
		if (attnum == InvalidAttrNumber)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column \"%s\" of relation \"%s\" does not exist",
							name, RelationGetRelationName(rel))));
		appendStringInfo(&defs, "%s%s %s", defs.len ? ", " : "", quote_identifier(name),
						 format_type_with_typemod(TupleDescAttr(desc, attnum - 1)->atttypid,
												  TupleDescAttr(desc, attnum - 1)->atttypmod));
		appendStringInfo(&cols, "%s%s", cols.len ? ", " : "", quote_identifier(name));
	}
	table_close(rel, NoLock);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(psprintf("CREATE TEMPORARY TABLE pg_temp.%s (%s) ON COMMIT DROP",
							 quote_identifier(staging), defs.data), false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not create the staging table of COPY");

	/* the same COPY, into the staging table */
	detour = copyObject(stmt);
	detour->relation = makeRangeVar("pg_temp", staging, -1);
	detour_pstmt = copyObject(pstmt);
	detour_pstmt->utilityStmt = (Node *) detour;
	InitializeQueryCompletion(&copied);
	if (routing_prev_utility)
		routing_prev_utility(detour_pstmt, queryString, false, context, params,
							 queryEnv, dest, &copied);
	else
		standard_ProcessUtility(detour_pstmt, queryString, false, context, params,
								queryEnv, dest, &copied);

	if (SPI_execute(psprintf("INSERT INTO %s (%s) SELECT %s FROM pg_temp.%s",
							 target, cols.data, cols.data, quote_identifier(staging)),
					false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not insert the rows of COPY");
	inserted = SPI_processed;
	if (SPI_execute(psprintf("DROP TABLE pg_temp.%s", quote_identifier(staging)),
					false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not drop the staging table of COPY");
	SPI_finish();
	if (qc)
		SetQueryCompletion(qc, CMDTAG_COPY, inserted);
}

static void
routing_process_utility(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
						ProcessUtilityContext context, ParamListInfo params,
						QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	if (IsA(pstmt->utilityStmt, DropStmt))
		routing_check_drop_extension((DropStmt *) pstmt->utilityStmt);
	if (IsA(pstmt->utilityStmt, CopyStmt))
	{
		CopyStmt   *stmt = (CopyStmt *) pstmt->utilityStmt;
		Oid			seq = InvalidOid;
		char	   *column = routing_copy_omitted_identity(stmt, &seq);

		if (column != NULL)
		{
			routing_copy_detour(pstmt, stmt, column, seq, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);
			return;
		}
	}
	if (routing_prev_utility)
		routing_prev_utility(pstmt, queryString, readOnlyTree, context, params,
							 queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params,
								queryEnv, dest, qc);
}

void
routing_init(bool preloading)
{
	if (!preloading)
		return;
	CacheRegisterRelcacheCallback(routing_on_relcache, (Datum) 0);
	routing_prev_planner = planner_hook;
	planner_hook = routing_planner;
	routing_prev_utility = ProcessUtility_hook;
	ProcessUtility_hook = routing_process_utility;
	routing_prev_emit_log = emit_log_hook;
	emit_log_hook = routing_emit_log;
}
