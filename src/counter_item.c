/*-------------------------------------------------------------------------
 *
 * counter_item.c
 *		The counter item in DynamoDB: its layout, consistent reads, and
 *		conditional writes that know whether they were applied.
 *
 * One item per counter, keyed by the string attribute "counter":
 *
 *	counter		S	the counter key (by default "<database>.<schema>.<sequence>",
 *					each part quoted as an SQL identifier when it needs it)
 *	last_value	N	the last value reserved by any client, in the direction of
 *					increment; the next reservation starts one increment
 *					beyond it.  Before the first reservation it is
 *					start - increment, which may lie outside the int64 range:
 *					DynamoDB numbers have 38 digits, so that is fine.
 *	increment	N	the sequence's increment; every writer must agree on it
 *	min_value, max_value, start_value  N, cycle  BOOL
 *					the shared definition; see counter_share.c for who may
 *					change it
 *	clients		SS	every client that may reserve from the counter, one
 *					string each ("<system identifier>:<database oid>:<sequence
 *					oid>" for PostgreSQL; services outside it choose their own
 *					stable name)
 *	def_version	N	bumped by every change of the definition or of clients
 *	write_token	S	random token of the last write other than a reservation
 *	format		N	2, the version of this layout
 *	created_at	S, created_by  S	provenance, informational
 *
 * Every write other than a reservation is conditional on what was read
 * (last_value, def_version) and sets write_token to a fresh random token.
 * When DynamoDB applies such a write but its answer is lost, the retry finds
 * its condition false; a consistent read then shows our token, so the
 * write is known to be applied, instead of being applied twice or being
 * reported as failed.
 *
 * Locking: none on this side.  DynamoDB applies conditional writes to one
 * item one at a time; that, and every write being conditional on what was
 * read, is what keeps clients of one counter apart.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "access/xlog.h"
#include "miscadmin.h"

#include "counter.h"
#include "counter_internal.h"
#include "decimal128.h"
#include "dynamo.h"
#include "dynamo_answer.h"

/* Placeholders the expressions may use, and the attributes they stand for */
static const struct
{
	const char *placeholder;
	const char *attribute;
}			counter_names[] = {
	{"#lv", ATTR_LAST},
	{"#inc", ATTR_INCREMENT},
	{"#min", ATTR_MIN},
	{"#max", ATTR_MAX},
	{"#start", ATTR_START},
	{"#cyc", ATTR_CYCLE},
	{"#dv", ATTR_VERSION},
	{"#wt", ATTR_TOKEN},
	{"#cl", ATTR_CLIENTS},
};

char *
counter_int128_text(int128 v)
{
	char		buf[DECIMAL128_BUFSIZE];

	return pstrdup(decimal128_format(v, buf));
}

bool
counter_parse_int128(const char *s, int128 *out)
{
	return decimal128_parse(s, out);
}

char *
counter_client_id(Oid dbid, Oid relid)
{
	return psprintf(UINT64_FORMAT ":%u:%u", GetSystemIdentifier(), dbid, relid);
}

json_t *
counter_key_json(const char *key)
{
	return json_pack("{s:{s:s}}", ATTR_KEY, "S", key);
}

json_t *
counter_num(int128 v)
{
	char	   *text = counter_int128_text(v);
	json_t	   *j = json_pack("{s:s}", "N", text);

	pfree(text);
	return j;
}

json_t *
counter_client_set(const char *client)
{
	return json_pack("{s:[s]}", "SS", client);
}

/*
 * A counter of format 1 has no clients set: who uses it is unknown.  The
 * first client to join records a placeholder beside itself, so that it is
 * never taken for the counter's only client.
 */
json_t *
counter_joining_set(const CounterRef *ref, const CounterState *state)
{
	if (state->legacy)
		return json_pack("{s:[s, s]}", "SS", ref->client, COUNTER_LEGACY_CLIENT);
	return counter_client_set(ref->client);
}

char *
counter_new_token(void)
{
	uint8		bytes[COUNTER_TOKEN_BYTES];
	char	   *hex = palloc(COUNTER_TOKEN_BYTES * 2 + 1);

	if (!pg_strong_random(bytes, sizeof(bytes)))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate a random write token")));
	for (int i = 0; i < COUNTER_TOKEN_BYTES; i++)
		snprintf(hex + 2 * i, 3, "%02x", bytes[i]);
	return hex;
}

json_t *
counter_get_request(const SeqdistStore *store, const char *key)
{
	return json_pack("{s:s, s:o, s:b}",
					 "TableName", store->table,
					 "Key", counter_key_json(key),
					 "ConsistentRead", 1);
}

