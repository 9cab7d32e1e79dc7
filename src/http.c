/*-------------------------------------------------------------------------
 *
 * http.c
 *		The HTTP transport under the DynamoDB client, built on libcurl.
 *
 * Design:
 *	- One easy handle and one multi handle per process, created lazily on
 *	  first use, never in the postmaster.  The multi handle owns the
 *	  connection cache, so consecutive requests reuse one keep-alive
 *	  connection.  If the process id changes (a fork after first use) the
 *	  inherited handles are abandoned, not cleaned up: cleaning up would
 *	  close or shut down TLS sessions the parent still uses.
 *	- The transfer is driven with the multi interface and polled in short
 *	  slices, so a query cancel, statement_timeout or termination stops a
 *	  request within one slice.  Nothing is raised from inside a libcurl
 *	  callback: the loop notices the interrupt, detaches the transfer, and
 *	  only then lets CHECK_FOR_INTERRUPTS raise the error.
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
 *	  requests with their own, shorter timeouts (http_request).
 *
 * Locking: none; the handles and the transfer state are process-local.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <unistd.h>
#include <curl/curl.h>

#include "miscadmin.h"
#include "pgstat.h"
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

static CURL *http_easy = NULL;
static CURLM *http_multi = NULL;
static pid_t http_owner_pid = 0;
static bool http_global_done = false;

/*
 * Per-transfer state lives in statics rather than on the stack, so that it
 * is still valid in PG_FINALLY after a longjmp.  http_post is not reentrant.
 */
static HttpBuffer http_buf;
static char http_errbuf[CURL_ERROR_SIZE];

static bool http_default_abort_check(void);
static HttpAbortCheck http_abort_check = http_default_abort_check;

static void http_ensure_handles(void);
static size_t http_write_cb(char *ptr, size_t size, size_t nmemb, void *userdata);
static bool http_run_transfer(CURLcode *result);
static bool http_check_proxy(char **newval, void **extra, GucSource source);
static void http_set_proxy(bool direct);
static void http_free_headers(struct curl_slist *list);

/* Raise an error naming the libcurl option that could not be set */
#define HTTP_SETOPT(opt, val) \
	do { \
		CURLcode	setopt_rc_ = curl_easy_setopt(http_easy, opt, val); \
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

static void
http_ensure_handles(void)
{
	if (http_easy != NULL && http_owner_pid == getpid())
		return;

	/* inherited from another process: abandon, see the header comment */
	http_easy = NULL;
	http_multi = NULL;

	if (!http_global_done)
	{
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			ereport(ERROR,
					(errcode(ERRCODE_SYSTEM_ERROR),
					 errmsg("could not initialize libcurl")));
		http_global_done = true;
	}

	http_multi = curl_multi_init();
	http_easy = curl_easy_init();
	if (http_multi == NULL || http_easy == NULL)
	{
		if (http_easy)
			curl_easy_cleanup(http_easy);
		if (http_multi)
			curl_multi_cleanup(http_multi);
		http_easy = NULL;
		http_multi = NULL;
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("could not create a libcurl handle")));
	}
	http_owner_pid = getpid();
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

/*
 * Drive the attached transfer to completion.  Returns false if it was
 * abandoned because of an interrupt or postmaster death.
 */
static bool
http_run_transfer(CURLcode *result)
{
	int			running = 1;
	CURLMsg    *msg;
	int			left;

	*result = CURLE_OK;
	for (;;)
	{
		CURLMcode	mc = curl_multi_perform(http_multi, &running);

		if (mc != CURLM_OK)
		{
			*result = CURLE_FAILED_INIT;
			return true;
		}
		if (running == 0)
			break;
		if (http_abort_check() || !PostmasterIsAlive())
			return false;
		mc = curl_multi_poll(http_multi, NULL, 0, HTTP_POLL_SLICE_MS, NULL);
		if (mc != CURLM_OK)
		{
			*result = CURLE_FAILED_INIT;
			return true;
		}
	}
	while ((msg = curl_multi_info_read(http_multi, &left)) != NULL)
	{
		if (msg->msg == CURLMSG_DONE && msg->easy_handle == http_easy)
			*result = msg->data.result;
	}
	return true;
}

void
http_post(const char *url, const char *const *headers, int nheaders,
		  const char *body, size_t body_len, HttpResponse *resp)
{
	HttpRequest req;

	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = url;
	req.headers = headers;
	req.nheaders = nheaders;
	req.body = body;
	req.body_len = body_len;
	req.what = "DynamoDB";
	http_request(&req, resp);
}

/* Append one header line to *list, raising an ERROR when out of memory */
static void
http_append_header(struct curl_slist *volatile *list, const char *line)
{
	struct curl_slist *n = curl_slist_append(*list, line);

	if (n == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory building a request")));
	*list = n;
}

/* Set the method, and the body of a POST or PUT */
static void
http_set_method(const HttpRequest *req)
{
	if (strcmp(req->method, "GET") == 0)
	{
		HTTP_SETOPT(CURLOPT_HTTPGET, 1L);
		return;
	}
	HTTP_SETOPT(CURLOPT_POST, 1L);
	HTTP_SETOPT(CURLOPT_POSTFIELDS, req->body ? req->body : "");
	HTTP_SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) (req->body ? req->body_len : 0));
	if (strcmp(req->method, "POST") != 0)
		HTTP_SETOPT(CURLOPT_CUSTOMREQUEST, req->method);
}

