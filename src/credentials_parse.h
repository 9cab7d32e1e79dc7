/*-------------------------------------------------------------------------
 *
 * credentials_parse.h
 *		Parsers of what the credential services answer: the XML of STS and
 *		the timestamps of every provider (no PostgreSQL dependency, so that
 *		they can be fuzzed on their own).
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEQDIST_CREDENTIALS_PARSE_H
#define SEQDIST_CREDENTIALS_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* A piece of the parsed text; ptr is NULL when the element was absent */
typedef struct CredParseSpan
{
	const char *ptr;
	size_t		len;
} CredParseSpan;

/* What an STS answer says: the credentials, or an error */
typedef struct CredParseSts
{
	CredParseSpan access_key_id;	/* .../Credentials/AccessKeyId */
	CredParseSpan secret_access_key;	/* .../Credentials/SecretAccessKey */
	CredParseSpan session_token;	/* .../Credentials/SessionToken */
	CredParseSpan expiration;	/* .../Credentials/Expiration */
	CredParseSpan error_code;	/* ErrorResponse/Error/Code */
	CredParseSpan error_message;	/* ErrorResponse/Error/Message */
} CredParseSts;

/* Deepest element nesting accepted in an STS answer */
#define CREDPARSE_MAX_DEPTH 16

/*
 * Parse len bytes of buf (not NUL-terminated) as the XML of an STS answer.
 * Returns 0 when it is well-formed as far as this parser looks (every tag
 * closed in order, no DOCTYPE, no CDATA, no NUL byte, at most
 * CREDPARSE_MAX_DEPTH levels), else -1.  The spans point into buf: the text
 * of the leaf elements named above, as it stands (the values seqdist takes
 * are never escaped; an entity in one makes the caller refuse it).
 */
extern int	credparse_sts_xml(const char *buf, size_t len, CredParseSts *out);

/*
 * Parse an ISO 8601 / RFC 3339 UTC timestamp, "YYYY-MM-DDTHH:MM:SS" with an
 * optional fraction and "Z" or a "+hh:mm"/"-hh:mm" offset, into seconds
 * since 1970-01-01 UTC.  Returns 0 on success, -1 for anything else.
 */
extern int	credparse_time(const char *s, size_t len, int64_t *epoch);

#endif							/* SEQDIST_CREDENTIALS_PARSE_H */
