/*-------------------------------------------------------------------------
 *
 * pending_ddl.c
 *		Changes of counter items that DDL asks for, made when the
 *		transaction commits.
 *
 * The counter item is the authority on what its clients agreed on: CYCLE,
 * the bounds of a cycling counter, and who its clients are.  A change that
 * rolls back must not be left there, or a later client would trust it: a
 * CYCLE recorded by an ALTER that rolled back lets a cycling newcomer join
 * and wrap the counter under a client that never cycles.  DynamoDB is not
 * part of the transaction, so these writes wait for it:
 *
 *	- ALTER SEQUENCE (and ALTER TABLE of an identity column) checks the
 *	  change against the counter at once, so that a refusal is the ALTER's
 *	  own error, and moves the counter for RESTART (nextval.c); the new
 *	  definition is written to the item at XACT_EVENT_PRE_COMMIT, checked
 *	  again against the item as it is then (another client may have joined
 *	  meanwhile).  A refusal then fails the COMMIT with that error.
 *	- DROP removes the sequence from the counter's clients at PRE_COMMIT.
 *	- Once the transaction has committed, the instance cache slot takes the
 *	  new definition (so that the refill worker reserves under it) or is
 *	  freed.
 *
 * What a subtransaction asked for goes when it rolls back.  PREPARE
 * TRANSACTION is refused while a change is pending: the commit may happen
 * in another session, long after, and the item must not wait for it.
 *
 * What remains between the PRE_COMMIT write and the commit record is only
 * what can still fail there (a serialization failure of a SERIALIZABLE
 * transaction): such a transaction leaves its change in the item, which
 * can only make seqdist refuse more (a client left in the clients set, a
 * definition the native sequence does not have; the next ALTER repairs it).
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "backend_cache.h"
#include "counter.h"
#include "dynamo.h"
#include "instance_cache.h"
#include "pending_ddl.h"
#include "store.h"

typedef struct PendingChange
{
	Oid			relid;
	bool		leave;			/* dropped: leave the counter */
	bool		restarting;		/* altered with RESTART */
	SubTransactionId subid;		/* the subtransaction that asked */
	char	   *key;			/* counter key of a dropped sequence */

	/* filled at PRE_COMMIT for the slot, after the commit */
	bool		install;
	InstanceDef idef;
	char	   *idef_key;
} PendingChange;

/* In TopTransactionContext; NIL outside a transaction that has changes */
static List *pending_changes = NIL;
static bool pending_registered = false;

static void pending_xact_callback(XactEvent event, void *arg);
static void pending_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
									 SubTransactionId parentSubid, void *arg);

void
pending_ddl_init(void)
{
	if (pending_registered)
		return;
	RegisterXactCallback(pending_xact_callback, NULL);
	RegisterSubXactCallback(pending_subxact_callback, NULL);
	pending_registered = true;
}

static void
pending_add(Oid relid, bool leave, bool restarting, const char *key)
{
	MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
	PendingChange *change = palloc0(sizeof(PendingChange));

	change->relid = relid;
	change->leave = leave;
	change->restarting = restarting;
	change->subid = GetCurrentSubTransactionId();
	change->key = key ? pstrdup(key) : NULL;
	pending_changes = lappend(pending_changes, change);
	MemoryContextSwitchTo(old);
}

void
pending_ddl_redefine(Oid relid, bool restarting)
{
	pending_add(relid, false, restarting, NULL);
}

void
pending_ddl_leave(Oid relid, const char *key)
{
	pending_add(relid, true, false, key);
}

/* Is a later change of the list about the same sequence? */
static bool
pending_superseded(ListCell *cell)
{
	PendingChange *change = lfirst(cell);
	ListCell   *lc;

	for_each_cell(lc, pending_changes, lnext(pending_changes, cell))
	{
		PendingChange *later = lfirst(lc);

		if (later->relid == change->relid)
			return true;
	}
	return false;
}

/* Did an earlier change of the same sequence restart it? */
static bool
pending_restarted(ListCell *cell)
{
	PendingChange *change = lfirst(cell);
	ListCell   *lc;

	foreach(lc, pending_changes)
	{
		PendingChange *earlier = lfirst(lc);

		if (lc == cell)
			break;
		if (earlier->relid == change->relid && !earlier->leave && earlier->restarting)
			return true;
	}
	return change->restarting;
}