void
http_request(const HttpRequest *req, HttpResponse *resp)
{
	struct curl_slist *volatile hlist = NULL;
	volatile bool attached = false;
	bool		finished = false;
	CURLcode	result = CURLE_OK;
	int			connect_ms = req->connect_timeout_ms > 0 ? req->connect_timeout_ms : http_connect_timeout_ms;
	int			total_ms = req->timeout_ms > 0 ? req->timeout_ms : http_request_timeout_ms;

	memset(resp, 0, sizeof(*resp));
	memset(&http_buf, 0, sizeof(http_buf));
	http_errbuf[0] = '\0';
	http_ensure_handles();

	PG_TRY();
	{
		for (int i = 0; i < req->nheaders; i++)
			http_append_header(&hlist, req->headers[i]);
		/* libcurl would otherwise wait for "100 Continue" on larger bodies */
		http_append_header(&hlist, "Expect:");

		curl_easy_reset(http_easy);
		HTTP_SETOPT(CURLOPT_URL, req->url);
		HTTP_SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
		HTTP_SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
		HTTP_SETOPT(CURLOPT_NOSIGNAL, 1L);
		http_set_method(req);
		HTTP_SETOPT(CURLOPT_HTTPHEADER, hlist);
		HTTP_SETOPT(CURLOPT_USERAGENT, HTTP_USER_AGENT);
		HTTP_SETOPT(CURLOPT_CONNECTTIMEOUT_MS, (long) Min(connect_ms, total_ms));
		HTTP_SETOPT(CURLOPT_TIMEOUT_MS, (long) total_ms);
		HTTP_SETOPT(CURLOPT_TCP_KEEPALIVE, 1L);
		HTTP_SETOPT(CURLOPT_TCP_NODELAY, 1L);
		HTTP_SETOPT(CURLOPT_SSL_VERIFYPEER, 1L);
		HTTP_SETOPT(CURLOPT_SSL_VERIFYHOST, 2L);
		if (http_ca_file && http_ca_file[0])
			HTTP_SETOPT(CURLOPT_CAINFO, http_ca_file);
		http_set_proxy(req->direct);
		HTTP_SETOPT(CURLOPT_WRITEFUNCTION, http_write_cb);
		HTTP_SETOPT(CURLOPT_WRITEDATA, &http_buf);
		HTTP_SETOPT(CURLOPT_ERRORBUFFER, http_errbuf);

		if (curl_multi_add_handle(http_multi, http_easy) != CURLM_OK)
			ereport(ERROR,
					(errcode(ERRCODE_SYSTEM_ERROR),
					 errmsg("could not start a libcurl transfer")));
		attached = true;

		pgstat_report_wait_start(PG_WAIT_EXTENSION);
		finished = http_run_transfer(&result);
		pgstat_report_wait_end();

		curl_multi_remove_handle(http_multi, http_easy);
		attached = false;

		if (!finished)
		{
			/* raise the pending cancel or termination outside of libcurl */
			CHECK_FOR_INTERRUPTS();
			if (!PostmasterIsAlive())
				ereport(FATAL,
						(errcode(ERRCODE_ADMIN_SHUTDOWN),
						 errmsg("terminating because the postmaster died during a %s request",
								req->what)));
			ereport(ERROR,
					(errcode(ERRCODE_QUERY_CANCELED),
					 errmsg("%s request canceled", req->what)));
		}

		if (result == CURLE_OK)
		{
			resp->outcome = HTTP_RESPONSE;
			curl_easy_getinfo(http_easy, CURLINFO_RESPONSE_CODE, &resp->status);
			resp->body = palloc(http_buf.len + 1);
			if (http_buf.len > 0)
				memcpy(resp->body, http_buf.data, http_buf.len);
			resp->body[http_buf.len] = '\0';
			resp->body_len = http_buf.len;
		}
		else
		{
			if (result == CURLE_COULDNT_CONNECT ||
				result == CURLE_COULDNT_RESOLVE_HOST ||
				result == CURLE_COULDNT_RESOLVE_PROXY)
				resp->outcome = HTTP_CONNECT_FAILED;
			else if (result == CURLE_OPERATION_TIMEDOUT)
				resp->outcome = HTTP_TIMED_OUT;
			else
				resp->outcome = HTTP_TRANSPORT_FAILED;
			if (http_buf.overflow)
				resp->error = psprintf("response larger than %d bytes", HTTP_MAX_BODY);
			else
				resp->error = psprintf("%s", http_errbuf[0] ? http_errbuf : curl_easy_strerror(result));
		}
	}
	PG_FINALLY();
	{
		if (attached)
			curl_multi_remove_handle(http_multi, http_easy);
		/* the handle must not keep pointers to memory freed below */
		curl_easy_setopt(http_easy, CURLOPT_HTTPHEADER, NULL);
		curl_easy_setopt(http_easy, CURLOPT_ERRORBUFFER, NULL);
		http_free_headers(hlist);
		/* an answer may carry credentials: wipe it, not just free it */
		if (http_buf.data)
			explicit_bzero(http_buf.data, http_buf.cap);
		free(http_buf.data);
		memset(&http_buf, 0, sizeof(http_buf));
	}
	PG_END_TRY();
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
http_set_proxy(bool direct)
{
	if (direct || http_proxy == NULL || http_proxy[0] == '\0')
	{
		HTTP_SETOPT(CURLOPT_PROXY, "");
		HTTP_SETOPT(CURLOPT_NOPROXY, "*");
		return;
	}
	HTTP_SETOPT(CURLOPT_PROXY, http_proxy);
	HTTP_SETOPT(CURLOPT_NOPROXY, "");
	HTTP_SETOPT(CURLOPT_PROXY_SSL_VERIFYPEER, 1L);
	HTTP_SETOPT(CURLOPT_PROXY_SSL_VERIFYHOST, 2L);
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