/* The answer to a consistent GetItem of the item; json_decref it */
static json_t *
counter_get(const SeqdistStore *store, const char *key, DynamoStats *stats)
{
	return dynamo_call(store, "GetItem", counter_get_request(store, key), NULL, stats);
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

/* Keys per BatchGetItem request: DynamoDB's limit */
#define COUNTER_BATCH_GET_KEYS 100
/* Rounds for keys that DynamoDB left unprocessed, before giving up */
#define COUNTER_BATCH_GET_ROUNDS 8

/* The items of keys[0..n-1], one concurrent GetItem each */
static void
counter_read_items_one_by_one(const SeqdistStore *store, char **keys, int n, int concurrency,
							  json_t **items)
{
	json_t	  **requests = palloc(sizeof(json_t *) * Max(n, 1));
	json_t	  **answers = palloc0(sizeof(json_t *) * Max(n, 1));
	DynamoError *errs = palloc0(sizeof(DynamoError) * Max(n, 1));
	DynamoStats *stats = palloc0(sizeof(DynamoStats) * Max(n, 1));

	for (int i = 0; i < n; i++)
		requests[i] = counter_get_request(store, keys[i]);
	dynamo_call_all(store, "GetItem", requests, n, concurrency, answers, errs, stats);
	for (int i = 0; i < n; i++)
		if (answers[i] == NULL)
			dynamo_raise(&errs[i]);
	for (int i = 0; i < n; i++)
	{
		items[i] = json_object_get(answers[i], "Item");
		if (items[i] != NULL)
			json_incref(items[i]);
		json_decref(answers[i]);
	}
}

/* The key of an item (or of a key) in attribute-value form, or NULL */
static const char *
counter_item_key(json_t *item)
{
	return json_string_value(json_object_get(json_object_get(item, COUNTER_KEY_ATTR), "S"));
}

/* Which of want[0..n-1] (indexes into keys) is key; -1 when none */
static int
counter_batch_find(char **keys, const int *want, int n, const char *key)
{
	for (int k = 0; k < n; k++)
		if (strcmp(keys[want[k]], key) == 0)
			return want[k];
	return -1;
}

/*
 * Take a BatchGetItem answer for the unique keys want[0..n-1]: an item
 * found goes to items[], a key left unprocessed to retry[] (*nretry).
 * False when the answer is not of the expected shape.
 */
static bool
counter_batch_get_answer(const SeqdistStore *store, json_t *answer, char **keys,
						 const int *want, int n, json_t **items, int *retry, int *nretry)
{
	json_t	   *list = json_object_get(json_object_get(answer, "Responses"), store->table);
	json_t	   *left = json_object_get(json_object_get(json_object_get(answer, "UnprocessedKeys"),
													   store->table), "Keys");
	size_t		k;
	json_t	   *item;

	/* DynamoDB lists the table in Responses, without items if none exist */
	if (!json_is_array(list) || (left != NULL && !json_is_array(left)))
		return false;
	json_array_foreach(list, k, item)
	{
		const char *key = counter_item_key(item);
		int			u = key ? counter_batch_find(keys, want, n, key) : -1;

		if (u < 0 || items[u] != NULL)
			return false;		/* an item nobody asked for, or twice */
		json_incref(item);
		items[u] = item;
	}
	json_array_foreach(left, k, item)
	{
		const char *key = counter_item_key(item);
		int			u = key ? counter_batch_find(keys, want, n, key) : -1;

		if (u < 0)
			return false;
		retry[(*nretry)++] = u;
	}
	return true;
}

void
counter_read_items(const SeqdistStore *store, char **keys, int n, int concurrency, json_t **items)
{
	char	  **unique = palloc(sizeof(char *) * Max(n, 1));
	int		   *of = palloc(sizeof(int) * Max(n, 1));
	json_t	  **found = palloc0(sizeof(json_t *) * Max(n, 1));
	int		   *todo = palloc(sizeof(int) * Max(n, 1));
	int		   *retry = palloc(sizeof(int) * Max(n, 1));
	int			nunique = 0;
	int			ntodo;

	/* a key asked for twice is asked for once: DynamoDB refuses duplicates */
	for (int i = 0; i < n; i++)
	{
		int			u;

		for (u = 0; u < nunique && strcmp(unique[u], keys[i]) != 0; u++)
			;
		if (u == nunique)
			unique[nunique++] = keys[i];
		of[i] = u;
	}
	for (int u = 0; u < nunique; u++)
		todo[u] = u;
	ntodo = nunique;

	for (int round = 0; ntodo > 0; round++)
	{
		int			nreq = (ntodo + COUNTER_BATCH_GET_KEYS - 1) / COUNTER_BATCH_GET_KEYS;
		json_t	  **requests = palloc(sizeof(json_t *) * nreq);
		json_t	  **answers = palloc0(sizeof(json_t *) * nreq);
		DynamoError *errs = palloc0(sizeof(DynamoError) * nreq);
		DynamoStats *stats = palloc0(sizeof(DynamoStats) * nreq);
		int			nretry = 0;

		if (round == COUNTER_BATCH_GET_ROUNDS)
			ereport(ERROR,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("DynamoDB left %d counter items unread after %d BatchGetItem rounds",
							ntodo, COUNTER_BATCH_GET_ROUNDS),
					 errhint("DynamoDB leaves keys unprocessed when the table's read capacity is exceeded; try again later.")));
		if (round > 0)
			pg_usleep(50000L << round);
		for (int r = 0; r < nreq; r++)
		{
			json_t	   *list = json_array();

			for (int k = r * COUNTER_BATCH_GET_KEYS; k < Min(ntodo, (r + 1) * COUNTER_BATCH_GET_KEYS); k++)
				json_array_append_new(list, counter_key_json(unique[todo[k]]));
			requests[r] = json_pack("{s:{s:{s:o, s:b}}}", "RequestItems", store->table,
									"Keys", list, "ConsistentRead", 1);
		}
		dynamo_call_all(store, "BatchGetItem", requests, nreq, concurrency, answers, errs, stats);
		for (int r = 0; r < nreq; r++)
		{
			int			first = r * COUNTER_BATCH_GET_KEYS;
			bool		ok = answers[r] != NULL &&
				counter_batch_get_answer(store, answers[r], unique, todo + first,
										 Min(COUNTER_BATCH_GET_KEYS, ntodo - first), found,
										 retry, &nretry);

			if (!ok)
			{
				/* jansson's memory is not palloc'd: give it back first */
				for (int k = r; k < nreq; k++)
					if (answers[k] != NULL)
						json_decref(answers[k]);
				for (int u = 0; u < nunique; u++)
					if (found[u] != NULL)
						json_decref(found[u]);
				if (answers[r] != NULL)
					ereport(ERROR,
							(errcode(ERRCODE_PROTOCOL_VIOLATION),
							 errmsg("malformed response from DynamoDB to BatchGetItem"),
							 errdetail("Its Responses or UnprocessedKeys do not match the counter keys asked for.")));
				/* an identity without dynamodb:BatchGetItem: one GetItem each */
				if (dynamo_error_is(&errs[r], "AccessDeniedException"))
				{
					counter_read_items_one_by_one(store, keys, n, concurrency, items);
					return;
				}
				dynamo_raise(&errs[r]);
			}
			json_decref(answers[r]);
		}
		memcpy(todo, retry, sizeof(int) * nretry);
		ntodo = nretry;
	}
	for (int i = 0; i < n; i++)
	{
		items[i] = found[of[i]];
		if (items[i] != NULL)
			json_incref(items[i]);
	}
	for (int u = 0; u < nunique; u++)
		if (found[u] != NULL)
			json_decref(found[u]);
}

