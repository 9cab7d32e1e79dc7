/*-------------------------------------------------------------------------
 *
 * dynamo_answer.h
 *		The parser of DynamoDB's answers: success bodies, error bodies, "N"
 *		numbers and the counter item's attributes (no PostgreSQL backend
 *		dependency, so that it can be fuzzed on its own).
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEQDIST_DYNAMO_ANSWER_H
#define SEQDIST_DYNAMO_ANSWER_H

#include <jansson.h>

/* Attribute names of the counter item (see counter_item.c for the layout) */
#define ATTR_LAST "last_value"
#define ATTR_INCREMENT "increment"
#define ATTR_MIN "min_value"
#define ATTR_MAX "max_value"
#define ATTR_START "start_value"
#define ATTR_CYCLE "cycle"
#define ATTR_VERSION "def_version"
#define ATTR_TOKEN "write_token"
#define ATTR_CLIENTS "clients"
#define ATTR_FORMAT "format"

/* What a consistent read of the counter item found */
typedef struct CounterState
{
	bool		exists;
	int128		last_value;
	int128		increment;
	bool		cycle;			/* the item allows wrapping around */
	int128		min_value;		/* recorded bounds, when present */
	int128		max_value;
	bool		has_bounds;
	int128		version;		/* def_version; 0 when the item has none */
	bool		has_version;
	const char *token;			/* write_token, or NULL */
	int			nclients;		/* members of the clients set */
	int			nforeign;		/* of them, clients of other databases */
	bool		member;			/* the asking client is one of them */
	bool		legacy;			/* format 1: no clients set, clients unknown */
} CounterState;

/* How an error answer is to be treated */
typedef enum AnswerErrorClass
{
	ANSWER_RETRYABLE,			/* 5xx or throttling: try again */
	ANSWER_REFUSAL,				/* an AWS error type: DynamoDB said no */
	ANSWER_UNKNOWN				/* no error type: not DynamoDB's answer */
} AnswerErrorClass;

/* The parts of an error answer; type and message point into doc */
typedef struct AnswerError
{
	json_t	   *doc;			/* the parsed body, or NULL */
	const char *type;			/* __type without its namespace, or NULL */
	const char *message;		/* message (or Message), or NULL */
} AnswerError;

/*
 * The body of a 200 answer as a JSON object (json_decref it), or NULL when
 * it is not a JSON object.
 */
extern json_t *answer_parse_object(const char *body, size_t len);

/*
 * Find the type and message of an error answer, {"__type":
 * "namespace#Type", "message": "..."}; either may be NULL.  Release with
 * answer_error_release once type and message are no longer needed.
 */
extern void answer_parse_error(const char *body, size_t len, AnswerError *out);
extern void answer_error_release(AnswerError *err);

/* Throttling and server-side types, which AWS advises to retry */
extern bool answer_retryable_type(const char *type);

/* A 5xx is retryable whatever its body says */
extern AnswerErrorClass answer_error_class(long http_status, const char *type);

/* The "N" attribute name of attrs as a number; false when absent or malformed */
extern bool answer_number(json_t *attrs, const char *name, int128 *out);

/*
 * Read the counter item of a GetItem answer into *state, as seen by client
 * (NULL: no client).  state->token points into answer.  False when the item
 * exists but its last_value, increment or clients attribute is malformed.
 */
extern bool answer_counter_item(json_t *answer, const char *client, CounterState *state);

#endif							/* SEQDIST_DYNAMO_ANSWER_H */
