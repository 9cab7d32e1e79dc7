/*-------------------------------------------------------------------------
 *
 * counter.c
 *		Tier 1: reserving blocks of values from the counter item.
 *
 * Reserving n values is one UpdateItem: "SET last_value = last_value +
 * n*increment" on condition that the item exists, its increment is ours,
 * the asking client is one of its clients, and the new position stays
 * within the bound; UPDATED_NEW returns the new position, so the block is
 * the n values ending there.  Two clients can never be handed the same
 * range, because DynamoDB applies conditional updates to one item one at a
 * time.  A lost answer makes the retry reserve again: the lost block is a
 * gap, never a duplicate.
 *
 * When the condition fails, a consistent read tells why: a missing item or a
 * different increment is an error; a client that is not (or no longer) in
 * the clients set joins first (counter_share.c) if its definition can share
 * the counter; a bound closer than n values makes a smaller reservation, or
 * a wrap-around for CYCLE sequences, or the native "reached maximum value"
 * error.  Those rarer moves are compare-and-set updates on the last_value
 * that was read, retried if another client moved first.
 *
 * The layout of the item and the write helpers are in counter_item.c.
 * Arithmetic is done in 128 bits, so no position near the int64 limits can
 * overflow.
 *
 * Locking: none on this side; see counter_item.c.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"

#include "counter.h"
#include "counter_internal.h"
#include "dynamo.h"

static void
counter_raise_exhausted(const CounterParams *params, const char *seqname)
			pg_attribute_noreturn();

static void
counter_raise_exhausted(const CounterParams *params, const char *seqname)
{
	if (params->increment > 0)
		ereport(ERROR,
				(errcode(ERRCODE_SEQUENCE_GENERATOR_LIMIT_EXCEEDED),
				 errmsg("nextval: reached maximum value of sequence \"%s\" (%lld)",
						seqname, (long long) params->max_value)));
	ereport(ERROR,
			(errcode(ERRCODE_SEQUENCE_GENERATOR_LIMIT_EXCEEDED),
			 errmsg("nextval: reached minimum value of sequence \"%s\" (%lld)",
					seqname, (long long) params->min_value)));
}

/* Values left before the far bound from first on, in steps of increment */
static int128
counter_values_left(const CounterParams *params, int128 first)
{
	int128		inc = params->increment;

	if (inc > 0)
		return first <= params->max_value ? ((int128) params->max_value - first) / inc + 1 : 0;
	return first >= params->min_value ? ((int128) params->min_value - first) / inc + 1 : 0;
}

/*
 * Set last_value from state's to newlast as a reservation, if nobody moved
 * it meanwhile.  No write token: a reservation applied twice is a gap.  A
 * wrap-around is also conditional on the item's cycle and bounds being the
 * ones it was decided on, and on no definition or membership change since.
 */
static bool
counter_cas_reserve(const CounterRef *ref, const CounterParams *params,
					const CounterState *state, int128 newlast, bool wrap,
					DynamoStats *stats)
{
	json_t	   *values = json_pack("{s:o, s:o, s:o, s:{s:s}}",
								   ":new", counter_num(newlast),
								   ":cur", counter_num(state->last_value),
								   ":inc", counter_num(params->increment),
								   ":me", "S", ref->client);
	const char *condition = "#lv = :cur AND #inc = :inc AND contains(#cl, :me)";
	DynamoError err;
	json_t	   *attrs;

	if (wrap)
	{
		json_object_set_new(values, ":yes", json_pack("{s:b}", "BOOL", 1));
		json_object_set_new(values, ":min", counter_num(params->min_value));
		json_object_set_new(values, ":max", counter_num(params->max_value));
		if (state->has_version)
			json_object_set_new(values, ":dv", counter_num(state->version));
		condition = psprintf("%s AND #cyc = :yes AND #min = :min AND #max = :max AND %s",
							 condition, counter_version_condition(state));
	}
	attrs = counter_update(ref, "SET #lv = :new", condition, values, &err, stats);
	if (attrs != NULL)
	{
		json_decref(attrs);
		return true;
	}
	if (!dynamo_error_is(&err, "ConditionalCheckFailedException"))
		dynamo_raise(&err);
	return false;
}

/*
 * A wrap-around goes back to the far bound, where the values of the
 * previous lap were handed out once: safe only when every client of the
 * counter cycles between the same bounds.  The item records those bounds
 * (joining and ALTER keep them common to all cycling clients), so a
 * sequence whose own bounds differ -- an ALTER not committed yet, or a
 * definition that never reached the item -- must not wrap.
 */
