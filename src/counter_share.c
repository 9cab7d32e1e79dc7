/*-------------------------------------------------------------------------
 *
 * counter_share.c
 *		Who shares a counter, and which changes of it are allowed.
 *
 * The counter item is the authority on the shared definition and on who
 * shares it: its clients set names every client that may reserve from it
 * (a reservation is conditional on the asking client being a member), so
 * seqdist can tell whether a change could make some client repeat a value:
 *
 *	- moving the counter backwards (setval, RESTART), changing its
 *	  increment, switching CYCLE on or off, or moving the bounds of a
 *	  cycling counter is allowed only when the asking sequence is the
 *	  counter's only client;
 *	- a rewind also needs seqdist.allow_rewind, as before;
 *	- moving a counter that other clients share at all, forward included,
 *	  needs a superuser (forward to its bound, it exhausts every sharer);
 *	- a client may join only with the same increment and CYCLE setting,
 *	  and a cycling client only with the same bounds; joining a counter
 *	  that clients of other databases share needs a superuser;
 *	- a counter of format 1 has no clients set, so its clients are
 *	  unknown: the first client to join records a placeholder beside
 *	  itself, and is never taken for the only client.
 *
 * Membership and definition changes bump def_version, and every such write
 * is conditional on the def_version (and position) it was decided on, so a
 * client that joined meanwhile makes the decision be taken again.  Writes
 * carry a write token (counter_item.c), so a lost answer never makes a
 * write apply twice or be reported as failed.
 *
 * ALTER and DROP change the item only when their transaction commits
 * (pending_ddl.c): an ALTER's definition is written, and a dropped sequence
 * removed from the clients (counter_leave), just before the commit.
 *
 * Locking: none on this side; see counter_item.c.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <time.h>

#include "miscadmin.h"

#include "counter.h"
#include "counter_internal.h"
#include "dynamo.h"

static bool
counter_behind(const CounterParams *params, int128 position, int128 target)
{
	return params->increment > 0 ? position < target : position > target;
}

/*
 * Add ref->client to the clients of the counter read into state, if its
 * definition can share the counter (an ERROR otherwise).  The caller reads
 * the item again afterwards, whether or not another client moved first.
 */
static void
counter_join(const CounterRef *ref, const CounterParams *params, const CounterState *state,
			 DynamoStats *stats)
{
	json_t	   *values;

	counter_check_shareable(ref, params, state);
	values = json_pack("{s:o, s:o}",
					   ":me", counter_joining_set(ref, state),
					   ":inc", counter_num(params->increment));
	counter_add_version(values, state);
	(void) counter_write(ref, "ADD #cl :me SET #dv = :ndv",
						 psprintf("%s AND #inc = :inc", counter_version_condition(state)),
						 values, stats);
}

bool
counter_read_as_member(const CounterRef *ref, const CounterParams *params,
					   CounterState *state, bool may_join, DynamoStats *stats)
{
	counter_read(ref, state, stats);
	counter_check_increment(ref, params, state);
	if (state->member)
		return true;
	if (!may_join)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("sequence \"%s\" is not a client of counter \"%s\"", ref->seqname, ref->key),
				 errdetail("The refill worker does not join counters; the sequence's next seqdist_nextval does, if the sequence still exists.")));
	counter_join(ref, params, state, stats);
	return false;
}

/* The PutItem that creates the item at position, if there is none */
static json_t *
counter_create_request(const CounterRef *ref, const CounterParams *params, int128 position,
					   const char *origin, const char *token)
{
	char		created_at[32];
	time_t		now = time(NULL);
	struct tm	tmbuf;

	strftime(created_at, sizeof(created_at), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tmbuf));
	return json_pack("{s:s, s:{s:{s:s}, s:o, s:o, s:o, s:o, s:o, s:{s:b}, s:o, s:{s:s},"
					 " s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}}, s:s, s:{s:s}}",
					 "TableName", ref->store->table,
					 "Item",
					 ATTR_KEY, "S", ref->key,
					 ATTR_LAST, counter_num(position),
					 ATTR_INCREMENT, counter_num(params->increment),
					 ATTR_MIN, counter_num(params->min_value),
					 ATTR_MAX, counter_num(params->max_value),
					 ATTR_START, counter_num(params->start_value),
					 ATTR_CYCLE, "BOOL", params->cycle,
					 ATTR_CLIENTS, counter_client_set(ref->client),
					 ATTR_VERSION, "N", "1",
					 ATTR_TOKEN, "S", token,
					 ATTR_FORMAT, "N", "2",
					 "created_at", "S", created_at,
					 "created_by", "S", origin,
					 "ConditionExpression", "attribute_not_exists(#c)",
					 "ExpressionAttributeNames", "#c", ATTR_KEY);
}

