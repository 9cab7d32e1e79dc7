/*-------------------------------------------------------------------------
 *
 * credentials_file.h
 *		The parser of the AWS shared credentials file (no PostgreSQL
 *		dependency, so that it can be fuzzed on its own).
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEQDIST_CREDENTIALS_FILE_H
#define SEQDIST_CREDENTIALS_FILE_H

#include <stddef.h>

/* The largest credentials file seqdist reads, in bytes */
#define CREDFILE_MAX_SIZE (1024 * 1024)

/*
 * The keys seqdist reads from one profile; each NULL when absent.  role_arn
 * is read only to refuse a profile that assumes a role, which seqdist does
 * not do.
 */
typedef struct CredFileValues
{
	const char *access_key_id;
	const char *secret_access_key;
	const char *session_token;
	const char *role_arn;
} CredFileValues;

/*
 * Parse the len bytes of text in buf as an INI-style credentials file and
 * find the keys of the section [profile] (for the shared config file, the
 * caller passes "profile NAME", the header of a named profile there).  Parsing is in place: buf must
 * have room for len + 1 bytes, the parser writes NUL bytes into it, and the
 * values found point into it (so they live, and must be wiped, with buf).
 * Lines end at "\n" only, whatever their length.
 */
extern void credfile_parse(char *buf, size_t len, const char *profile,
						   CredFileValues *out);

#endif							/* SEQDIST_CREDENTIALS_FILE_H */
