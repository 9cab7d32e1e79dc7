/*-------------------------------------------------------------------------
 *
 * counter.c
 *		The counter item in DynamoDB and the reservation of blocks from it.
 *
 * One item per counter, keyed by the string attribute "counter":
 *
 *	counter		S	the counter key (by default "<database>.<schema>.<sequence>")
 *	last_value	N	the last value reserved by any client, in the direction of
 *					increment; the next reservation starts one increment
 *					beyond it.  Before the first reservation it is
 *					start - increment, which may lie outside the int64 range:
 *					DynamoDB numbers have 38 digits, so that is fine.
 *	increment	N	the sequence's increment; every writer must agree on it
 *	min_value, max_value, start_value  N, cycle  BOOL
 *					the definition, recorded for other clients of the counter
 *	format		N	1, the version of this layout
 *	created_at	S, created_by  S	provenance, informational
 *
 * Reserving n values is one UpdateItem: "SET last_value = last_value +
 * n*increment" on condition that the item exists, its increment is ours and
 * the new position stays within the bound; UPDATED_NEW returns the new
 * position, so the block is the n values ending there.  Two clients can never
 * be handed the same range, because DynamoDB applies conditional updates to
 * one item one at a time.
 *
 * When the condition fails, a consistent read tells why: a missing item or a
 * different increment is an error; a bound closer than n values makes a
 * smaller reservation, or a wrap-around for CYCLE sequences, or the native
 * "reached maximum value" error.  Those rarer moves are compare-and-set
 * updates on the last_value that was read, retried if another client moved
 * first.
 *
 * Arithmetic is done in 128 bits, so no position near the int64 limits can
 * overflow.
 *
 * Locking: none on this side.  DynamoDB applies conditional writes to one
 * item one at a time; that, and every write being conditional on what was
 * read, is what keeps clients of one counter apart.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <jansson.h>
#include <time.h>

#include "miscadmin.h"

#include "counter.h"
#include "dynamo.h"

/* Compare-and-set attempts before giving up under extreme contention */
#define COUNTER_CAS_TRIES 100

#define ATTR_KEY COUNTER_KEY_ATTR
#define ATTR_LAST "last_value"
#define ATTR_INCREMENT "increment"

/* What a consistent read of the item found */
typedef struct CounterState
{
	bool		exists;
	int128		last_value;
	int128		increment;
	bool		cycle;			/* the item allows wrapping around */
	int128		min_value;		/* recorded bounds, when present */
	int128		max_value;
	bool		has_bounds;
} CounterState;

static json_t *counter_key_json(const char *key);
static json_t *counter_num(int128 v);
static bool counter_attr_int128(json_t *attrs, const char *name, int128 *out);
static void counter_read(const SeqdistStore *store, const char *key, CounterState *state,
						 DynamoStats *stats);
static bool counter_cas(const SeqdistStore *store, const char *key,
						const CounterParams *params, int128 expected, int128 newlast,
						DynamoStats *stats);
static void counter_check_increment(const SeqdistStore *store, const char *key,
									const CounterParams *params,
									const CounterState *state, const char *seqname);
static void counter_raise_exhausted(const CounterParams *params, const char *seqname)
			pg_attribute_noreturn();
static void counter_raise_malformed(const char *operation, const char *what)
			pg_attribute_noreturn();

char *
counter_int128_text(int128 v)
{
	char		buf[48];
	char	   *p = buf + sizeof(buf) - 1;
	bool		neg = v < 0;
	uint128		u = neg ? -(uint128) v : (uint128) v;

	*p = '\0';
	do
	{
		*--p = '0' + (int) (u % 10);
		u /= 10;
	} while (u != 0);
	if (neg)
		*--p = '-';
	return pstrdup(p);
}

