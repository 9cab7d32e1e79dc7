/*-------------------------------------------------------------------------
 *
 * ddl_triggers.c
 *		The event triggers that keep counters and caches in step with DDL on
 *		registered sequences: ALTER SEQUENCE and DROP.
 *
 * Both are installed by the extension script as event triggers calling
 * these functions.  They act only on registered sequences; for every other
 * statement they return at once.
 *
 * Locking: the ALTER trigger runs inside ALTER SEQUENCE, which holds the
 * sequence's ShareRowExclusiveLock until commit; it conflicts with the
 * RowExclusiveLock every seqdist_nextval holds, so no backend of this
 * instance takes a value meanwhile; RESTART moves the counter under the
 * instance cache slot's fetching token (nextval_move_counter).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "commands/defrem.h"
#include "commands/event_trigger.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "utils/inval.h"

#include "backend_cache.h"
#include "counter.h"
#include "instance_cache.h"
#include "nextval.h"
#include "sequence_catalog.h"
#include "store.h"

PG_FUNCTION_INFO_V1(seqdist_forget_cached);
PG_FUNCTION_INFO_V1(seqdist_on_alter_sequence);

/*
 *  * seqdist.forget_cached(oid): called by the sql_drop event trigger to free
 * the instance cache slot of a dropped sequence.
 */
Datum
seqdist_forget_cached(PG_FUNCTION_ARGS)
{
	instance_cache_check_preloaded();
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
Datum
seqdist_on_alter_sequence(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata;
	AlterSeqStmt *stmt;
	Oid			relid;
	char	   *key;
	SequenceCatalog cat;
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
	if (!OidIsValid(relid) || (key = backend_seq_registered_key(relid)) == NULL)
		PG_RETURN_VOID();
	instance_cache_check_preloaded();

	sequence_catalog_open(relid, NoLock, &cat);
	foreach(lc, stmt->options)
	{
		DefElem    *opt = lfirst_node(DefElem, lc);

		if (strcmp(opt->defname, "restart") == 0)
		{
			restart = true;
			restart_value = opt->arg ? defGetInt64(opt) : cat.params.start_value;
		}
	}

	counter_update_definition(store_current(), key, &cat.params, cat.name);
	if (restart)
	{
		BackendSeq *seq = backend_seq_open(relid);

		if (!backend_seq_registered(seq, store_current()))
			PG_RETURN_VOID();
		nextval_move_counter(seq, (int128) restart_value - cat.params.increment);
		backend_cache_forget(seq);
	}
	/* other backends reload the definition from the catalog invalidation */
	CacheInvalidateRelcacheByRelid(relid);
	PG_RETURN_VOID();
}
