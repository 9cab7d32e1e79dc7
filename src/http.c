/*-------------------------------------------------------------------------
 *
 * http.c
 *		The HTTP transport under the DynamoDB client, built on libcurl.
 *
 * Design:
 *	- One multi handle per process and a pool of easy handles, created
 *	  lazily on first use, never in the postmaster.  The multi handle owns
 *	  the connection cache, so consecutive requests reuse one keep-alive
 *	  connection.  A stream (http_post_stream) keeps up to a window of
 *	  requests in flight, one easy handle and one connection each, and
 *	  starts the next request the caller has as soon as one ends: a slow
 *	  request holds up no other.  A batch (http_post_batch) is a stream
 *	  whose window holds all of its requests; a single request is a batch
 *	  of one.  If the process id changes (a fork after first use) the
 *	  inherited handles are abandoned, not cleaned up: cleaning up would
 *	  close or shut down TLS sessions the parent still uses.
 *	- The transfer is driven with the multi interface and polled in short
 *	  slices, so a query cancel, statement_timeout or termination stops a
 *	  request within one slice.  Nothing is raised from inside a libcurl
 *	  callback: the loop notices the interrupt, detaches the transfer, and
 *	  only then lets CHECK_FOR_INTERRUPTS raise the error.
 *	- The transfer state of a batch is palloc'd and the handles point into
 *	  it, so it is still valid in PG_FINALLY after a longjmp; nothing here
 *	  is reentrant.
 *	- The response is gathered in malloc'd memory (a callback must not
 *	  palloc, which could longjmp through libcurl) and copied to palloc'd
 *	  memory after the transfer.  Library memory is released in PG_FINALLY.
 *	- While a request is in flight the backend reports the Extension wait
 *	  event, visible in pg_stat_activity.
 *	- Protocols are limited to http and https, redirects are not followed,
 *	  and TLS peer and host verification are always on.
 *	- A proxy is used only when seqdist.proxy names one.  libcurl would
 *	  otherwise take one from the server's environment (http_proxy,
 *	  ALL_PROXY, ...) without anyone asking, and send the requests, session
 *	  token included, through it.
 *	- The header lines, one of which carries the session token, are wiped
 *	  before libcurl's copies of them are freed, and so is the answer
 *	  (a credential service's answer carries a secret).
 *	- Besides DynamoDB's POSTs, the credential providers send GET and PUT
 *	  requests with their own, shorter timeouts (http_request), never
 *	  through a proxy.
 *
 * Locking: none; the handles and the transfer state are process-local.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <unistd.h>
#include <curl/curl.h>

#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/fd.h"
#include "storage/pmsignal.h"
#include "utils/guc.h"
#include "utils/wait_event.h"

#include "http.h"

/* How often an idle transfer wakes up to look for interrupts */
#define HTTP_POLL_SLICE_MS 10

/* Largest response body accepted; DynamoDB answers are a few hundred bytes */
#define HTTP_MAX_BODY (1024 * 1024)

#define HTTP_USER_AGENT "seqdist/1.0"

/*---- settings ----*/
static char *http_ca_file = NULL;
static char *http_proxy = NULL;
static int	http_connect_timeout_ms = 2000;
static int	http_request_timeout_ms = 5000;

typedef struct HttpBuffer
{
	char	   *data;
	size_t		len;
	size_t		cap;
	bool		overflow;
} HttpBuffer;

/*
 * The easy handles: http_pool[0] serves single requests, the others join it
 * for a stream.  They share the multi handle and so its connection cache.
 */
static CURL **http_pool = NULL;
static int	http_pool_size = 0;
static CURLM *http_multi = NULL;
static pid_t http_owner_pid = 0;
static bool http_global_done = false;

/* One transfer of a stream: its answer, gathered outside of palloc */
typedef struct HttpTransfer
{
	CURL	   *easy;
	int			id;				/* the caller's request id; -1 while free */
	bool		attached;		/* to the multi handle */
	struct curl_slist *headers;
	HttpBuffer	buf;
	char		errbuf[CURL_ERROR_SIZE];
	CURLcode	result;
} HttpTransfer;

