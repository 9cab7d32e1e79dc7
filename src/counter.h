/*-------------------------------------------------------------------------
 *
 * counter.h
 *		Tier 1: the counter item in DynamoDB and block reservation from it.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEQDIST_COUNTER_H
#define SEQDIST_COUNTER_H

#include "dynamo.h"
#include "store.h"

/* The item's key attribute (the table's only key) */
#define COUNTER_KEY_ATTR "counter"

/* The sequence definition a reservation must respect */
typedef struct CounterParams
{
	int64		increment;
	int64		min_value;
	int64		max_value;
	int64		start_value;
	bool		cycle;
} CounterParams;

/* A reserved block: first, first + increment, ... (count values) */
typedef struct CounterBlock
{
	int64		first;
	int64		count;
} CounterBlock;

typedef enum CounterRegistration
{
	COUNTER_CREATED,			/* a new item was written */
	COUNTER_EXISTING,			/* an item was there and already far enough */
	COUNTER_ADVANCED			/* an item was there and was moved forward */
} CounterRegistration;

/*
 * Which counter a call is about and who asks: every tier-1 call takes one.
 * client is the asking sequence's name in the counter's clients set
 * (counter_client_id); seqname is used in messages.
 */
typedef struct CounterRef
{
	const SeqdistStore *store;
	const char *key;
	const char *client;
	const char *seqname;
} CounterRef;

/* The client name of sequence relid of database dbid on this cluster */
extern char *counter_client_id(Oid dbid, Oid relid);

/*
 * Reserve up to n values.  Fewer than n are reserved only when the
 * sequence's bound is nearer than n values (a CYCLE sequence then wraps on
 * the next call).  A client missing from the counter's clients joins first,
 * if may_join and its definition can share the counter (an ERROR
 * otherwise).  What the DynamoDB calls did is added to *stats unless it is
 * NULL.
 */
extern void counter_reserve(const CounterRef *ref, const CounterParams *params, int64 n,
							bool may_join, CounterBlock *block, DynamoStats *stats);

/* One reservation of a batch */
typedef struct CounterReservation
{
	CounterRef	ref;
	CounterParams params;
	int64		n;				/* values asked for */
	CounterBlock block;			/* the block, when ok */
	bool		ok;
	char	   *error;			/* why not, palloc'd, when not ok */
	DynamoStats stats;			/* what its DynamoDB calls did */
} CounterReservation;

/* Called as soon as reservation i of a batch is done (ok or not) */
typedef void (*CounterDoneCallback) (int i, void *arg);
/* Called just before reservation i of a batch is sent; false skips it */
typedef bool (*CounterStartCallback) (int i, void *arg);

/*
 * Reserve a block for each of n counters of one store, up to window of
 * them in flight at once, the next starting as soon as one ends: the
 * UpdateItems counter_reserve sends, each with the same condition and
 * retries.  Never joins.  start (unless NULL) is called with i, in order,
 * just before reservation i is sent; when it returns false, reservation i
 * is skipped: not sent, and done is not called for it.  done (unless NULL)
 * is called with i as soon as reservation i is done, so that a slow one
 * holds up no other; neither callback may call DynamoDB.  A reservation
 * whose condition failed goes on alone down counter_reserve's slow path
 * once the ones in flight are done; from then on no further one starts
 * (nor after a minute, when the requests' signatures get old).  Returns
 * how many reservations, from the first, were started or skipped: the
 * caller passes the rest again.  The failure of one is recorded in it,
 * not raised; only an interrupt raises an ERROR.  Errors are caught without
 * a subtransaction, so the caller must hold nothing an error would release
 * (the refill worker holds nothing).
 */
extern int	counter_reserve_batch(CounterReservation *res, int n, int window,
								  CounterStartCallback start, CounterDoneCallback done,
								  void *arg);

/*
 * Move the counter to position (the last value used, as setval sets it).
 * Moving it backwards is refused, with an ERROR, unless allow_rewind and
 * the counter has no other client; moving a counter that other clients
 * share at all needs may_move_shared.
 */
extern void counter_set_position(const CounterRef *ref, const CounterParams *params,
								 int128 position, bool allow_rewind, bool may_move_shared);

