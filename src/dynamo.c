/*-------------------------------------------------------------------------
 *
 * dynamo.c
 *		One DynamoDB API call: encode, sign, send, retry, decode, map errors.
 *
 * Every call is a POST of a JSON document to the endpoint with the target
 * operation in X-Amz-Target, signed with AWS Signature Version 4.  Retries
 * follow AWS's guidance: throttling errors, 5xx answers and transport
 * failures are retried with capped exponential backoff and full jitter (the
 * delay before attempt n+1 is uniform in [0, min(cap, base * 2^n)]);
 * everything else (validation, access, conditional check failures) is
 * returned at once.  Retrying an UpdateItem whose answer was lost may apply it
 * twice; that only skips the block the lost answer carried (a gap), never
 * hands out a value twice, because each applied update reserves a range no
 * other update can reserve.
 *
 * Library memory (jansson objects and dumps) is released before any ERROR
 * can be raised, or in PG_FINALLY where an ERROR can intervene.
 *
 * Locking: none; everything here is process-local.  A call may wait (the
 * backoff, the transfer) only interruptibly and never while holding a lock
 * of seqdist's.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <time.h>
#include <jansson.h>

#include "common/pg_prng.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/latch.h"
#include "utils/guc.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "credentials.h"
#include "dynamo.h"
#include "dynamo_answer.h"
#include "http.h"
#include "sigv4.h"

#define DYNAMO_SERVICE "dynamodb"
#define DYNAMO_TARGET_PREFIX "DynamoDB_20120810."
#define DYNAMO_CONTENT_TYPE "application/x-amz-json-1.0"

/* How much of an unexpected body, and of remote error text, to quote */
#define DYNAMO_QUOTE_MAX 200
#define DYNAMO_MESSAGE_MAX 1000
#define DYNAMO_TYPE_MAX 128

/*---- settings ----*/
static int	dynamo_max_attempts = 5;
static int	dynamo_retry_base_ms = 25;
static int	dynamo_retry_cap_ms = 1000;
int			dynamo_bulk_concurrency = 64;

/*
 * How long after a stream's requests were signed the first attempt of one
 * may still be sent (AWS refuses a signature more than 5 minutes old, and
 * temporary credentials are refreshed minutes before they expire)
 */
#define DYNAMO_STREAM_MAX_AGE_MS 60000

/* Header lines of a signed request: five signed ones and Authorization */
#define DYNAMO_MAX_LINES 6

static int	dynamo_sign(const SeqdistStore *store, const char *operation,
						const char *body, const char **lines);
static void dynamo_wipe_lines(const char **lines, int nlines);

static void dynamo_send_once(const SeqdistStore *store, const char *operation,
							 const char *body, HttpResponse *resp);
static void dynamo_decode_error(const HttpResponse *resp, DynamoError *err);
static char *dynamo_quote(const char *text, size_t len, size_t max);
static void dynamo_backoff(int attempt);
static long dynamo_backoff_ms(int retry);
static void dynamo_count_latency(DynamoStats *stats, TimestampTz start);
static void dynamo_raise_refusal(const DynamoError *err, const char *msg)
			pg_attribute_noreturn();

int
dynamo_bulk_width(void)
{
	return Min(dynamo_bulk_concurrency, http_max_parallel());
}

