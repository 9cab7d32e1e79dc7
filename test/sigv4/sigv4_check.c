/*-------------------------------------------------------------------------
 *
 * sigv4_check.c
 *		Standalone checker for the SigV4 signer in src/sigv4.c.
 *
 * Two modes:
 *
 *	sigv4_check vectors DIR
 *		Replays every case directory under DIR (AWS's published SigV4 test
 *		suite, see README.md) and prints TAP: for each case the canonical
 *		request, the string to sign, the signature and the Authorization
 *		header are compared with the published ones.  A few checks of the
 *		signer's input validation and query re-encoding follow.
 *
 *	sigv4_check stdin
 *		Reads one JSON request per line and writes one JSON line per request
 *		with the Authorization, canonical request and string to sign the
 *		signer computes (or an "error" member).  crosscheck.js drives this
 *		mode to compare the signer with an independent implementation.
 *		Input members: method, path, query (string or null), headers
 *		(array of [name, value] pairs, sent as given), payload (hex),
 *		access_key_id, secret_access_key, session_token (string or null),
 *		region, service, amz_date.
 *
 * Each case directory holds context.json (credentials, region, service,
 * timestamp, whether the payload hash is sent as X-Amz-Content-Sha256 and
 * whether the session token is signed), request.txt (the request before
 * signing) and the expected header-canonical-request.txt,
 * header-string-to-sign.txt, header-signature.txt and
 * header-signed-request.txt.  As in the suite, the signing client adds
 * X-Amz-Date, X-Amz-Security-Token and X-Amz-Content-Sha256; here the
 * checker adds them to the header list it hands to the signer.
 *
 * The checker is linked with -Wl,--wrap=malloc -Wl,--wrap=calloc so that it
 * can make the n-th allocation fail and check every error path of the
 * signer (run it under valgrind or AddressSanitizer to see leaks there).
 *
 *-------------------------------------------------------------------------
 */
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sigv4.h"

/* A header list that owns its strings. */
typedef struct HeaderList
{
	SigV4Header *items;
	int			n;
	int			cap;
} HeaderList;

/* A request read from a case's request.txt. */
typedef struct ParsedRequest
{
	char	   *method;
	char	   *path;
	char	   *query;
	HeaderList	headers;
	unsigned char *payload;
	size_t		payload_len;
} ParsedRequest;

static int	tap_count = 0;
static int	tap_failed = 0;

/*---- allocation failure injection ----*/

void	   *__real_malloc(size_t size);
void	   *__real_calloc(size_t nmemb, size_t size);
void	   *__wrap_malloc(size_t size);
void	   *__wrap_calloc(size_t nmemb, size_t size);

/* Allocations left before one fails; negative: none fails. */
static long alloc_countdown = -1;

static bool
alloc_should_fail(void)
{
	if (alloc_countdown < 0)
		return false;
	if (alloc_countdown-- == 0)
		return true;
	return false;
}

void *
__wrap_malloc(size_t size)
{
	return alloc_should_fail() ? NULL : __real_malloc(size);
}

void *
__wrap_calloc(size_t nmemb, size_t size)
{
	return alloc_should_fail() ? NULL : __real_calloc(nmemb, size);
}

/*---- helpers ----*/

static void *
xmalloc(size_t size)
{
	void	   *p = malloc(size > 0 ? size : 1);

	if (p == NULL)
	{
		fprintf(stderr, "sigv4_check: out of memory\n");
		exit(2);
	}
	return p;
}