/* Is the item read into state beyond limit (NULL: no limit)? */
static bool
counter_beyond(const CounterParams *params, const CounterState *state, const int128 *limit)
{
	return limit != NULL && counter_behind(params, *limit, state->last_value);
}

/*
 * The write that joins the item read into state and moves it to position
 * if it is behind: conditional on the definition version, the increment
 * and the position read.  Without the write token (counter_write adds it).
 */
static CounterUpdate
counter_join_update(const CounterRef *ref, const CounterParams *params, int128 position,
					const CounterState *state)
{
	CounterUpdate w;
	bool		behind = counter_behind(params, state->last_value, position);

	w.update = "ADD #cl :me SET #dv = :ndv, #lv = :pos";
	w.condition = psprintf("%s AND #inc = :inc AND #lv = :cur", counter_version_condition(state));
	w.values = json_pack("{s:o, s:o, s:o, s:o}",
						 ":me", counter_joining_set(ref, state),
						 ":inc", counter_num(params->increment),
						 ":cur", counter_num(state->last_value),
						 ":pos", counter_num(behind ? position : state->last_value));
	counter_add_version(w.values, state);
	return w;
}

CounterRegistration
counter_register(const CounterRef *ref, const CounterParams *params, int128 position,
				 const char *origin, bool may_join_foreign, const int128 *limit,
				 int128 *last_value)
{
	char	   *token = counter_new_token();
	DynamoError err;
	json_t	   *resp;

	resp = dynamo_call(ref->store, "PutItem",
					   counter_create_request(ref, params, position, origin, token), &err, NULL);
	if (resp != NULL)
	{
		json_decref(resp);
		*last_value = position;
		return COUNTER_CREATED;
	}
	if (!dynamo_error_is(&err, "ConditionalCheckFailedException"))
		dynamo_raise(&err);

	/* an item exists: join it, never move it back, move it forward if behind */
	for (int tries = 0; tries < COUNTER_CAS_TRIES; tries++)
	{
		CounterState state;
		bool		behind;
		CounterUpdate w;

		CHECK_FOR_INTERRUPTS();
		counter_read(ref, &state, NULL);
		if (state.token != NULL && strcmp(state.token, token) == 0)
		{
			/* our PutItem was applied; its answer was lost */
			*last_value = state.last_value;
			return COUNTER_CREATED;
		}
		counter_check_shareable(ref, params, &state);
		if (counter_beyond(params, &state, limit))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("counter \"%s\" is at %s: the next value of sequence \"%s\" would not fit the columns that use it",
							ref->key, counter_int128_text(state.last_value), ref->seqname),
					 errdetail("The columns hold values up to a position of %s.",
							   counter_int128_text(*limit)),
					 errhint("Widen the columns (ALTER TABLE ... ALTER COLUMN ... TYPE bigint), then migrate again.")));
		behind = counter_behind(params, state.last_value, position);
		if (state.member && !behind)
		{
			*last_value = state.last_value;
			return COUNTER_EXISTING;
		}
		if (!may_join_foreign && (state.nforeign > 0 || state.legacy))
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("only a superuser may join counter \"%s\", which clients of other databases share",
							ref->key),
					 errdetail("Joining a counter can move it forward for every client, and the counter's other clients are not under this database's control."),
					 errhint("Ask a superuser to register the sequence, or register it under another counter key.")));
		w = counter_join_update(ref, params, position, &state);
		if (counter_write(ref, w.update, w.condition, w.values, NULL))
		{
			*last_value = behind ? position : state.last_value;
			return behind ? COUNTER_ADVANCED : COUNTER_EXISTING;
		}
	}
	counter_raise_contention(ref, "register");
}

