/*-------------------------------------------------------------------------
 *
 * dynamo_answer.c
 *		Parse DynamoDB's answers.
 *
 * Everything DynamoDB sends back is read here: whether a success body is a
 * JSON object, the type and message of an error body, numbers (DynamoDB
 * writes them as decimal text in {"N": "..."}), and the attributes of the
 * counter item.  The caller decides what to do with the result and raises
 * its errors; nothing here allocates in PostgreSQL's memory contexts or
 * raises, so that the libFuzzer harness in test/fuzz can link this file
 * with decimal128.c and jansson alone.  Only PostgreSQL's types are used.
 *
 * Locking: none.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "decimal128.h"
#include "dynamo_answer.h"

json_t *
answer_parse_object(const char *body, size_t len)
{
	json_error_t jerr;
	json_t	   *doc = json_loadb(body, len, 0, &jerr);

	if (doc != NULL && !json_is_object(doc))
	{
		json_decref(doc);
		doc = NULL;
	}
	return doc;
}

void
answer_parse_error(const char *body, size_t len, AnswerError *out)
{
	json_t	   *doc = json_loadb(body ? body : "", len, 0, NULL);

	out->doc = doc;
	out->type = NULL;
	out->message = NULL;
	if (doc && json_is_object(doc))
	{
		json_t	   *t = json_object_get(doc, "__type");
		json_t	   *m = json_object_get(doc, "message");

		if (m == NULL)
			m = json_object_get(doc, "Message");
		if (json_is_string(t))
		{
			out->type = json_string_value(t);
			if (strchr(out->type, '#'))
				out->type = strchr(out->type, '#') + 1;
		}
		if (json_is_string(m))
			out->message = json_string_value(m);
	}
}

void
answer_error_release(AnswerError *err)
{
	if (err->doc)
		json_decref(err->doc);
	err->doc = NULL;
	err->type = NULL;
	err->message = NULL;
}

bool
answer_retryable_type(const char *type)
{
	static const char *const retryable[] = {
		"ProvisionedThroughputExceededException",
		"ThrottlingException",
		"RequestLimitExceeded",
		"InternalServerError",
		"ServiceUnavailable",
		"LimitExceededException",
	};

	if (type == NULL)
		return false;
	for (size_t i = 0; i < lengthof(retryable); i++)
		if (strcmp(type, retryable[i]) == 0)
			return true;
	return false;
}

AnswerErrorClass
answer_error_class(long http_status, const char *type)
{
	if (http_status >= 500 || answer_retryable_type(type))
		return ANSWER_RETRYABLE;
	if (type != NULL)
		return ANSWER_REFUSAL;
	return ANSWER_UNKNOWN;
}

bool
answer_number(json_t *attrs, const char *name, int128 *out)
{
	json_t	   *n = json_object_get(json_object_get(attrs, name), "N");

	return json_is_string(n) && decimal128_parse(json_string_value(n), out);
}

/* The length of "<system identifier>:<database oid>:" at the start of client */
static size_t
answer_database_prefix(const char *client)
{
	const char *colon = client ? strchr(client, ':') : NULL;

	colon = colon ? strchr(colon + 1, ':') : NULL;
	return colon ? (size_t) (colon - client) + 1 : 0;
}

/* Count the clients and find ours; false when the set is malformed */
static bool
answer_clients(json_t *item, const char *client, CounterState *state)
{
	json_t	   *attr = json_object_get(item, ATTR_CLIENTS);
	json_t	   *set;
	size_t		i;
	json_t	   *member;
	size_t		prefix = answer_database_prefix(client);

	if (attr == NULL)
	{
		int128		format;

		/*
		 * A counter of format 1: its clients are not known.  One of a later
		 * format has no clients: its last client left, and DynamoDB removes
		 * a set that becomes empty.
		 */
		if (!answer_number(item, ATTR_FORMAT, &format) || format < 2)
			state->legacy = true;
		return true;
	}
	set = json_object_get(attr, "SS");
	if (!json_is_array(set))
		return false;
	json_array_foreach(set, i, member)
	{
		const char *name;

		if (!json_is_string(member))
			return false;
		name = json_string_value(member);
		state->nclients++;
		if (client != NULL && strcmp(name, client) == 0)
			state->member = true;
		if (prefix == 0 || strncmp(name, client, prefix) != 0)
			state->nforeign++;
	}
	return true;
}

bool
answer_counter_item(json_t *answer, const char *client, CounterState *state)
{
	json_t	   *item = json_object_get(answer, "Item");
	json_t	   *token;
	bool		ok;

	memset(state, 0, sizeof(*state));
	if (item == NULL)
		return true;
	token = json_object_get(json_object_get(item, ATTR_TOKEN), "S");
	state->exists = true;
	ok = answer_number(item, ATTR_LAST, &state->last_value) &&
		answer_number(item, ATTR_INCREMENT, &state->increment) &&
		answer_clients(item, client, state);
	state->cycle = json_is_true(json_object_get(json_object_get(item, ATTR_CYCLE), "BOOL"));
	state->has_bounds = answer_number(item, ATTR_MIN, &state->min_value) &&
		answer_number(item, ATTR_MAX, &state->max_value);
	state->has_version = answer_number(item, ATTR_VERSION, &state->version);
	if (json_is_string(token))
		state->token = json_string_value(token);
	return ok;
}
