/*-------------------------------------------------------------------------
 *
 * counter_internal.h
 *		The counter item's layout and the conditional-write helpers shared
 *		by the files of tier 1: counter_item.c (reading and writing the
 *		item), counter.c (reserving blocks) and counter_share.c (who shares
 *		a counter and which changes are allowed).
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEQDIST_COUNTER_INTERNAL_H
#define SEQDIST_COUNTER_INTERNAL_H

#include <jansson.h>

#include "counter.h"
#include "dynamo_answer.h"

/* Compare-and-set attempts before giving up under extreme contention */
#define COUNTER_CAS_TRIES 100

/* Attribute names of the item: the key here, the others in dynamo_answer.h */
#define ATTR_KEY COUNTER_KEY_ATTR

/* Bytes of randomness in a write token (hex-encoded in the item) */
#define COUNTER_TOKEN_BYTES 16

/*
 * A conditional UpdateItem under construction: the expressions name
 * attributes by placeholder (#lv, #inc, ...); the attribute names actually
 * used are filled in when it is sent.  values holds the :placeholders.
 */
typedef struct CounterUpdate
{
	const char *update;
	const char *condition;
	json_t	   *values;
} CounterUpdate;

extern json_t *counter_key_json(const char *key);
extern json_t *counter_num(int128 v);
extern json_t *counter_client_set(const char *client);

/* The clients a joining client adds to the item read into state */
extern json_t *counter_joining_set(const CounterRef *ref, const CounterState *state);

/* The placeholder client recorded when a client joins a counter of format 1 */
#define COUNTER_LEGACY_CLIENT "format-1-clients"
extern char *counter_new_token(void);

/* The request of a consistent read of the item (GetItem) */
extern json_t *counter_get_request(const SeqdistStore *store, const char *key);

/* Consistent read of the item's state, as seen by ref->client */
extern void counter_read(const CounterRef *ref, CounterState *state, DynamoStats *stats);

/* The version condition and the next version, for writes based on state */
extern const char *counter_version_condition(const CounterState *state);
extern void counter_add_version(json_t *values, const CounterState *state);

/*
 * Send an UpdateItem that also sets write_token to a fresh token.  Returns
 * true when it was applied, including when its condition failed only
 * because an earlier attempt of the same call was applied and its answer
 * lost (the item then carries our token); false when the condition failed
 * because the item is not as read.  values is consumed.
 */
extern bool counter_write(const CounterRef *ref, const char *update, const char *condition,
						  json_t *values, DynamoStats *stats);

/* The same, returning UPDATED_NEW attributes (json_decref them), or NULL */
extern json_t *counter_update(const CounterRef *ref, const char *update,
							  const char *condition, json_t *values, DynamoError *err,
							  DynamoStats *stats);

/*
 * counter_update in two halves, for requests sent in a batch: the request
 * (values is consumed), and the UPDATED_NEW attributes out of a decoded
 * answer (consumed; NULL gives NULL).
 */
extern json_t *counter_update_request(const CounterRef *ref, const char *update,
									  const char *condition, json_t *values);
extern json_t *counter_update_attributes(json_t *resp);

/*
 * Read the item as counter_read does and check its increment; when the
 * client is not a member, join and return false (read again then), or,
 * unless may_join, raise an ERROR.
 */
extern bool counter_read_as_member(const CounterRef *ref, const CounterParams *params,
								   CounterState *state, bool may_join, DynamoStats *stats);

/* Errors every file of tier 1 raises */
extern void counter_check_increment(const CounterRef *ref, const CounterParams *params,
									const CounterState *state);
extern void counter_check_shareable(const CounterRef *ref, const CounterParams *params,
									const CounterState *state);
/* Whether counter_check_shareable would pass, without raising */
extern bool counter_shareable(const CounterParams *params, const CounterState *state);
extern void counter_raise_contention(const CounterRef *ref, const char *what)
			pg_attribute_noreturn();

#endif							/* SEQDIST_COUNTER_INTERNAL_H */