/* Strict decimal integer; DynamoDB returns numbers without exponents here */
bool
counter_parse_int128(const char *s, int128 *out)
{
	bool		neg = false;
	int128		v = 0;
	int			digits = 0;

	if (*s == '-')
	{
		neg = true;
		s++;
	}
	for (; *s; s++)
	{
		if (*s < '0' || *s > '9' || ++digits > 38)
			return false;
		v = v * 10 + (*s - '0');
	}
	if (digits == 0)
		return false;
	*out = neg ? -v : v;
	return true;
}

static json_t *
counter_key_json(const char *key)
{
	return json_pack("{s:{s:s}}", ATTR_KEY, "S", key);
}

static json_t *
counter_num(int128 v)
{
	char	   *text = counter_int128_text(v);
	json_t	   *j = json_pack("{s:s}", "N", text);

	pfree(text);
	return j;
}

static bool
counter_attr_int128(json_t *attrs, const char *name, int128 *out)
{
	json_t	   *n = json_object_get(json_object_get(attrs, name), "N");

	return json_is_string(n) && counter_parse_int128(json_string_value(n), out);
}

static void
counter_raise_malformed(const char *operation, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROTOCOL_VIOLATION),
			 errmsg("malformed response from DynamoDB to %s", operation),
			 errdetail("%s", what)));
}

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

/* The answer to a consistent GetItem of the item; json_decref it */
static json_t *
counter_get(const SeqdistStore *store, const char *key, DynamoStats *stats)
{
	json_t	   *req = json_pack("{s:s, s:o, s:b}",
								"TableName", store->table,
								"Key", counter_key_json(key),
								"ConsistentRead", 1);

	return dynamo_call(store, "GetItem", req, NULL, stats);
}

json_t *
counter_read_item(const SeqdistStore *store, const char *key)
{
	json_t	   *resp = counter_get(store, key, NULL);
	json_t	   *item = json_object_get(resp, "Item");

	if (item != NULL)
		json_incref(item);
	json_decref(resp);
	return item;
}

/* Consistent read of the position and increment */
static void
counter_read(const SeqdistStore *store, const char *key, CounterState *state,
			 DynamoStats *stats)
{
	json_t	   *resp = counter_get(store, key, stats);
	json_t	   *item = json_object_get(resp, "Item");
	bool		ok = true;

	memset(state, 0, sizeof(*state));
	if (item != NULL)
	{
		state->exists = true;
		ok = counter_attr_int128(item, ATTR_LAST, &state->last_value) &&
			counter_attr_int128(item, ATTR_INCREMENT, &state->increment);
		state->cycle = json_is_true(json_object_get(json_object_get(item, "cycle"), "BOOL"));
		state->has_bounds = counter_attr_int128(item, "min_value", &state->min_value) &&
			counter_attr_int128(item, "max_value", &state->max_value);
	}
	json_decref(resp);
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("counter item \"%s\" in DynamoDB table \"%s\" is not a seqdist counter",
						key, store->table),
				 errdetail("Its \"%s\" or \"%s\" attribute is missing or not an integer.",
						   ATTR_LAST, ATTR_INCREMENT)));
}

static void
counter_check_increment(const SeqdistStore *store, const char *key,
						const CounterParams *params, const CounterState *state,
						const char *seqname)
{
	if (!state->exists)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("counter item \"%s\" of sequence \"%s\" does not exist in DynamoDB table \"%s\"",
						key, seqname, store->table),
				 errhint("Restore the item, or register the sequence again with a position beyond every value already handed out.")));
	if (state->increment != params->increment)
	{
		char	   *theirs = counter_int128_text(state->increment);

		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("sequence \"%s\" has increment %lld but its counter \"%s\" has increment %s",
						seqname, (long long) params->increment, key, theirs),
				 errdetail("Clients of one counter must use the same increment, or they could hand out the same value.")));
	}
}

/*
 * Set last_value from expected to newlast, if nobody moved it meanwhile.
 * Returns false when somebody did.
 */
