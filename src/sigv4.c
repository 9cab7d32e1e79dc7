/*-------------------------------------------------------------------------
 *
 * sigv4.c
 *		AWS Signature Version 4 for the one kind of request seqdist sends.
 *
 * Every DynamoDB call is a POST of a JSON document to the endpoint's path
 * with no query string (dynamo_send_once), so the signer accepts only that
 * and each canonical form keeps only the rules such a request reaches:
 *
 *	- URI: path bytes other than A-Z a-z 0-9 - _ . ~ and "/" become %XX, an
 *	  escape already in the path included, as every service but S3 expects.
 *	  Paths those services would normalise (empty, "." or ".." segments) are
 *	  refused instead.  The query is always empty.
 *	- Headers: names lower-cased and sorted; values trimmed, inner runs of
 *	  white space folded into one space.  A name given twice is refused, so
 *	  there are never values to join.
 *
 * As in aws-c-auth, each step of the specification is one function.
 * Strings are allocated once at their exact length, never grown (which would
 * leave stale copies), and wiped before they are freed: the canonical
 * request carries the session token, and "AWS4" + secret is the key itself.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#include "sigv4.h"

#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#define ALGORITHM		"AWS4-HMAC-SHA256"
/* the scope's date is the first 8 characters of amz_date */
#define SCOPE_FORMAT	"%.8s/%s/%s/aws4_request"
#define HASH_LEN		SHA256_DIGEST_LENGTH
#define HEX_LEN			(2 * HASH_LEN)

/*
 * Character classes are spelled out because <ctype.h> follows the locale,
 * which in a backend is the database's.
 */
#define UNRESERVED	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
#define TOKEN_CHARS	UNRESERVED "!#$%&'*+^`|"
#define SPACE		" \t\n\r\v\f"

static char
lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char) (c - 'A' + 'a') : c;
}

/* Header names compare, and sort, as their lower-case spelling. */
static int
name_cmp(const char *a, const char *b)
{
	for (; *a != '\0' && lower(*a) == lower(*b); a++, b++)
		;
	return (unsigned char) lower(*a) - (unsigned char) lower(*b);
}

static void
free_wiped(char *s)
{
	if (s != NULL)
		OPENSSL_cleanse(s, strlen(s));
	free(s);
}

/* Only for strings without secrets: vsnprintf may leave copies on the stack. */
__attribute__((format(printf, 1, 2)))
static char *
format(const char *fmt,...)
{
	va_list		ap;
	int			len;
	char	   *s;

	va_start(ap, fmt);
	len = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (len < 0 || (s = malloc((size_t) len + 1)) == NULL)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(s, (size_t) len + 1, fmt, ap);
	va_end(ap);
	return s;
}