void
dynamo_init(void)
{
	DefineCustomIntVariable("seqdist.max_attempts",
							"Attempts per DynamoDB operation when it fails with a retryable error.",
							NULL,
							&dynamo_max_attempts, 5, 1, 100,
							PGC_SUSET, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("seqdist.retry_base_delay",
							"First backoff delay between attempts; it doubles with each attempt.",
							NULL,
							&dynamo_retry_base_ms, 25, 1, 60000,
							PGC_SUSET, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomIntVariable("seqdist.bulk_concurrency",
							"DynamoDB requests a backend sends at once for work on many counters.",
							"Migration, verification and rollback of many sequences, and a transaction that drops many, send their requests this many at a time.",
							&dynamo_bulk_concurrency, 64, 1, DYNAMO_MAX_BULK_CONCURRENCY,
							PGC_USERSET, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("seqdist.retry_max_delay",
							"Cap on the backoff delay between attempts.",
							NULL,
							&dynamo_retry_cap_ms, 1000, 1, 600000,
							PGC_SUSET, GUC_UNIT_MS,
							NULL, NULL, NULL);
}

void
dynamo_stats_add(DynamoStats *into, const DynamoStats *from)
{
	into->requests += from->requests;
	into->retries += from->retries;
	into->throttles += from->throttles;
	into->errors += from->errors;
	for (int i = 0; i < DYNAMO_LATENCY_BUCKETS; i++)
		into->latency[i] += from->latency[i];
}

static void
dynamo_count_latency(DynamoStats *stats, TimestampTz start)
{
	int64		ms = (GetCurrentTimestamp() - start) / 1000;
	int			bucket = 0;

	while (bucket < DYNAMO_LATENCY_BUCKETS - 1 && ms >= ((int64) 1 << bucket))
		bucket++;
	stats->latency[bucket]++;
}

/* Encode a request, releasing it before anything can raise */
static char *
dynamo_encode(json_t *request, const char *operation)
{
	char	   *dump = json_dumps(request, JSON_COMPACT);
	char	   *body;

	json_decref(request);
	if (dump == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("could not encode a DynamoDB %s request", operation)));
	body = pstrdup(dump);
	free(dump);
	return body;
}

/*
 * What the answer to attempt number attempt means, recorded in *e: on
 * success *result is the decoded answer; otherwise returns whether the
 * failure may be retried.  Frees resp.
 */
static bool
dynamo_take_answer(HttpResponse *resp, int attempt, DynamoError *e, DynamoStats *st,
				   json_t **result)
{
	bool		retryable = false;

	*result = NULL;
	e->attempts = attempt;
	e->http_status = resp->status;
	if (e->type)
		pfree(e->type);
	if (e->message)
		pfree(e->message);
	e->type = NULL;
	e->message = NULL;

	if (resp->outcome == HTTP_RESPONSE && resp->status == 200)
	{
		json_t	   *doc = answer_parse_object(resp->body, resp->body_len);

		if (doc == NULL)
		{
			e->kind = DYNAMO_MALFORMED;
			e->message = dynamo_quote(resp->body, resp->body_len, DYNAMO_QUOTE_MAX);
		}
		else
		{
			e->kind = DYNAMO_OK;
			*result = doc;
		}
	}
	else if (resp->outcome == HTTP_RESPONSE)
	{
		dynamo_decode_error(resp, e);
		retryable = (e->kind == DYNAMO_UNAVAILABLE);
		if (retryable && resp->status < 500)
			st->throttles++;
	}
	else
	{
		const char *text = resp->error ? resp->error : "transport failure";

		e->kind = DYNAMO_TRANSPORT;
		e->message = dynamo_quote(text, strlen(text), DYNAMO_MESSAGE_MAX);
		retryable = true;
	}
	http_response_free(resp);
	return retryable;
}

json_t *
dynamo_call(const SeqdistStore *store, const char *operation, json_t *request,
			DynamoError *err, DynamoStats *stats)
{
	char	   *body;
	DynamoError local;
	DynamoError *e = err ? err : &local;
	DynamoStats discard;
	DynamoStats *st = stats ? stats : &discard;
	json_t	   *result = NULL;

	body = dynamo_encode(request, operation);
	memset(e, 0, sizeof(*e));
	e->operation = operation;
	e->store = store;

	for (int attempt = 1;; attempt++)
	{
		HttpResponse resp;
		bool		retryable;
		TimestampTz start;

		if (attempt > 1)
		{
			dynamo_backoff(attempt - 1);
			st->retries++;
		}
		st->requests++;
		start = GetCurrentTimestamp();
		dynamo_send_once(store, operation, body, &resp);
		dynamo_count_latency(st, start);
		retryable = dynamo_take_answer(&resp, attempt, e, st, &result);
		if (result != NULL || !retryable || attempt >= dynamo_max_attempts)
			break;
	}

	pfree(body);
	if (e->kind != DYNAMO_OK)
		st->errors++;
	if (e->kind != DYNAMO_OK && err == NULL)
		dynamo_raise(e);
	return result;
}

/*
 * A batch as a stream, as the transport's callbacks see it: every request
 * signed once, before the stream starts (a retry sends the same signed
 * request again, well within the signature's validity), and sent when a
 * place in the window is free: a retry once its backoff is over, first, or
 * else the next request the caller's start callback lets go.
 */
typedef struct DynamoStream
{
	const SeqdistStore *store;
	int			n;
	int			next;			/* the first request not yet looked at */
	char	  **bodies;
	const char **lines;			/* DYNAMO_MAX_LINES per request */
	int		   *nlines;
	int		   *attempt;		/* attempts sent so far */
	TimestampTz *sent;			/* when the last attempt was sent */
	TimestampTz *due;			/* when to send it again; 0: not waiting */
	int			nwaiting;		/* requests waiting for their retry */
	TimestampTz signed_at;		/* when the requests were signed */
	json_t	  **results;
	DynamoError *errs;
	DynamoStats *stats;
	DynamoStartCallback start;
	DynamoDoneCallback done;
	void	   *arg;
} DynamoStream;

/* Request i goes out (again) as req */
static int
dynamo_stream_send(DynamoStream *s, int i, HttpRequest *req)
{
	if (s->attempt[i] > 0)
		s->stats[i].retries++;
	s->attempt[i]++;
	s->stats[i].requests++;
	s->sent[i] = GetCurrentTimestamp();
	req->url = s->store->endpoint;
	req->headers = s->lines + (size_t) i * DYNAMO_MAX_LINES;
	req->nheaders = s->nlines[i];
	req->body = s->bodies[i];
	req->body_len = strlen(s->bodies[i]);
	return i;
}

/* The transport asks for the next request to send */
static int
dynamo_stream_next(void *arg, HttpRequest *req)
{
	DynamoStream *s = (DynamoStream *) arg;

	if (s->nwaiting > 0)
	{
		TimestampTz now = GetCurrentTimestamp();

		for (int i = 0; i < s->next; i++)
			if (s->due[i] != 0 && s->due[i] <= now)
			{
				s->due[i] = 0;
				s->nwaiting--;
				return dynamo_stream_send(s, i, req);
			}
	}
	/*
	 * A signature ages: past DYNAMO_STREAM_MAX_AGE_MS no request starts any
	 * more; start is not called for the rest, which the caller sends again,
	 * signed anew.
	 */
	if (s->next < s->n &&
		TimestampDifferenceExceeds(s->signed_at, GetCurrentTimestamp(), DYNAMO_STREAM_MAX_AGE_MS))
		s->next = s->n;
	while (s->next < s->n)
	{
		int			i = s->next++;

		if (s->start == NULL || s->start(i, s->arg))
			return dynamo_stream_send(s, i, req);
	}
	return s->nwaiting > 0 ? HTTP_STREAM_LATER : HTTP_STREAM_END;
}

/* Request i has an answer: final, or to be tried again after a backoff */
static void
dynamo_stream_done(void *arg, int i, HttpResponse *resp)
{
	DynamoStream *s = (DynamoStream *) arg;
	bool		retryable;

	dynamo_count_latency(&s->stats[i], s->sent[i]);
	retryable = dynamo_take_answer(resp, s->attempt[i], &s->errs[i], &s->stats[i],
								   &s->results[i]);
	if (s->results[i] == NULL && retryable && s->attempt[i] < dynamo_max_attempts)
	{
		s->due[i] = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
												dynamo_backoff_ms(s->attempt[i]));
		s->nwaiting++;
		return;
	}
	if (s->results[i] == NULL)
		s->stats[i].errors++;
	if (s->done)
		s->done(i, s->arg);
}

/* Sign every request of the stream, then send them; the lines are wiped whatever happens */
static void
dynamo_stream_run(DynamoStream *s, const char *operation, int window)
{
	int			n = s->n;
	/* zeroed: dynamo_sign's error path wipes only the lines it wrote */
	const char **lines = palloc0(sizeof(char *) * DYNAMO_MAX_LINES * n);
	int		   *nlines = palloc0(sizeof(int) * n);

	s->lines = lines;
	s->nlines = nlines;
	PG_TRY();
	{
		for (int i = 0; i < n; i++)
			nlines[i] = dynamo_sign(s->store, operation, s->bodies[i],
									lines + (size_t) i * DYNAMO_MAX_LINES);
		s->signed_at = GetCurrentTimestamp();
		http_post_stream(Min(window, n), dynamo_stream_next, dynamo_stream_done, s);
	}
	PG_FINALLY();
	{
		for (int i = 0; i < n; i++)
			dynamo_wipe_lines(lines + (size_t) i * DYNAMO_MAX_LINES, nlines[i]);
		pfree(lines);
		pfree(nlines);
	}
	PG_END_TRY();
}

void
dynamo_call_batch(const SeqdistStore *store, const char *operation, json_t **requests,
				  int n, int window, json_t **results, DynamoError *errs,
				  DynamoStats *stats, DynamoStartCallback start, DynamoDoneCallback done,
				  void *arg)
{
	DynamoStream s;

	if (n <= 0)
		return;
	memset(&s, 0, sizeof(s));
	s.store = store;
	s.n = n;
	s.bodies = palloc0(sizeof(char *) * n);
	s.attempt = palloc0(sizeof(int) * n);
	s.sent = palloc0(sizeof(TimestampTz) * n);
	s.due = palloc0(sizeof(TimestampTz) * n);
	s.results = results;
	s.errs = errs;
	s.stats = stats;
	s.start = start;
	s.done = done;
	s.arg = arg;

	/* encode every request first: each is consumed whatever happens */
	for (int i = 0; i < n; i++)
	{
		json_t	   *req = requests[i];

		requests[i] = NULL;
		results[i] = NULL;
		memset(&errs[i], 0, sizeof(DynamoError));
		errs[i].operation = operation;
		errs[i].store = store;
		PG_TRY();
		{
			s.bodies[i] = dynamo_encode(req, operation);
		}
		PG_CATCH();
		{
			for (int j = i + 1; j < n; j++)
				if (requests[j])
				{
					json_decref(requests[j]);
					requests[j] = NULL;
				}
			PG_RE_THROW();
		}
		PG_END_TRY();
	}

	dynamo_stream_run(&s, operation, window);
	for (int i = 0; i < n; i++)
		pfree(s.bodies[i]);
	pfree(s.bodies);
	pfree(s.attempt);
	pfree(s.sent);
	pfree(s.due);
}

void
dynamo_call_all(const SeqdistStore *store, const char *operation, json_t **requests, int n,
				int window, json_t **results, DynamoError *errs, DynamoStats *stats)
{
	int		   *todo = palloc(sizeof(int) * Max(n, 1));
	json_t	  **reqs = palloc(sizeof(json_t *) * Max(n, 1));
	json_t	  **res = palloc(sizeof(json_t *) * Max(n, 1));
	DynamoError *e = palloc(sizeof(DynamoError) * Max(n, 1));
	DynamoStats *st = palloc(sizeof(DynamoStats) * Max(n, 1));
	int			ntodo = n;

	for (int i = 0; i < n; i++)
	{
		todo[i] = i;
		results[i] = NULL;
	}
	while (ntodo > 0)
	{
		int			left = 0;

		for (int k = 0; k < ntodo; k++)
		{
			reqs[k] = requests[todo[k]];
			json_incref(reqs[k]);
		}
		memset(st, 0, sizeof(DynamoStats) * ntodo);
		PG_TRY();
		{
			dynamo_call_batch(store, operation, reqs, ntodo, window, res, e, st, NULL, NULL, NULL);
		}
		PG_CATCH();
		{
			/* jansson's memory is not palloc'd: give back what is held */
			for (int i = 0; i < n; i++)
			{
				if (requests[i] != NULL)
					json_decref(requests[i]);
				requests[i] = NULL;
				if (results[i] != NULL)
					json_decref(results[i]);
				results[i] = NULL;
			}
			PG_RE_THROW();
		}
		PG_END_TRY();
		for (int k = 0; k < ntodo; k++)
		{
			int			i = todo[k];

			dynamo_stats_add(&stats[i], &st[k]);
			/* not started before its signature aged: sent again, signed anew */
			if (res[k] == NULL && e[k].kind == DYNAMO_OK)
				todo[left++] = i;
			else
			{
				results[i] = res[k];
				errs[i] = e[k];
			}
		}
		ntodo = left;
	}
	for (int i = 0; i < n; i++)
	{
		json_decref(requests[i]);
		requests[i] = NULL;
	}
	pfree(todo);
	pfree(reqs);
	pfree(res);
	pfree(e);
	pfree(st);
}

bool
dynamo_call_unless(const SeqdistStore *store, const char *operation, json_t *request,
				   const char *expected, DynamoStats *stats)
{
	DynamoError err;
	json_t	   *resp = dynamo_call(store, operation, request, &err, stats);

	if (resp != NULL)
	{
		json_decref(resp);
		return true;
	}
	if (dynamo_error_is(&err, expected))
		return false;
	dynamo_raise(&err);
}

/*
 * Sign a request to store and write its header lines ("Name: value", the
 * signature's among them) to lines, palloc'd; returns how many.  The lines
 * carry the session token: give them to dynamo_wipe_lines.
 */
static int
dynamo_sign(const SeqdistStore *store, const char *operation, const char *body,
			const char **lines)
{
	SeqdistCredentials creds;
	SigV4Header hdrs[5];
	SigV4Request req;
	SigV4Credentials sc;
	SigV4Result sig;
	char		amz_date[17];
	char		target[128];
	volatile int nhdrs = 0;
	int			nlines;
	time_t		now = time(NULL);
	struct tm	tmbuf;

	strftime(amz_date, sizeof(amz_date), "%Y%m%dT%H%M%SZ", gmtime_r(&now, &tmbuf));
	snprintf(target, sizeof(target), "%s%s", DYNAMO_TARGET_PREFIX, operation);

	credentials_resolve(&creds);

	hdrs[nhdrs++] = (SigV4Header) {"Host", store->host};
	hdrs[nhdrs++] = (SigV4Header) {"Content-Type", DYNAMO_CONTENT_TYPE};
	hdrs[nhdrs++] = (SigV4Header) {"X-Amz-Date", amz_date};
	hdrs[nhdrs++] = (SigV4Header) {"X-Amz-Target", target};
	if (creds.session_token)
		hdrs[nhdrs++] = (SigV4Header) {"X-Amz-Security-Token", creds.session_token};

	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.path = store->path;
	req.headers = hdrs;
	req.nheaders = nhdrs;
	req.payload = (const unsigned char *) body;
	req.payload_len = strlen(body);
	sc.access_key_id = creds.access_key_id;
	sc.secret_access_key = creds.secret_access_key;
	sc.session_token = creds.session_token;

	if (sigv4_sign(&req, &sc, store->region, DYNAMO_SERVICE, amz_date, &sig) != 0)
	{
		credentials_release(&creds);
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not sign a DynamoDB %s request", operation),
				 errdetail("The signer refused the request or ran out of memory.")));
	}

	/* the caller counts the lines only when we return: none may leak here */
	PG_TRY();
	{
		for (int i = 0; i < nhdrs; i++)
			lines[i] = psprintf("%s: %s", hdrs[i].name, hdrs[i].value);
		lines[nhdrs] = psprintf("Authorization: %s", sig.authorization);
	}
	PG_CATCH();
	{
		dynamo_wipe_lines(lines, nhdrs + 1);
		sigv4_result_free(&sig);
		credentials_release(&creds);
		PG_RE_THROW();
	}
	PG_END_TRY();
	nlines = nhdrs + 1;
	sigv4_result_free(&sig);
	credentials_release(&creds);
	return nlines;
}

