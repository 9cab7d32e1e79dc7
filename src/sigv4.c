/*-------------------------------------------------------------------------
 *
 * sigv4.c
 *		AWS Signature Version 4 request signing.
 *
 * Every DynamoDB request seqdist sends carries an Authorization header
 * computed here.  The file is plain C99 on top of OpenSSL's libcrypto and
 * includes no PostgreSQL header, so the same object links into the extension
 * and into the standalone checker under test/sigv4, which replays AWS's
 * published test vectors and compares against an independent signer.
 *
 * Design
 * ------
 * Signing follows the four steps of the specification, one function each:
 *
 *	1. sigv4_canonical_request(): method, canonical URI, canonical query,
 *	   canonical headers, signed header list and the hex SHA-256 of the
 *	   payload, joined by newlines.
 *	2. sigv4_string_to_sign(): algorithm, timestamp, credential scope and
 *	   the hex SHA-256 of the canonical request.
 *	3. sigv4_signing_key(): the HMAC-SHA256 chain "AWS4" + secret -> date
 *	   -> region -> service -> "aws4_request".
 *	4. sigv4_signature(): hex HMAC-SHA256 of the string to sign under the
 *	   signing key.
 *
 * The canonical forms are the ones AWS uses for every service except S3:
 *
 *	- URI: the path is normalised (empty and "." segments dropped, ".."
 *	  removes the previous segment, a trailing slash is kept) and each
 *	  segment is then percent-encoded byte by byte, everything except the
 *	  unreserved set A-Z a-z 0-9 - _ . ~ becoming %XX.  The path is taken as
 *	  given, so an already encoded path is encoded a second time, as AWS
 *	  expects for these services.
 *	- Query: each name and value is decoded (%XX only; "+" is a literal
 *	  plus sign and a "%" not followed by two hex digits is literal) and
 *	  re-encoded with the same unreserved set; parameters are sorted by
 *	  encoded name, then by encoded value; a parameter without "=" signs as
 *	  "name=".
 *	- Headers: names are lower-cased; values lose leading and trailing
 *	  white space and every inner run of white space (space, tab, CR, LF,
 *	  VT, FF, which covers folded lines) becomes one space; headers that
 *	  share a name are joined with commas in the order given; the result is
 *	  sorted by name.
 *
 * The signer adds no header of its own: the caller lists every header it
 * sends and wants signed, and sigv4_sign() checks that the ones the service
 * needs are there (see sigv4.h).
 *
 * Memory
 * ------
 * All memory comes from malloc and is released before returning; on failure
 * the result holds no allocation.  Buffers that may hold secret material
 * (the "AWS4" + secret key, every link of the key chain, intermediate MACs,
 * strings that carry a session token) are wiped with OPENSSL_cleanse before
 * they are freed, and growing buffers never use realloc, so no stale copy is
 * left behind.  There is no global state: the code is reentrant.
 *
 *-------------------------------------------------------------------------
 */
#include "sigv4.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define SIGV4_ALGORITHM			"AWS4-HMAC-SHA256"
#define SIGV4_SCOPE_TERMINATOR	"aws4_request"
#define SIGV4_KEY_PREFIX		"AWS4"
#define SIGV4_AMZ_DATE_LEN		16	/* yyyymmddThhmmssZ */
#define SIGV4_SHORT_DATE_LEN	8	/* yyyymmdd */
#define SIGV4_HASH_LEN			32	/* SHA-256 */
#define SIGV4_HEX_LEN			(2 * SIGV4_HASH_LEN)

/* A growable NUL-terminated string; "failed" latches allocation failure. */
typedef struct SigV4Buf
{
	char	   *data;
	size_t		len;
	size_t		cap;
	bool		failed;
} SigV4Buf;

/* One query parameter with name and value already in canonical encoding. */
typedef struct SigV4Param
{
	char	   *name;
	char	   *value;
} SigV4Param;

/* One header in canonical form; pos keeps the caller's order for ties. */
typedef struct SigV4CanonHeader
{
	char	   *name;
	char	   *value;
	int			pos;
} SigV4CanonHeader;

/*---- string buffers ----*/
static void sigv4_buf_init(SigV4Buf *buf);
static bool sigv4_buf_reserve(SigV4Buf *buf, size_t extra);
static void sigv4_buf_append(SigV4Buf *buf, const char *data, size_t len);
static void sigv4_buf_append_str(SigV4Buf *buf, const char *str);
static void sigv4_buf_append_char(SigV4Buf *buf, char c);
static char *sigv4_buf_finish(SigV4Buf *buf);
static void sigv4_buf_free(SigV4Buf *buf);
static void sigv4_free_secret(char *str);