/* The requests of one round of a batch, and where their answers go */
typedef struct JoinRound
{
	int			n;
	int		   *which;			/* the registration each request is for */
	json_t	  **requests;
	json_t	  **answers;
	DynamoError *errs;
	DynamoStats *stats;
} JoinRound;

static void
join_round_init(JoinRound *r, int n)
{
	r->n = 0;
	r->which = palloc(sizeof(int) * n);
	r->requests = palloc0(sizeof(json_t *) * n);
	r->answers = palloc0(sizeof(json_t *) * n);
	r->errs = palloc0(sizeof(DynamoError) * n);
	r->stats = palloc0(sizeof(DynamoStats) * n);
}

static void
join_round_add(JoinRound *r, int which, json_t *request)
{
	r->which[r->n] = which;
	r->requests[r->n] = request;
	r->n++;
}

static void
join_round_send(JoinRound *r, const SeqdistStore *store, const char *operation, int window)
{
	if (r->n > 0)
		dynamo_call_all(store, operation, r->requests, r->n, window, r->answers, r->errs,
						r->stats);
}

/* An answer that is neither success nor a failed condition ends it FAILED */
static bool
join_failed(CounterJoin *j, const DynamoError *err)
{
	if (dynamo_error_is(err, "ConditionalCheckFailedException"))
		return false;
	j->state = COUNTER_JOIN_FAILED;
	j->err = *err;
	return true;
}

void
counter_register_batch(CounterJoin *joins, int n, int window)
{
	const SeqdistStore *store;
	char	  **tokens;
	CounterState *states;
	JoinRound	create,
				read,
				join;

	if (n <= 0)
		return;
	store = joins[0].ref.store;
	tokens = palloc(sizeof(char *) * n);
	states = palloc0(sizeof(CounterState) * n);
	join_round_init(&create, n);
	join_round_init(&read, n);
	join_round_init(&join, n);

	/* 1: create every item that does not exist yet */
	for (int i = 0; i < n; i++)
	{
		if (joins[i].ref.store->id != store->id)
			elog(ERROR, "registrations of one batch must share a store");
		joins[i].state = COUNTER_JOIN_AGAIN;
		tokens[i] = counter_new_token();
		join_round_add(&create, i, counter_create_request(&joins[i].ref, &joins[i].params,
														  joins[i].position, joins[i].origin,
														  tokens[i]));
	}
	join_round_send(&create, store, "PutItem", window);
	for (int k = 0; k < create.n; k++)
	{
		CounterJoin *j = &joins[create.which[k]];

		if (create.answers[k] != NULL)
		{
			json_decref(create.answers[k]);
			j->state = COUNTER_JOIN_DONE;
			j->outcome = COUNTER_CREATED;
			j->last_value = j->position;
		}
		else if (!join_failed(j, &create.errs[k]))
			join_round_add(&read, create.which[k],
						   counter_get_request(store, j->ref.key));
	}

	/* 2: read the items that existed */
	join_round_send(&read, store, "GetItem", window);
	for (int k = 0; k < read.n; k++)
	{
		int			i = read.which[k];
		CounterJoin *j = &joins[i];
		CounterState *st = &states[i];
		bool		ok;

		if (read.answers[k] == NULL)
		{
			join_failed(j, &read.errs[k]);
			continue;
		}
		ok = answer_counter_item(read.answers[k], j->ref.client, st);
		if (st->token != NULL)
			st->token = pstrdup(st->token);
		json_decref(read.answers[k]);
		if (!ok)
			continue;			/* AGAIN: counter_register says what is wrong */
		if (st->token != NULL && strcmp(st->token, tokens[i]) == 0)
		{
			/* our PutItem was applied; its answer was lost */
			j->state = COUNTER_JOIN_DONE;
			j->outcome = COUNTER_CREATED;
			j->last_value = st->last_value;
			continue;
		}
		if (!counter_shareable(&j->params, st) ||
			counter_beyond(&j->params, st, j->has_limit ? &j->limit : NULL))
			continue;			/* AGAIN, to raise the refusal */
		if (st->member && !counter_behind(&j->params, st->last_value, j->position))
		{
			j->state = COUNTER_JOIN_DONE;
			j->outcome = COUNTER_EXISTING;
			j->last_value = st->last_value;
			continue;
		}
		if (!j->may_join_foreign && (st->nforeign > 0 || st->legacy))
			continue;			/* AGAIN, to raise the refusal */
		{
			CounterUpdate w = counter_join_update(&j->ref, &j->params, j->position, st);

			json_object_set_new(w.values, ":wt", json_pack("{s:s}", "S", counter_new_token()));
			join_round_add(&join, i,
						   counter_update_request(&j->ref, psprintf("%s, #wt = :wt", w.update),
												  w.condition, w.values));
		}
	}

	/* 3: join them; a failed condition is decided again, alone */
	join_round_send(&join, store, "UpdateItem", window);
	for (int k = 0; k < join.n; k++)
	{
		int			i = join.which[k];
		CounterJoin *j = &joins[i];
		bool		behind = counter_behind(&j->params, states[i].last_value, j->position);

		if (join.answers[k] == NULL)
		{
			join_failed(j, &join.errs[k]);
			continue;
		}
		json_decref(join.answers[k]);
		j->state = COUNTER_JOIN_DONE;
		j->outcome = behind ? COUNTER_ADVANCED : COUNTER_EXISTING;
		j->last_value = behind ? j->position : states[i].last_value;
	}
}

