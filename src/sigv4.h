/*-------------------------------------------------------------------------
 *
 * sigv4.h
 *		AWS Signature Version 4 signing of seqdist's DynamoDB requests.
 *
 * The signer takes the one kind of request seqdist sends, a POST of a JSON
 * document to a fixed path with no query string, and refuses any other.
 *
 * Pure C on top of OpenSSL: no PostgreSQL headers, so the signer can be
 * linked into a standalone test program and checked against AWS's published
 * test vectors and an independent implementation.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEQDIST_SIGV4_H
#define SEQDIST_SIGV4_H

#include <stddef.h>

typedef struct SigV4Header
{
	const char *name;			/* as sent; lower-cased when signing */
	const char *value;			/* as sent; white space is trimmed and
								 * folded when signing */
} SigV4Header;

typedef struct SigV4Request
{
	const char *method;			/* "POST", the only method signed */
	const char *path;			/* URI path exactly as sent: "/", "/dynamo" */
	const char *query;			/* NULL: a caller with a query string gets a
								 * refusal rather than a wrong signature */
	const SigV4Header *headers; /* every header to sign, each name once */
	int			nheaders;		/* a handful: the work is quadratic in it */
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
 * Bad input is: a NULL req, cred or result; a method other than "POST"; a
 * non-NULL query (even "");
 * a path not starting with "/", holding "?" or "#", or with a "." or ".."
 * segment or an empty segment other than a trailing one (such a path would
 * need normalising); a NULL payload with a non-zero length; amz_date not in
 * yyyymmddThhmmssZ form; an empty region, service, access key id or
 * secret; a region, service or access key id holding "/", white space, a
 * control character or a non-ASCII byte, or an access key id holding ",";
 * a header name that is not an HTTP token, or a NULL header value; a header
 * name given twice, in any case; a header list without Host, without
 * X-Amz-Date equal to amz_date or, when the credentials carry a session
 * token, without X-Amz-Security-Token equal to it.
 *
 * The signer adds no header and never reads X-Amz-Content-Sha256: the
 * payload hash in the canonical request is always computed from payload.
 * The path is encoded as for every service except S3; see the comment at
 * the top of sigv4.c.
 */
extern int	sigv4_sign(const SigV4Request *req, const SigV4Credentials *cred,
					   const char *region, const char *service,
					   const char *amz_date, SigV4Result *result);

extern void sigv4_result_free(SigV4Result *result);

/* Lower-case hex SHA-256 of data into out[65].  Returns 0 on success. */
extern int	sigv4_sha256_hex(const unsigned char *data, size_t len, char out[65]);

#endif							/* SEQDIST_SIGV4_H */
