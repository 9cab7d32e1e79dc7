/*-------------------------------------------------------------------------
 *
 * dynamo.h
 *		DynamoDB API calls: signing, retries and error mapping.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEQDIST_DYNAMO_H
#define SEQDIST_DYNAMO_H

#include "store.h"

/* jansson's type; kept opaque so that callers need not include jansson.h */
struct json_t;

/* Defines seqdist.max_attempts, seqdist.retry_base_delay, retry_max_delay */
extern void dynamo_init(void);

/* seqdist.bulk_concurrency: requests a backend sends at once for bulk work */
#define DYNAMO_MAX_BULK_CONCURRENCY 256
extern int	dynamo_bulk_concurrency;

/* seqdist.bulk_concurrency, or fewer if the process's descriptors are few */
extern int	dynamo_bulk_width(void);

typedef enum DynamoErrorKind
{
	DYNAMO_OK = 0,
	DYNAMO_TRANSPORT,			/* no usable answer after every attempt */
	DYNAMO_UNAVAILABLE,			/* 5xx or throttling after every attempt */
	DYNAMO_AWS_ERROR,			/* a non-retryable error answered by DynamoDB */
	DYNAMO_MALFORMED			/* an answer that is not DynamoDB's JSON */
} DynamoErrorKind;

typedef struct DynamoError
{
	DynamoErrorKind kind;
	const SeqdistStore *store;	/* where the request went */
	const char *operation;		/* "UpdateItem", ... */
	int			attempts;
	long		http_status;
	char	   *type;			/* AWS error type without namespace, or NULL */
	char	   *message;		/* remote or transport text, credentials removed */
} DynamoError;

/*
 * What DynamoDB calls did: every attempt is a request; latency is a
 * histogram of attempts by duration, in buckets of powers of two
 * milliseconds (bucket i: below 2^i ms).  Callers that keep statistics pass
 * one to dynamo_call, which adds to it.
 */
#define DYNAMO_LATENCY_BUCKETS 16
typedef struct DynamoStats
{
	uint64		requests;
	uint64		retries;
	uint64		throttles;
	uint64		errors;
	uint64		latency[DYNAMO_LATENCY_BUCKETS];
} DynamoStats;

extern void dynamo_stats_add(DynamoStats *into, const DynamoStats *from);

/*
 * Send one DynamoDB API request to store, retrying what may be retried.
 *
 * The request object is consumed (its reference is released in every case).
 * On success returns the decoded response, which the caller must
 * json_decref.  On failure: if err is NULL, raises an ERROR; otherwise fills
 * *err and returns NULL, and the caller either handles the error or passes
 * it to dynamo_raise().  What the attempts did is added to *stats, unless
 * stats is NULL.
 */
extern struct json_t *dynamo_call(const SeqdistStore *store, const char *operation,
								  struct json_t *request, DynamoError *err,
								  DynamoStats *stats);

/* Called as soon as request i of a batch has its final outcome */
typedef void (*DynamoDoneCallback) (int i, void *arg);
/* Called just before request i of a batch is first sent; false skips it */
typedef bool (*DynamoStartCallback) (int i, void *arg);

/*
 * Send n requests of one operation to store, up to window of them in
 * flight at once (one connection each): as soon as one ends, the next
 * starts, so a slow request holds up no other.  Each is retried like
 * dynamo_call's, with the same attempts and backoff, without holding up the
 * others: a retry waits out its backoff and then takes the next free place.
 * Every request is consumed.  start (unless NULL) is called with i, in
 * order, just before request i would be sent the first time; when it
 * returns false the request is not sent, results[i] stays NULL and done is
 * not called for it.  All are signed at the start: a request not started a
 * minute later is not sent at all (start is never called for it), so that
 * no signature is sent old; the caller sends it again.  results[i] is the decoded answer to requests[i]
 * (json_decref it) or NULL, and then errs[i] says why; what request i's
 * attempts did is added to stats[i].  done (unless NULL) is called with i
 * as soon as request i's outcome is final; it may take results[i] (leaving
 * NULL).  Neither callback may send a request itself.  Raises an ERROR only
 * for what dynamo_call always raises for (an interrupt, an unusable
 * client).
 */
extern void dynamo_call_batch(const SeqdistStore *store, const char *operation,
							  struct json_t **requests, int n, int window,
							  struct json_t **results, DynamoError *errs,
							  DynamoStats *stats, DynamoStartCallback start,
							  DynamoDoneCallback done, void *arg);

/*
 * dynamo_call_batch without callbacks, for requests that may be sent again
 * as they are: the ones a stream did not start (their signature aged) are
 * sent again until every request has its outcome (results[i], or errs[i]).
 * Every request is consumed; stats[i] is added to.
 */
extern void dynamo_call_all(const SeqdistStore *store, const char *operation,
							struct json_t **requests, int n, int window,
							struct json_t **results, DynamoError *errs, DynamoStats *stats);

/*
 * Send a request whose answer is not needed.  Returns true on success, false
 * when DynamoDB answered the AWS error named expected (say, a failed
 * condition); raises an ERROR for anything else.  stats as for dynamo_call.
 */
extern bool dynamo_call_unless(const SeqdistStore *store, const char *operation,
							   struct json_t *request, const char *expected,
							   DynamoStats *stats);

/*
 * The longest one dynamo_call may take under this process's settings, in
 * ms: every attempt timing out (seqdist.request_timeout ×
 * seqdist.max_attempts) plus the longest backoff between them.
 */
extern int64 dynamo_call_bound_ms(void);

/* Raise an ERROR describing err, with an errcode fitting its kind */
extern void dynamo_raise(const DynamoError *err) pg_attribute_noreturn();

/* True when err is the AWS error named type */
extern bool dynamo_error_is(const DynamoError *err, const char *type);

/* Does the AWS error type mean the credentials were not accepted? */
extern bool dynamo_error_is_auth(const DynamoError *err);

#endif							/* SEQDIST_DYNAMO_H */
