/*-------------------------------------------------------------------------
 *
 * http.h
 *		The HTTP transport: one libcurl handle per process.
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
 * One request: method "GET", "PUT" or "POST"; timeouts of 0 mean
 * seqdist.connect_timeout and seqdist.request_timeout; direct requests never
 * go through seqdist.proxy; what names the service in the error raised for
 * a canceled request ("DynamoDB request canceled").  Errors as http_post.
 */
typedef struct HttpRequest
{
	const char *method;
	const char *url;
	const char *const *headers;
	int			nheaders;
	const char *body;
	size_t		body_len;
	int			connect_timeout_ms;
	int			timeout_ms;
	bool		direct;
	const char *what;
} HttpRequest;

extern void http_request(const HttpRequest *req, HttpResponse *resp);

extern void http_response_free(HttpResponse *resp);

#endif							/* SEQDIST_HTTP_H */
