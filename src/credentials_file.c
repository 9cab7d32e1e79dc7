/*-------------------------------------------------------------------------
 *
 * credentials_file.c
 *		Parse the AWS shared credentials file.
 *
 * The file is INI-style: "[profile]" headers, "key = value" lines, blank
 * lines and comments starting with "#" or ";".  The shared config file has
 * the same syntax (its named profiles are "[profile NAME]").  Only the keys
 * seqdist needs are read (names compared without regard to case, as the AWS tools
 * do); a later occurrence of a key in the profile wins.  The caller reads the
 * file whole into one buffer and parses it here in place, so no copy of a
 * secret is made and a line is a line however long it is: a line is never
 * cut into pieces that would be read as lines of their own.  A line that
 * contains a NUL byte is ignored, whatever it says.
 *
 * This file has no PostgreSQL dependency (it is built into the fuzz
 * harness on its own) and allocates nothing.
 *
 * Locking: none.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>
#include <strings.h>

#include "credentials_file.h"

static int
credfile_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Narrow [*start, *end) to its text without surrounding white space */
static void
credfile_trim(const char **start, const char **end)
{
	while (*start < *end && credfile_space(**start))
		(*start)++;
	while (*end > *start && credfile_space((*end)[-1]))
		(*end)--;
}

static int
credfile_equal(const char *s, const char *e, const char *word, int nocase)
{
	size_t		n = strlen(word);

	if ((size_t) (e - s) != n)
		return 0;
	return nocase ? strncasecmp(s, word, n) == 0 : memcmp(s, word, n) == 0;
}

/* A "[name]" header: is it the profile's?  A header without "]" ends at the line's end. */
static int
credfile_header_is(const char *s, const char *e, const char *profile)
{
	const char *close = memchr(s, ']', e - s);

	s++;
	if (close != NULL)
		e = close;
	credfile_trim(&s, &e);
	return credfile_equal(s, e, profile, 0);
}

/* A "key = value" line of the profile: keep the value if the key is one of ours */
static void
credfile_assign(char *s, char *e, CredFileValues *out)
{
	char	   *eq = memchr(s, '=', e - s);
	const char *ks = s;
	const char *ke;
	const char *vs;
	const char *ve = e;
	const char **dest;

	if (eq == NULL)
		return;
	ke = eq;
	vs = eq + 1;
	credfile_trim(&ks, &ke);
	credfile_trim(&vs, &ve);
	if (credfile_equal(ks, ke, "aws_access_key_id", 1))
		dest = &out->access_key_id;
	else if (credfile_equal(ks, ke, "aws_secret_access_key", 1))
		dest = &out->secret_access_key;
	else if (credfile_equal(ks, ke, "aws_session_token", 1))
		dest = &out->session_token;
	else if (credfile_equal(ks, ke, "role_arn", 1))
		dest = &out->role_arn;
	else if (credfile_equal(ks, ke, "source_profile", 1))
		dest = &out->source_profile;
	else if (credfile_equal(ks, ke, "role_session_name", 1))
		dest = &out->role_session_name;
	else if (credfile_equal(ks, ke, "external_id", 1))
		dest = &out->external_id;
	else if (credfile_equal(ks, ke, "credential_source", 1))
		dest = &out->credential_source;
	else
		return;
	/* ve is at most the line's end: its "\n", or the byte after the text */
	*(char *) ve = '\0';
	*dest = vs;
}

void
credfile_parse(char *buf, size_t len, const char *profile, CredFileValues *out)
{
	char	   *end = buf + len;
	char	   *line = buf;
	int			in_profile = 0;

	memset(out, 0, sizeof(*out));
	while (line < end)
	{
		char	   *nl = memchr(line, '\n', end - line);
		char	   *line_end = nl ? nl : end;
		const char *s = line;
		const char *e = line_end;

		credfile_trim(&s, &e);
		/* blank lines and lines that are not text (a NUL byte) say nothing */
		if (s < e && memchr(s, '\0', e - s) == NULL)
		{
			if (*s == '[')
				in_profile = credfile_header_is(s, e, profile);
			else if (*s != '#' && *s != ';' && in_profile)
				credfile_assign((char *) s, (char *) e, out);
		}
		line = line_end + 1;
	}
}
