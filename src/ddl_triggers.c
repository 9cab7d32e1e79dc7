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
#include "utils/builtins.h"
#include "utils/inval.h"

#include "backend_cache.h"
#include "counter.h"
#include "instance_cache.h"
#include "nextval.h"
#include "store.h"

PG_FUNCTION_INFO_V1(seqdist_forget_cached);
PG_FUNCTION_INFO_V1(seqdist_on_alter_sequence);

/*
 * seqdist.forget_cached(oid, counter_key): called by the sql_drop event
 * trigger for each registered sequence dropped, with the key it was
 * registered under.  Frees the instance cache slot and removes the sequence
 * from the counter's clients.  The removal is best effort: a client left
 * behind only makes seqdist refuse changes that only a sole client may make,
 * so a failure is a WARNING, not a reason to refuse the DROP.
 */
Datum
seqdist_forget_cached(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	MemoryContext cxt = CurrentMemoryContext;
	CounterRef	ref;

	instance_cache_check_preloaded();
	instance_cache_forget(MyDatabaseId, relid);
	ref.store = store_current();
	ref.key = text_to_cstring(PG_GETARG_TEXT_PP(1));
	ref.client = counter_client_id(MyDatabaseId, relid);
	ref.seqname = ref.key;
	PG_TRY();
	{
		counter_leave(&ref);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		ereport(WARNING,
				(errcode(edata->sqlerrcode),
				 errmsg("could not remove a dropped sequence from the clients of counter \"%s\"",
						ref.key),
				 errdetail_internal("%s", edata->message),
				 errhint("The counter keeps the dropped sequence as a client; seqdist then refuses rewinds and CYCLE changes of the counter.")));
		FreeErrorData(edata);
	}
	PG_END_TRY();
	PG_RETURN_VOID();
}

/*
 * seqdist.on_alter_sequence(): event trigger at the end of ALTER SEQUENCE.
 *
 * For a registered sequence, the new definition is recorded in the counter
 * item if the counter allows it (counter_share.c: a change of direction,
 * bounds that exclude the counter's position, and changes that could make
 * another client repeat values are refused), and RESTART moves the counter
 * to the restart value, for the same reasons as seqdist_setval.  The
 * instance cache slot is emptied and takes the new definition at once, so
 * that the refill worker never reserves under the old one.
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
	BackendSeq *seq;
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
	if (!OidIsValid(relid))
		PG_RETURN_VOID();
	/* the ALTER's catalog changes are visible: this loads the new definition */
	seq = backend_seq_open(relid);
	if (!backend_seq_registered(seq, store_current()))
		PG_RETURN_VOID();
	instance_cache_check_preloaded();

	foreach(lc, stmt->options)
	{
		DefElem    *opt = lfirst_node(DefElem, lc);

		if (strcmp(opt->defname, "restart") == 0)
		{
			restart = true;
			restart_value = opt->arg ? defGetInt64(opt) : seq->params.start_value;
		}
	}

	nextval_alter_counter(seq, restart, (int128) restart_value - seq->params.increment);
	/* other backends reload the definition from the catalog invalidation */
	CacheInvalidateRelcacheByRelid(relid);
	PG_RETURN_VOID();
}