/*
 * Record a new definition (ALTER SEQUENCE) in the counter item.  Refused
 * with an ERROR when the increment changes sign, when the position lies
 * outside the new bounds (unless restarting), or when the change could
 * make another client repeat values (CYCLE switched, cycle bounds moved).
 */
extern void counter_update_definition(const CounterRef *ref, const CounterParams *params,
									  bool restarting);

/* Raise the ERROR counter_update_definition would raise, writing nothing */
extern void counter_check_definition(const CounterRef *ref, const CounterParams *params,
									 bool restarting);

/*
 * Create the counter item, or join an existing one and make sure it is at
 * least at position (the last value already used, in the direction of
 * increment).  Joining a counter that clients of other databases (or of
 * unknown origin) share needs may_join_foreign.  *last_value receives the
 * item's final position.
 */
extern CounterRegistration counter_register(const CounterRef *ref, const CounterParams *params,
											int128 position, const char *origin,
											bool may_join_foreign, const int128 *limit,
											int128 *last_value);

/*
 * One registration of a batch.  limit, when has_limit, is the furthest
 * position (in the direction of increment) the caller can take: an item
 * already beyond it is not joined, and the registration fails.
 */
typedef struct CounterJoin
{
	CounterRef	ref;
	CounterParams params;
	int128		position;		/* at least here, as counter_register */
	const char *origin;
	bool		may_join_foreign;
	bool		has_limit;
	int128		limit;
	/* the outcome */
	enum
	{
		COUNTER_JOIN_DONE,		/* outcome and last_value are set */
		COUNTER_JOIN_FAILED,	/* err says why (a DynamoDB error) */
		COUNTER_JOIN_AGAIN		/* needs counter_register alone (it raises) */
	}			state;
	CounterRegistration outcome;
	int128		last_value;
	DynamoError err;
} CounterJoin;

/*
 * counter_register for n counters of one store at once, without raising:
 * the creations are sent concurrently, then the reads of the items that
 * existed, then the writes that join them, each a stream of up to window
 * requests in flight, so that n registrations take three streams instead
 * of up to 3n round trips.  A registration ends DONE, FAILED
 * (a DynamoDB error, for dynamo_raise) or AGAIN: anything else (a failed
 * condition, a definition that cannot share the item, an item beyond the
 * limit) is left to counter_register, which decides it again from a fresh
 * read and raises the precise error.  What cannot even be sent (no
 * credentials, an interrupt) raises an ERROR.
 */
extern void counter_register_batch(CounterJoin *joins, int n, int window);

/* Remove the client from the counter's clients (DROP, unregister) */
extern void counter_leave(const CounterRef *ref);

/* One leave of a batch; state as for CounterJoin (DONE, FAILED or AGAIN) */
typedef struct CounterLeave
{
	CounterRef	ref;
	int			state;
	DynamoError err;
} CounterLeave;

/*
 * counter_leave for n counters of one store: the reads in one stream of up
 * to window requests in flight, then the writes.  A DynamoDB error ends a
 * leave FAILED (err), a failed condition or a malformed item AGAIN, for
 * counter_leave alone.  What cannot even be sent (no credentials, an
 * interrupt) raises an ERROR.
 */
extern void counter_leave_batch(CounterLeave *leaves, int n, int window);

/*
 * The item, read consistently, in DynamoDB's attribute-value form, or NULL
 * when there is none; json_decref it.
 */
extern struct json_t *counter_read_item(const SeqdistStore *store, const char *key);

/*
 * The items of keys[0..n-1], read consistently, as counter_read_item
 * returns them (items[i] NULL: none): BatchGetItem, 100 keys a request
 * and concurrency requests at once (one GetItem each when the identity may
 * not use BatchGetItem).  A DynamoDB error is raised.
 */
extern void counter_read_items(const SeqdistStore *store, char **keys, int n, int concurrency,
							   struct json_t **items);

/* Their positions (last_value): known[i] false when there is none */
extern void counter_read_positions(const SeqdistStore *store, char **keys, int n,
								   int concurrency, int128 *positions, bool *known);

/* Decimal text of a 128-bit integer, palloc'd */
extern char *counter_int128_text(int128 v);

/* Parse a strict decimal integer of up to 38 digits, as DynamoDB writes them */
extern bool counter_parse_int128(const char *s, int128 *out);

#endif							/* SEQDIST_COUNTER_H */