static char *
xstrndup(const char *s, size_t len)
{
	char	   *p = xmalloc(len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

/* Whole file as a NUL-terminated string; NULL if it cannot be read. */
static char *
read_file(const char *path, size_t *lenp)
{
	FILE	   *f = fopen(path, "rb");
	char	   *data = NULL;
	size_t		len = 0;
	size_t		cap = 0;

	if (f == NULL)
		return NULL;
	for (;;)
	{
		size_t		got;

		if (cap - len < 4096)
		{
			char	   *bigger;

			cap = cap > 0 ? cap * 2 : 8192;
			bigger = realloc(data, cap);
			if (bigger == NULL)
			{
				free(data);
				fclose(f);
				return NULL;
			}
			data = bigger;
		}
		got = fread(data + len, 1, cap - len - 1, f);
		len += got;
		if (got == 0)
			break;
	}
	fclose(f);
	data[len] = '\0';
	if (lenp != NULL)
		*lenp = len;
	return data;
}

static char *
path_join(const char *dir, const char *name, const char *file)
{
	size_t		len = strlen(dir) + strlen(name) + strlen(file) + 3;
	char	   *p = xmalloc(len);

	snprintf(p, len, "%s/%s/%s", dir, name, file);
	return p;
}

static void
strip_trailing_newlines(char *s)
{
	size_t		len = strlen(s);

	while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r'))
		s[--len] = '\0';
}

static void
headers_add(HeaderList *list, const char *name, size_t namelen,
			const char *value, size_t valuelen)
{
	if (list->n == list->cap)
	{
		SigV4Header *bigger;

		list->cap = list->cap > 0 ? list->cap * 2 : 8;
		bigger = realloc(list->items, (size_t) list->cap * sizeof(SigV4Header));
		if (bigger == NULL)
		{
			fprintf(stderr, "sigv4_check: out of memory\n");
			exit(2);
		}
		list->items = bigger;
	}
	list->items[list->n].name = xstrndup(name, namelen);
	list->items[list->n].value = xstrndup(value, valuelen);
	list->n++;
}

static void
headers_add_str(HeaderList *list, const char *name, const char *value)
{
	headers_add(list, name, strlen(name), value, strlen(value));
}

/* Continuation of a folded header line: append "\n" + line to the value. */
static void
headers_extend_last(HeaderList *list, const char *line, size_t len)
{
	const char *old = list->items[list->n - 1].value;
	size_t		oldlen = strlen(old);
	char	   *joined = xmalloc(oldlen + 1 + len + 1);

	memcpy(joined, old, oldlen);
	joined[oldlen] = '\n';
	memcpy(joined + oldlen + 1, line, len);
	joined[oldlen + 1 + len] = '\0';
	free((char *) old);
	list->items[list->n - 1].value = joined;
}

static void
headers_free(HeaderList *list)
{
	int			i;

	for (i = 0; i < list->n; i++)
	{
		free((char *) list->items[i].name);
		free((char *) list->items[i].value);
	}
	free(list->items);
	list->items = NULL;
	list->n = list->cap = 0;
}

static void
parsed_request_free(ParsedRequest *pr)
{
	free(pr->method);
	free(pr->path);
	free(pr->query);
	headers_free(&pr->headers);
	free(pr->payload);
	memset(pr, 0, sizeof(ParsedRequest));
}

/*
 * Parse "METHOD target HTTP/1.1", header lines (folded lines start with
 * white space), an empty line and the body.  The target may contain spaces.
 */
static bool
parse_request(const char *text, size_t textlen, ParsedRequest *pr)
{
	const char *end = text + textlen;
	const char *line = text;
	const char *eol;
	const char *sp1;
	const char *sp2;
	const char *target;
	const char *qmark;
	size_t		linelen;

	memset(pr, 0, sizeof(ParsedRequest));

	eol = memchr(line, '\n', (size_t) (end - line));
	if (eol == NULL)
		eol = end;
	linelen = (size_t) (eol - line);
	if (linelen > 0 && line[linelen - 1] == '\r')
		linelen--;
	sp1 = memchr(line, ' ', linelen);
	sp2 = line + linelen;
	while (sp2 > line && sp2[-1] != ' ')
		sp2--;
	if (sp1 == NULL || sp2 <= sp1 + 1)
		return false;
	sp2--;
	pr->method = xstrndup(line, (size_t) (sp1 - line));
	target = sp1 + 1;
	qmark = memchr(target, '?', (size_t) (sp2 - target));
	if (qmark != NULL)
	{
		pr->path = xstrndup(target, (size_t) (qmark - target));
		pr->query = xstrndup(qmark + 1, (size_t) (sp2 - qmark - 1));
	}
	else
		pr->path = xstrndup(target, (size_t) (sp2 - target));

	line = eol < end ? eol + 1 : end;
	while (line < end)
	{
		const char *colon;

		eol = memchr(line, '\n', (size_t) (end - line));
		if (eol == NULL)
			eol = end;
		linelen = (size_t) (eol - line);
		if (linelen > 0 && line[linelen - 1] == '\r')
			linelen--;
		if (linelen == 0)
		{
			line = eol < end ? eol + 1 : end;
			break;
		}
		if (line[0] == ' ' || line[0] == '\t')
		{
			if (pr->headers.n == 0)
				return false;
			headers_extend_last(&pr->headers, line, linelen);
		}
		else
		{
			colon = memchr(line, ':', linelen);
			if (colon == NULL)
				return false;
			headers_add(&pr->headers, line, (size_t) (colon - line), colon + 1,
						linelen - (size_t) (colon - line) - 1);
		}
		line = eol < end ? eol + 1 : end;
	}

	pr->payload_len = (size_t) (end - line);
	pr->payload = xmalloc(pr->payload_len);
	memcpy(pr->payload, line, pr->payload_len);
	return true;
}

/*---- TAP ----*/

static void
tap_diag_block(const char *label, const char *text)
{
	const char *p = text != NULL ? text : "(null)";

	printf("#   %s:\n", label);
	for (;;)
	{
		const char *nl = strchr(p, '\n');
		int			len = nl != NULL ? (int) (nl - p) : (int) strlen(p);

		printf("#     |%.*s\n", len, p);
		if (nl == NULL)
			break;
		p = nl + 1;
	}
}

static void
tap_result(bool ok, const char *name, const char *what)
{
	tap_count++;
	if (!ok)
		tap_failed++;
	printf("%s %d - %s %s\n", ok ? "ok" : "not ok", tap_count, name, what);
}

static void
tap_compare(const char *name, const char *what, const char *expected,
			const char *got)
{
	bool		ok = expected != NULL && got != NULL && strcmp(expected, got) == 0;

	tap_result(ok, name, what);
	if (!ok)
	{
		tap_diag_block("expected", expected);
		tap_diag_block("got", got);
	}
}

/*---- vector mode ----*/

#define CHECKS_PER_CASE 4

static const char *
json_member_string(json_t *obj, const char *key)
{
	json_t	   *v = json_object_get(obj, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* "2015-08-30T12:36:00Z" -> "20150830T123600Z" */
static void
amz_date_from_timestamp(const char *ts, char out[17])
{
	int			n = 0;

	for (; *ts != '\0' && n < 16; ts++)
	{
		if (*ts != '-' && *ts != ':')
			out[n++] = *ts;
	}
	out[n] = '\0';
}

static char *
authorization_from_signed_request(const char *text)
{
	const char *p = text;

	while (p != NULL && *p != '\0')
	{
		if (strncmp(p, "Authorization:", 14) == 0)
		{
			const char *eol = strchr(p, '\n');
			size_t		len = eol != NULL ? (size_t) (eol - p) : strlen(p);
			char	   *value;

			value = xstrndup(p + 14, len - 14);
			strip_trailing_newlines(value);
			return value;
		}
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return NULL;
}

static char *
read_expected(const char *dir, const char *name, const char *file)
{
	char	   *path = path_join(dir, name, file);
	char	   *data = read_file(path, NULL);

	free(path);
	if (data != NULL)
		strip_trailing_newlines(data);
	return data;
}

static void
run_case(const char *dir, const char *name)
{
	char	   *ctx_path = path_join(dir, name, "context.json");
	char	   *req_path = path_join(dir, name, "request.txt");
	json_t	   *ctx = NULL;
	json_error_t jerr;
	char	   *raw = NULL;
	size_t		rawlen = 0;
	ParsedRequest pr;
	SigV4Request req;
	SigV4Credentials cred;
	SigV4Result res;
	const char *token = NULL;
	bool		sign_body;
	bool		omit_token;
	char		amz_date[17];
	char		payload_hash[65];
	char	   *exp_creq = NULL;
	char	   *exp_sts = NULL;
	char	   *exp_sig = NULL;
	char	   *exp_signed = NULL;
	char	   *exp_auth = NULL;
	bool		parsed = false;
	int			rc = -1;

	memset(&pr, 0, sizeof(pr));
	memset(&res, 0, sizeof(res));
	memset(&cred, 0, sizeof(cred));

	ctx = json_load_file(ctx_path, 0, &jerr);
	raw = read_file(req_path, &rawlen);
	if (ctx != NULL && raw != NULL)
		parsed = parse_request(raw, rawlen, &pr);

	if (parsed)
	{
		json_t	   *creds = json_object_get(ctx, "credentials");
		const char *ts = json_member_string(ctx, "timestamp");

		cred.access_key_id = json_member_string(creds, "access_key_id");
		cred.secret_access_key = json_member_string(creds, "secret_access_key");
		token = json_member_string(creds, "token");
		sign_body = json_is_true(json_object_get(ctx, "sign_body"));
		omit_token = json_is_true(json_object_get(ctx, "omit_session_token"));
		amz_date_from_timestamp(ts != NULL ? ts : "", amz_date);

		/* The headers the signing client adds, as the suite expects them. */
		headers_add_str(&pr.headers, "X-Amz-Date", amz_date);
		if (token != NULL && !omit_token)
		{
			headers_add_str(&pr.headers, "X-Amz-Security-Token", token);
			cred.session_token = token;
		}
		if (sign_body &&
			sigv4_sha256_hex(pr.payload, pr.payload_len, payload_hash) == 0)
			headers_add_str(&pr.headers, "X-Amz-Content-Sha256", payload_hash);

		req.method = pr.method;
		req.path = pr.path;
		req.query = pr.query;
		req.headers = pr.headers.items;
		req.nheaders = pr.headers.n;
		req.payload = pr.payload;
		req.payload_len = pr.payload_len;

		rc = sigv4_sign(&req, &cred, json_member_string(ctx, "region"),
						json_member_string(ctx, "service"), amz_date, &res);
	}
	if (rc != 0)
		printf("# %s: %s\n", name,
			   ctx == NULL ? "cannot read context.json" :
			   raw == NULL ? "cannot read request.txt" :
			   !parsed ? "cannot parse request.txt" : "sigv4_sign failed");

	exp_creq = read_expected(dir, name, "header-canonical-request.txt");
	exp_sts = read_expected(dir, name, "header-string-to-sign.txt");
	exp_sig = read_expected(dir, name, "header-signature.txt");
	exp_signed = read_expected(dir, name, "header-signed-request.txt");
	if (exp_signed != NULL)
		exp_auth = authorization_from_signed_request(exp_signed);

	tap_compare(name, "canonical request", exp_creq, res.canonical_request);
	tap_compare(name, "string to sign", exp_sts, res.string_to_sign);
	tap_compare(name, "signature", exp_sig, res.signature);
	tap_compare(name, "authorization", exp_auth, res.authorization);

	sigv4_result_free(&res);
	parsed_request_free(&pr);
	if (ctx != NULL)
		json_decref(ctx);
	free(raw);
	free(ctx_path);
	free(req_path);
	free(exp_creq);
	free(exp_sts);
	free(exp_sig);
	free(exp_signed);
	free(exp_auth);
}

/*---- checks of the signer's own rules ----*/

enum ApiMutation
{
	API_NONE,
	API_NO_HOST,
	API_TWO_HOSTS,
	API_NO_DATE,
	API_WRONG_DATE,
	API_TOKEN_UNSIGNED,
	API_BAD_AMZ_DATE,
	API_BAD_HEADER_NAME,
	API_RELATIVE_PATH,
	API_BAD_REGION,
	API_NULL_PAYLOAD,
	API_NMUTATIONS
};

static const char *const api_names[API_NMUTATIONS] = {
	"valid request signs",
	"missing Host is rejected",
	"two Host headers are rejected",
	"missing X-Amz-Date is rejected",
	"X-Amz-Date differing from the signing date is rejected",
	"session token not sent as a header is rejected",
	"malformed signing date is rejected",
	"header name with a space is rejected",
	"path without a leading slash is rejected",
	"region containing a slash is rejected",
	"NULL payload with a length is rejected",
};

static int
api_sign(enum ApiMutation m, const char *query, SigV4Result *res)
{
	SigV4Header headers[4];
	int			n = 0;
	SigV4Request req;
	SigV4Credentials cred;
	const char *amz_date = "20150830T123600Z";
	const char *region = "us-east-1";

	cred.access_key_id = "AKIDEXAMPLE";
	cred.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
	cred.session_token = m == API_TOKEN_UNSIGNED ? "token" : NULL;

	if (m != API_NO_HOST)
	{
		headers[n].name = "Host";
		headers[n++].value = "example.amazonaws.com";
	}
	if (m == API_TWO_HOSTS)
	{
		headers[n].name = "host";
		headers[n++].value = "other.amazonaws.com";
	}
	if (m != API_NO_DATE)
	{
		headers[n].name = "X-Amz-Date";
		headers[n++].value = m == API_WRONG_DATE ? "20150830T123601Z" : amz_date;
	}
	if (m == API_BAD_HEADER_NAME)
	{
		headers[n].name = "My Header";
		headers[n++].value = "x";
	}
	if (m == API_BAD_AMZ_DATE)
		amz_date = "2015-08-30T12:36:00Z";
	if (m == API_BAD_REGION)
		region = "us-east-1/evil";

	req.method = "GET";
	req.path = m == API_RELATIVE_PATH ? "example" : "/";
	req.query = query;
	req.headers = headers;
	req.nheaders = n;
	req.payload = NULL;
	req.payload_len = m == API_NULL_PAYLOAD ? 3 : 0;

	return sigv4_sign(&req, &cred, region, "service", amz_date, res);
}

/* Second line of the canonical request, from a signing of the base request. */
static char *
api_canonical_query(const char *query)
{
	SigV4Result res;
	char	   *out = NULL;

	if (api_sign(API_NONE, query, &res) == 0)
	{
		const char *start = strchr(res.canonical_request, '\n');

		start = start != NULL ? strchr(start + 1, '\n') : NULL;
		if (start != NULL)
		{
			const char *end = strchr(start + 1, '\n');

			out = xstrndup(start + 1, end != NULL ? (size_t) (end - start - 1) : 0);
		}
		sigv4_result_free(&res);
	}
	return out;
}

static void
api_query_case(const char *query, const char *expected, const char *what)
{
	char	   *got = api_canonical_query(query);

	tap_compare("api:", what, expected, got);
	free(got);
}

/*
 * Sign a request that takes every path of the signer (query, repeated
 * headers, session token, payload) while the n-th allocation fails, for
 * n = 0, 1, ... until signing succeeds.  Every failed signing must return
 * -1 and leave the result empty; leaks show under valgrind and ASan.
 */
static void
api_allocation_failures(void)
{
	static const SigV4Header headers[] = {
		{"Host", "example.amazonaws.com"},
		{"X-Amz-Date", "20150830T123600Z"},
		{"X-Amz-Security-Token", "token"},
		{"My-Header", "  a   b  "},
		{"my-header", "c"},
		{"Content-Type", "application/x-amz-json-1.0"},
	};
	static const unsigned char payload[] = "{\"TableName\":\"counters\"}";
	SigV4Request req;
	SigV4Credentials cred;
	SigV4Result res;
	long		n;
	bool		ok = true;
	char		what[128];

	req.method = "POST";
	req.path = "/a/./b/../c d/";
	req.query = "z=1&a=%7e&a=2&b";
	req.headers = headers;
	req.nheaders = (int) (sizeof(headers) / sizeof(headers[0]));
	req.payload = payload;
	req.payload_len = sizeof(payload) - 1;
	cred.access_key_id = "AKIDEXAMPLE";
	cred.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
	cred.session_token = "token";

	for (n = 0;; n++)
	{
		int			rc;

		memset(&res, 0x5a, sizeof(res));
		alloc_countdown = n;
		rc = sigv4_sign(&req, &cred, "us-east-1", "dynamodb",
						"20150830T123600Z", &res);
		alloc_countdown = -1;
		if (rc == 0)
		{
			sigv4_result_free(&res);
			break;
		}
		if (rc != -1 || res.canonical_request != NULL ||
			res.string_to_sign != NULL || res.signature != NULL ||
			res.authorization != NULL)
		{
			printf("# allocation %ld failing: rc %d or result not empty\n", n, rc);
			ok = false;
			break;
		}
	}
	snprintf(what, sizeof(what),
			 "each of the %ld allocations failing returns -1 with an empty result", n);
	tap_result(ok && n > 0, "api:", what);
}

#define API_QUERY_CHECKS 4
#define API_CHECKS (API_NMUTATIONS + API_QUERY_CHECKS + 2)

static void
run_api_checks(void)
{
	int			m;
	char		hex[65];

	for (m = 0; m < API_NMUTATIONS; m++)
	{
		SigV4Result res;
		int			rc;
		bool		ok;

		memset(&res, 0x5a, sizeof(res));
		rc = api_sign((enum ApiMutation) m, NULL, &res);
		if (m == API_NONE)
			ok = rc == 0 && res.authorization != NULL;
		else
			ok = rc == -1 && res.canonical_request == NULL &&
				res.string_to_sign == NULL && res.signature == NULL &&
				res.authorization == NULL;
		tap_result(ok, "api:", api_names[m]);
		if (rc == 0)
			sigv4_result_free(&res);
	}

	api_query_case("a=%7e&a=~&a=%7E", "a=~&a=~&a=~",
				   "every spelling of an unreserved query byte signs the same");
	api_query_case("b=1+2&a=x%2By", "a=x%2By&b=1%2B2",
				   "a plus sign in the query is a literal plus");
	api_query_case("k=%zz&j=%4&i=%", "i=%25&j=%254&k=%25zz",
				   "a malformed escape in the query is literal");
	api_query_case("a-b=1&a=2&&a&a=1", "a=&a=1&a=2&a-b=1",
				   "query sorted by name then value, a bare name signs as name=");

	tap_compare("api:", "sha256 of empty input",
				"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
				sigv4_sha256_hex(NULL, 0, hex) == 0 ? hex : NULL);
	api_allocation_failures();
}

static int
case_filter(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

static int
run_vectors(const char *dir)
{
	struct dirent **names = NULL;
	int			n;
	int			i;

	n = scandir(dir, &names, case_filter, alphasort);
	if (n < 0)
	{
		printf("1..0 # Skipped: cannot read %s\n", dir);
		return 1;
	}
	printf("1..%d\n", n * CHECKS_PER_CASE + API_CHECKS);
	for (i = 0; i < n; i++)
	{
		run_case(dir, names[i]->d_name);
		free(names[i]);
	}
	free(names);
	run_api_checks();
	printf("# %d cases, %d checks, %d failed\n", n, tap_count, tap_failed);
	return tap_failed == 0 ? 0 : 1;
}

/*---- stdin mode ----*/

static unsigned char *
hex_decode(const char *hex, size_t *lenp)
{
	size_t		len = strlen(hex);
	unsigned char *out;
	size_t		i;

	if (len % 2 != 0)
		return NULL;
	out = xmalloc(len / 2);
	for (i = 0; i < len / 2; i++)
	{
		unsigned int byte;

		if (sscanf(hex + 2 * i, "%2x", &byte) != 1)
		{
			free(out);
			return NULL;
		}
		out[i] = (unsigned char) byte;
	}
	*lenp = len / 2;
	return out;
}

static json_t *
sign_json_request(json_t *in)
{
	json_t	   *headers = json_object_get(in, "headers");
	const char *payload_hex = json_member_string(in, "payload");
	HeaderList	list;
	SigV4Request req;
	SigV4Credentials cred;
	SigV4Result res;
	unsigned char *payload = NULL;
	size_t		payload_len = 0;
	json_t	   *out;
	size_t		i;

	memset(&list, 0, sizeof(list));
	if (!json_is_array(headers))
		return json_pack("{s:s}", "error", "headers must be an array");
	for (i = 0; i < json_array_size(headers); i++)
	{
		json_t	   *pair = json_array_get(headers, i);
		json_t	   *name = json_array_get(pair, 0);
		json_t	   *value = json_array_get(pair, 1);

		if (!json_is_string(name) || !json_is_string(value))
		{
			headers_free(&list);
			return json_pack("{s:s}", "error", "header must be [name, value]");
		}
		headers_add_str(&list, json_string_value(name), json_string_value(value));
	}
	if (payload_hex != NULL)
	{
		payload = hex_decode(payload_hex, &payload_len);
		if (payload == NULL)
		{
			headers_free(&list);
			return json_pack("{s:s}", "error", "payload must be hex");
		}
	}

	req.method = json_member_string(in, "method");
	req.path = json_member_string(in, "path");
	req.query = json_member_string(in, "query");
	req.headers = list.items;
	req.nheaders = list.n;
	req.payload = payload;
	req.payload_len = payload_len;
	cred.access_key_id = json_member_string(in, "access_key_id");
	cred.secret_access_key = json_member_string(in, "secret_access_key");
	cred.session_token = json_member_string(in, "session_token");

	if (sigv4_sign(&req, &cred, json_member_string(in, "region"),
				   json_member_string(in, "service"),
				   json_member_string(in, "amz_date"), &res) != 0)
		out = json_pack("{s:s}", "error", "sigv4_sign failed");
	else
	{
		out = json_pack("{s:s, s:s, s:s}",
						"authorization", res.authorization,
						"canonical_request", res.canonical_request,
						"string_to_sign", res.string_to_sign);
		if (out == NULL)
			out = json_pack("{s:s}", "error", "result is not valid UTF-8");
		sigv4_result_free(&res);
	}
	headers_free(&list);
	free(payload);
	return out;
}

static int
run_stdin(void)
{
	char	   *line = NULL;
	size_t		cap = 0;
	ssize_t		len;
	int			status = 0;

	while ((len = getline(&line, &cap, stdin)) != -1)
	{
		json_error_t jerr;
		json_t	   *in;
		json_t	   *out;
		char	   *text;

		if (len <= 1)
			continue;
		in = json_loadb(line, (size_t) len, 0, &jerr);
		if (in == NULL)
			out = json_pack("{s:s}", "error", jerr.text);
		else
		{
			out = sign_json_request(in);
			json_decref(in);
		}
		if (out == NULL || json_object_get(out, "error") != NULL)
			status = 1;
		text = out != NULL ? json_dumps(out, JSON_COMPACT) : NULL;
		printf("%s\n", text != NULL ? text : "{\"error\":\"out of memory\"}");
		free(text);
		if (out != NULL)
			json_decref(out);
	}
	free(line);
	fflush(stdout);
	return status;
}

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "vectors") == 0)
		return run_vectors(argv[2]);
	if (argc == 2 && strcmp(argv[1], "stdin") == 0)
		return run_stdin();
	fprintf(stderr, "usage: %s vectors DIR\n       %s stdin\n", argv[0], argv[0]);
	return 2;
}