/*---- character classes and encoding ----*/
static bool sigv4_is_unreserved(unsigned char c);
static bool sigv4_is_space(unsigned char c);
static bool sigv4_is_tchar(unsigned char c);
static int	sigv4_hex_value(unsigned char c);
static void sigv4_hex_encode(const unsigned char *data, size_t len, char *out);
static void sigv4_uri_encode_byte(SigV4Buf *buf, unsigned char c);
static void sigv4_uri_encode(SigV4Buf *buf, const char *data, size_t len);
static void sigv4_query_reencode(SigV4Buf *buf, const char *data, size_t len);

/*---- input checks ----*/
static bool sigv4_name_equals(const char *name, const char *lower);
static bool sigv4_trimmed_equals(const char *value, const char *expected);
static bool sigv4_scope_part_ok(const char *part);
static bool sigv4_amz_date_ok(const char *amz_date);
static bool sigv4_token_ok(const char *token);
static bool sigv4_credentials_ok(const SigV4Credentials *cred);
static bool sigv4_headers_ok(const SigV4Request *req,
							 const SigV4Credentials *cred,
							 const char *amz_date);
static bool sigv4_request_ok(const SigV4Request *req, const SigV4Credentials *cred,
							 const char *region, const char *service,
							 const char *amz_date);

/*---- step 1: canonical request ----*/
static int	sigv4_canonical_uri(const char *path, SigV4Buf *out);
static int	sigv4_param_cmp(const void *a, const void *b);
static int	sigv4_canonical_query(const char *query, SigV4Buf *out);
static char *sigv4_lower_dup(const char *name);
static char *sigv4_canonical_header_value(const char *value);
static int	sigv4_header_cmp(const void *a, const void *b);
static int	sigv4_canonical_headers(const SigV4Header *headers, int nheaders,
									SigV4Buf *canon, SigV4Buf *signed_headers);
static int	sigv4_canonical_request(const SigV4Request *req, char **canonical,
									char **signed_headers);

/*---- steps 2 to 4 ----*/
static int	sigv4_string_to_sign(const char *amz_date, const char *scope,
								 const char *canonical_request, char **sts);
static bool sigv4_hmac(const unsigned char *key, size_t keylen,
					   const char *data, unsigned char out[SIGV4_HASH_LEN]);
static int	sigv4_signing_key(const char *secret, const char *short_date,
							  const char *region, const char *service,
							  unsigned char key[SIGV4_HASH_LEN]);
static int	sigv4_signature(const unsigned char key[SIGV4_HASH_LEN],
							const char *sts, char **signature);
static char *sigv4_authorization(const char *access_key_id, const char *scope,
								 const char *signed_headers,
								 const char *signature);


/*---- string buffers ----*/

static void
sigv4_buf_init(SigV4Buf *buf)
{
	buf->data = NULL;
	buf->len = 0;
	buf->cap = 0;
	buf->failed = false;
}

/*
 * Make room for extra more bytes plus the terminator.  A new block is
 * allocated and the old one wiped, because the buffer may hold secrets.
 */
static bool
sigv4_buf_reserve(SigV4Buf *buf, size_t extra)
{
	size_t		need;
	size_t		newcap;
	char	   *newdata;

	if (buf->failed)
		return false;
	if (extra > (size_t) -1 - buf->len - 1)
	{
		buf->failed = true;
		return false;
	}
	need = buf->len + extra + 1;
	if (need <= buf->cap)
		return true;

	newcap = buf->cap > 0 ? buf->cap : 128;
	while (newcap < need)
	{
		if (newcap > (size_t) -1 / 2)
		{
			newcap = need;
			break;
		}
		newcap *= 2;
	}

	newdata = malloc(newcap);
	if (newdata == NULL)
	{
		buf->failed = true;
		return false;
	}
	if (buf->data != NULL)
	{
		memcpy(newdata, buf->data, buf->len + 1);
		OPENSSL_cleanse(buf->data, buf->cap);
		free(buf->data);
	}
	else
		newdata[0] = '\0';
	buf->data = newdata;
	buf->cap = newcap;
	return true;
}

static void
sigv4_buf_append(SigV4Buf *buf, const char *data, size_t len)
{
	if (!sigv4_buf_reserve(buf, len))
		return;
	if (len > 0)
		memcpy(buf->data + buf->len, data, len);
	buf->len += len;
	buf->data[buf->len] = '\0';
}