void
counter_read_positions(const SeqdistStore *store, char **keys, int n, int concurrency,
					   int128 *positions, bool *known)
{
	json_t	  **items = palloc0(sizeof(json_t *) * Max(n, 1));

	counter_read_items(store, keys, n, concurrency, items);
	for (int i = 0; i < n; i++)
	{
		known[i] = answer_number(items[i], ATTR_LAST, &positions[i]);
		if (items[i] != NULL)
			json_decref(items[i]);
	}
}

void
counter_read(const CounterRef *ref, CounterState *state, DynamoStats *stats)
{
	json_t	   *resp = counter_get(ref->store, ref->key, stats);
	bool		ok = answer_counter_item(resp, ref->client, state);

	if (state->token != NULL)
		state->token = pstrdup(state->token);
	json_decref(resp);
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("counter item \"%s\" in DynamoDB table \"%s\" is not a seqdist counter",
						ref->key, ref->store->table),
				 errdetail("Its \"%s\", \"%s\" or \"%s\" attribute is missing or malformed.",
						   ATTR_LAST, ATTR_INCREMENT, ATTR_CLIENTS)));
}

const char *
counter_version_condition(const CounterState *state)
{
	return state->has_version ? "#dv = :dv" : "attribute_not_exists(#dv)";
}

/* :dv (when the item has a version) and :ndv, the next one */
void
counter_add_version(json_t *values, const CounterState *state)
{
	if (state->has_version)
		json_object_set_new(values, ":dv", counter_num(state->version));
	json_object_set_new(values, ":ndv", counter_num(state->version + 1));
}

/* Does placeholder occur in expr as a whole token? */
static bool
counter_expr_uses(const char *expr, const char *placeholder)
{
	size_t		len = strlen(placeholder);

	for (const char *p = expr ? strstr(expr, placeholder) : NULL; p; p = strstr(p + 1, placeholder))
	{
		char		next = p[len];

		if (!(isalnum((unsigned char) next) || next == '_'))
			return true;
	}
	return false;
}