/* Wipe and free header lines: the token line must not linger in memory */
static void
dynamo_wipe_lines(const char **lines, int nlines)
{
	for (int i = 0; i < nlines; i++)
	{
		if (lines[i] == NULL)
			continue;
		explicit_bzero((char *) lines[i], strlen(lines[i]));
		pfree((char *) lines[i]);
		lines[i] = NULL;
	}
}

static void
dynamo_send_once(const SeqdistStore *store, const char *operation,
				 const char *body, HttpResponse *resp)
{
	const char *lines[DYNAMO_MAX_LINES];
	int			nlines;

	memset(lines, 0, sizeof(lines));
	nlines = dynamo_sign(store, operation, body, lines);
	PG_TRY();
	{
		http_post(store->endpoint, lines, nlines, body, strlen(body), resp);
	}
	PG_FINALLY();
	{
		dynamo_wipe_lines(lines, nlines);
	}
	PG_END_TRY();
}

/*
 * Decode an error answer (dynamo_answer.c parses it) and quote its parts
 * for messages.  The class is decided on the quoted type, as it is shown.
 */
static void
dynamo_decode_error(const HttpResponse *resp, DynamoError *err)
{
	AnswerError answer;

	answer_parse_error(resp->body, resp->body_len, &answer);
	err->type = answer.type ? dynamo_quote(answer.type, strlen(answer.type), DYNAMO_TYPE_MAX) : NULL;
	if (answer.message)
		err->message = dynamo_quote(answer.message, strlen(answer.message), DYNAMO_MESSAGE_MAX);
	else if (resp->body_len > 0)
		err->message = dynamo_quote(resp->body, resp->body_len, DYNAMO_QUOTE_MAX);
	answer_error_release(&answer);

	switch (answer_error_class(resp->status, err->type))
	{
		case ANSWER_RETRYABLE:
			err->kind = DYNAMO_UNAVAILABLE;
			break;
		case ANSWER_REFUSAL:
			err->kind = DYNAMO_AWS_ERROR;
			break;
		case ANSWER_UNKNOWN:
			err->kind = DYNAMO_MALFORMED;
			break;
	}
}