static void
counter_check_wrap(const CounterRef *ref, const CounterParams *params,
				   const CounterState *state)
{
	if (!state->cycle)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot wrap counter \"%s\" of sequence \"%s\" around",
						ref->key, ref->seqname),
				 errdetail("The counter item does not allow CYCLE; a client of the counter that does not cycle could hand out the same values."),
				 errhint("Record CYCLE in the counter with ALTER SEQUENCE ... CYCLE if every client of the counter cycles.")));
	if (!state->has_bounds || state->min_value != params->min_value ||
		state->max_value != params->max_value)
	{
		char	   *lo = state->has_bounds ? counter_int128_text(state->min_value) : "?";
		char	   *hi = state->has_bounds ? counter_int128_text(state->max_value) : "?";

		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot wrap counter \"%s\" of sequence \"%s\" around",
						ref->key, ref->seqname),
				 errdetail("The counter cycles between %s and %s, the sequence between %lld and %lld; wrapping between other bounds than the counter's could hand out the same values twice.",
						   lo, hi, (long long) params->min_value,
						   (long long) params->max_value),
				 errhint("Commit the ALTER SEQUENCE that changed the bounds, or make them match the counter's.")));
	}
}

/*
 * The slow path: the client must join, the bound is near, the counter must
 * wrap, or something is wrong with the item.  Works from a consistent read
 * and compare-and-set.
 */
static void
counter_reserve_slowly(const CounterRef *ref, const CounterParams *params,
					   int64 n, bool may_join, CounterBlock *block, DynamoStats *stats)
{
	int128		inc = params->increment;

	for (int tries = 0; tries < COUNTER_CAS_TRIES; tries++)
	{
		CounterState state;
		int128		left;
		int128		m;
		int128		first;
		bool		wrap = false;

		CHECK_FOR_INTERRUPTS();
		if (!counter_read_as_member(ref, params, &state, may_join, stats))
			continue;

		/*
		 * A counter shared with a sequence of other bounds may lie before our
		 * near bound: start at the bound then (moving forward is safe).
		 */
		first = state.last_value + inc;
		if (inc > 0 && first < params->min_value)
			first = params->min_value;
		else if (inc < 0 && first > params->max_value)
			first = params->max_value;

		left = counter_values_left(params, first);
		if (left <= 0)
		{
			if (!params->cycle)
				counter_raise_exhausted(params, ref->seqname);
			counter_check_wrap(ref, params, &state);
			wrap = true;
			/* wrap, as native CYCLE does, to the far bound */
			first = inc > 0 ? params->min_value : params->max_value;
			left = ((int128) params->max_value - params->min_value) / (inc > 0 ? inc : -inc) + 1;
		}
		m = Min((int128) n, left);
		if (counter_cas_reserve(ref, params, &state, first + (m - 1) * inc, wrap, stats))
		{
			block->first = (int64) first;
			block->count = (int64) m;
			return;
		}
	}
	counter_raise_contention(ref, "reserve values of");
}

/*
 * The UpdateItem of a reservation: last_value moves by n increments if the
 * item exists, its increment is ours, the asking client is one of its
 * clients and the new block lies between the bounds (otherwise the slow
 * path).
 */
static json_t *
counter_reserve_request(const CounterRef *ref, const CounterParams *params, int64 n)
{
	int128		delta = (int128) n * params->increment;
	int128		limit;
	int128		floor_pos;
	json_t	   *values;

	if (params->increment > 0)
	{
		limit = (int128) params->max_value - delta;
		floor_pos = (int128) params->min_value - params->increment;
	}
	else
	{
		limit = (int128) params->min_value - delta;
		floor_pos = (int128) params->max_value - params->increment;
	}

	values = json_pack("{s:o, s:o, s:o, s:o, s:{s:s}}",
					   ":delta", counter_num(delta),
					   ":inc", counter_num(params->increment),
					   ":limit", counter_num(limit),
					   ":floor", counter_num(floor_pos),
					   ":me", "S", ref->client);
	return counter_update_request(ref, "SET #lv = #lv + :delta",
								  params->increment > 0 ?
								  "attribute_exists(#lv) AND #inc = :inc AND #lv <= :limit AND #lv >= :floor AND contains(#cl, :me)" :
								  "attribute_exists(#lv) AND #inc = :inc AND #lv >= :limit AND #lv <= :floor AND contains(#cl, :me)",
								  values);
}

/*
 * The block out of the answer to counter_reserve_request (attrs, consumed),
 * or, when there was none (err), the slow path or the error.
 */
static void
counter_reserve_answer(const CounterRef *ref, const CounterParams *params, int64 n,
					   bool may_join, json_t *attrs, const DynamoError *err,
					   CounterBlock *block, DynamoStats *stats)
{
	int128		delta = (int128) n * params->increment;
	int128		newlast;
	int128		first;
	bool		ok;

	if (attrs == NULL)
	{
		if (dynamo_error_is(err, "ConditionalCheckFailedException"))
		{
			counter_reserve_slowly(ref, params, n, may_join, block, stats);
			return;
		}
		dynamo_raise(err);
	}

	ok = answer_number(attrs, ATTR_LAST, &newlast);
	json_decref(attrs);
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_PROTOCOL_VIOLATION),
				 errmsg("malformed response from DynamoDB to UpdateItem"),
				 errdetail("The answer carries no integer last_value; the reserved block is skipped.")));

	first = newlast - delta + params->increment;
	if (first < params->min_value || first > params->max_value ||
		newlast < params->min_value || newlast > params->max_value)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("counter \"%s\" returned a block outside the bounds of sequence \"%s\"",
						ref->key, ref->seqname),
				 errdetail("The counter's position does not fit the sequence's MINVALUE and MAXVALUE; no value was handed out.")));
	block->first = (int64) first;
	block->count = n;
}

