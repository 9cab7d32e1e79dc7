/*-------------------------------------------------------------------------
 *
 * http.h
 *		The HTTP transport: libcurl handles of this process, one request, a
 *		batch of concurrent ones or a stream of them at a time.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEQDIST_HTTP_H
#define SEQDIST_HTTP_H

#include <stddef.h>

/*
 * Defines seqdist.ca_file, seqdist.proxy, seqdist.connect_timeout,
 * seqdist.request_timeout
 */
extern void http_init(void);

/*
 * What is wrong with url as an http or https URL of a host (and port, and a
 * path if allow_path), as a full sentence naming it "the <what>"; NULL if
 * nothing.  For settings' check hooks.
 */
extern const char *http_url_problem(const char *url, const char *what, bool allow_path);

typedef enum HttpOutcome
{
	HTTP_RESPONSE,				/* a complete response arrived; see status */
	HTTP_CONNECT_FAILED,		/* no connection could be made */
	HTTP_TIMED_OUT,				/* connect or request timeout expired */
	HTTP_TRANSPORT_FAILED		/* anything else below HTTP (reset, TLS, ...) */
} HttpOutcome;

typedef struct HttpResponse
{
	HttpOutcome outcome;
	long		status;			/* HTTP status when outcome == HTTP_RESPONSE */
	char	   *body;			/* palloc'd, NUL-terminated, or NULL */
	size_t		body_len;
	char	   *error;			/* palloc'd transport error text, or NULL */
} HttpResponse;

/*
 * Something that, when true, makes a request in flight stop at once.  The
 * default is a pending query cancel or backend termination.  After the
 * transfer is abandoned the caller's interrupt processing raises the error.
 */
typedef bool (*HttpAbortCheck) (void);
/* The longest one request may take under the current settings, in ms */
extern int	http_request_bound_ms(void);

extern void http_set_abort_check(HttpAbortCheck check);

/*
 * POST body to url with the given header lines ("Name: value").  Never
 * raises an error for a transport failure (the caller decides whether to
 * retry); does raise one if the request was abandoned because of an
 * interrupt, or on a misconfigured client (bad CA file, ...).
 */
extern void http_post(const char *url, const char *const *headers, int nheaders,
					  const char *body, size_t body_len, HttpResponse *resp);

/*
 * One request.  method is "GET", "PUT" or "POST" (NULL: POST); timeouts of 0
 * mean seqdist.connect_timeout and seqdist.request_timeout; a direct request
 * never goes through seqdist.proxy; what names the service in the error
 * raised for a canceled request (NULL: "DynamoDB", as in "DynamoDB request
 * canceled").  Zero every field a caller does not set.
 */
typedef struct HttpRequest
{
	const char *method;
	const char *url;
	const char *const *headers;	/* "Name: value" lines */
	int			nheaders;
	const char *body;
	size_t		body_len;
	int			connect_timeout_ms;
	int			timeout_ms;
	bool		direct;
	const char *what;
} HttpRequest;

/* Called as soon as request i of a batch has its outcome in resps[i] */
typedef void (*HttpDoneCallback) (int i, void *arg);

/*
 * A stream: up to window requests in flight at once (a connection each,
 * reused from stream to stream).  next fills *req with the next request to
 * send and returns the caller's id for it (>= 0), or HTTP_STREAM_LATER when
 * it has none now but may have one later (the stream then asks again every
 * few milliseconds), or HTTP_STREAM_END when it has none now and will have
 * none unless a request in flight ends; what *req points to must stay valid
 * until that request's done.  done is called with the id and the outcome
 * (the callee owns resp's contents) as soon as the request ends, from
 * outside of libcurl, and a free place is filled at once.  The stream ends
 * when next says HTTP_STREAM_END and nothing is in flight.  Neither callback
 * may send a request itself.  Errors as for http_post: a transport failure
 * is an outcome, an interrupt raises for the whole stream.
 */
#define HTTP_STREAM_END (-1)
#define HTTP_STREAM_LATER (-2)
typedef int (*HttpNextCallback) (void *arg, HttpRequest *req);
typedef void (*HttpStreamDoneCallback) (void *arg, int id, HttpResponse *resp);
extern void http_post_stream(int window, HttpNextCallback next, HttpStreamDoneCallback done,
							 void *arg);

/*
 * POST every request of reqs at once (a connection each, reused from batch
 * to batch) and wait until each has its answer or failed; resps[i] receives
 * the outcome of reqs[i], and done (unless NULL) is called with i at once,
 * from outside of libcurl, so that a slow request holds up no other.  done
 * must not send a request itself.  Errors as for http_post: a transport
 * failure is an outcome, an interrupt raises for the whole batch.
 */
extern void http_post_batch(const HttpRequest *reqs, int n, HttpResponse *resps,
							HttpDoneCallback done, void *arg);

/*
 * The most requests a batch should hold at once: each needs a socket, and
 * a process's descriptors are shared with its open files.
 */
extern int	http_max_parallel(void);

/* One request of any method, as a batch of one.  Errors as for http_post. */
extern void http_request(const HttpRequest *req, HttpResponse *resp);

extern void http_response_free(HttpResponse *resp);

/* Remote text fit for a message: secrets redacted, then cut and escaped */
extern char *http_quote(const char *text, size_t len, size_t max,
						const char *const *secrets, int nsecrets);

#endif							/* SEQDIST_HTTP_H */
