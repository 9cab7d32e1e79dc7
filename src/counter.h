/*-------------------------------------------------------------------------
 *
 * counter.h
 *		The DynamoDB counter item and block reservation (tier 1).
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEQDIST_COUNTER_H
#define SEQDIST_COUNTER_H

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
 */
extern void counter_reserve(const char *key, const CounterParams *params,
							int64 n, const char *seqname, CounterBlock *block);

/*
 * Move the counter to position (the last value used, as setval sets it).
 * Refused, with an ERROR, when that moves it backwards, unless allow_rewind.
 */
extern void counter_set_position(const char *key, const CounterParams *params,
								 int128 position, bool allow_rewind, const char *seqname);

/*
 * Record a new definition (increment, bounds, start, cycle) in the counter
 * item; an increment of the other sign is refused with an ERROR.
 */
extern void counter_update_definition(const char *key, const CounterParams *params,
									  const char *seqname);

/*
 * Create the counter item, or make sure an existing one is at least at
 * position (the last value already used, in the direction of increment) and
 * has the same increment.  *last_value receives the item's final position.
 */
extern CounterRegistration counter_register(const char *key, const CounterParams *params,
											int128 position, const char *origin,
											int128 *last_value);

/* Create the counter table (on-demand billing); false if it existed */
extern bool counter_table_create(void);

/*
 * The table's TableStatus ("ACTIVE", ...), or NULL with *err filled when
 * DescribeTable failed; *key_ok says whether its key schema is seqdist's.
 */
struct DynamoError;
extern char *counter_table_status(struct DynamoError *err, bool *key_ok);

/* The item as a JSON text of plain attributes, or NULL when there is none */
extern char *counter_item_json(const char *key);

/* Decimal text of a 128-bit integer, palloc'd */
extern char *counter_int128_text(int128 v);

#endif							/* SEQDIST_COUNTER_H */