/*
 * Remote text made fit for a message: every configured key id, secret or
 * token is replaced by "[redacted]", every byte that is not printable ASCII
 * (control characters, which could forge log lines or terminal escapes, and
 * bytes that need not be valid in the server encoding) is shown as \xNN, and
 * the result is cut after about max bytes.  Secrets are matched in the whole
 * text before anything is cut, so a secret that straddles the cut is
 * redacted whole, not left half visible.
 */
static char *
dynamo_quote(const char *text, size_t len, size_t max)
{
	SeqdistCredentials creds;
	const char *secrets[3] = {NULL, NULL, NULL};
	bool		have_creds = credentials_peek(&creds);
	char	   *quoted;

	if (have_creds)
	{
		secrets[0] = creds.access_key_id;
		secrets[1] = creds.secret_access_key;
		secrets[2] = creds.session_token;
	}

	quoted = http_quote(text, len, max, secrets, 3);
	if (have_creds)
		credentials_release(&creds);
	return quoted;
}

int64
dynamo_call_bound_ms(void)
{
	int64		bound = (int64) dynamo_max_attempts * http_request_bound_ms();

	for (int retry = 1; retry < dynamo_max_attempts; retry++)
		bound += Min((uint64) dynamo_retry_base_ms << Min(retry, 30),
					 (uint64) dynamo_retry_cap_ms);
	return bound;
}