/*
 * DynamoDB refuses unused names, so only the used ones are sent.  Empty
 * objects are made with json_pack("{}"): inside the server, the symbol
 * json_object binds to PostgreSQL's SQL function of that name, not
 * jansson's.
 */
static json_t *
counter_names_for(const char *update, const char *condition)
{
	json_t	   *names = json_pack("{}");

	for (size_t i = 0; i < lengthof(counter_names); i++)
		if (counter_expr_uses(update, counter_names[i].placeholder) ||
			counter_expr_uses(condition, counter_names[i].placeholder))
			json_object_set_new(names, counter_names[i].placeholder,
								json_string(counter_names[i].attribute));
	return names;
}

json_t *
counter_update_request(const CounterRef *ref, const char *update, const char *condition,
					   json_t *values)
{
	return json_pack("{s:s, s:o, s:s, s:s, s:o, s:o, s:s}",
					 "TableName", ref->store->table,
					 "Key", counter_key_json(ref->key),
					 "UpdateExpression", update,
					 "ConditionExpression", condition,
					 "ExpressionAttributeNames", counter_names_for(update, condition),
					 "ExpressionAttributeValues", values,
					 "ReturnValues", "UPDATED_NEW");
}

json_t *
counter_update_attributes(json_t *resp)
{
	json_t	   *attrs;

	if (resp == NULL)
		return NULL;
	attrs = json_object_get(resp, "Attributes");
	if (attrs != NULL)
		json_incref(attrs);
	json_decref(resp);
	return attrs ? attrs : json_pack("{}");
}

json_t *
counter_update(const CounterRef *ref, const char *update, const char *condition,
			   json_t *values, DynamoError *err, DynamoStats *stats)
{
	json_t	   *req = counter_update_request(ref, update, condition, values);
	json_t	   *resp = dynamo_call(ref->store, "UpdateItem", req, err, stats);
	json_t	   *attrs;

	if (resp == NULL)
		return NULL;
	attrs = json_object_get(resp, "Attributes");
	if (attrs != NULL)
		json_incref(attrs);
	json_decref(resp);
	return attrs ? attrs : json_pack("{}");
}

bool
counter_write(const CounterRef *ref, const char *update, const char *condition,
			  json_t *values, DynamoStats *stats)
{
	char	   *token = counter_new_token();
	char	   *full_update = psprintf("%s, #wt = :wt", update);
	DynamoError err;
	json_t	   *attrs;
	CounterState state;

	json_object_set_new(values, ":wt", json_pack("{s:s}", "S", token));
	attrs = counter_update(ref, full_update, condition, values, &err, stats);
	if (attrs != NULL)
	{
		json_decref(attrs);
		return true;
	}
	if (!dynamo_error_is(&err, "ConditionalCheckFailedException"))
		dynamo_raise(&err);

	/* an earlier attempt of ours may have been applied, its answer lost */
	counter_read(ref, &state, stats);
	return state.token != NULL && strcmp(state.token, token) == 0;
}

void
counter_check_increment(const CounterRef *ref, const CounterParams *params,
						const CounterState *state)
{
	if (!state->exists)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("counter item \"%s\" of sequence \"%s\" does not exist in DynamoDB table \"%s\"",
						ref->key, ref->seqname, ref->store->table),
				 errhint("Restore the item, or register the sequence again with a position beyond every value already handed out.")));
	if (state->increment != params->increment)
	{
		char	   *theirs = counter_int128_text(state->increment);

		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("sequence \"%s\" has increment %lld but its counter \"%s\" has increment %s",
						ref->seqname, (long long) params->increment, ref->key, theirs),
				 errdetail("Clients of one counter must use the same increment, or they could hand out the same value.")));
	}
}

/*
 * A client that cycles moves the counter back to its far bound; any client
 * that does not cycle the same way would then repeat values.
 */
bool
counter_shareable(const CounterParams *params, const CounterState *state)
{
	return state->exists && state->increment == params->increment &&
		state->cycle == params->cycle &&
		(!params->cycle || (state->has_bounds && state->min_value == params->min_value &&
							state->max_value == params->max_value));
}

void
counter_check_shareable(const CounterRef *ref, const CounterParams *params,
						const CounterState *state)
{
	counter_check_increment(ref, params, state);
	if (!counter_shareable(params, state))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot share counter \"%s\": its CYCLE setting or bounds differ", ref->key),
				 errdetail("Clients of one counter that cycles must all cycle between the same bounds, or values would be handed out twice.")));
}

void
counter_raise_contention(const CounterRef *ref, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
			 errmsg("could not %s counter \"%s\" after %d attempts", what, ref->key,
					COUNTER_CAS_TRIES),
			 errdetail("Other clients kept changing the counter.")));
}