static void
to_hex(const unsigned char md[HASH_LEN], char out[HEX_LEN + 1])
{
	int			i;

	for (i = 0; i < HASH_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static bool
hmac(const void *key, size_t keylen, const char *data, size_t len,
	 unsigned char out[HASH_LEN])
{
	return EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, keylen,
					 (const unsigned char *) data, len, out, HASH_LEN,
					 NULL) != NULL;
}

/*---- input checks ----*/

/*
 * For the credential scope, which "/" separates, and the Authorization
 * header, where the access key id stands unquoted before ",".
 */
static bool
is_plain(const char *s, const char *separators)
{
	if (s == NULL || *s == '\0')
		return false;
	for (; *s != '\0'; s++)
	{
		unsigned char c = (unsigned char) *s;

		if (c <= ' ' || c >= 0x7f || strchr(separators, c) != NULL)
			return false;
	}
	return true;
}

/*
 * The path is signed as it is sent, which is right only if it is already
 * normal: no empty segment but a trailing one, no "." or "..", and nothing
 * that would turn the rest into a query or a fragment.
 */
static bool
path_ok(const char *path)
{
	const char *seg;
	size_t		len;

	if (path == NULL || path[0] != '/' || strpbrk(path, "?#") != NULL)
		return false;
	for (seg = path + 1;; seg += len + 1)
	{
		len = strcspn(seg, "/");
		if (len == 0)
			return seg[0] == '\0';
		if (len <= 2 && strspn(seg, ".") == len)
			return false;
		if (seg[len] == '\0')
			return true;
	}
}

/*
 * Without Host, the right X-Amz-Date and, with temporary credentials, the
 * right X-Amz-Security-Token, DynamoDB would refuse the signature; better
 * to fail here, where the cause is plain.
 */
static bool
headers_ok(const SigV4Request *req, const SigV4Credentials *cred,
		   const char *amz_date)
{
	bool		has_token = cred->session_token && *cred->session_token;
	bool		host = false;
	bool		date = false;
	bool		token = false;
	int			i;
	int			j;

	if (req->nheaders < 0 || (req->nheaders > 0 && req->headers == NULL))
		return false;
	for (i = 0; i < req->nheaders; i++)
	{
		const SigV4Header *h = &req->headers[i];

		/* an RFC 9110 token, as a header name must be */
		if (h->name == NULL || h->name[0] == '\0' ||
			h->name[strspn(h->name, TOKEN_CHARS)] != '\0' || h->value == NULL)
			return false;
		for (j = 0; j < i; j++)
			if (name_cmp(h->name, req->headers[j].name) == 0)
				return false;
		if (name_cmp(h->name, "host") == 0)
			host = true;
		else if (name_cmp(h->name, "x-amz-date") == 0)
			date = strcmp(h->value, amz_date) == 0;
		else if (has_token && name_cmp(h->name, "x-amz-security-token") == 0)
			token = strcmp(h->value, cred->session_token) == 0;
	}
	return host && date && (token || !has_token);
}

static bool
request_ok(const SigV4Request *req, const SigV4Credentials *cred,
		   const char *region, const char *service, const char *amz_date)
{
	const char *digits = "0123456789";

	if (amz_date == NULL || strspn(amz_date, digits) != 8 ||
		amz_date[8] != 'T' || strspn(amz_date + 9, digits) != 6 ||
		strcmp(amz_date + 15, "Z") != 0)
		return false;
	return req != NULL && req->method != NULL &&
		strcmp(req->method, "POST") == 0 && req->query == NULL &&
		path_ok(req->path) && (req->payload || req->payload_len == 0) &&
		cred != NULL && is_plain(cred->access_key_id, "/,") &&
		cred->secret_access_key != NULL && *cred->secret_access_key &&
		is_plain(region, "/") && is_plain(service, "/") &&
		headers_ok(req, cred, amz_date);
}

/*---- step 1: canonical request ----*/

/*
 * The emit functions append n bytes at out + *len, or with out NULL only
 * count them, so that one pass measures and a second fills a buffer of
 * exactly that size.  The count saturates rather than wraps.
 */
static void
emit(char *out, size_t *len, const char *s, size_t n)
{
	if (out != NULL)
		memcpy(out + *len, s, n);
	*len = n > SIZE_MAX - *len ? SIZE_MAX : *len + n;
}

static void
emit_uri(char *out, size_t *len, const char *path)
{
	char		escape[4];

	for (; *path != '\0'; path++)
	{
		if (strchr(UNRESERVED "/", *path) != NULL)
			emit(out, len, path, 1);
		else
		{
			snprintf(escape, sizeof(escape), "%%%02X", (unsigned char) *path);
			emit(out, len, escape, 3);
		}
	}
}

static void
emit_name(char *out, size_t *len, const char *name)
{
	char		c;

	for (; *name != '\0'; name++)
	{
		c = lower(*name);
		emit(out, len, &c, 1);
	}
}

static void
emit_value(char *out, size_t *len, const char *value)
{
	size_t		word;

	value += strspn(value, SPACE);
	while (*value != '\0')
	{
		word = strcspn(value, SPACE);
		emit(out, len, value, word);
		value += word;
		value += strspn(value, SPACE);
		if (*value != '\0')
			emit(out, len, " ", 1);
	}
}

/*
 * The header that sorts next after prev, or first if prev is NULL.  Names
 * are distinct and there are a handful, so a scan beats sorting a copy.
 */
static const SigV4Header *
next_header(const SigV4Request *req, const SigV4Header *prev)
{
	const SigV4Header *next = NULL;
	int			i;

	for (i = 0; i < req->nheaders; i++)
	{
		const SigV4Header *h = &req->headers[i];

		if ((prev == NULL || name_cmp(h->name, prev->name) > 0) &&
			(next == NULL || name_cmp(h->name, next->name) < 0))
			next = h;
	}
	return next;
}

static void
emit_canonical_request(char *out, size_t *len, const SigV4Request *req,
					   const char *payload_hash)
{
	const SigV4Header *h;
	const char *separator = "";

	emit(out, len, "POST\n", 5);
	emit_uri(out, len, req->path);
	emit(out, len, "\n\n", 2);	/* the second ends the empty query */
	for (h = next_header(req, NULL); h != NULL; h = next_header(req, h))
	{
		emit_name(out, len, h->name);
		emit(out, len, ":", 1);
		emit_value(out, len, h->value);
		emit(out, len, "\n", 1);
	}
	emit(out, len, "\n", 1);
	for (h = next_header(req, NULL); h != NULL; h = next_header(req, h))
	{
		emit(out, len, separator, strlen(separator));
		emit_name(out, len, h->name);
		separator = ";";
	}
	emit(out, len, "\n", 1);
	emit(out, len, payload_hash, HEX_LEN);
}

static char *
canonical_request(const SigV4Request *req)
{
	char		payload_hash[HEX_LEN + 1];
	size_t		len = 0;
	char	   *canonical;

	if (sigv4_sha256_hex(req->payload, req->payload_len, payload_hash) != 0)
		return NULL;
	emit_canonical_request(NULL, &len, req, payload_hash);
	if (len == SIZE_MAX || (canonical = malloc(len + 1)) == NULL)
		return NULL;
	len = 0;
	emit_canonical_request(canonical, &len, req, payload_hash);
	canonical[len] = '\0';
	return canonical;
}

/*---- steps 2 to 5 ----*/

static char *
string_to_sign(const char *amz_date, const char *region, const char *service,
			   const char *canonical)
{
	char		hash[HEX_LEN + 1];

	if (sigv4_sha256_hex((const unsigned char *) canonical, strlen(canonical),
						 hash) != 0)
		return NULL;
	return format(ALGORITHM "\n%s\n" SCOPE_FORMAT "\n%s",
				  amz_date, amz_date, region, service, hash);
}

/* The HMAC chain "AWS4" + secret, date, region, service, "aws4_request". */
static int
signing_key(const char *secret, const char *amz_date, const char *region,
			const char *service, unsigned char key[HASH_LEN])
{
	size_t		secret_len = strlen(secret);
	char	   *k_secret;
	unsigned char k_date[HASH_LEN];
	unsigned char k_region[HASH_LEN];
	unsigned char k_service[HASH_LEN];
	int			rc = -1;

	/* NUL-terminated only so that free_wiped() can measure it */
	k_secret = malloc(4 + secret_len + 1);
	if (k_secret == NULL)
		goto cleanup;
	memcpy(k_secret, "AWS4", 4);
	memcpy(k_secret + 4, secret, secret_len + 1);

	if (hmac(k_secret, 4 + secret_len, amz_date, 8, k_date) &&
		hmac(k_date, HASH_LEN, region, strlen(region), k_region) &&
		hmac(k_region, HASH_LEN, service, strlen(service), k_service) &&
		hmac(k_service, HASH_LEN, "aws4_request", 12, key))
		rc = 0;

cleanup:
	free_wiped(k_secret);
	OPENSSL_cleanse(k_date, sizeof(k_date));
	OPENSSL_cleanse(k_region, sizeof(k_region));
	OPENSSL_cleanse(k_service, sizeof(k_service));
	return rc;
}

static char *
signature(const unsigned char key[HASH_LEN], const char *sts)
{
	unsigned char mac[HASH_LEN];
	char	   *hex = NULL;

	if (hmac(key, HASH_LEN, sts, strlen(sts), mac) &&
		(hex = malloc(HEX_LEN + 1)) != NULL)
		to_hex(mac, hex);
	OPENSSL_cleanse(mac, sizeof(mac));
	return hex;
}

/*
 * The signed header list is quoted from the canonical request, where it is
 * the next-to-last line, so that the two cannot disagree.
 */
static char *
authorization(const char *access_key_id, const char *amz_date,
			  const char *region, const char *service,
			  const char *canonical, const char *signature)
{
	const char *end = canonical + strlen(canonical) - HEX_LEN - 1;
	const char *start = end;

	while (start[-1] != '\n')
		start--;
	if (end - start > INT_MAX)
		return NULL;
	return format(ALGORITHM " Credential=%s/" SCOPE_FORMAT
				  ", SignedHeaders=%.*s, Signature=%s",
				  access_key_id, amz_date, region, service,
				  (int) (end - start), start, signature);
}

/*---- public interface ----*/

int
sigv4_sign(const SigV4Request *req, const SigV4Credentials *cred,
		   const char *region, const char *service,
		   const char *amz_date, SigV4Result *result)
{
	unsigned char key[HASH_LEN];
	int			rc = -1;

	if (result == NULL)
		return -1;
	memset(result, 0, sizeof(SigV4Result));
	memset(key, 0, sizeof(key));
	if (!request_ok(req, cred, region, service, amz_date))
		goto cleanup;

	result->canonical_request = canonical_request(req);
	if (result->canonical_request == NULL)
		goto cleanup;
	result->string_to_sign = string_to_sign(amz_date, region, service,
											result->canonical_request);
	if (result->string_to_sign == NULL ||
		signing_key(cred->secret_access_key, amz_date, region, service,
					key) != 0)
		goto cleanup;
	result->signature = signature(key, result->string_to_sign);
	if (result->signature == NULL)
		goto cleanup;
	result->authorization = authorization(cred->access_key_id, amz_date,
										  region, service,
										  result->canonical_request,
										  result->signature);
	if (result->authorization == NULL)
		goto cleanup;
	rc = 0;

cleanup:
	OPENSSL_cleanse(key, sizeof(key));
	if (rc != 0)
		sigv4_result_free(result);
	return rc;
}

void
sigv4_result_free(SigV4Result *result)
{
	if (result == NULL)
		return;
	free_wiped(result->canonical_request);
	free_wiped(result->string_to_sign);
	free_wiped(result->signature);
	free_wiped(result->authorization);
	memset(result, 0, sizeof(SigV4Result));
}

int
sigv4_sha256_hex(const unsigned char *data, size_t len, char out[65])
{
	unsigned char md[HASH_LEN];

	if (data == NULL && len > 0)
		return -1;
	if (SHA256(data != NULL ? data : (const unsigned char *) "", len, md) == NULL)
		return -1;
	to_hex(md, out);
	return 0;
}