/* The ERROR for a change only a counter's only client may make */
static void
counter_refuse_shared(const CounterRef *ref, const CounterState *state, const char *change)
			pg_attribute_noreturn();

static void
counter_refuse_shared(const CounterRef *ref, const CounterState *state, const char *change)
{
	int			others = Max(state->nclients - (state->member ? 1 : 0), 0);

	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("cannot %s counter \"%s\" of sequence \"%s\": other clients share it",
					change, ref->key, ref->seqname),
			 errdetail_plural("%d other client of the counter could hand out the same values again.",
							  "%d other clients of the counter could hand out the same values again.",
							  others, others),
			 errhint("Only the counter's only client may make this change; see the clients attribute of seqdist.counter_item().")));
}

static bool
counter_sole_client(const CounterState *state)
{
	return state->member && state->nclients == 1;
}

/*
 * Raise the ERROR that moving the counter from state's position to position
 * deserves, if any: a rewind needs allow_rewind and the counter's only
 * client.  Returns false when there is nothing to move.
 */
static bool
counter_move_allowed(const CounterRef *ref, const CounterParams *params,
					 const CounterState *state, int128 position, bool allow_rewind,
					 bool may_move_shared)
{
	/*
	 * On a cycling counter a move forward brings the next wrap-around
	 * nearer: the other clients would hand out again, after a short lap,
	 * values of the lap they are in.  Only the sole client may do that.
	 */
	if (state->cycle && position != state->last_value && !counter_sole_client(state))
		counter_refuse_shared(ref, state, "move cycling");
	if (!may_move_shared && position != state->last_value && !counter_sole_client(state))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("only a superuser may move counter \"%s\" of sequence \"%s\", which other clients share",
						ref->key, ref->seqname),
				 errdetail("Moving a shared counter moves it for every client: forward to its bound, it would exhaust the sequences of all of them."),
				 errhint("Ask a superuser, or move only a counter this sequence does not share.")));
	if (counter_behind(params, position, state->last_value))
	{
		char	   *theirs = counter_int128_text(state->last_value);

		if (!allow_rewind)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("cannot move counter \"%s\" of sequence \"%s\" backwards",
							ref->key, ref->seqname),
					 errdetail("The counter has reserved values up to %s; they may have been handed out already, and moving back would hand them out again.",
							   theirs),
					 errhint("To reuse values on purpose, a superuser can SET seqdist.allow_rewind = on.")));
		if (!counter_sole_client(state))
			counter_refuse_shared(ref, state, "move back");
	}
	return position != state->last_value;
}

