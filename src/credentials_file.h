/*-------------------------------------------------------------------------
 *
 * credentials_file.h
 *		The parser of the AWS shared credentials file (no PostgreSQL
 *		dependency, so that it can be fuzzed on its own).
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
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
 * with source_profile (and optionally role_session_name, external_id) make
 * a profile that assumes a role; credential_source is read only to refuse
 * it.
 */
typedef struct CredFileValues
{
	const char *access_key_id;
	const char *secret_access_key;
	const char *session_token;
	const char *role_arn;
	const char *source_profile;
	const char *role_session_name;
	const char *external_id;
	const char *credential_source;
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