/*
 * libcurl's sockets are file descriptors PostgreSQL's fd.c does not open:
 * each is reported to it (ReserveExternalFD), so that it keeps fewer of
 * its own files open, and a batch of sockets and the backend's relations
 * together stay within the process's limit.
 */
static curl_socket_t
http_open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *address)
{
	curl_socket_t sock;

	ReserveExternalFD();
	sock = socket(address->family, address->socktype, address->protocol);
	if (sock == CURL_SOCKET_BAD)
		ReleaseExternalFD();
	return sock;
}

static int
http_close_socket(void *clientp, curl_socket_t sock)
{
	int			rc = close(sock);

	ReleaseExternalFD();
	return rc;
}

int
http_max_parallel(void)
{
	/* a third of the descriptors, as fd.c allows for external ones */
	return Max(1, max_safe_fds / 3);
}

static bool http_default_abort_check(void);
static HttpAbortCheck http_abort_check = http_default_abort_check;

static void http_ensure_handles(int n);
static size_t http_write_cb(char *ptr, size_t size, size_t nmemb, void *userdata);
static bool http_run_stream(HttpTransfer *xfers, int window, HttpNextCallback next,
							HttpStreamDoneCallback done, void *arg, const char **what);
static void http_clear_transfer(HttpTransfer *xfer);
static void http_fill_response(HttpTransfer *xfer, HttpResponse *resp);
static bool http_check_proxy(char **newval, void **extra, GucSource source);
static void http_configure(CURL *easy, const HttpRequest *req, HttpTransfer *xfer);
static void http_set_proxy(CURL *easy, bool direct);
static void http_set_method(CURL *easy, const HttpRequest *req);
static void http_free_headers(struct curl_slist *list);