void
counter_set_position(const CounterRef *ref, const CounterParams *params, int128 position,
					 bool allow_rewind, bool may_move_shared)
{
	bool		forward_sent = false;

	for (int tries = 0; tries < COUNTER_CAS_TRIES; tries++)
	{
		CounterState state;
		json_t	   *values;

		CHECK_FOR_INTERRUPTS();
		if (!counter_read_as_member(ref, params, &state, true, NULL))
			continue;

		/*
		 * A forward move we sent may have been applied although counter_write
		 * could not tell (another client's write replaced our token before
		 * we read it back), and reservations may have moved the counter on
		 * since.  A counter at or beyond the position is what a forward move
		 * asked for: done, never a rewind refused or applied.
		 */
		if (forward_sent && !counter_behind(params, state.last_value, position))
			return;
		if (!counter_move_allowed(ref, params, &state, position, allow_rewind,
								  may_move_shared))
			return;

		values = json_pack("{s:o, s:o, s:o}",
						   ":new", counter_num(position),
						   ":cur", counter_num(state.last_value),
						   ":inc", counter_num(params->increment));
		if (state.has_version)
			json_object_set_new(values, ":dv", counter_num(state.version));
		if (counter_write(ref, "SET #lv = :new",
						  psprintf("%s AND #inc = :inc AND #lv = :cur",
								   counter_version_condition(&state)),
						  values, NULL))
			return;
		if (counter_behind(params, state.last_value, position))
			forward_sent = true;
	}
	counter_raise_contention(ref, "move");
}

/*
 * Would the change from the item's definition to params make another
 * client repeat values, or fail?  The increment changed (the others then
 * fail), CYCLE switched either way, or a cycling counter's bounds moved:
 * clients that cycle must all cycle between the same bounds.
 */
static bool
counter_change_unsafe_to_share(const CounterParams *params, const CounterState *state)
{
	if (params->increment != state->increment || params->cycle != state->cycle)
		return true;
	return params->cycle && (!state->has_bounds || params->min_value != state->min_value ||
							 params->max_value != state->max_value);
}

/*
 * As native ALTER SEQUENCE does with the sequence's own last value: the
 * counter's position must lie within the new bounds.  A position before the
 * old bounds means nothing was reserved yet, and is fine.
 */
static void
counter_check_position_in_bounds(const CounterRef *ref, const CounterParams *params,
								 const CounterState *state)
{
	int128		pos = state->last_value;
	bool		reserved = state->has_bounds &&
		(params->increment > 0 ? pos >= state->min_value : pos <= state->max_value);
	bool		above = pos > params->max_value && (params->increment > 0 || reserved);
	bool		below = pos < params->min_value && (params->increment < 0 || reserved);
	char	   *text;

	if (!above && !below)
		return;
	text = counter_int128_text(pos);
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 above ?
			 errmsg("RESTART value (%s) cannot be greater than MAXVALUE (%lld)",
					text, (long long) params->max_value) :
			 errmsg("RESTART value (%s) cannot be less than MINVALUE (%lld)",
					text, (long long) params->min_value),
			 errdetail("Counter \"%s\" of sequence \"%s\" has reserved values up to %s.",
					   ref->key, ref->seqname, text)));
}

void
counter_leave_batch(CounterLeave *leaves, int n, int window)
{
	JoinRound	read,
				drop;
	CounterState *states;
	const SeqdistStore *store;

	if (n <= 0)
		return;
	store = leaves[0].ref.store;
	states = palloc0(sizeof(CounterState) * n);
	join_round_init(&read, n);
	join_round_init(&drop, n);
	for (int i = 0; i < n; i++)
	{
		if (leaves[i].ref.store->id != store->id)
			elog(ERROR, "leaves of one batch must share a store");
		leaves[i].state = COUNTER_JOIN_AGAIN;
		join_round_add(&read, i, counter_get_request(store, leaves[i].ref.key));
	}
	join_round_send(&read, store, "GetItem", window);
	for (int k = 0; k < read.n; k++)
	{
		int			i = read.which[k];
		CounterLeave *l = &leaves[i];
		CounterState *st = &states[i];
		json_t	   *values;
		bool		ok;

		if (read.answers[k] == NULL)
		{
			l->state = COUNTER_JOIN_FAILED;
			l->err = read.errs[k];
			continue;
		}
		ok = answer_counter_item(read.answers[k], l->ref.client, st);
		json_decref(read.answers[k]);
		if (!ok)
			continue;			/* AGAIN: counter_leave says what is wrong */
		if (!st->exists || !st->member)
		{
			l->state = COUNTER_JOIN_DONE;
			continue;
		}
		values = json_pack("{s:o, s:o}", ":me", counter_client_set(l->ref.client),
						   ":wt", json_pack("{s:s}", "S", counter_new_token()));
		counter_add_version(values, st);
		join_round_add(&drop, i,
					   counter_update_request(&l->ref, "DELETE #cl :me SET #dv = :ndv, #wt = :wt",
											  counter_version_condition(st), values));
	}
	join_round_send(&drop, store, "UpdateItem", window);
	for (int k = 0; k < drop.n; k++)
	{
		CounterLeave *l = &leaves[drop.which[k]];

		if (drop.answers[k] != NULL)
		{
			json_decref(drop.answers[k]);
			l->state = COUNTER_JOIN_DONE;
		}
		else if (!dynamo_error_is(&drop.errs[k], "ConditionalCheckFailedException"))
		{
			l->state = COUNTER_JOIN_FAILED;
			l->err = drop.errs[k];
		}
		/* a failed condition: AGAIN, decided by counter_leave */
	}
}

