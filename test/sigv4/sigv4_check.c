/*-------------------------------------------------------------------------
 *
 * sigv4_check.c
 *		Standalone checker for the SigV4 signer in src/sigv4.c.
 *
 * Three modes, each printing TAP (README.md describes the checks):
 *
 *	sigv4_check vectors DIR
 *		Replays the POST cases of AWS's published SigV4 test suite under DIR.
 *		For each case the canonical request, the string to sign, the
 *		signature and the Authorization header are compared with the
 *		published ones; a case whose request has a query string must be
 *		refused, since seqdist never sends one.
 *
 *	sigv4_check rules
 *		The signer's own rules: every class of bad input it refuses, what
 *		the canonical request makes of the inputs it accepts, and each of
 *		its allocations failing in turn.
 *
 *	sigv4_check stdin
 *		Reads one JSON request per line and writes one JSON line per request
 *		with the Authorization, canonical request and string to sign the
 *		signer computes (or an "error" member); crosscheck.js drives it.
 *		Input members: method, path, headers (array of [name, value] pairs,
 *		sent as given), payload (hex), access_key_id, secret_access_key,
 *		session_token (string or null), region, service, amz_date.
 *
 * The checker is linked with -Wl,--wrap=malloc -Wl,--wrap=free, so that
 * while the rules mode is inside the signer it sees every block the signer
 * allocates and frees: it can make any allocation fail, tell what is still
 * allocated afterwards and check that each block is wiped before it is
 * freed.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#include <dirent.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "sigv4.h"

/* the tables of variations leave out the members they do not use */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

static int	tap_count = 0;
static int	tap_failed = 0;

/*---- allocation tracking ----*/

void	   *__real_malloc(size_t size);
void		__real_free(void *ptr);
void	   *__wrap_malloc(size_t size);
void		__wrap_free(void *ptr);

#define MAX_BLOCKS 64

static bool tracking = false;	/* inside the signer, called by the rules */
static long fail_countdown = -1;	/* allocations left before one fails */
static int	nallocs = 0;		/* allocations made while tracking */
static int	unwiped = 0;		/* blocks freed while tracking, not zeroed */
static int	nblocks = 0;		/* blocks allocated while tracking, not freed */
static struct
{
	void	   *ptr;
	size_t		size;
}			blocks[MAX_BLOCKS];

void *
__wrap_malloc(size_t size)
{
	void	   *ptr;

	if (!tracking)
		return __real_malloc(size);
	if (fail_countdown >= 0 && fail_countdown-- == 0)
		return NULL;
	ptr = __real_malloc(size);
	nallocs++;
	if (ptr != NULL && nblocks < MAX_BLOCKS)
	{
		blocks[nblocks].ptr = ptr;
		blocks[nblocks].size = size;
		nblocks++;
	}
	return ptr;
}

void
__wrap_free(void *ptr)
{
	int			i;
	size_t		k;

	for (i = 0; tracking && ptr != NULL && i < nblocks; i++)
	{
		if (blocks[i].ptr != ptr)
			continue;
		for (k = 0; k < blocks[i].size; k++)
		{
			if (((unsigned char *) ptr)[k] != 0)
			{
				unwiped++;
				break;
			}
		}
		blocks[i] = blocks[--nblocks];
		break;
	}
	__real_free(ptr);
}

static int
tracked_sign(const SigV4Request *req, const SigV4Credentials *cred,
			 const char *region, const char *service, const char *amz_date,
			 SigV4Result *res)
{
	int			rc;

	tracking = true;
	rc = sigv4_sign(req, cred, region, service, amz_date, res);
	tracking = false;
	return rc;
}

static void
tracked_result_free(SigV4Result *res)
{
	tracking = true;
	sigv4_result_free(res);
	tracking = false;
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
read_file(const char *dir, const char *name, const char *file, size_t *lenp)
{
	char		path[4096];
	FILE	   *f;
	long		len;
	char	   *data;

	snprintf(path, sizeof(path), "%s/%s/%s", dir, name, file);
	f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 ||
		fseek(f, 0, SEEK_SET) != 0)
	{
		fclose(f);
		return NULL;
	}
	data = xmalloc((size_t) len + 1);
	if (fread(data, 1, (size_t) len, f) != (size_t) len)
	{
		free(data);
		fclose(f);
		return NULL;
	}
	fclose(f);
	data[len] = '\0';
	if (lenp != NULL)
		*lenp = (size_t) len;
	return data;
}