/* Raise an error naming the libcurl option that could not be set */
#define HTTP_SETOPT(easy, opt, val) \
	do { \
		CURLcode	setopt_rc_ = curl_easy_setopt(easy, opt, val); \
		if (setopt_rc_ != CURLE_OK) \
			ereport(ERROR, \
					(errcode(ERRCODE_SYSTEM_ERROR), \
					 errmsg("could not set libcurl option %s", #opt), \
					 errdetail_internal("%s", curl_easy_strerror(setopt_rc_)))); \
	} while (0)

void
http_init(void)
{
	DefineCustomStringVariable("seqdist.ca_file",
							   "File of CA certificates used to verify the endpoint's TLS certificate.",
							   "Empty means the system's default CA store.",
							   &http_ca_file, "",
							   PGC_SUSET, 0,
							   NULL, NULL, NULL);
	DefineCustomStringVariable("seqdist.proxy",
							   "HTTP proxy for DynamoDB requests (http:// or https://, host and port).",
							   "Empty means no proxy, whatever the server's environment says.",
							   &http_proxy, "",
							   PGC_SIGHUP, GUC_SUPERUSER_ONLY,
							   http_check_proxy, NULL, NULL);
	DefineCustomIntVariable("seqdist.connect_timeout",
							"Maximum time to establish a connection to DynamoDB.",
							NULL,
							&http_connect_timeout_ms, 2000, 10, 600000,
							PGC_SUSET, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomIntVariable("seqdist.request_timeout",
							"Maximum time for one DynamoDB request, connection included.",
							NULL,
							&http_request_timeout_ms, 5000, 10, 600000,
							PGC_SUSET, GUC_UNIT_MS,
							NULL, NULL, NULL);
}

int
http_request_bound_ms(void)
{
	/* request_timeout includes the connection */
	return http_request_timeout_ms;
}

const char *
http_url_problem(const char *url, const char *what, bool allow_path)
{
	const char *host;
	const char *slash;

	if (strncmp(url, "https://", 8) == 0)
		host = url + 8;
	else if (strncmp(url, "http://", 7) == 0)
		host = url + 7;
	else
		return psprintf("The %s must start with \"http://\" or \"https://\".", what);
	if (*host == '\0' || *host == '/' || *host == ':')
		return psprintf("The %s must name a host.", what);
	for (const char *p = host; *p; p++)
	{
		if (isspace((unsigned char) *p) || *p == '@' || *p == '?' || *p == '#')
			return allow_path ?
				psprintf("The %s may contain only a scheme, a host, an optional port and an optional path.", what) :
				psprintf("The %s may contain only a scheme, a host and an optional port.", what);
	}
	slash = strchr(host, '/');
	if (!allow_path && slash != NULL && slash[1] != '\0')
		return psprintf("The %s may contain only a scheme, a host and an optional port.", what);
	return NULL;
}

/* seqdist.proxy: empty, or an http or https URL of a host and a port */
static bool
http_check_proxy(char **newval, void **extra, GucSource source)
{
	const char *problem;

	if (*newval == NULL || (*newval)[0] == '\0')
		return true;
	problem = http_url_problem(*newval, "proxy", false);
	if (problem)
		GUC_check_errdetail("%s", problem);
	return problem == NULL;
}

void
http_set_abort_check(HttpAbortCheck check)
{
	http_abort_check = check ? check : http_default_abort_check;
}

static bool
http_default_abort_check(void)
{
	return QueryCancelPending || ProcDiePending;
}

/* Make sure this process has the multi handle and at least n easy handles */
static void
http_ensure_handles(int n)
{
	if (http_pool != NULL && http_owner_pid != getpid())
	{
		/* inherited from another process: abandon, see the header comment */
		http_pool = NULL;
		http_pool_size = 0;
		http_multi = NULL;
	}
	if (http_pool != NULL && http_pool_size >= n)
		return;

	if (!http_global_done)
	{
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			ereport(ERROR,
					(errcode(ERRCODE_SYSTEM_ERROR),
					 errmsg("could not initialize libcurl")));
		http_global_done = true;
	}

	if (http_multi == NULL)
	{
		http_multi = curl_multi_init();
		if (http_multi == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("could not create a libcurl handle")));
		http_owner_pid = getpid();
	}
	/* the pool only grows; handles are reused for the life of the process */
	{
		CURL	  **pool = realloc(http_pool, sizeof(CURL *) * Max(n, 1));

		if (pool == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("could not create a libcurl handle")));
		http_pool = pool;
	}
	while (http_pool_size < Max(n, 1))
	{
		CURL	   *easy = curl_easy_init();

		if (easy == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("could not create a libcurl handle")));
		http_pool[http_pool_size++] = easy;
	}
}

static size_t
http_write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	HttpBuffer *buf = (HttpBuffer *) userdata;
	size_t		n = size * nmemb;

	if (buf->len + n + 1 > HTTP_MAX_BODY)
	{
		buf->overflow = true;
		return 0;				/* makes libcurl fail the transfer */
	}
	if (buf->len + n + 1 > buf->cap)
	{
		size_t		newcap = Max(buf->cap * 2, buf->len + n + 1);
		char	   *p;

		newcap = Max(newcap, 1024);
		/* not realloc: the old block, which may hold credentials, is wiped */
		p = malloc(newcap);
		if (p == NULL)
			return 0;
		if (buf->data)
		{
			memcpy(p, buf->data, buf->len);
			explicit_bzero(buf->data, buf->cap);
			free(buf->data);
		}
		buf->data = p;
		buf->cap = newcap;
	}
	memcpy(buf->data + buf->len, ptr, n);
	buf->len += n;
	buf->data[buf->len] = '\0';
	return n;
}