void
counter_reserve(const CounterRef *ref, const CounterParams *params, int64 n,
				bool may_join, CounterBlock *block, DynamoStats *stats)
{
	DynamoError err;
	json_t	   *resp;

	if (n <= 0)
		elog(ERROR, "invalid block size " INT64_FORMAT, n);
	resp = dynamo_call(ref->store, "UpdateItem", counter_reserve_request(ref, params, n),
					   &err, stats);
	counter_reserve_answer(ref, params, n, may_join, counter_update_attributes(resp), &err,
						   block, stats);
}

/* A batch of reservations, as the callbacks see it */
typedef struct CounterBatch
{
	CounterReservation *res;
	json_t	  **answers;
	DynamoError *errs;
	DynamoStats *stats;
	bool	   *deferred;		/* for the slow path, after the batch */
	bool		stopping;		/* a slow path waits: start no more */
	int			consumed;		/* reservations started or skipped */
	MemoryContext cxt;
	CounterStartCallback start;
	CounterDoneCallback done;
	void	   *arg;
} CounterBatch;

/* Reservation i has its answer: its block or its error, then done */
static void
counter_batch_finish(CounterBatch *b, int i)
{
	CounterReservation *r = &b->res[i];
	json_t	   *attrs = counter_update_attributes(b->answers[i]);

	b->answers[i] = NULL;
	PG_TRY();
	{
		counter_reserve_answer(&r->ref, &r->params, r->n, false, attrs, &b->errs[i],
							   &r->block, &b->stats[i]);
		r->ok = true;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(b->cxt);
		edata = CopyErrorData();
		FlushErrorState();
		r->error = pstrdup(edata->message ? edata->message : "");
		FreeErrorData(edata);
	}
	PG_END_TRY();
	r->stats = b->stats[i];
	if (b->done)
		b->done(i, b->arg);
}

/* dynamo_call_batch's start callback: the caller's, until a slow path waits */
static bool
counter_batch_start(int i, void *arg)
{
	CounterBatch *b = (CounterBatch *) arg;

	if (b->stopping)
		return false;
	b->consumed = i + 1;
	return b->start == NULL || b->start(i, b->arg);
}

/* dynamo_call_batch's callback: finish now, unless the slow path is needed */
static void
counter_batch_answer(int i, void *arg)
{
	CounterBatch *b = (CounterBatch *) arg;

	/*
	 * The slow path sends requests: not while the batch is in flight.  So
	 * that it comes soon, no further reservation starts; the ones in flight
	 * end, and the caller passes the rest again.
	 */
	if (b->answers[i] == NULL &&
		dynamo_error_is(&b->errs[i], "ConditionalCheckFailedException"))
	{
		b->deferred[i] = true;
		b->stopping = true;
		return;
	}
	counter_batch_finish(b, i);
}

int
counter_reserve_batch(CounterReservation *res, int n, int window, CounterStartCallback start,
					  CounterDoneCallback done, void *arg)
{
	CounterBatch b;
	json_t	  **requests;

	if (n <= 0)
		return 0;
	memset(&b, 0, sizeof(b));
	b.res = res;
	b.cxt = CurrentMemoryContext;
	b.start = start;
	b.done = done;
	b.arg = arg;
	requests = palloc0(sizeof(json_t *) * n);
	b.answers = palloc0(sizeof(json_t *) * n);
	b.errs = palloc0(sizeof(DynamoError) * n);
	b.stats = palloc0(sizeof(DynamoStats) * n);
	b.deferred = palloc0(sizeof(bool) * n);
	for (int i = 0; i < n; i++)
	{
		if (res[i].n <= 0 || res[i].ref.store->id != res[0].ref.store->id)
			elog(ERROR, "invalid reservation in a batch");
		res[i].ok = false;
		res[i].error = NULL;
		memset(&res[i].stats, 0, sizeof(DynamoStats));
	}
	for (int i = 0; i < n; i++)
		requests[i] = counter_reserve_request(&res[i].ref, &res[i].params, res[i].n);

	/* the requests of counter_reserve, window at a time, each finished as it comes */
	dynamo_call_batch(res[0].ref.store, "UpdateItem", requests, n, window, b.answers, b.errs,
					  b.stats, counter_batch_start, counter_batch_answer, &b);

	/* what is left is counter_reserve's slow path, one at a time */
	for (int i = 0; i < n; i++)
		if (b.deferred[i])
			counter_batch_finish(&b, i);
	pfree(requests);
	pfree(b.answers);
	pfree(b.errs);
	pfree(b.stats);
	pfree(b.deferred);
	return b.consumed;
}