/* The definition the sequence has at commit goes to its counter item */
static void
pending_write_definition(PendingChange *change, bool restarting)
{
	BackendSeq *seq;
	CounterRef	ref;
	MemoryContext old;

	/* dropped later in the transaction without a sql_drop of its own */
	if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(change->relid)))
		return;
	seq = backend_seq_open(change->relid);
	if (!backend_seq_registered(seq, store_current()))
		return;
	ref = backend_seq_counter(seq, store_current());
	counter_update_definition(&ref, &seq->params, restarting);

	old = MemoryContextSwitchTo(TopTransactionContext);
	change->idef = seq->idef;
	change->idef.params = seq->params;
	change->idef_key = pstrdup(seq->key);
	change->install = true;
	MemoryContextSwitchTo(old);
}

/*
 * A dropped sequence leaves its counter.  Best effort: a client left
 * behind only makes seqdist refuse changes that only a sole client may
 * make, so a failure is a WARNING, not a reason to refuse the DROP.
 */
static void
pending_leave(PendingChange *change)
{
	MemoryContext cxt = CurrentMemoryContext;
	CounterRef	ref;

	ref.store = store_current();
	ref.key = change->key;
	ref.client = counter_client_id(MyDatabaseId, change->relid);
	ref.seqname = change->key;
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
}

/*
 * Every dropped sequence leaves its counter: the leaves are sent together
 * (counter_leave_batch); what that leaves undecided goes through
 * pending_leave, one at a time, and a DynamoDB error is its WARNING.
 */
static void
pending_leave_all(void)
{
	MemoryContext cxt = CurrentMemoryContext;
	ListCell   *lc;
	CounterLeave *leaves = palloc0(sizeof(CounterLeave) * list_length(pending_changes));
	PendingChange **changes = palloc(sizeof(PendingChange *) * list_length(pending_changes));
	int			n = 0;

	foreach(lc, pending_changes)
	{
		PendingChange *change = lfirst(lc);

		if (!change->leave)
			continue;
		leaves[n].ref.store = store_current();
		leaves[n].ref.key = change->key;
		leaves[n].ref.client = counter_client_id(MyDatabaseId, change->relid);
		leaves[n].ref.seqname = change->key;
		changes[n++] = change;
	}
	/* as pending_leave: an error here (no credentials, ...) is no reason to fail the commit */
	PG_TRY();
	{
		counter_leave_batch(leaves, n, dynamo_bulk_width());
	}
	PG_CATCH();
	{
		/* the leaves it did are DONE; pending_leave tries the others */
		MemoryContextSwitchTo(cxt);
		FlushErrorState();
	}
	PG_END_TRY();
	for (int i = 0; i < n; i++)
		if (leaves[i].state != COUNTER_JOIN_DONE)
			pending_leave(changes[i]);
}

static void
pending_pre_commit(void)
{
	ListCell   *lc;

	/* the registry is read through SPI, which wants a snapshot */
	PushActiveSnapshot(GetTransactionSnapshot());
	pending_leave_all();
	foreach(lc, pending_changes)
	{
		PendingChange *change = lfirst(lc);

		if (!change->leave && !pending_superseded(lc))
			pending_write_definition(change, pending_restarted(lc));
	}
	PopActiveSnapshot();
}

static void
pending_after_commit(void)
{
	ListCell   *lc;

	foreach(lc, pending_changes)
	{
		PendingChange *change = lfirst(lc);

		if (change->leave)
			instance_cache_forget(MyDatabaseId, change->relid);
		else if (change->install)
			instance_cache_redefine(change->relid, &change->idef, change->idef_key);
	}
}

static void
pending_xact_callback(XactEvent event, void *arg)
{
	if (pending_changes == NIL)
		return;
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
			pending_pre_commit();
			break;
		case XACT_EVENT_PRE_PREPARE:
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot PREPARE a transaction that altered or dropped a sequence registered with seqdist"),
					 errdetail("The counter item in DynamoDB is changed when such a transaction commits, which a prepared transaction does in another session."),
					 errhint("Commit the ALTER SEQUENCE or DROP in a transaction of its own.")));
			break;
		case XACT_EVENT_COMMIT:
			pending_after_commit();
			pending_changes = NIL;
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PREPARE:
			pending_changes = NIL;
			break;
		default:
			break;
	}
}

static void
pending_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						 SubTransactionId parentSubid, void *arg)
{
	ListCell   *lc;

	if (pending_changes == NIL)
		return;
	if (event == SUBXACT_EVENT_COMMIT_SUB)
	{
		foreach(lc, pending_changes)
		{
			PendingChange *change = lfirst(lc);

			if (change->subid == mySubid)
				change->subid = parentSubid;
		}
	}
	else if (event == SUBXACT_EVENT_ABORT_SUB)
	{
		foreach(lc, pending_changes)
		{
			PendingChange *change = lfirst(lc);

			if (change->subid == mySubid)
				pending_changes = foreach_delete_current(pending_changes, lc);
		}
	}
}