/* Detach a transfer and free what it holds; it is free again afterwards */
static void
http_clear_transfer(HttpTransfer *xfer)
{
	if (xfer->attached)
		curl_multi_remove_handle(http_multi, xfer->easy);
	xfer->attached = false;
	/* the handle must not keep pointers to memory freed below */
	curl_easy_setopt(xfer->easy, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(xfer->easy, CURLOPT_ERRORBUFFER, NULL);
	curl_easy_setopt(xfer->easy, CURLOPT_WRITEDATA, NULL);
	http_free_headers(xfer->headers);
	xfer->headers = NULL;
	/* an answer may carry credentials: wipe it, not just free it */
	if (xfer->buf.data)
		explicit_bzero(xfer->buf.data, xfer->buf.cap);
	free(xfer->buf.data);
	memset(&xfer->buf, 0, sizeof(xfer->buf));
	xfer->errbuf[0] = '\0';
	xfer->id = -1;
}

/* A transfer ended with result: free it, then give its outcome to done */
static void
http_finish_transfer(HttpTransfer *xfer, CURLcode result, HttpStreamDoneCallback done,
					 void *arg)
{
	HttpResponse resp;
	int			id = xfer->id;

	memset(&resp, 0, sizeof(resp));
	xfer->result = result;
	http_fill_response(xfer, &resp);
	http_clear_transfer(xfer);
	done(arg, id, &resp);
}

/* The multi handle failed: so did every transfer in flight */
static void
http_fail_all(HttpTransfer *xfers, int window, HttpStreamDoneCallback done, void *arg)
{
	for (int k = 0; k < window; k++)
		if (xfers[k].id >= 0)
			http_finish_transfer(&xfers[k], CURLE_FAILED_INIT, done, arg);
}

/*
 * Keep up to window transfers in flight, starting the next request (next)
 * as soon as one ends (done), until next has no more and none is in flight.
 * Returns false if the stream was abandoned because of an interrupt or
 * postmaster death.
 */
static bool
http_run_stream(HttpTransfer *xfers, int window, HttpNextCallback next,
				HttpStreamDoneCallback done, void *arg, const char **what)
{
	int			inflight = 0;
	bool		broken = false;

	for (;;)
	{
		int			running = 0;
		int			got = HTTP_STREAM_LATER;
		bool		ended = false;
		CURLMsg    *msg;
		int			left;

		/* fill the free transfers */
		while (inflight < window)
		{
			HttpRequest req;
			HttpTransfer *xfer = xfers;

			memset(&req, 0, sizeof(req));
			got = next(arg, &req);
			if (got < 0)
				break;
			while (xfer->id >= 0)
				xfer++;
			xfer->id = got;
			xfer->result = CURLE_OK;
			if (req.what)
				*what = req.what;
			if (broken)
			{
				/* the multi handle failed: so does every later request */
				http_finish_transfer(xfer, CURLE_FAILED_INIT, done, arg);
				continue;
			}
			inflight++;
			http_configure(xfer->easy, &req, xfer);
			if (curl_multi_add_handle(http_multi, xfer->easy) != CURLM_OK)
				ereport(ERROR,
						(errcode(ERRCODE_SYSTEM_ERROR),
						 errmsg("could not start a libcurl transfer")));
			xfer->attached = true;
		}
		if (inflight == 0 && got == HTTP_STREAM_END)
			return true;

		if (!broken && inflight > 0)
		{
			CURLMcode	mc = curl_multi_perform(http_multi, &running);

			if (mc != CURLM_OK)
			{
				broken = true;
				http_fail_all(xfers, window, done, arg);
				inflight = 0;
				continue;
			}
			/* hand over what finished: a slow transfer holds up no other */
			while ((msg = curl_multi_info_read(http_multi, &left)) != NULL)
			{
				if (msg->msg != CURLMSG_DONE)
					continue;
				for (int k = 0; k < window; k++)
					if (msg->easy_handle == xfers[k].easy && xfers[k].id >= 0)
					{
						CURLcode	result = msg->data.result;

						/* msg is not valid once the handle is removed */
						msg = NULL;
						inflight--;
						ended = true;
						http_finish_transfer(&xfers[k], result, done, arg);
						break;
					}
			}
		}
		if (http_abort_check() || !PostmasterIsAlive())
			return false;
		/* a transfer ended: start the next one before waiting */
		if (ended)
			continue;
		if (broken || inflight == 0)
		{
			/* only retries later on: wait, interruptibly */
			pg_usleep(HTTP_POLL_SLICE_MS * 1000L);
			continue;
		}
		if (curl_multi_poll(http_multi, NULL, 0, HTTP_POLL_SLICE_MS, NULL) != CURLM_OK)
		{
			broken = true;
			http_fail_all(xfers, window, done, arg);
			inflight = 0;
		}
	}
}

/* Set up one easy handle for req, answering into xfer */
static void
http_configure(CURL *easy, const HttpRequest *req, HttpTransfer *xfer)
{
	int			connect_ms = req->connect_timeout_ms > 0 ? req->connect_timeout_ms : http_connect_timeout_ms;
	int			total_ms = req->timeout_ms > 0 ? req->timeout_ms : http_request_timeout_ms;

	for (int i = 0; i < req->nheaders; i++)
	{
		struct curl_slist *n = curl_slist_append(xfer->headers, req->headers[i]);

		if (n == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory building a request")));
		xfer->headers = n;
	}
	/* libcurl would otherwise wait for "100 Continue" on larger bodies */
	{
		struct curl_slist *n = curl_slist_append(xfer->headers, "Expect:");

		if (n == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory building a request")));
		xfer->headers = n;
	}

	curl_easy_reset(easy);
	HTTP_SETOPT(easy, CURLOPT_OPENSOCKETFUNCTION, http_open_socket);
	HTTP_SETOPT(easy, CURLOPT_CLOSESOCKETFUNCTION, http_close_socket);
	HTTP_SETOPT(easy, CURLOPT_URL, req->url);
	HTTP_SETOPT(easy, CURLOPT_PROTOCOLS_STR, "http,https");
	HTTP_SETOPT(easy, CURLOPT_FOLLOWLOCATION, 0L);
	HTTP_SETOPT(easy, CURLOPT_NOSIGNAL, 1L);
	http_set_method(easy, req);
	HTTP_SETOPT(easy, CURLOPT_HTTPHEADER, xfer->headers);
	HTTP_SETOPT(easy, CURLOPT_USERAGENT, HTTP_USER_AGENT);
	HTTP_SETOPT(easy, CURLOPT_CONNECTTIMEOUT_MS, (long) Min(connect_ms, total_ms));
	HTTP_SETOPT(easy, CURLOPT_TIMEOUT_MS, (long) total_ms);
	HTTP_SETOPT(easy, CURLOPT_TCP_KEEPALIVE, 1L);
	HTTP_SETOPT(easy, CURLOPT_TCP_NODELAY, 1L);
	HTTP_SETOPT(easy, CURLOPT_SSL_VERIFYPEER, 1L);
	HTTP_SETOPT(easy, CURLOPT_SSL_VERIFYHOST, 2L);
	if (http_ca_file && http_ca_file[0])
		HTTP_SETOPT(easy, CURLOPT_CAINFO, http_ca_file);
	http_set_proxy(easy, req->direct);
	HTTP_SETOPT(easy, CURLOPT_WRITEFUNCTION, http_write_cb);
	HTTP_SETOPT(easy, CURLOPT_WRITEDATA, &xfer->buf);
	HTTP_SETOPT(easy, CURLOPT_ERRORBUFFER, xfer->errbuf);
}

/* Set the method (POST unless the request names another), and the body */
static void
http_set_method(CURL *easy, const HttpRequest *req)
{
	if (req->method != NULL && strcmp(req->method, "GET") == 0)
	{
		HTTP_SETOPT(easy, CURLOPT_HTTPGET, 1L);
		return;
	}
	HTTP_SETOPT(easy, CURLOPT_POST, 1L);
	HTTP_SETOPT(easy, CURLOPT_POSTFIELDS, req->body ? req->body : "");
	HTTP_SETOPT(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) (req->body ? req->body_len : 0));
	if (req->method != NULL && strcmp(req->method, "POST") != 0)
		HTTP_SETOPT(easy, CURLOPT_CUSTOMREQUEST, req->method);
}

/* Turn a finished transfer into the caller's palloc'd response */
static void
http_fill_response(HttpTransfer *xfer, HttpResponse *resp)
{
	CURLcode	result = xfer->result;

	if (result == CURLE_OK)
	{
		resp->outcome = HTTP_RESPONSE;
		curl_easy_getinfo(xfer->easy, CURLINFO_RESPONSE_CODE, &resp->status);
		resp->body = palloc(xfer->buf.len + 1);
		if (xfer->buf.len > 0)
			memcpy(resp->body, xfer->buf.data, xfer->buf.len);
		resp->body[xfer->buf.len] = '\0';
		resp->body_len = xfer->buf.len;
		return;
	}
	if (result == CURLE_COULDNT_CONNECT ||
		result == CURLE_COULDNT_RESOLVE_HOST ||
		result == CURLE_COULDNT_RESOLVE_PROXY)
		resp->outcome = HTTP_CONNECT_FAILED;
	else if (result == CURLE_OPERATION_TIMEDOUT)
		resp->outcome = HTTP_TIMED_OUT;
	else
		resp->outcome = HTTP_TRANSPORT_FAILED;
	if (xfer->buf.overflow)
		resp->error = psprintf("response larger than %d bytes", HTTP_MAX_BODY);
	else
		resp->error = psprintf("%s", xfer->errbuf[0] ? xfer->errbuf : curl_easy_strerror(result));
}

void
http_post(const char *url, const char *const *headers, int nheaders,
		  const char *body, size_t body_len, HttpResponse *resp)
{
	HttpRequest req;

	memset(&req, 0, sizeof(req));
	req.url = url;
	req.headers = headers;
	req.nheaders = nheaders;
	req.body = body;
	req.body_len = body_len;
	http_post_batch(&req, 1, resp, NULL, NULL);
}

void
http_request(const HttpRequest *req, HttpResponse *resp)
{
	http_post_batch(req, 1, resp, NULL, NULL);
}

void
http_post_stream(int window, HttpNextCallback next, HttpStreamDoneCallback done, void *arg)
{
	HttpTransfer *volatile xfers;

	if (window <= 0)
		return;
	http_ensure_handles(window);
	/* palloc'd, so that the handles' pointers into it outlive a longjmp */
	xfers = palloc0(sizeof(HttpTransfer) * window);
	for (int k = 0; k < window; k++)
	{
		xfers[k].easy = http_pool[k];
		xfers[k].id = -1;
	}

	PG_TRY();
	{
		const char *what = "DynamoDB";
		bool		finished;

		pgstat_report_wait_start(PG_WAIT_EXTENSION);
		finished = http_run_stream(xfers, window, next, done, arg, &what);
		pgstat_report_wait_end();

		if (!finished)
		{
			/* raise the pending cancel or termination outside of libcurl */
			CHECK_FOR_INTERRUPTS();
			if (!PostmasterIsAlive())
				ereport(FATAL,
						(errcode(ERRCODE_ADMIN_SHUTDOWN),
						 errmsg("terminating because the postmaster died during a %s request",
								what)));
			ereport(ERROR,
					(errcode(ERRCODE_QUERY_CANCELED),
					 errmsg("%s request canceled", what)));
		}
	}
	PG_FINALLY();
	{
		/* an error from a callback leaves the wait event set */
		pgstat_report_wait_end();
		for (int k = 0; k < window; k++)
			http_clear_transfer(&xfers[k]);
		pfree(xfers);
	}
	PG_END_TRY();
}

/* A batch as a stream: its requests in order, each answer into its place */
typedef struct HttpBatch
{
	const HttpRequest *reqs;
	int			n;
	int			next;
	HttpResponse *resps;
	HttpDoneCallback done;
	void	   *arg;
} HttpBatch;

static int
http_batch_next(void *arg, HttpRequest *req)
{
	HttpBatch  *b = (HttpBatch *) arg;

	if (b->next >= b->n)
		return HTTP_STREAM_END;
	*req = b->reqs[b->next];
	return b->next++;
}

static void
http_batch_done(void *arg, int id, HttpResponse *resp)
{
	HttpBatch  *b = (HttpBatch *) arg;

	b->resps[id] = *resp;
	if (b->done)
		b->done(id, b->arg);
}

void
http_post_batch(const HttpRequest *reqs, int n, HttpResponse *resps,
				HttpDoneCallback done, void *arg)
{
	HttpBatch	b;

	for (int i = 0; i < n; i++)
		memset(&resps[i], 0, sizeof(HttpResponse));
	b.reqs = reqs;
	b.n = n;
	b.next = 0;
	b.resps = resps;
	b.done = done;
	b.arg = arg;
	http_post_stream(n, http_batch_next, http_batch_done, &b);
}

/*
 * The proxy is what seqdist.proxy says, never one from the environment: an
 * empty CURLOPT_PROXY turns proxies off, and CURLOPT_NOPROXY "*" keeps
 * libcurl from consulting the environment at all.  A configured proxy takes
 * every request (NO_PROXY in the environment does not apply), except the
 * direct ones: the credential services on link-local and loopback addresses
 * are never reached through a proxy.
 */
static void
http_set_proxy(CURL *easy, bool direct)
{
	if (direct || http_proxy == NULL || http_proxy[0] == '\0')
	{
		HTTP_SETOPT(easy, CURLOPT_PROXY, "");
		HTTP_SETOPT(easy, CURLOPT_NOPROXY, "*");
		return;
	}
	HTTP_SETOPT(easy, CURLOPT_PROXY, http_proxy);
	HTTP_SETOPT(easy, CURLOPT_NOPROXY, "");
	HTTP_SETOPT(easy, CURLOPT_PROXY_SSL_VERIFYPEER, 1L);
	HTTP_SETOPT(easy, CURLOPT_PROXY_SSL_VERIFYHOST, 2L);
}

/* Free a header list, wiping each line first: one carries the session token */
static void
http_free_headers(struct curl_slist *list)
{
	for (struct curl_slist *n = list; n != NULL; n = n->next)
		explicit_bzero(n->data, strlen(n->data));
	curl_slist_free_all(list);
}

void
http_response_free(HttpResponse *resp)
{
	if (resp->body)
	{
		explicit_bzero(resp->body, resp->body_len);
		pfree(resp->body);
	}
	if (resp->error)
		pfree(resp->error);
	memset(resp, 0, sizeof(*resp));
}

/*
 * Remote text fit for a message: every secret given (of 4 bytes or more)
 * replaced by [redacted] wherever it occurs, before the text is cut after
 * about max bytes, so that no part of one shows; a backslash doubled and
 * every byte that is not printable ASCII shown as \xNN, so that remote text
 * cannot forge log lines or terminal escapes.
 */
char *
http_quote(const char *text, size_t len, size_t max, const char *const *secrets, int nsecrets)
{
	StringInfoData out;

	initStringInfo(&out);
	for (size_t i = 0; i < len;)
	{
		bool		hit = false;
		unsigned char c;

		if ((size_t) out.len >= max)
		{
			appendStringInfoString(&out, "...");
			break;
		}
		for (int k = 0; k < nsecrets; k++)
		{
			size_t		n = secrets[k] ? strlen(secrets[k]) : 0;

			if (n >= 4 && n <= len - i && memcmp(text + i, secrets[k], n) == 0)
			{
				appendStringInfoString(&out, "[redacted]");
				i += n;
				hit = true;
				break;
			}
		}
		if (hit)
			continue;
		c = (unsigned char) text[i++];
		if (c == '\\')
			appendStringInfoString(&out, "\\\\");
		else if (c >= 0x20 && c < 0x7f)
			appendStringInfoChar(&out, (char) c);
		else
			appendStringInfo(&out, "\\x%02x", c);
	}
	return out.data;
}
