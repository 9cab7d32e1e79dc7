/*-------------------------------------------------------------------------
 *
 * ddl_triggers.c
 *		Keeping counters and caches in step with DDL on registered
 *		sequences: ALTER SEQUENCE, ALTER TABLE of identity columns, DROP and
 *		TRUNCATE ... RESTART IDENTITY.
 *
 * ALTER and DROP are event triggers the extension script installs (ENABLE
 * ALWAYS, so that they also fire under session_replication_role =
 * replica); TRUNCATE, which no event trigger sees, goes through a utility
 * hook.  They act only on registered sequences; for every other statement
 * they return at once.
 *
 * Locking: the ALTER trigger runs inside ALTER SEQUENCE, which holds the
 * sequence's ShareRowExclusiveLock until commit; it conflicts with the
 * RowExclusiveLock every seqdist_nextval holds, so no backend of this
 * instance takes a value meanwhile; RESTART moves the counter under the
 * instance cache slot's fetching token (nextval_move_counter).
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_inherits.h"
#include "commands/extension.h"
#include "commands/defrem.h"
#include "commands/event_trigger.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "utils/builtins.h"
#include "tcop/utility.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"

#include "backend_cache.h"
#include "ddl_triggers.h"
#include "counter.h"
#include "instance_cache.h"
#include "migrate.h"
#include "nextval.h"
#include "pending_ddl.h"
#include "pg_compat.h"
#include "store.h"

PG_FUNCTION_INFO_V1(seqdist_forget_cached);
PG_FUNCTION_INFO_V1(seqdist_on_alter_sequence);

static ProcessUtility_hook_type ddl_prev_process_utility = NULL;

/*
 * seqdist.forget_cached(oid, counter_key): called by the sql_drop event
 * trigger for each registered sequence dropped, with the key it was
 * registered under.  When the DROP commits, the sequence leaves the
 * counter's clients and its instance cache slot is freed (pending_ddl.c).
 */
Datum
seqdist_forget_cached(PG_FUNCTION_ARGS)
{
	instance_cache_check_preloaded();
	pending_ddl_leave(PG_GETARG_OID(0), text_to_cstring(PG_GETARG_TEXT_PP(1)));
	PG_RETURN_VOID();
}

/*
 * Record the definition sequence relid has now in its counter, after an
 * ALTER of it with options; RESTART among them also moves the counter.
 * Nothing happens for a sequence that is not registered.
 */
static void
ddl_sequence_altered(Oid relid, List *options)
{
	BackendSeq *seq;
	ListCell   *lc;
	bool		restart = false;
	int64		restart_value = 0;

	/* the ALTER's catalog changes are visible: this loads the new definition */
	seq = backend_seq_open(relid);
	if (!backend_seq_registered(seq, store_current()))
		return;
	instance_cache_check_preloaded();

	foreach(lc, options)
	{
		DefElem    *opt = lfirst_node(DefElem, lc);

		if (strcmp(opt->defname, "restart") == 0)
		{
			restart = true;
			restart_value = opt->arg ? defGetInt64(opt) : seq->params.start_value;
		}
	}
	nextval_alter_counter(seq, restart, (int128) restart_value - seq->params.increment);
	/* RESTART or new bounds gave a migrated native sequence room again */
	migrate_refence(relid);
	/* other backends reload the definition from the catalog invalidation */
	CacheInvalidateRelcacheByRelid(relid);
}

/* ALTER TABLE ... ALTER COLUMN ... SET/RESTART of identity columns */
static void
ddl_table_altered(AlterTableStmt *stmt)
{
	Oid			relid = InvalidOid;
	ListCell   *lc;

	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);
		AttrNumber	attnum;
		Oid			seqid;

		if (cmd->subtype != AT_SetIdentity)
			continue;
		if (!OidIsValid(relid))
			relid = RangeVarGetRelid(stmt->relation, NoLock, true);
		if (!OidIsValid(relid) || (attnum = get_attnum(relid, cmd->name)) == InvalidAttrNumber)
			continue;
		seqid = seqdist_identity_sequence(relid, attnum);
		if (OidIsValid(seqid))
			ddl_sequence_altered(seqid, (List *) cmd->def);
	}
}