/* Raise the ERROR that changing the item's definition to params deserves */
static void
counter_check_redefinition(const CounterRef *ref, const CounterParams *params,
						   const CounterState *state, bool restarting)
{
	if (!state->exists)
		counter_check_increment(ref, params, state);
	if ((state->increment > 0) != (params->increment > 0))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot reverse the direction of sequence \"%s\", which is registered with seqdist",
						ref->seqname),
				 errdetail("Values on the other side of counter \"%s\" may already have been handed out.",
						   ref->key)));
	if (!restarting)
		counter_check_position_in_bounds(ref, params, state);
	if (counter_change_unsafe_to_share(params, state) && !counter_sole_client(state))
		counter_refuse_shared(ref, state,
							  params->increment != state->increment ? "change the increment of" :
							  params->cycle != state->cycle ? "change CYCLE of" :
							  "change the bounds of cycling");
}

void
counter_check_definition(const CounterRef *ref, const CounterParams *params, bool restarting)
{
	CounterState state;

	counter_read(ref, &state, NULL);
	counter_check_redefinition(ref, params, &state, restarting);
}

void
counter_update_definition(const CounterRef *ref, const CounterParams *params, bool restarting)
{
	for (int tries = 0; tries < COUNTER_CAS_TRIES; tries++)
	{
		CounterState state;
		json_t	   *values;

		CHECK_FOR_INTERRUPTS();
		counter_read(ref, &state, NULL);
		counter_check_redefinition(ref, params, &state, restarting);

		values = json_pack("{s:o, s:o, s:o, s:o, s:{s:b}, s:o, s:o}",
						   ":inc", counter_num(params->increment),
						   ":min", counter_num(params->min_value),
						   ":max", counter_num(params->max_value),
						   ":start", counter_num(params->start_value),
						   ":cyc", "BOOL", params->cycle,
						   ":old", counter_num(state.increment),
						   ":me", counter_client_set(ref->client));
		counter_add_version(values, &state);
		if (counter_write(ref,
						  "ADD #cl :me SET #inc = :inc, #min = :min, #max = :max, #cyc = :cyc,"
						  " #start = :start, #dv = :ndv",
						  psprintf("%s AND #inc = :old", counter_version_condition(&state)),
						  values, NULL))
			return;
	}
	counter_raise_contention(ref, "change the definition of");
}

void
counter_leave(const CounterRef *ref)
{
	for (int tries = 0; tries < COUNTER_CAS_TRIES; tries++)
	{
		CounterState state;
		json_t	   *values;

		CHECK_FOR_INTERRUPTS();
		counter_read(ref, &state, NULL);
		if (!state.exists || !state.member)
			return;
		values = json_pack("{s:o}", ":me", counter_client_set(ref->client));
		counter_add_version(values, &state);
		if (counter_write(ref, "DELETE #cl :me SET #dv = :ndv",
						  counter_version_condition(&state), values, NULL))
			return;
	}
	counter_raise_contention(ref, "leave");
}