/* The delay before retry number retry, in ms: full jitter under the cap */
static long
dynamo_backoff_ms(int retry)
{
	uint64		ceiling = (uint64) dynamo_retry_base_ms << Min(retry, 30);

	ceiling = Min(ceiling, (uint64) dynamo_retry_cap_ms);
	return (long) pg_prng_uint64_range(&pg_global_prng_state, 0, ceiling);
}

static void
dynamo_backoff(int retry)
{
	long		delay = dynamo_backoff_ms(retry);

	if (delay > 0)
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 delay, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
	CHECK_FOR_INTERRUPTS();
}

bool
dynamo_error_is(const DynamoError *err, const char *type)
{
	return err->type != NULL && strcmp(err->type, type) == 0;
}

bool
dynamo_error_is_auth(const DynamoError *err)
{
	static const char *const auth[] = {
		"UnrecognizedClientException",
		"InvalidSignatureException",
		"MissingAuthenticationTokenException",
		"IncompleteSignatureException",
		"ExpiredTokenException",
		"InvalidClientTokenId",
		"SignatureDoesNotMatch",
	};

	if (err->type == NULL)
		return false;
	for (size_t i = 0; i < lengthof(auth); i++)
		if (strcmp(err->type, auth[i]) == 0)
			return true;
	return false;
}