/*
 * seqdist.on_alter_sequence(): event trigger at the end of ALTER SEQUENCE
 * and of ALTER TABLE (whose identity column options alter a sequence).
 *
 * For a registered sequence, the change is checked against the counter at
 * once (counter_share.c: a change of direction, bounds that exclude the
 * counter's position, and changes that could make another client repeat
 * values are refused), RESTART moves the counter to the restart value, for
 * the same reasons as seqdist_setval, and the instance cache slot is
 * emptied.  The new definition reaches the counter item and the slot when
 * the transaction commits (pending_ddl.c); a RESTART's move is not undone
 * if the transaction rolls back (a gap, or values handed out again only by
 * the counter's sole client that asked for the rewind).
 */
Datum
seqdist_on_alter_sequence(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("seqdist.on_alter_sequence() must be called as an event trigger")));
	trigdata = (EventTriggerData *) fcinfo->context;
	if (IsA(trigdata->parsetree, AlterSeqStmt))
	{
		AlterSeqStmt *stmt = (AlterSeqStmt *) trigdata->parsetree;
		Oid			relid = RangeVarGetRelid(stmt->sequence, NoLock, true);

		if (OidIsValid(relid))
			ddl_sequence_altered(relid, stmt->options);
	}
	else if (IsA(trigdata->parsetree, AlterTableStmt))
		ddl_table_altered((AlterTableStmt *) trigdata->parsetree);
	PG_RETURN_VOID();
}

/*
 * TRUNCATE ... RESTART IDENTITY restarts the sequences the truncated tables
 * own; no event trigger sees TRUNCATE, so a utility hook does.  The counter
 * moves back to START like a RESTART of the sequence, with the same rules:
 * seqdist.allow_rewind, and the counter's only client.  It runs after the
 * truncation, in the same transaction, so a refusal undoes the TRUNCATE.
 */
static void
ddl_truncated(TruncateStmt *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->relations)
	{
		RangeVar   *rv = lfirst_node(RangeVar, lc);
		Oid			relid = RangeVarGetRelid(rv, NoLock, true);
		List	   *rels;
		ListCell   *rc;

		if (!OidIsValid(relid))
			continue;
		rels = rv->inh ? find_all_inheritors(relid, NoLock, NULL) : list_make1_oid(relid);
		foreach(rc, rels)
		{
			List	   *seqs = getOwnedSequences(lfirst_oid(rc));
			ListCell   *sc;

			foreach(sc, seqs)
			{
				BackendSeq *seq = backend_seq_open(lfirst_oid(sc));

				if (backend_seq_registered(seq, store_current()))
				{
					nextval_move_counter(seq, (int128) seq->params.start_value -
										 seq->params.increment);
					migrate_refence(seq->relid);
				}
			}
		}
	}
}

static void
ddl_process_utility(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
					ProcessUtilityContext context, ParamListInfo params,
					QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *parsetree = pstmt->utilityStmt;

	if (ddl_prev_process_utility)
		ddl_prev_process_utility(pstmt, queryString, readOnlyTree, context, params,
								 queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params,
								queryEnv, dest, qc);
	if (IsA(parsetree, TruncateStmt) && ((TruncateStmt *) parsetree)->restart_seqs &&
		get_extension_oid("seqdist", true) != InvalidOid)
		ddl_truncated((TruncateStmt *) parsetree);
}

void
ddl_triggers_init(bool preloading)
{
	if (!preloading)
		return;
	ddl_prev_process_utility = ProcessUtility_hook;
	ProcessUtility_hook = ddl_process_utility;
}
