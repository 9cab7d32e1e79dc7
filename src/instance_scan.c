/*-------------------------------------------------------------------------
 *
 * instance_scan.c
 *		Tier 2 seen from outside: a copy of every slot for the refill worker
 *		and the stats view, and the worker's use of the fetching token.
 *
 * A scan walks the fixed array of slots and copies each one in use under its
 * spinlock; it takes no other lock, since slots never move or go away (they
 * change hands, which the copy's ticket records).
 * The worker plans from those copies and comes back with an
 * InstanceTicket: refill_start takes the token only if the slot is still in
 * the state the plan saw (same sequence, generation and definition), and
 * refill_done publishes the block only if it still is, so a block reserved
 * under a definition that changed meanwhile is never handed out.  The
 * locking rules are those of instance_cache.c.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/latch.h"
#include "utils/timestamp.h"

#include "instance_cache.h"
#include "instance_cache_internal.h"

long
instance_cache_scan_begin(InstanceScan *scan, int flags)
{
	instance_cache_check_preloaded();
	scan->flags = flags;
	scan->next = 0;
	return instance_shared->nslots;
}

bool
instance_cache_scan_next(InstanceScan *scan, InstanceView *view)
{
	while (scan->next < instance_shared->nslots)
	{
		InstanceSlot *slot = &instance_shared->slots[scan->next++];
		bool		used;

		SpinLockAcquire(&slot->mutex);
		/* a slot no backend has taken from yet has no definition */
		used = !slot->dead && slot->def.params.increment != 0;
		if (used)
		{
			view->ticket.slot = slot;
			view->ticket.dbid = slot->key.dbid;
			view->ticket.relid = slot->key.relid;
			view->ticket.generation = slot->generation;
			view->ticket.def = slot->def;
			view->key_complete = slot->key_complete;
			view->fetching = slot->fetching;
			view->remaining = slot->remaining;
			view->spare_count = slot->spare_count;
			view->block_size = slot->block_size;
			view->fixed_size = slot->fixed_size;
			view->taken = slot->taken;
			view->demand = slot->demand;
			if (scan->flags & (INSTANCE_SCAN_STATS | INSTANCE_SCAN_KEY))
				memcpy(view->key, slot->counter_key, INSTANCE_KEY_MAX);
			if (scan->flags & INSTANCE_SCAN_STATS)
				view->stats = slot->stats;
			if (scan->flags & INSTANCE_SCAN_RESET_STATS)
				memset(&slot->stats, 0, sizeof(slot->stats));
		}
		SpinLockRelease(&slot->mutex);
		if (used)
			return true;
	}
	return false;
}

void
instance_cache_scan_end(InstanceScan *scan)
{
}

/*---- the refill worker's side ----*/

/* Is the ticket still about the slot's current state?  Spinlock held. */
static bool
instance_ticket_current(const InstanceTicket *ticket)
{
	InstanceSlot *slot = ticket->slot;

	return instance_slot_is(slot, ticket->dbid, ticket->relid) &&
		slot->generation == ticket->generation &&
		instance_def_equal(&slot->def, &ticket->def);
}

void
instance_cache_set_demand(const InstanceTicket *ticket, const RefillDemand *demand)
{
	InstanceSlot *slot = ticket->slot;

	SpinLockAcquire(&slot->mutex);
	if (instance_slot_is(slot, ticket->dbid, ticket->relid))
		slot->demand = *demand;
	SpinLockRelease(&slot->mutex);
}

/*
 * Refills are started one at a time, so backends of other slots never wait
 * behind this one.
 */
bool
instance_cache_refill_start(const InstanceTicket *ticket, char *key)
{
	InstanceSlot *slot = ticket->slot;
	TimestampTz deadline = instance_holder_deadline(GetCurrentTimestamp());
	bool		go;

	SpinLockAcquire(&slot->mutex);
	go = instance_ticket_current(ticket) && slot->key_complete &&
		!slot->fetching && slot->spare_count == 0;
	if (go)
	{
		instance_take_token_locked(slot, deadline);
		memcpy(key, slot->counter_key, INSTANCE_KEY_MAX);
	}
	SpinLockRelease(&slot->mutex);
	return go;
}

bool
instance_cache_refill_done(const InstanceTicket *ticket, const CounterBlock *block,
						   int64 split, const DynamoStats *calls)
{
	InstanceSlot *slot = ticket->slot;
	bool		accepted = true;

	SpinLockAcquire(&slot->mutex);
	if (instance_slot_is(slot, ticket->dbid, ticket->relid) && instance_holds_token_locked(slot))
	{
		/* the token is ours; the block only if nothing was discarded meanwhile */
		slot->fetching = false;
		dynamo_stats_add(&slot->stats.calls, calls);
		slot->stats.blocks_by_worker++;
		if (instance_ticket_current(ticket) && !instance_accept_block(slot, block))
		{
			strlcpy(slot->stats.last_error, "the counter moved backwards under this instance; the refill was dropped",
					sizeof(slot->stats.last_error));
			accepted = false;
		}
		else if (instance_ticket_current(ticket))
		{
			if (slot->remaining == 0 && split > 0 && block->count > split &&
				slot->spare_count == 0)
			{
				/* split lies inside the block: the spare's first value exists */
				slot->next = block->first;
				slot->remaining = split;
				slot->spare_first = block->first + split * slot->def.params.increment;
				slot->spare_count = block->count - split;
			}
			else if (slot->remaining == 0)
			{
				slot->next = block->first;
				slot->remaining = block->count;
			}
			else
			{
				slot->spare_first = block->first;
				slot->spare_count = block->count;
			}
		}
	}
	SpinLockRelease(&slot->mutex);
	ConditionVariableBroadcast(&slot->cv);
	return accepted;
}

void
instance_cache_refill_failed(const InstanceTicket *ticket, const char *message,
							 const DynamoStats *calls, TimestampTz now)
{
	InstanceSlot *slot = ticket->slot;

	SpinLockAcquire(&slot->mutex);
	if (instance_slot_is(slot, ticket->dbid, ticket->relid) && instance_holds_token_locked(slot))
	{
		slot->fetching = false;
		dynamo_stats_add(&slot->stats.calls, calls);
		strlcpy(slot->stats.last_error, message, sizeof(slot->stats.last_error));
		slot->stats.last_error_at = now;
	}
	SpinLockRelease(&slot->mutex);
	ConditionVariableBroadcast(&slot->cv);
}

void
instance_cache_set_worker_latch(Latch *latch)
{
	SpinLockAcquire(&instance_shared->mutex);
	instance_shared->worker_latch = latch;
	SpinLockRelease(&instance_shared->mutex);
}
