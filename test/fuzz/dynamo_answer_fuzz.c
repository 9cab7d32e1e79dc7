/*
 * dynamo_answer_fuzz.c
 *		libFuzzer harness for the parser of DynamoDB's answers
 *		(src/dynamo_answer.c): success bodies, error bodies, numbers and the
 *		counter item's attributes.
 *
 * The input is the body of an answer.  It is read as a success answer (a
 * GetItem answer carrying the counter item, and an UpdateItem answer
 * carrying Attributes) and as an error answer, whatever it holds.  Besides
 * staying inside its memory, the parser must agree with what the input
 * says: counts of clients that add up, a token and an error type that are
 * the text of the answer, numbers accepted exactly when decimal128 accepts
 * their text, and a 5xx that is always retryable.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 */
#include "postgres.h"

#include "decimal128.h"
#include "dynamo_answer.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A client of database 16384 of system 7; "7:16384:1" may be in the set */
#define FUZZ_CLIENT "7:16384:1"

static const char *const fuzz_numbers[] = {
	ATTR_LAST, ATTR_INCREMENT, ATTR_MIN, ATTR_MAX, ATTR_VERSION,
};

/* answer_number must accept exactly what decimal128_parse accepts */
static void
fuzz_number(json_t *attrs, const char *name)
{
	json_t	   *n = json_object_get(json_object_get(attrs, name), "N");
	int128		v = 0;
	int128		w = 0;
	bool		ok = answer_number(attrs, name, &v);
	bool		expect = json_is_string(n) && decimal128_parse(json_string_value(n), &w);

	if (ok != expect || (ok && v != w))
		abort();
}

static void
fuzz_item(json_t *answer)
{
	json_t	   *item = json_object_get(answer, "Item");
	CounterState mine;
	CounterState none;
	int128		format;
	bool		ok_mine = answer_counter_item(answer, FUZZ_CLIENT, &mine);
	bool		ok_none = answer_counter_item(answer, NULL, &none);

	if (ok_mine != ok_none || mine.exists != (item != NULL) || none.exists != mine.exists)
		abort();
	if (!mine.exists && !(ok_mine && mine.nclients == 0 && mine.token == NULL))
		abort();
	if (ok_mine && mine.exists)
	{
		json_t	   *token = json_object_get(json_object_get(item, ATTR_TOKEN), "S");

		/* counts add up, and do not depend on who asks */
		if (mine.nforeign > mine.nclients || none.nclients != mine.nclients ||
			none.nforeign != none.nclients || none.member)
			abort();
		if (mine.member && mine.nforeign == mine.nclients)
			abort();
		/* no clients set: format 1, unless the item says a later format */
		if (mine.legacy != (json_object_get(item, ATTR_CLIENTS) == NULL &&
							!(answer_number(item, ATTR_FORMAT, &format) && format >= 2)) ||
			(mine.legacy && mine.nclients != 0) || none.legacy != mine.legacy)
			abort();
		/* the token is the answer's text */
		if ((mine.token != NULL) != json_is_string(token) ||
			(mine.token != NULL && mine.token != json_string_value(token)))
			abort();
		if (mine.has_version != answer_number(item, ATTR_VERSION, &none.version))
			abort();
		if (mine.last_value != none.last_value || mine.increment != none.increment)
			abort();
	}
	for (size_t i = 0; i < lengthof(fuzz_numbers); i++)
	{
		fuzz_number(item, fuzz_numbers[i]);
		fuzz_number(json_object_get(answer, "Attributes"), fuzz_numbers[i]);
	}
}

static void
fuzz_error(const char *body, size_t len)
{
	AnswerError err;

	answer_parse_error(body, len, &err);
	if (err.type != NULL)
	{
		json_t	   *t = json_object_get(err.doc, "__type");
		const char *full = json_string_value(t);
		const char *hash = full ? strchr(full, '#') : NULL;

		if (full == NULL || err.type != (hash ? hash + 1 : full))
			abort();
		if (answer_error_class(400, err.type) == ANSWER_UNKNOWN)
			abort();
	}
	else if (answer_error_class(400, NULL) != ANSWER_UNKNOWN)
		abort();
	if (err.message != NULL && !json_is_object(err.doc))
		abort();
	if (answer_error_class(500, err.type) != ANSWER_RETRYABLE ||
		answer_error_class(503, err.type) != ANSWER_RETRYABLE)
		abort();
	if (answer_error_class(400, err.type) == ANSWER_RETRYABLE &&
		!answer_retryable_type(err.type))
		abort();
	answer_error_release(&err);
	if (err.doc != NULL || err.type != NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *) data;
	json_t	   *answer = answer_parse_object(body, size);

	if (answer != NULL)
	{
		if (!json_is_object(answer))
			abort();
		fuzz_item(answer);
		json_decref(answer);
	}
	fuzz_error(body, size);
	return 0;
}