static void
sigv4_buf_append_str(SigV4Buf *buf, const char *str)
{
	sigv4_buf_append(buf, str, strlen(str));
}

static void
sigv4_buf_append_char(SigV4Buf *buf, char c)
{
	sigv4_buf_append(buf, &c, 1);
}

/*
 * Hand the string over to the caller, who frees it with sigv4_free_secret().
 * Returns NULL (and releases the buffer) if any append failed.
 */
static char *
sigv4_buf_finish(SigV4Buf *buf)
{
	char	   *result;

	if (!sigv4_buf_reserve(buf, 0))
	{
		sigv4_buf_free(buf);
		return NULL;
	}
	result = buf->data;
	sigv4_buf_init(buf);
	return result;
}

static void
sigv4_buf_free(SigV4Buf *buf)
{
	if (buf->data != NULL)
	{
		OPENSSL_cleanse(buf->data, buf->cap);
		free(buf->data);
	}
	sigv4_buf_init(buf);
}

static void
sigv4_free_secret(char *str)
{
	if (str == NULL)
		return;
	OPENSSL_cleanse(str, strlen(str));
	free(str);
}


/*---- character classes and encoding ----*/

/* RFC 3986 unreserved characters, the only ones SigV4 leaves unencoded. */
static bool
sigv4_is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		(c >= '0' && c <= '9') ||
		c == '-' || c == '_' || c == '.' || c == '~';
}

/* The ASCII white space that header canonicalisation folds into a space. */
static bool
sigv4_is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
		c == '\v' || c == '\f';
}