/* Raise an ERROR for an AWS error answered by DynamoDB, mapped to a SQLSTATE */
static void
dynamo_raise_refusal(const DynamoError *err, const char *msg)
{
	const char *op = err->operation;

	if (dynamo_error_is_auth(err))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("DynamoDB rejected seqdist's credentials"),
				 errdetail_internal("%s: %s: %s", op, err->type, msg),
				 errhint("Check the AWS access key, secret key, session token and seqdist.region.")));
	else if (dynamo_error_is(err, "AccessDeniedException"))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("DynamoDB denied seqdist permission for %s", op),
				 errdetail_internal("%s: %s", err->type, msg),
				 errhint("Grant the AWS identity dynamodb:%s on the counter table.", op)));
	else if (dynamo_error_is(err, "ResourceNotFoundException"))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("DynamoDB table \"%s\" does not exist", err->store->table),
				 errdetail_internal("%s: %s: %s", op, err->type, msg),
				 errhint("Create it with SELECT seqdist.create_table(), or check seqdist.table_name and seqdist.region.")));
	ereport(ERROR,
			(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
			 errmsg("DynamoDB rejected a %s request", op),
			 errdetail_internal("%s: %s", err->type, msg)));
}

void
dynamo_raise(const DynamoError *err)
{
	const char *op = err->operation;
	const char *msg = err->message ? err->message : "";

	switch (err->kind)
	{
		case DYNAMO_TRANSPORT:
			ereport(ERROR,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("could not reach DynamoDB at \"%s\"", err->store->endpoint),
					 errdetail_plural("%s failed after %d attempt: %s",
									  "%s failed after %d attempts: %s",
									  err->attempts, op, err->attempts, msg),
					 errhint("Check seqdist.endpoint and that DynamoDB is reachable from the database server.")));
			break;
		case DYNAMO_UNAVAILABLE:
			ereport(ERROR,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("DynamoDB is unavailable or throttling requests"),
					 errdetail_plural("%s failed after %d attempt: HTTP %ld %s: %s",
									  "%s failed after %d attempts: HTTP %ld %s: %s",
									  err->attempts, op, err->attempts, err->http_status,
									  err->type ? err->type : "(no error type)", msg)));
			break;
		case DYNAMO_MALFORMED:
			ereport(ERROR,
					(errcode(ERRCODE_PROTOCOL_VIOLATION),
					 errmsg("malformed response from DynamoDB to %s", op),
					 errdetail_internal("HTTP %ld, body begins: %s", err->http_status, msg)));
			break;
		case DYNAMO_AWS_ERROR:
			dynamo_raise_refusal(err, msg);
			break;
		case DYNAMO_OK:
			break;
	}
	elog(ERROR, "unexpected DynamoDB error state");
}