static bool
counter_cas(const SeqdistStore *store, const char *key, const CounterParams *params,
			int128 expected, int128 newlast, DynamoStats *stats)
{
	json_t	   *req = json_pack("{s:s, s:o, s:s, s:s, s:{s:s, s:s}, s:{s:o, s:o, s:o}}",
								"TableName", store->table,
								"Key", counter_key_json(key),
								"UpdateExpression", "SET #lv = :new",
								"ConditionExpression", "#lv = :cur AND #inc = :inc",
								"ExpressionAttributeNames",
								"#lv", ATTR_LAST, "#inc", ATTR_INCREMENT,
								"ExpressionAttributeValues",
								":new", counter_num(newlast),
								":cur", counter_num(expected),
								":inc", counter_num(params->increment));

	return dynamo_call_unless(store, "UpdateItem", req, "ConditionalCheckFailedException",
							  stats);
}

/*
 * The slow path: the bound is near, the counter must wrap, or something is
 * wrong with the item.  Works from a consistent read and compare-and-set.
 */
static void
counter_reserve_near_bound(const SeqdistStore *store, const char *key,
						   const CounterParams *params, int64 n, const char *seqname,
						   CounterBlock *block, DynamoStats *stats)
{
	int128		inc = params->increment;

	for (int tries = 0; tries < COUNTER_CAS_TRIES; tries++)
	{
		CounterState state;
		int128		left;
		int128		m;
		int128		first;

		CHECK_FOR_INTERRUPTS();
		counter_read(store, key, &state, stats);
		counter_check_increment(store, key, params, &state, seqname);

		/*
		 * A counter shared with a sequence of other bounds may lie before our
		 * near bound: start at the bound then (moving forward is safe).
		 */
		first = state.last_value + inc;
		if (inc > 0 && first < params->min_value)
			first = params->min_value;
		else if (inc < 0 && first > params->max_value)
			first = params->max_value;

		/* how many values remain before the far bound, in steps of increment */
		if (inc > 0)
			left = first <= params->max_value ?
				((int128) params->max_value - first) / inc + 1 : 0;
		else
			left = first >= params->min_value ?
				((int128) params->min_value - first) / inc + 1 : 0;

		if (left <= 0)
		{
			if (!params->cycle)
				counter_raise_exhausted(params, seqname);
			if (!state.cycle)
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("cannot wrap counter \"%s\" of sequence \"%s\" around", key, seqname),
						 errdetail("The counter item does not allow CYCLE; a client of the counter that does not cycle could hand out the same values."),
						 errhint("Record CYCLE in the counter with ALTER SEQUENCE ... CYCLE if every client of the counter cycles.")));
			/* wrap, as native CYCLE does, to the far bound */
			first = inc > 0 ? params->min_value : params->max_value;
			left = ((int128) params->max_value - params->min_value) / (inc > 0 ? inc : -inc) + 1;
		}
		m = Min((int128) n, left);
		if (counter_cas(store, key, params, state.last_value, first + (m - 1) * inc, stats))
		{
			block->first = (int64) first;
			block->count = (int64) m;
			return;
		}
	}
	ereport(ERROR,
			(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
			 errmsg("could not reserve values of counter \"%s\" after %d attempts",
					key, COUNTER_CAS_TRIES),
			 errdetail("Other clients kept moving the counter at its bound.")));
}

