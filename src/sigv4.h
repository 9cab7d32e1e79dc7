/*-------------------------------------------------------------------------
 *
 * sigv4.h
 *		AWS Signature Version 4 request signing.
 *
 * Pure C on top of OpenSSL: no PostgreSQL headers, so the signer can be
 * linked into a standalone test program and checked against AWS's published
 * test vectors and an independent implementation.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEQDIST_SIGV4_H
#define SEQDIST_SIGV4_H

#include <stddef.h>

typedef struct SigV4Header
{
	const char *name;			/* as sent; case is normalised when signing */
	const char *value;			/* as sent; whitespace is trimmed when signing */
} SigV4Header;

typedef struct SigV4Request
{
	const char *method;			/* "GET", "POST", ... */
	const char *path;			/* URI path exactly as sent, e.g. "/" */
	const char *query;			/* raw query string without '?', or NULL */
	const SigV4Header *headers; /* every header to sign; must include Host */
	int			nheaders;
	const unsigned char *payload;
	size_t		payload_len;
} SigV4Request;

typedef struct SigV4Credentials
{
	const char *access_key_id;
	const char *secret_access_key;
	const char *session_token;	/* NULL or "" when absent */
} SigV4Credentials;

/*
 * Results of one signing.  All strings are NUL-terminated and owned by the
 * struct; release them with sigv4_result_free(), which also wipes them.
 */
typedef struct SigV4Result
{
	char	   *canonical_request;
	char	   *string_to_sign;
	char	   *signature;		/* 64 lower-case hex digits */
	char	   *authorization;	/* full Authorization header value */
} SigV4Result;

/*
 * Sign a request.  amz_date is the ISO 8601 basic timestamp that is also
 * sent as X-Amz-Date ("20150830T123600Z").  If the credentials carry a
 * session token, the caller must send it as X-Amz-Security-Token and include
 * it in req->headers so that it is signed.
 *
 * Returns 0 on success, -1 on failure (out of memory or bad input); on
 * failure *result holds no allocations.
 *
 * Bad input is: amz_date not in yyyymmddThhmmssZ form; an empty region,
 * service, method, access key id or secret; a region or service holding
 * "/", white space or a non-ASCII byte; an access key id holding "/", ","
 * or white space; a method or header name that is not an HTTP token; a
 * path not starting with "/"; a NULL payload with a non-zero length; a
 * header list without exactly one Host, exactly one X-Amz-Date equal to
 * amz_date and, when the credentials carry a session token, exactly one
 * X-Amz-Security-Token equal to it.
 *
 * The signer adds no header and never reads X-Amz-Content-Sha256: the
 * payload hash in the canonical request is always computed from payload.
 * The path is normalised and encoded as for every service except S3, and
 * the query is decoded and re-encoded ("+" is a literal plus); see the
 * comment at the top of sigv4.c.
 */
extern int	sigv4_sign(const SigV4Request *req, const SigV4Credentials *cred,
					   const char *region, const char *service,
					   const char *amz_date, SigV4Result *result);

extern void sigv4_result_free(SigV4Result *result);

/* Lower-case hex SHA-256 of data into out[65].  Returns 0 on success. */
extern int	sigv4_sha256_hex(const unsigned char *data, size_t len, char out[65]);

#endif							/* SEQDIST_SIGV4_H */