/* RFC 9110 token characters, the only ones allowed in a header name. */
static bool
sigv4_is_tchar(unsigned char c)
{
	if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		(c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int
sigv4_hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Lower-case hex of len bytes into out, which must hold 2 * len + 1. */
static void
sigv4_hex_encode(const unsigned char *data, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t		i;

	for (i = 0; i < len; i++)
	{
		out[2 * i] = digits[data[i] >> 4];
		out[2 * i + 1] = digits[data[i] & 0x0f];
	}
	out[2 * len] = '\0';
}

/* SigV4 percent-encoding uses upper-case hex digits. */
static void
sigv4_uri_encode_byte(SigV4Buf *buf, unsigned char c)
{
	static const char digits[] = "0123456789ABCDEF";
	char		escaped[3];

	if (sigv4_is_unreserved(c))
	{
		sigv4_buf_append_char(buf, (char) c);
		return;
	}
	escaped[0] = '%';
	escaped[1] = digits[c >> 4];
	escaped[2] = digits[c & 0x0f];
	sigv4_buf_append(buf, escaped, 3);
}

static void
sigv4_uri_encode(SigV4Buf *buf, const char *data, size_t len)
{
	size_t		i;

	for (i = 0; i < len; i++)
		sigv4_uri_encode_byte(buf, (unsigned char) data[i]);
}

/*
 * Decode one query name or value and encode it again, so that every
 * spelling of the same bytes ("%7e", "~", "%7E") signs the same way.
 */
static void
sigv4_query_reencode(SigV4Buf *buf, const char *data, size_t len)
{
	size_t		i = 0;

	while (i < len)
	{
		unsigned char c = (unsigned char) data[i];

		if (c == '%' && len - i >= 3 &&
			sigv4_hex_value((unsigned char) data[i + 1]) >= 0 &&
			sigv4_hex_value((unsigned char) data[i + 2]) >= 0)
		{
			c = (unsigned char) (sigv4_hex_value((unsigned char) data[i + 1]) * 16 +
								 sigv4_hex_value((unsigned char) data[i + 2]));
			i += 3;
		}
		else
			i++;
		sigv4_uri_encode_byte(buf, c);
	}
}


/*---- input checks ----*/

/* Case-insensitive ASCII comparison of a header name with a lower-case one. */
static bool
sigv4_name_equals(const char *name, const char *lower)
{
	for (; *name != '\0' && *lower != '\0'; name++, lower++)
	{
		char		c = *name;

		if (c >= 'A' && c <= 'Z')
			c = (char) (c - 'A' + 'a');
		if (c != *lower)
			return false;
	}
	return *name == '\0' && *lower == '\0';
}

/* Does value equal expected once surrounding white space is removed? */
static bool
sigv4_trimmed_equals(const char *value, const char *expected)
{
	size_t		len = strlen(expected);

	while (sigv4_is_space((unsigned char) *value))
		value++;
	if (strncmp(value, expected, len) != 0)
		return false;
	for (value += len; *value != '\0'; value++)
	{
		if (!sigv4_is_space((unsigned char) *value))
			return false;
	}
	return true;
}

/* Region and service go into the credential scope: no "/", no spaces. */
static bool
sigv4_scope_part_ok(const char *part)
{
	if (part == NULL || *part == '\0')
		return false;
	for (; *part != '\0'; part++)
	{
		unsigned char c = (unsigned char) *part;

		if (c <= ' ' || c >= 0x7f || c == '/')
			return false;
	}
	return true;
}

/* ISO 8601 basic format, UTC: yyyymmddThhmmssZ. */
static bool
sigv4_amz_date_ok(const char *amz_date)
{
	int			i;

	if (amz_date == NULL || strlen(amz_date) != SIGV4_AMZ_DATE_LEN)
		return false;
	for (i = 0; i < SIGV4_AMZ_DATE_LEN; i++)
	{
		char		c = amz_date[i];

		if (i == 8)
		{
			if (c != 'T')
				return false;
		}
		else if (i == SIGV4_AMZ_DATE_LEN - 1)
		{
			if (c != 'Z')
				return false;
		}
		else if (c < '0' || c > '9')
			return false;
	}
	return true;
}

/* A non-empty HTTP token: a method or a header name. */
static bool
sigv4_token_ok(const char *token)
{
	if (token == NULL || *token == '\0')
		return false;
	for (; *token != '\0'; token++)
	{
		if (!sigv4_is_tchar((unsigned char) *token))
			return false;
	}
	return true;
}

/* The access key id goes into the Authorization header unquoted. */
static bool
sigv4_credentials_ok(const SigV4Credentials *cred)
{
	const char *p;

	if (cred == NULL ||
		cred->access_key_id == NULL || *cred->access_key_id == '\0' ||
		cred->secret_access_key == NULL || *cred->secret_access_key == '\0')
		return false;
	for (p = cred->access_key_id; *p != '\0'; p++)
	{
		unsigned char c = (unsigned char) *p;

		if (c <= ' ' || c == 0x7f || c == ',' || c == '/')
			return false;
	}
	return true;
}

/*
 * Every header name must be a token.  The request must send exactly one
 * Host, exactly one X-Amz-Date equal to amz_date and, with a session token,
 * exactly one X-Amz-Security-Token carrying it: without them the service
 * would reject the signature, and better here with a clear cause.
 */
static bool
sigv4_headers_ok(const SigV4Request *req, const SigV4Credentials *cred,
				 const char *amz_date)
{
	bool		has_token;
	int			nhost = 0;
	int			ndate = 0;
	int			ntoken = 0;
	int			i;

	if (req->nheaders < 0 || (req->nheaders > 0 && req->headers == NULL))
		return false;
	has_token = cred->session_token != NULL && *cred->session_token != '\0';
	for (i = 0; i < req->nheaders; i++)
	{
		const SigV4Header *h = &req->headers[i];

		if (!sigv4_token_ok(h->name) || h->value == NULL)
			return false;
		if (sigv4_name_equals(h->name, "host"))
			nhost++;
		else if (sigv4_name_equals(h->name, "x-amz-date"))
		{
			if (!sigv4_trimmed_equals(h->value, amz_date))
				return false;
			ndate++;
		}
		else if (sigv4_name_equals(h->name, "x-amz-security-token"))
		{
			if (has_token && !sigv4_trimmed_equals(h->value, cred->session_token))
				return false;
			ntoken++;
		}
	}
	return nhost == 1 && ndate == 1 && (!has_token || ntoken == 1);
}

/* Reject input that cannot produce a valid signature (see sigv4.h). */
static bool
sigv4_request_ok(const SigV4Request *req, const SigV4Credentials *cred,
				 const char *region, const char *service,
				 const char *amz_date)
{
	if (req == NULL || !sigv4_credentials_ok(cred) ||
		!sigv4_amz_date_ok(amz_date) ||
		!sigv4_scope_part_ok(region) || !sigv4_scope_part_ok(service))
		return false;
	if (!sigv4_token_ok(req->method) ||
		req->path == NULL || req->path[0] != '/' ||
		(req->payload == NULL && req->payload_len > 0))
		return false;
	return sigv4_headers_ok(req, cred, amz_date);
}


/*---- step 1: canonical request ----*/

/*
 * Normalise the path (drop empty and "." segments, let ".." remove the
 * segment before it, keep a trailing slash) and encode every segment.
 */
static int
sigv4_canonical_uri(const char *path, SigV4Buf *out)
{
	size_t		pathlen = strlen(path);
	size_t		maxseg = 1;
	size_t	   *seg_start = NULL;
	size_t	   *seg_len = NULL;
	size_t		nseg = 0;
	size_t		pos;
	size_t		i;
	int			rc = -1;

	for (i = 0; i < pathlen; i++)
	{
		if (path[i] == '/')
			maxseg++;
	}
	seg_start = malloc(maxseg * sizeof(size_t));
	seg_len = malloc(maxseg * sizeof(size_t));
	if (seg_start == NULL || seg_len == NULL)
		goto cleanup;

	pos = 0;
	while (pos <= pathlen)
	{
		const char *slash = memchr(path + pos, '/', pathlen - pos);
		size_t		end = slash != NULL ? (size_t) (slash - path) : pathlen;
		size_t		len = end - pos;

		if (len == 0 || (len == 1 && path[pos] == '.'))
		{
			/* empty or "." segment: nothing to keep */
		}
		else if (len == 2 && path[pos] == '.' && path[pos + 1] == '.')
		{
			if (nseg > 0)
				nseg--;
		}
		else
		{
			seg_start[nseg] = pos;
			seg_len[nseg] = len;
			nseg++;
		}
		pos = end + 1;
	}

	sigv4_buf_append_char(out, '/');
	for (i = 0; i < nseg; i++)
	{
		if (i > 0)
			sigv4_buf_append_char(out, '/');
		sigv4_uri_encode(out, path + seg_start[i], seg_len[i]);
	}
	if (nseg > 0 && path[pathlen - 1] == '/')
		sigv4_buf_append_char(out, '/');

	rc = out->failed ? -1 : 0;

cleanup:
	free(seg_start);
	free(seg_len);
	return rc;
}

static int
sigv4_param_cmp(const void *a, const void *b)
{
	const SigV4Param *pa = a;
	const SigV4Param *pb = b;
	int			c = strcmp(pa->name, pb->name);

	return c != 0 ? c : strcmp(pa->value, pb->value);
}

/*
 * Split the raw query on "&", bring every name and value into canonical
 * encoding, sort by name then value and join them again.
 */
static int
sigv4_canonical_query(const char *query, SigV4Buf *out)
{
	SigV4Param *params = NULL;
	size_t		maxparams = 1;
	size_t		nparams = 0;
	size_t		qlen;
	size_t		pos;
	size_t		i;
	SigV4Buf	tmp;
	int			rc = -1;

	sigv4_buf_init(&tmp);
	if (query == NULL || *query == '\0')
		return 0;

	qlen = strlen(query);
	for (i = 0; i < qlen; i++)
	{
		if (query[i] == '&')
			maxparams++;
	}
	params = calloc(maxparams, sizeof(SigV4Param));
	if (params == NULL)
		goto cleanup;

	pos = 0;
	while (pos <= qlen)
	{
		const char *amp = memchr(query + pos, '&', qlen - pos);
		size_t		end = amp != NULL ? (size_t) (amp - query) : qlen;
		const char *eq = memchr(query + pos, '=', end - pos);
		size_t		name_end = eq != NULL ? (size_t) (eq - query) : end;
		SigV4Param *param = &params[nparams];

		if (end > pos)
		{
			sigv4_query_reencode(&tmp, query + pos, name_end - pos);
			param->name = sigv4_buf_finish(&tmp);
			if (param->name == NULL)
				goto cleanup;
			if (eq != NULL)
				sigv4_query_reencode(&tmp, eq + 1, end - name_end - 1);
			param->value = sigv4_buf_finish(&tmp);
			nparams++;
			if (param->value == NULL)
				goto cleanup;
		}
		pos = end + 1;
	}

	qsort(params, nparams, sizeof(SigV4Param), sigv4_param_cmp);
	for (i = 0; i < nparams; i++)
	{
		if (i > 0)
			sigv4_buf_append_char(out, '&');
		sigv4_buf_append_str(out, params[i].name);
		sigv4_buf_append_char(out, '=');
		sigv4_buf_append_str(out, params[i].value);
	}
	rc = out->failed ? -1 : 0;

cleanup:
	if (params != NULL)
	{
		for (i = 0; i < nparams; i++)
		{
			sigv4_free_secret(params[i].name);
			sigv4_free_secret(params[i].value);
		}
		free(params);
	}
	sigv4_buf_free(&tmp);
	return rc;
}

/* ASCII lower-case copy of a header name. */
static char *
sigv4_lower_dup(const char *name)
{
	size_t		len = strlen(name);
	char	   *copy = malloc(len + 1);
	size_t		i;

	if (copy == NULL)
		return NULL;
	for (i = 0; i <= len; i++)
	{
		char		c = name[i];

		copy[i] = (c >= 'A' && c <= 'Z') ? (char) (c - 'A' + 'a') : c;
	}
	return copy;
}

/* Trim the value and fold every inner run of white space into one space. */
static char *
sigv4_canonical_header_value(const char *value)
{
	SigV4Buf	buf;
	bool		pending_space = false;
	const unsigned char *p = (const unsigned char *) value;

	sigv4_buf_init(&buf);
	sigv4_buf_reserve(&buf, strlen(value));
	while (sigv4_is_space(*p))
		p++;
	for (; *p != '\0'; p++)
	{
		if (sigv4_is_space(*p))
		{
			pending_space = true;
			continue;
		}
		if (pending_space)
			sigv4_buf_append_char(&buf, ' ');
		pending_space = false;
		sigv4_buf_append_char(&buf, (char) *p);
	}
	return sigv4_buf_finish(&buf);
}

/* By name, then by position, so same-name values keep the caller's order. */
static int
sigv4_header_cmp(const void *a, const void *b)
{
	const SigV4CanonHeader *ha = a;
	const SigV4CanonHeader *hb = b;
	int			c = strcmp(ha->name, hb->name);

	if (c != 0)
		return c;
	return ha->pos < hb->pos ? -1 : (ha->pos > hb->pos ? 1 : 0);
}

/*
 * Build the canonical header block ("name:value\n" per distinct name) and
 * the signed header list ("name;name").
 */
static int
sigv4_canonical_headers(const SigV4Header *headers, int nheaders,
						SigV4Buf *canon, SigV4Buf *signed_headers)
{
	SigV4CanonHeader *list = NULL;
	int			nlist = 0;
	int			i;
	int			rc = -1;

	if (nheaders == 0)
		return 0;
	list = calloc((size_t) nheaders, sizeof(SigV4CanonHeader));
	if (list == NULL)
		goto cleanup;

	for (i = 0; i < nheaders; i++)
	{
		SigV4CanonHeader *h = &list[nlist];

		h->pos = i;
		h->name = sigv4_lower_dup(headers[i].name);
		h->value = sigv4_canonical_header_value(headers[i].value);
		nlist++;
		if (h->name == NULL || h->value == NULL)
			goto cleanup;
	}

	qsort(list, (size_t) nlist, sizeof(SigV4CanonHeader), sigv4_header_cmp);
	for (i = 0; i < nlist; i++)
	{
		bool		same_as_previous = i > 0 &&
			strcmp(list[i].name, list[i - 1].name) == 0;

		if (same_as_previous)
			sigv4_buf_append_char(canon, ',');
		else
		{
			if (i > 0)
			{
				sigv4_buf_append_char(canon, '\n');
				sigv4_buf_append_char(signed_headers, ';');
			}
			sigv4_buf_append_str(canon, list[i].name);
			sigv4_buf_append_char(canon, ':');
			sigv4_buf_append_str(signed_headers, list[i].name);
		}
		sigv4_buf_append_str(canon, list[i].value);
	}
	sigv4_buf_append_char(canon, '\n');
	rc = (canon->failed || signed_headers->failed) ? -1 : 0;

cleanup:
	if (list != NULL)
	{
		for (i = 0; i < nlist; i++)
		{
			free(list[i].name);
			sigv4_free_secret(list[i].value);
		}
		free(list);
	}
	return rc;
}

/*
 * Step 1.  On success *canonical and *signed_headers are malloc'd strings
 * the caller frees with sigv4_free_secret().
 */
static int
sigv4_canonical_request(const SigV4Request *req, char **canonical,
						char **signed_headers)
{
	SigV4Buf	buf;
	SigV4Buf	canon_headers;
	SigV4Buf	signed_list;
	char		payload_hash[SIGV4_HEX_LEN + 1];
	int			rc = -1;

	*canonical = NULL;
	*signed_headers = NULL;
	sigv4_buf_init(&buf);
	sigv4_buf_init(&canon_headers);
	sigv4_buf_init(&signed_list);

	if (sigv4_sha256_hex(req->payload, req->payload_len, payload_hash) != 0)
		goto cleanup;

	sigv4_buf_append_str(&buf, req->method);
	sigv4_buf_append_char(&buf, '\n');
	if (sigv4_canonical_uri(req->path, &buf) != 0)
		goto cleanup;
	sigv4_buf_append_char(&buf, '\n');
	if (sigv4_canonical_query(req->query, &buf) != 0)
		goto cleanup;
	sigv4_buf_append_char(&buf, '\n');
	if (sigv4_canonical_headers(req->headers, req->nheaders,
								&canon_headers, &signed_list) != 0)
		goto cleanup;
	if (canon_headers.data != NULL)
		sigv4_buf_append_str(&buf, canon_headers.data);
	sigv4_buf_append_char(&buf, '\n');
	if (signed_list.data != NULL)
		sigv4_buf_append_str(&buf, signed_list.data);
	sigv4_buf_append_char(&buf, '\n');
	sigv4_buf_append_str(&buf, payload_hash);

	*canonical = sigv4_buf_finish(&buf);
	*signed_headers = sigv4_buf_finish(&signed_list);
	if (*canonical == NULL || *signed_headers == NULL)
	{
		sigv4_free_secret(*canonical);
		sigv4_free_secret(*signed_headers);
		*canonical = NULL;
		*signed_headers = NULL;
		goto cleanup;
	}
	rc = 0;

cleanup:
	sigv4_buf_free(&buf);
	sigv4_buf_free(&canon_headers);
	sigv4_buf_free(&signed_list);
	return rc;
}


/*---- step 2: string to sign ----*/

static int
sigv4_string_to_sign(const char *amz_date, const char *scope,
					 const char *canonical_request, char **sts)
{
	SigV4Buf	buf;
	char		hash[SIGV4_HEX_LEN + 1];

	*sts = NULL;
	if (sigv4_sha256_hex((const unsigned char *) canonical_request,
						 strlen(canonical_request), hash) != 0)
		return -1;

	sigv4_buf_init(&buf);
	sigv4_buf_append_str(&buf, SIGV4_ALGORITHM "\n");
	sigv4_buf_append_str(&buf, amz_date);
	sigv4_buf_append_char(&buf, '\n');
	sigv4_buf_append_str(&buf, scope);
	sigv4_buf_append_char(&buf, '\n');
	sigv4_buf_append_str(&buf, hash);
	*sts = sigv4_buf_finish(&buf);
	return *sts != NULL ? 0 : -1;
}


/*---- step 3: signing key ----*/

static bool
sigv4_hmac(const unsigned char *key, size_t keylen, const char *data,
		   unsigned char out[SIGV4_HASH_LEN])
{
	unsigned int outlen = 0;

	if (keylen > (size_t) 0x7fffffff)
		return false;
	if (HMAC(EVP_sha256(), key, (int) keylen, (const unsigned char *) data,
			 strlen(data), out, &outlen) == NULL)
		return false;
	return outlen == SIGV4_HASH_LEN;
}

/*
 * kDate = HMAC("AWS4" + secret, yyyymmdd), then region, service and
 * "aws4_request" in turn.  Every intermediate key is wiped.
 */
static int
sigv4_signing_key(const char *secret, const char *short_date,
				  const char *region, const char *service,
				  unsigned char key[SIGV4_HASH_LEN])
{
	size_t		prefix_len = strlen(SIGV4_KEY_PREFIX);
	size_t		secret_len = strlen(secret);
	unsigned char *k_secret = NULL;
	unsigned char k_date[SIGV4_HASH_LEN];
	unsigned char k_region[SIGV4_HASH_LEN];
	unsigned char k_service[SIGV4_HASH_LEN];
	int			rc = -1;

	k_secret = malloc(prefix_len + secret_len);
	if (k_secret == NULL)
		goto cleanup;
	memcpy(k_secret, SIGV4_KEY_PREFIX, prefix_len);
	memcpy(k_secret + prefix_len, secret, secret_len);

	if (!sigv4_hmac(k_secret, prefix_len + secret_len, short_date, k_date) ||
		!sigv4_hmac(k_date, SIGV4_HASH_LEN, region, k_region) ||
		!sigv4_hmac(k_region, SIGV4_HASH_LEN, service, k_service) ||
		!sigv4_hmac(k_service, SIGV4_HASH_LEN, SIGV4_SCOPE_TERMINATOR, key))
	{
		OPENSSL_cleanse(key, SIGV4_HASH_LEN);
		goto cleanup;
	}
	rc = 0;

cleanup:
	if (k_secret != NULL)
	{
		OPENSSL_cleanse(k_secret, prefix_len + secret_len);
		free(k_secret);
	}
	OPENSSL_cleanse(k_date, sizeof(k_date));
	OPENSSL_cleanse(k_region, sizeof(k_region));
	OPENSSL_cleanse(k_service, sizeof(k_service));
	return rc;
}


/*---- step 4: signature and Authorization ----*/

static int
sigv4_signature(const unsigned char key[SIGV4_HASH_LEN], const char *sts,
				char **signature)
{
	unsigned char mac[SIGV4_HASH_LEN];
	int			rc = -1;

	*signature = malloc(SIGV4_HEX_LEN + 1);
	if (*signature == NULL)
		goto cleanup;
	if (!sigv4_hmac(key, SIGV4_HASH_LEN, sts, mac))
	{
		free(*signature);
		*signature = NULL;
		goto cleanup;
	}
	sigv4_hex_encode(mac, SIGV4_HASH_LEN, *signature);
	rc = 0;

cleanup:
	OPENSSL_cleanse(mac, sizeof(mac));
	return rc;
}

static char *
sigv4_authorization(const char *access_key_id, const char *scope,
					const char *signed_headers, const char *signature)
{
	SigV4Buf	buf;

	sigv4_buf_init(&buf);
	sigv4_buf_append_str(&buf, SIGV4_ALGORITHM " Credential=");
	sigv4_buf_append_str(&buf, access_key_id);
	sigv4_buf_append_char(&buf, '/');
	sigv4_buf_append_str(&buf, scope);
	sigv4_buf_append_str(&buf, ", SignedHeaders=");
	sigv4_buf_append_str(&buf, signed_headers);
	sigv4_buf_append_str(&buf, ", Signature=");
	sigv4_buf_append_str(&buf, signature);
	return sigv4_buf_finish(&buf);
}


/*---- public interface ----*/

int
sigv4_sign(const SigV4Request *req, const SigV4Credentials *cred,
		   const char *region, const char *service,
		   const char *amz_date, SigV4Result *result)
{
	char		short_date[SIGV4_SHORT_DATE_LEN + 1];
	char	   *signed_headers = NULL;
	char	   *scope = NULL;
	unsigned char key[SIGV4_HASH_LEN];
	SigV4Buf	buf;
	int			rc = -1;

	if (result == NULL)
		return -1;
	memset(result, 0, sizeof(SigV4Result));
	memset(key, 0, sizeof(key));
	sigv4_buf_init(&buf);

	if (!sigv4_request_ok(req, cred, region, service, amz_date))
		goto cleanup;
	memcpy(short_date, amz_date, SIGV4_SHORT_DATE_LEN);
	short_date[SIGV4_SHORT_DATE_LEN] = '\0';

	sigv4_buf_append_str(&buf, short_date);
	sigv4_buf_append_char(&buf, '/');
	sigv4_buf_append_str(&buf, region);
	sigv4_buf_append_char(&buf, '/');
	sigv4_buf_append_str(&buf, service);
	sigv4_buf_append_str(&buf, "/" SIGV4_SCOPE_TERMINATOR);
	scope = sigv4_buf_finish(&buf);
	if (scope == NULL)
		goto cleanup;

	if (sigv4_canonical_request(req, &result->canonical_request,
								&signed_headers) != 0)
		goto cleanup;
	if (sigv4_string_to_sign(amz_date, scope, result->canonical_request,
							 &result->string_to_sign) != 0)
		goto cleanup;
	if (sigv4_signing_key(cred->secret_access_key, short_date, region,
						  service, key) != 0)
		goto cleanup;
	if (sigv4_signature(key, result->string_to_sign, &result->signature) != 0)
		goto cleanup;
	result->authorization = sigv4_authorization(cred->access_key_id, scope,
												signed_headers,
												result->signature);
	if (result->authorization == NULL)
		goto cleanup;
	rc = 0;

cleanup:
	OPENSSL_cleanse(key, sizeof(key));
	sigv4_buf_free(&buf);
	sigv4_free_secret(scope);
	sigv4_free_secret(signed_headers);
	if (rc != 0)
		sigv4_result_free(result);
	return rc;
}

void
sigv4_result_free(SigV4Result *result)
{
	if (result == NULL)
		return;
	sigv4_free_secret(result->canonical_request);
	sigv4_free_secret(result->string_to_sign);
	sigv4_free_secret(result->signature);
	sigv4_free_secret(result->authorization);
	memset(result, 0, sizeof(SigV4Result));
}

int
sigv4_sha256_hex(const unsigned char *data, size_t len, char out[65])
{
	unsigned char md[SIGV4_HASH_LEN];
	unsigned int mdlen = 0;
	static const unsigned char empty[1] = {0};

	if (data == NULL)
	{
		if (len > 0)
			return -1;
		data = empty;
	}
	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
		mdlen != SIGV4_HASH_LEN)
		return -1;
	sigv4_hex_encode(md, SIGV4_HASH_LEN, out);
	return 0;
}