void
counter_reserve(const SeqdistStore *store, const char *key, const CounterParams *params,
				int64 n, const char *seqname, CounterBlock *block, DynamoStats *stats)
{
	int128		delta = (int128) n * params->increment;
	int128		limit;
	int128		floor_pos;
	int128		newlast;
	int128		first;
	DynamoError err;
	json_t	   *req;
	json_t	   *resp;
	bool		ok;

	if (n <= 0)
		elog(ERROR, "invalid block size " INT64_FORMAT, n);
	/* the new block must lie between the bounds; otherwise the slow path */
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

	req = json_pack("{s:s, s:o, s:s, s:s, s:{s:s, s:s}, s:{s:o, s:o, s:o, s:o}, s:s}",
					"TableName", store->table,
					"Key", counter_key_json(key),
					"UpdateExpression", "SET #lv = #lv + :delta",
					"ConditionExpression",
					params->increment > 0 ?
					"attribute_exists(#lv) AND #inc = :inc AND #lv <= :limit AND #lv >= :floor" :
					"attribute_exists(#lv) AND #inc = :inc AND #lv >= :limit AND #lv <= :floor",
					"ExpressionAttributeNames",
					"#lv", ATTR_LAST, "#inc", ATTR_INCREMENT,
					"ExpressionAttributeValues",
					":delta", counter_num(delta),
					":inc", counter_num(params->increment),
					":limit", counter_num(limit),
					":floor", counter_num(floor_pos),
					"ReturnValues", "UPDATED_NEW");
	resp = dynamo_call(store, "UpdateItem", req, &err, stats);
	if (resp == NULL)
	{
		if (dynamo_error_is(&err, "ConditionalCheckFailedException"))
		{
			counter_reserve_near_bound(store, key, params, n, seqname, block, stats);
			return;
		}
		dynamo_raise(&err);
	}

	ok = counter_attr_int128(json_object_get(resp, "Attributes"), ATTR_LAST, &newlast);
	json_decref(resp);
	if (!ok)
		counter_raise_malformed("UpdateItem", "The answer carries no integer last_value; the reserved block is skipped.");

	first = newlast - delta + params->increment;
	if (first < params->min_value || first > params->max_value ||
		newlast < params->min_value || newlast > params->max_value)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("counter \"%s\" returned a block outside the bounds of sequence \"%s\"", key, seqname),
				 errdetail("The counter's position does not fit the sequence's MINVALUE and MAXVALUE; no value was handed out.")));
	block->first = (int64) first;
	block->count = n;
}

/*
 * Move the counter to position (the last value used).  Unless rewind is
 * allowed, a position behind the counter is refused: values up to the
 * counter's position may have been handed out by any client already.
 */
void
counter_set_position(const SeqdistStore *store, const char *key, const CounterParams *params,
					 int128 position, bool allow_rewind, const char *seqname)
{
	const char *condition;
	json_t	   *req;
	CounterState state;
	char	   *theirs;

	if (allow_rewind)
		condition = "attribute_exists(#lv) AND #inc = :inc";
	else if (params->increment > 0)
		condition = "attribute_exists(#lv) AND #inc = :inc AND #lv <= :new";
	else
		condition = "attribute_exists(#lv) AND #inc = :inc AND #lv >= :new";

	req = json_pack("{s:s, s:o, s:s, s:s, s:{s:s, s:s}, s:{s:o, s:o}}",
					"TableName", store->table,
					"Key", counter_key_json(key),
					"UpdateExpression", "SET #lv = :new",
					"ConditionExpression", condition,
					"ExpressionAttributeNames",
					"#lv", ATTR_LAST, "#inc", ATTR_INCREMENT,
					"ExpressionAttributeValues",
					":new", counter_num(position),
					":inc", counter_num(params->increment));
	if (dynamo_call_unless(store, "UpdateItem", req, "ConditionalCheckFailedException", NULL))
		return;

	counter_read(store, key, &state, NULL);
	counter_check_increment(store, key, params, &state, seqname);
	theirs = counter_int128_text(state.last_value);
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("cannot move counter \"%s\" of sequence \"%s\" backwards", key, seqname),
			 errdetail("The counter has reserved values up to %s; they may have been handed out already, and moving back would hand them out again.",
					   theirs),
			 errhint("To reuse values on purpose, a superuser can SET seqdist.allow_rewind = on.")));
}

/*
 * Record a changed definition (ALTER SEQUENCE) in the counter item.  The
 * increment may change size but not sign: values on the other side of the
 * position may all have been handed out already.
 */