/* An expected result file, without the trailing newline. */
static char *
read_expected(const char *dir, const char *name, const char *file)
{
	char	   *data = read_file(dir, name, file, NULL);
	size_t		len = data != NULL ? strlen(data) : 0;

	while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
		data[--len] = '\0';
	return data;
}

/* A header list that owns its strings. */
typedef struct HeaderList
{
	SigV4Header items[32];
	int			n;
} HeaderList;

static bool
headers_add(HeaderList *list, const char *name, size_t namelen,
			const char *value, size_t valuelen)
{
	if (list->n == (int) (sizeof(list->items) / sizeof(list->items[0])))
		return false;
	list->items[list->n].name = xstrndup(name, namelen);
	list->items[list->n].value = xstrndup(value, valuelen);
	list->n++;
	return true;
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
	list->n = 0;
}

/*---- TAP ----*/

static bool tap_ok(bool ok, const char *fmt,...) __attribute__((format(printf, 2, 3)));

static bool
tap_ok(bool ok, const char *fmt,...)
{
	va_list		ap;

	tap_count++;
	if (!ok)
		tap_failed++;
	printf("%s %d - ", ok ? "ok" : "not ok", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	return ok;
}

static void
tap_diag_block(const char *label, const char *text)
{
	const char *p = text != NULL ? text : "(null)";
	const char *nl;

	printf("#   %s:\n", label);
	do
	{
		nl = strchr(p, '\n');
		printf("#     |%.*s\n", nl != NULL ? (int) (nl - p) : (int) strlen(p), p);
		p = nl + 1;
	} while (nl != NULL);
}

static void tap_compare(const char *expected, const char *got,
						const char *fmt,...) __attribute__((format(printf, 3, 4)));

static void
tap_compare(const char *expected, const char *got, const char *fmt,...)
{
	bool		ok = expected != NULL && got != NULL && strcmp(expected, got) == 0;
	char		what[256];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	tap_ok(ok, "%s", what);
	if (!ok)
	{
		tap_diag_block("expected", expected);
		tap_diag_block("got", got);
	}
}

static bool
result_empty(const SigV4Result *res)
{
	return res->canonical_request == NULL && res->string_to_sign == NULL &&
		res->signature == NULL && res->authorization == NULL;
}

/*---- vectors mode ----*/

/* A request read from a case's request.txt. */
typedef struct ParsedRequest
{
	char	   *method;
	char	   *path;
	char	   *query;
	HeaderList	headers;
	const char *payload;		/* points into the file's text */
	size_t		payload_len;
} ParsedRequest;

static const char *
line_end(const char *line, const char *end)
{
	const char *eol = memchr(line, '\n', (size_t) (end - line));

	return eol != NULL ? eol : end;
}

/*
 * "METHOD target HTTP/1.1", "Name:value" lines, an empty line and the body.
 * The POST cases have neither folded header lines nor spaces in the target.
 */
static bool
parse_request(const char *text, size_t len, ParsedRequest *pr)
{
	const char *end = text + len;
	const char *eol = line_end(text, end);
	const char *sp1 = memchr(text, ' ', (size_t) (eol - text));
	const char *sp2 = sp1 != NULL ? memchr(sp1 + 1, ' ', (size_t) (eol - sp1 - 1)) : NULL;
	const char *qmark;
	const char *line;

	memset(pr, 0, sizeof(ParsedRequest));
	if (sp2 == NULL)
		return false;
	pr->method = xstrndup(text, (size_t) (sp1 - text));
	qmark = memchr(sp1 + 1, '?', (size_t) (sp2 - sp1 - 1));
	pr->path = xstrndup(sp1 + 1, (size_t) ((qmark != NULL ? qmark : sp2) - sp1 - 1));
	if (qmark != NULL)
		pr->query = xstrndup(qmark + 1, (size_t) (sp2 - qmark - 1));

	line = eol < end ? eol + 1 : end;
	while (line < end)
	{
		const char *colon;

		eol = line_end(line, end);
		if (eol == line)
		{
			line++;				/* the empty line before the body */
			break;
		}
		colon = memchr(line, ':', (size_t) (eol - line));
		if (colon == NULL ||
			!headers_add(&pr->headers, line, (size_t) (colon - line), colon + 1,
						 (size_t) (eol - colon - 1)))
			return false;
		line = eol < end ? eol + 1 : end;
	}
	pr->payload = line;
	pr->payload_len = (size_t) (end - line);
	return true;
}

static void
parsed_request_free(ParsedRequest *pr)
{
	free(pr->method);
	free(pr->path);
	free(pr->query);
	headers_free(&pr->headers);
}

static const char *
json_member_string(json_t *obj, const char *key)
{
	json_t	   *v = json_object_get(obj, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static char *
authorization_from_signed_request(const char *text)
{
	const char *p = text != NULL ? strstr(text, "\nAuthorization:") : NULL;

	return p != NULL ? xstrndup(p + 15, strcspn(p + 15, "\r\n")) : NULL;
}

/*
 * A case whose request has a query string: the signer must refuse it, and
 * sign the same request once the query is dropped, so that it is the query
 * that is refused.
 */
static void
check_refused_case(const char *name, SigV4Request *req,
				   const SigV4Credentials *cred, json_t *ctx,
				   const char *amz_date)
{
	SigV4Result res;
	int			with_query;
	int			without_query;

	memset(&res, 0x5a, sizeof(res));
	with_query = sigv4_sign(req, cred, json_member_string(ctx, "region"),
							json_member_string(ctx, "service"), amz_date, &res);
	with_query = with_query == -1 && result_empty(&res) ? 0 : 1;
	req->query = NULL;
	without_query = sigv4_sign(req, cred, json_member_string(ctx, "region"),
							   json_member_string(ctx, "service"), amz_date,
							   &res);
	if (without_query == 0)
		sigv4_result_free(&res);
	tap_ok(with_query == 0 && without_query == 0,
		   "%s: refused for its query string, signed without it", name);
}

static void
run_case(const char *dir, const char *name)
{
	json_error_t jerr;
	char		ctx_path[4096];
	json_t	   *ctx;
	json_t	   *creds;
	char	   *raw;
	size_t		rawlen = 0;
	ParsedRequest pr;
	SigV4Request req;
	SigV4Credentials cred;
	SigV4Result res;
	const char *ts;
	const char *token;
	char		amz_date[17] = "";
	char		payload_hash[65];
	char	   *exp_signed;
	char	   *exp[4];
	int			rc = -1;
	int			i;
	int			n;

	snprintf(ctx_path, sizeof(ctx_path), "%s/%s/context.json", dir, name);
	ctx = json_load_file(ctx_path, 0, &jerr);
	raw = read_file(dir, name, "request.txt", &rawlen);
	memset(&pr, 0, sizeof(pr));
	memset(&res, 0, sizeof(res));
	if (ctx == NULL || raw == NULL || !parse_request(raw, rawlen, &pr))
	{
		tap_ok(false, "%s: cannot read context.json or request.txt", name);
		goto cleanup;
	}

	creds = json_object_get(ctx, "credentials");
	cred.access_key_id = json_member_string(creds, "access_key_id");
	cred.secret_access_key = json_member_string(creds, "secret_access_key");
	cred.session_token = NULL;
	token = json_member_string(creds, "token");
	/* "2015-08-30T12:36:00Z" -> "20150830T123600Z" */
	ts = json_member_string(ctx, "timestamp");
	for (n = 0; ts != NULL && *ts != '\0' && n < 16; ts++)
	{
		if (*ts != '-' && *ts != ':')
			amz_date[n++] = *ts;
	}
	amz_date[n] = '\0';

	/* the headers the suite expects the signing client to add */
	headers_add(&pr.headers, "X-Amz-Date", 10, amz_date, strlen(amz_date));
	if (token != NULL && !json_is_true(json_object_get(ctx, "omit_session_token")))
	{
		headers_add(&pr.headers, "X-Amz-Security-Token", 20, token, strlen(token));
		cred.session_token = token;
	}
	if (json_is_true(json_object_get(ctx, "sign_body")) &&
		sigv4_sha256_hex((const unsigned char *) pr.payload, pr.payload_len,
						 payload_hash) == 0)
		headers_add(&pr.headers, "X-Amz-Content-Sha256", 20, payload_hash, 64);

	req.method = pr.method;
	req.path = pr.path;
	req.query = pr.query;
	req.headers = pr.headers.items;
	req.nheaders = pr.headers.n;
	req.payload = (const unsigned char *) pr.payload;
	req.payload_len = pr.payload_len;

	if (pr.query != NULL)
	{
		check_refused_case(name, &req, &cred, ctx, amz_date);
		goto cleanup;
	}

	rc = sigv4_sign(&req, &cred, json_member_string(ctx, "region"),
					json_member_string(ctx, "service"), amz_date, &res);
	if (rc != 0)
		printf("# %s: sigv4_sign failed\n", name);
	exp[0] = read_expected(dir, name, "header-canonical-request.txt");
	exp[1] = read_expected(dir, name, "header-string-to-sign.txt");
	exp[2] = read_expected(dir, name, "header-signature.txt");
	exp_signed = read_file(dir, name, "header-signed-request.txt", NULL);
	exp[3] = authorization_from_signed_request(exp_signed);
	tap_compare(exp[0], res.canonical_request, "%s: canonical request", name);
	tap_compare(exp[1], res.string_to_sign, "%s: string to sign", name);
	tap_compare(exp[2], res.signature, "%s: signature", name);
	tap_compare(exp[3], res.authorization, "%s: Authorization", name);
	for (i = 0; i < 4; i++)
		free(exp[i]);
	free(exp_signed);
	sigv4_result_free(&res);

cleanup:
	parsed_request_free(&pr);
	if (ctx != NULL)
		json_decref(ctx);
	free(raw);
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
	if (n <= 0)
	{
		printf("Bail out! no test case under %s\n", dir);
		return 1;
	}
	for (i = 0; i < n; i++)
	{
		run_case(dir, names[i]->d_name);
		free(names[i]);
	}
	free(names);
	printf("1..%d\n# %d cases, %d checks, %d failed\n",
		   tap_count, n, tap_count, tap_failed);
	return tap_failed == 0 ? 0 : 1;
}

/*---- rules mode ----*/

#define FIXTURE_DATE	"20150830T123600Z"
#define FIXTURE_TOKEN	"FQoGZXIvYXdzEXAMPLETOKEN"
#define FIXTURE_BODY	"{\"TableName\":\"seqdist\",\"Key\":{\"name\":{\"S\":\"orders\"}}}"

/* A request as dynamo_send_once builds it; each rule varies one thing. */
typedef struct Fixture
{
	SigV4Header headers[8];
	SigV4Request req;
	SigV4Credentials cred;
	const char *region;
	const char *service;
	const char *amz_date;
	bool		no_request;
	bool		no_credentials;
	bool		no_result;
} Fixture;

static void
fixture_init(Fixture *f)
{
	static const SigV4Header headers[] = {
		{"Host", "dynamodb.us-east-1.amazonaws.com"},
		{"Content-Type", "application/x-amz-json-1.0"},
		{"X-Amz-Date", FIXTURE_DATE},
		{"X-Amz-Target", "DynamoDB_20120810.UpdateItem"},
		{"X-Amz-Security-Token", FIXTURE_TOKEN},
	};

	memset(f, 0, sizeof(Fixture));
	memcpy(f->headers, headers, sizeof(headers));
	f->req.method = "POST";
	f->req.path = "/";
	f->req.query = NULL;
	f->req.headers = f->headers;
	f->req.nheaders = (int) (sizeof(headers) / sizeof(headers[0]));
	f->req.payload = (const unsigned char *) FIXTURE_BODY;
	f->req.payload_len = strlen(FIXTURE_BODY);
	f->cred.access_key_id = "AKIDEXAMPLE";
	f->cred.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
	f->cred.session_token = FIXTURE_TOKEN;
	f->region = "us-east-1";
	f->service = "dynamodb";
	f->amz_date = FIXTURE_DATE;
}

static int
fixture_sign(const Fixture *f, SigV4Result *res)
{
	return tracked_sign(f->no_request ? NULL : &f->req,
						f->no_credentials ? NULL : &f->cred,
						f->region, f->service, f->amz_date,
						f->no_result ? NULL : res);
}

typedef enum
{
	METHOD, QUERY, PATH, PAYLOAD, NULL_PAYLOAD, DATE, REGION, SERVICE,
	KEY_ID, SECRET, TOKEN, SET_HEADER, ADD_HEADER, DROP_HEADER,
	RENAME_HEADER, NHEADERS, NULL_HEADERS, NO_REQUEST, NO_CREDENTIALS,
	NO_RESULT
} Change;

/*
 * One variation of the fixture: set a field to a (for PAYLOAD, NULL_PAYLOAD
 * and NHEADERS, strlen(a) or atoi(a)), or change the header named a (in any
 * case) to value b, add a header a: b, drop header a or rename it b.
 */
typedef struct Variation
{
	const char *what;
	Change		change;
	const char *a;
	const char *b;
	const char *expect;			/* accepted: text in the canonical request */
} Variation;

static SigV4Header *
fixture_header(Fixture *f, const char *name)
{
	int			i;

	for (i = 0; i < f->req.nheaders; i++)
	{
		if (strcasecmp(f->headers[i].name, name) == 0)
			return &f->headers[i];
	}
	fprintf(stderr, "sigv4_check: the fixture has no header %s\n", name);
	exit(2);
}

static void
fixture_vary(Fixture *f, const Variation *v)
{
	SigV4Header *h;

	switch (v->change)
	{
		case METHOD: f->req.method = v->a; break;
		case QUERY: f->req.query = v->a; break;
		case PATH: f->req.path = v->a; break;
		case PAYLOAD:
			f->req.payload = (const unsigned char *) v->a;
			f->req.payload_len = v->a != NULL ? strlen(v->a) : 0;
			break;
		case NULL_PAYLOAD:
			f->req.payload = NULL;
			f->req.payload_len = strlen(v->a);
			break;
		case DATE: f->amz_date = v->a; break;
		case REGION: f->region = v->a; break;
		case SERVICE: f->service = v->a; break;
		case KEY_ID: f->cred.access_key_id = v->a; break;
		case SECRET: f->cred.secret_access_key = v->a; break;
		case TOKEN: f->cred.session_token = v->a; break;
		case SET_HEADER: fixture_header(f, v->a)->value = v->b; break;
		case ADD_HEADER:
			f->headers[f->req.nheaders].name = v->a;
			f->headers[f->req.nheaders].value = v->b;
			f->req.nheaders++;
			break;
		case DROP_HEADER:
			h = fixture_header(f, v->a);
			*h = f->headers[--f->req.nheaders];
			break;
		case RENAME_HEADER: fixture_header(f, v->a)->name = v->b; break;
		case NHEADERS: f->req.nheaders = atoi(v->a); break;
		case NULL_HEADERS: f->req.headers = NULL; break;
		case NO_REQUEST: f->no_request = true; break;
		case NO_CREDENTIALS: f->no_credentials = true; break;
		case NO_RESULT: f->no_result = true; break;
	}
}

static const Variation refusals[] = {
	{"a NULL result", NO_RESULT},
	{"a NULL request", NO_REQUEST},
	{"NULL credentials", NO_CREDENTIALS},
	{"a NULL method", METHOD, NULL},
	{"method GET", METHOD, "GET"},
	{"method post (methods are case-sensitive)", METHOD, "post"},
	{"method POSTS (POST as a prefix)", METHOD, "POSTS"},
	{"an empty query string (only NULL means none)", QUERY, ""},
	{"a query string", QUERY, "Param1=value1"},
	{"a NULL path", PATH, NULL},
	{"an empty path", PATH, ""},
	{"a relative path", PATH, "dynamo"},
	{"path /.", PATH, "/."},
	{"path /..", PATH, "/.."},
	{"a . segment first", PATH, "/./dynamo"},
	{"a .. segment inside", PATH, "/a/../dynamo"},
	{"a . segment last", PATH, "/dynamo/."},
	{"a .. segment before a trailing slash", PATH, "/dynamo/../"},
	{"path //", PATH, "//"},
	{"an empty segment inside", PATH, "/a//dynamo"},
	{"a query in the path", PATH, "/dynamo?x=1"},
	{"a fragment in the path", PATH, "/dynamo#x"},
	{"a NULL payload with a length", NULL_PAYLOAD, "abc"},
	{"a NULL amz_date", DATE, NULL},
	{"an empty amz_date", DATE, ""},
	{"amz_date one digit short", DATE, "20150830T12360Z"},
	{"amz_date with a character too many", DATE, "20150830T123600ZZ"},
	{"amz_date in extended ISO 8601 form", DATE, "2015-08-30T12:36:00Z"},
	{"amz_date without T", DATE, "20150830 123600Z"},
	{"amz_date with a lower-case z", DATE, "20150830T123600z"},
	{"amz_date with a letter for a digit", DATE, "2015083OT123600Z"},
	{"a NULL region", REGION, NULL},
	{"an empty region", REGION, ""},
	{"a region holding /", REGION, "us-east-1/x"},
	{"a region holding a space", REGION, "us east-1"},
	{"a region holding a control character", REGION, "us-east-1\x7f"},
	{"a region holding a non-ASCII byte", REGION, "us-\xc3\xa9" "ast-1"},
	{"a NULL service", SERVICE, NULL},
	{"an empty service", SERVICE, ""},
	{"a service holding /", SERVICE, "dynamodb/x"},
	{"a service holding a space", SERVICE, "dynamo db"},
	{"a service holding a control character", SERVICE, "dynamodb\t"},
	{"a service holding a non-ASCII byte", SERVICE, "dynamod\xc3\xa9"},
	{"a NULL access key id", KEY_ID, NULL},
	{"an empty access key id", KEY_ID, ""},
	{"an access key id holding /", KEY_ID, "AKID/EXAMPLE"},
	{"an access key id holding ,", KEY_ID, "AKID,EXAMPLE"},
	{"an access key id holding a space", KEY_ID, "AKID EXAMPLE"},
	{"an access key id holding a control character", KEY_ID, "AKID\x01" "EXAMPLE"},
	{"an access key id holding a non-ASCII byte", KEY_ID, "AKID\xc3\x89XAMPLE"},
	{"a NULL secret", SECRET, NULL},
	{"an empty secret", SECRET, ""},
	{"a negative header count", NHEADERS, "-1"},
	{"a NULL header list with a count", NULL_HEADERS},
	{"a NULL header name", ADD_HEADER, NULL, "x"},
	{"an empty header name", ADD_HEADER, "", "x"},
	{"a header name holding a space", ADD_HEADER, "My Header", "x"},
	{"a header name holding a colon", ADD_HEADER, "My:Header", "x"},
	{"a header name holding a control character", ADD_HEADER, "My\x01Header", "x"},
	{"a header name holding a non-ASCII byte", ADD_HEADER, "My-H\xc3\xa9" "ader", "x"},
	{"a NULL header value", ADD_HEADER, "My-Header", NULL},
	{"no Host", DROP_HEADER, "Host"},
	{"Host twice, in another case", ADD_HEADER, "host", "other.example"},
	{"no X-Amz-Date", DROP_HEADER, "X-Amz-Date"},
	{"X-Amz-Date other than amz_date", SET_HEADER, "X-Amz-Date", "20150830T123601Z"},
	{"X-Amz-Date twice", ADD_HEADER, "x-amz-date", FIXTURE_DATE},
	{"a session token not sent as a header", DROP_HEADER, "X-Amz-Security-Token"},
	{"X-Amz-Security-Token other than the session token", SET_HEADER,
	"X-Amz-Security-Token", FIXTURE_TOKEN "x"},
	{"X-Amz-Security-Token twice", ADD_HEADER, "x-amz-security-token", FIXTURE_TOKEN},
	{"Content-Type twice", ADD_HEADER, "content-type", "application/json"},
	{"X-Amz-Target twice", ADD_HEADER, "X-AMZ-TARGET", "DynamoDB_20120810.GetItem"},
};

#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static const Variation accepted[] = {
	{"path /dynamo is signed as is", PATH, "/dynamo", NULL, "POST\n/dynamo\n\n"},
	{"a trailing slash is kept", PATH, "/dynamo/", NULL, "POST\n/dynamo/\n\n"},
	{"an escape in the path is encoded again", PATH, "/a%20b", NULL,
	"POST\n/a%2520b\n\n"},
	{"unreserved characters are not encoded", PATH, "/-_.~AZaz09", NULL,
	"POST\n/-_.~AZaz09\n\n"},
	{"reserved characters are encoded in upper-case hex", PATH,
		"/!$&'()*+,;=:@", NULL,
	"POST\n/%21%24%26%27%28%29%2A%2B%2C%3B%3D%3A%40\n\n"},
	{"space, control and non-ASCII bytes are encoded", PATH,
		"/a b\t\xc3\xa9", NULL, "POST\n/a%20b%09%C3%A9\n\n"},
	{"segments that only look like dot segments are kept", PATH,
	"/.../.a/a.", NULL, "POST\n/.../.a/a.\n\n"},
	{"a header value is trimmed and its white space folded", ADD_HEADER,
	"My-Header", " \t a \t\r\n\v\f b  c ", "\nmy-header:a b c\n"},
	{"an empty header value signs as name:", ADD_HEADER, "My-Header", "",
	"\nmy-header:\n"},
	{"a value of white space only signs as name:", ADD_HEADER, "My-Header",
	" \t ", "\nmy-header:\n"},
	{"non-ASCII bytes in a value are signed as given", ADD_HEADER,
	"My-Header", "caf\xc3\xa9", "\nmy-header:caf\xc3\xa9\n"},
	{"headers sort by their lower-case names", ADD_HEADER, "X-Amz-_", "v",
	"\nx-amz-_:v\nx-amz-date:"},
	{"Host is found in any case", RENAME_HEADER, "Host", "HOST",
	"\nhost:dynamodb.us-east-1.amazonaws.com\n"},
	{"X-Amz-Date is found in any case", RENAME_HEADER, "X-Amz-Date",
	"x-amz-date", "\nx-amz-date:" FIXTURE_DATE "\n"},
	{"no session token: X-Amz-Security-Token is an ordinary header", TOKEN,
	NULL, NULL, "\nx-amz-security-token:" FIXTURE_TOKEN "\n"},
	{"an empty session token is no session token", TOKEN, "", NULL,
	"\nx-amz-security-token:" FIXTURE_TOKEN "\n"},
	{"an empty payload hashes as the empty string", PAYLOAD, "", NULL,
	"\n" EMPTY_SHA256},
	{"a NULL payload of length 0 hashes as the empty string", PAYLOAD, NULL,
	NULL, "\n" EMPTY_SHA256},
};

#define NELEMS(a) ((int) (sizeof(a) / sizeof((a)[0])))

static void
check_refusals(void)
{
	int			i;

	for (i = 0; i < NELEMS(refusals); i++)
	{
		Fixture		f;
		SigV4Result res;
		int			rc;

		fixture_init(&f);
		fixture_vary(&f, &refusals[i]);
		memset(&res, 0x5a, sizeof(res));
		nblocks = 0;
		rc = fixture_sign(&f, &res);
		tap_ok(rc == -1 && (f.no_result || result_empty(&res)) && nblocks == 0,
			   "refused: %s", refusals[i].what);
	}
}

static void
check_accepted(void)
{
	int			i;

	for (i = 0; i < NELEMS(accepted); i++)
	{
		Fixture		f;
		SigV4Result res;
		bool		ok;

		fixture_init(&f);
		fixture_vary(&f, &accepted[i]);
		ok = fixture_sign(&f, &res) == 0;
		if (!tap_ok(ok && strstr(res.canonical_request, accepted[i].expect) != NULL,
					"accepted: %s", accepted[i].what))
		{
			tap_diag_block("expected within", accepted[i].expect);
			tap_diag_block("canonical request", ok ? res.canonical_request : NULL);
		}
		if (ok)
			tracked_result_free(&res);
	}
}

/* dynamo_send_once's request, signed by @smithy/signature-v4 */
#define FIXTURE_AUTHORIZATION "AWS4-HMAC-SHA256 " \
	"Credential=AKIDEXAMPLE/20150830/us-east-1/dynamodb/aws4_request, " \
	"SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, " \
	"Signature=cfe785c9d9a8b73471051eec4dc5bc95f0652d3ab9a09c30ebb4d594d7311774"

static void
check_fixture(void)
{
	static const char canonical[] =
		"POST\n/\n\n"
		"content-type:application/x-amz-json-1.0\n"
		"host:dynamodb.us-east-1.amazonaws.com\n"
		"x-amz-date:" FIXTURE_DATE "\n"
		"x-amz-security-token:" FIXTURE_TOKEN "\n"
		"x-amz-target:DynamoDB_20120810.UpdateItem\n\n"
		"content-type;host;x-amz-date;x-amz-security-token;x-amz-target\n"
		"292e59c89de0763c32ef4b3b6a44dab10a9eb4c80d18b5a72bba9a48393e70d2";
	static const unsigned char binary[] = {'a', '\0', 'b'};
	Fixture		f;
	Fixture		reversed;
	SigV4Result res;
	SigV4Result res2;
	bool		ok;
	int			i;

	memset(&res2, 0, sizeof(res2));
	fixture_init(&f);
	ok = fixture_sign(&f, &res) == 0;
	tap_compare(canonical, ok ? res.canonical_request : NULL,
				"dynamo_send_once's request: canonical request");
	tap_compare(FIXTURE_AUTHORIZATION, ok ? res.authorization : NULL,
				"dynamo_send_once's request: Authorization as smithy signs it");

	reversed = f;
	reversed.req.headers = reversed.headers;
	for (i = 0; i < f.req.nheaders; i++)
		reversed.headers[i] = f.headers[f.req.nheaders - 1 - i];
	tap_ok(ok && fixture_sign(&reversed, &res2) == 0 &&
		   strcmp(res.authorization, res2.authorization) == 0,
		   "the order headers are given in does not change the signature");
	if (ok)
		tracked_result_free(&res);
	tracked_result_free(&res2);

	f.req.payload = binary;
	f.req.payload_len = sizeof(binary);
	ok = fixture_sign(&f, &res) == 0;
	tap_ok(ok && strstr(res.canonical_request,
						"\n59b271ae1bbcb1d31d41929817f4b16fb439eb4f31520b5ad1d5ce98920a7138") != NULL,
		   "a payload is hashed to its length, past a NUL byte");
	if (ok)
		tracked_result_free(&res);
}

static void
check_sha256_and_free(void)
{
	char		hex[65];
	SigV4Result res;

	tap_compare(EMPTY_SHA256, sigv4_sha256_hex(NULL, 0, hex) == 0 ? hex : NULL,
				"sigv4_sha256_hex of nothing");
	tap_compare("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
				sigv4_sha256_hex((const unsigned char *) "abc", 3, hex) == 0 ? hex : NULL,
				"sigv4_sha256_hex of \"abc\" (FIPS 180-2)");
	tap_ok(sigv4_sha256_hex(NULL, 1, hex) == -1,
		   "sigv4_sha256_hex refuses NULL data with a length");

	memset(&res, 0, sizeof(res));
	sigv4_result_free(NULL);
	sigv4_result_free(&res);
	sigv4_result_free(&res);
	tap_ok(result_empty(&res),
		   "sigv4_result_free takes NULL and an emptied result");
}

/*
 * The signer's allocations, in the order it makes them when signing the
 * fixture.  A new one must be added here, which makes it fail in turn too.
 */
static const char *const allocation_sites[] = {
	"the canonical request",
	"the string to sign",
	"\"AWS4\" + secret",
	"the signature",
	"the Authorization value",
};

static void
check_allocation_failures(void)
{
	Fixture		f;
	SigV4Result res;
	int			i;
	int			rc;

	fixture_init(&f);
	for (i = 0; i < NELEMS(allocation_sites); i++)
	{
		memset(&res, 0x5a, sizeof(res));
		nblocks = 0;
		fail_countdown = i;
		rc = fixture_sign(&f, &res);
		fail_countdown = -1;
		tap_ok(rc == -1 && result_empty(&res) && nblocks == 0,
			   "allocation %d (%s) failing: -1, empty result, nothing left allocated",
			   i + 1, allocation_sites[i]);
	}

	nblocks = 0;
	nallocs = 0;
	rc = fixture_sign(&f, &res);
	i = nblocks;
	if (rc == 0)
		tracked_result_free(&res);
	tap_ok(rc == 0 && nallocs == NELEMS(allocation_sites) && i == 4 &&
		   nblocks == 0,
		   "signing allocates %d blocks, keeps the 4 result strings, "
		   "sigv4_result_free releases them (%d allocated, %d kept)",
		   NELEMS(allocation_sites), nallocs, i);
}

static int
run_rules(void)
{
	check_refusals();
	check_accepted();
	check_fixture();
	check_sha256_and_free();
	check_allocation_failures();
	tap_ok(unwiped == 0,
		   "every block the signer freed in these checks was wiped first "
		   "(%d were not)", unwiped);
	printf("1..%d\n# %d checks, %d failed\n", tap_count, tap_count, tap_failed);
	return tap_failed == 0 ? 0 : 1;
}

/*---- stdin mode ----*/

static unsigned char *
hex_decode(const char *hex, size_t *lenp)
{
	size_t		len = strlen(hex);
	unsigned char *out;
	size_t		i;
	unsigned int byte;

	if (len % 2 != 0)
		return NULL;
	out = xmalloc(len / 2);
	for (i = 0; i < len / 2; i++)
	{
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
	json_t	   *out = NULL;
	size_t		i;

	list.n = 0;
	for (i = 0; i < json_array_size(headers); i++)
	{
		json_t	   *name = json_array_get(json_array_get(headers, i), 0);
		json_t	   *value = json_array_get(json_array_get(headers, i), 1);

		if (!json_is_string(name) || !json_is_string(value) ||
			!headers_add(&list, json_string_value(name), json_string_length(name),
						 json_string_value(value), json_string_length(value)))
			out = json_pack("{s:s}", "error", "headers: up to 32 [name, value]");
	}
	if (out == NULL && payload_hex != NULL &&
		(payload = hex_decode(payload_hex, &payload_len)) == NULL)
		out = json_pack("{s:s}", "error", "payload must be hex");
	if (out != NULL)
		goto cleanup;

	req.method = json_member_string(in, "method");
	req.path = json_member_string(in, "path");
	req.query = NULL;
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

cleanup:
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
	if (argc == 2 && strcmp(argv[1], "rules") == 0)
		return run_rules();
	if (argc == 2 && strcmp(argv[1], "stdin") == 0)
		return run_stdin();
	fprintf(stderr, "usage: %s vectors DIR\n       %s rules\n       %s stdin\n",
			argv[0], argv[0], argv[0]);
	return 2;
}
