/*-------------------------------------------------------------------------
 *
 * counter.h
 *		Tier 1: the counter item in DynamoDB and block reservation from it.
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
 * Reserve up to n values of the counter named key.  Fewer than n are
 * reserved only when the sequence's bound is nearer than n values (a CYCLE
 * sequence then wraps on the next call).  seqname is used in messages.
 * What the DynamoDB calls did is added to *stats unless it is NULL.
 */
extern void counter_reserve(const SeqdistStore *store, const char *key,
							const CounterParams *params, int64 n, const char *seqname,
							CounterBlock *block, DynamoStats *stats);

/*
 * Move the counter to position (the last value used, as setval sets it).
 * Refused, with an ERROR, when that moves it backwards, unless allow_rewind.
 */
extern void counter_set_position(const SeqdistStore *store, const char *key,
								 const CounterParams *params, int128 position,
								 bool allow_rewind, const char *seqname);

/*
 * Record a new definition (increment, bounds, start, cycle) in the counter
 * item; an increment of the other sign is refused with an ERROR.
 */
extern void counter_update_definition(const SeqdistStore *store, const char *key,
									  const CounterParams *params, const char *seqname);

/*
 * Create the counter item, or make sure an existing one is at least at
 * position (the last value already used, in the direction of increment) and
 * has the same increment.  *last_value receives the item's final position.
 */
extern CounterRegistration counter_register(const SeqdistStore *store, const char *key,
											const CounterParams *params, int128 position,
											const char *origin, int128 *last_value);

/*
 * The item, read consistently, in DynamoDB's attribute-value form, or NULL
 * when there is none; json_decref it.
 */
extern struct json_t *counter_read_item(const SeqdistStore *store, const char *key);

/* Decimal text of a 128-bit integer, palloc'd */
extern char *counter_int128_text(int128 v);

/* Parse a strict decimal integer of up to 38 digits, as DynamoDB writes them */
extern bool counter_parse_int128(const char *s, int128 *out);

#endif							/* SEQDIST_COUNTER_H */