void
counter_update_definition(const SeqdistStore *store, const char *key,
						  const CounterParams *params, const char *seqname)
{
	CounterState state;
	json_t	   *req;

	counter_read(store, key, &state, NULL);
	if (!state.exists)
		counter_check_increment(store, key, params, &state, seqname);
	if ((state.increment > 0) != (params->increment > 0))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot reverse the direction of sequence \"%s\", which is registered with seqdist", seqname),
				 errdetail("Values on the other side of counter \"%s\" may already have been handed out.", key)));

	req = json_pack("{s:s, s:o, s:s, s:s, s:{s:s, s:s, s:s, s:s, s:s},"
					" s:{s:o, s:o, s:o, s:o, s:{s:b}, s:o}}",
					"TableName", store->table,
					"Key", counter_key_json(key),
					"UpdateExpression", "SET #inc = :inc, #min = :min, #max = :max, #cyc = :cyc, #start = :start",
					"ConditionExpression", "#inc = :old",
					"ExpressionAttributeNames",
					"#inc", ATTR_INCREMENT, "#min", "min_value", "#max", "max_value",
					"#cyc", "cycle", "#start", "start_value",
					"ExpressionAttributeValues",
					":inc", counter_num(params->increment),
					":min", counter_num(params->min_value),
					":max", counter_num(params->max_value),
					":start", counter_num(params->start_value),
					":cyc", "BOOL", params->cycle,
					":old", counter_num(state.increment));
	if (!dynamo_call_unless(store, "UpdateItem", req, "ConditionalCheckFailedException", NULL))
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("counter \"%s\" was changed by another client during ALTER SEQUENCE", key),
				 errhint("Run the ALTER SEQUENCE again.")));
}

CounterRegistration
counter_register(const SeqdistStore *store, const char *key, const CounterParams *params,
				 int128 position, const char *origin, int128 *last_value)
{
	char		created_at[32];
	time_t		now = time(NULL);
	struct tm	tmbuf;
	json_t	   *req;

	strftime(created_at, sizeof(created_at), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tmbuf));
	req = json_pack("{s:s, s:{s:{s:s}, s:o, s:o, s:o, s:o, s:o, s:{s:b}, s:{s:s}, s:{s:s}, s:{s:s}},"
					" s:s, s:{s:s}}",
					"TableName", store->table,
					"Item",
					ATTR_KEY, "S", key,
					ATTR_LAST, counter_num(position),
					ATTR_INCREMENT, counter_num(params->increment),
					"min_value", counter_num(params->min_value),
					"max_value", counter_num(params->max_value),
					"start_value", counter_num(params->start_value),
					"cycle", "BOOL", params->cycle,
					"format", "N", "1",
					"created_at", "S", created_at,
					"created_by", "S", origin,
					"ConditionExpression", "attribute_not_exists(#c)",
					"ExpressionAttributeNames", "#c", ATTR_KEY);
	if (dynamo_call_unless(store, "PutItem", req, "ConditionalCheckFailedException", NULL))
	{
		*last_value = position;
		return COUNTER_CREATED;
	}

	/* an item exists: never move it back, move it forward if it is behind */
	for (int tries = 0; tries < COUNTER_CAS_TRIES; tries++)
	{
		CounterState state;
		bool		behind;

		counter_read(store, key, &state, NULL);
		counter_check_increment(store, key, params, &state, key);

		/*
		 * A cycling client moves the counter back to its far bound; any
		 * client that does not cycle the same way would then repeat values.
		 */
		if (state.cycle != params->cycle ||
			(params->cycle && (!state.has_bounds || state.min_value != params->min_value ||
							   state.max_value != params->max_value)))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("cannot share counter \"%s\": its CYCLE setting or bounds differ", key),
					 errdetail("Clients of one counter that cycles must all cycle between the same bounds, or values would be handed out twice.")));
		behind = params->increment > 0 ? state.last_value < position
			: state.last_value > position;
		if (!behind)
		{
			*last_value = state.last_value;
			return COUNTER_EXISTING;
		}
		if (counter_cas(store, key, params, state.last_value, position, NULL))
		{
			*last_value = position;
			return COUNTER_ADVANCED;
		}
	}
	ereport(ERROR,
			(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
			 errmsg("could not register counter \"%s\" after %d attempts", key, COUNTER_CAS_TRIES)));
}
