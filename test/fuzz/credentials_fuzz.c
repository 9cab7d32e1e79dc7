/*
 * credentials_fuzz.c
 *		libFuzzer harness for the shared credentials file parser
 *		(src/credentials_file.c).
 *
 * The input is a profile name, a NUL byte, then the file's text (without a
 * NUL byte the whole input is the text and the profile is "default").
 * Whatever the input, the parser must stay inside its buffer, and each value
 * it finds must lie in the text where it was found, hold no line break,
 * start and end with no white space, and be exactly what a second, naive
 * parser (one malloc'd copy per line) finds.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 */
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <strings.h>

#include "credentials_file.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_NKEYS 8
static const char *const fuzz_keys[FUZZ_NKEYS] = {
	"aws_access_key_id", "aws_secret_access_key", "aws_session_token", "role_arn",
	"source_profile", "role_session_name", "external_id", "credential_source",
};

static int
fuzz_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* trim a NUL-terminated string in place */
static char *
fuzz_trim(char *s)
{
	size_t		n;

	while (fuzz_space(*s))
		s++;
	n = strlen(s);
	while (n > 0 && fuzz_space(s[n - 1]))
		s[--n] = '\0';
	return s;
}

/*
 * The naive parser: found[k] is a malloc'd copy of key k's last value in
 * the profile, or NULL.  A line holding a NUL byte is ignored.
 */
static void
fuzz_reference(const char *text, size_t len, const char *profile, char *found[FUZZ_NKEYS])
{
	size_t		start = 0;
	int			in_profile = 0;

	while (start < len)
	{
		const char *nl = memchr(text + start, '\n', len - start);
		size_t		end = nl ? (size_t) (nl - text) : len;
		size_t		n = end - start;
		char	   *line = malloc(n + 1);
		char	   *s;
		int			has_nul;

		memcpy(line, text + start, n);
		line[n] = '\0';
		has_nul = memchr(text + start, '\0', n) != NULL;
		s = fuzz_trim(line);
		if (!has_nul && s[0] == '[')
		{
			char	   *close = strchr(s, ']');

			if (close)
				*close = '\0';
			in_profile = strcmp(fuzz_trim(s + 1), profile) == 0;
		}
		else if (!has_nul && s[0] != '\0' && s[0] != '#' && s[0] != ';' && in_profile)
		{
			char	   *eq = strchr(s, '=');

			if (eq)
			{
				*eq = '\0';
				for (int k = 0; k < FUZZ_NKEYS; k++)
				{
					if (strcasecmp(fuzz_trim(s), fuzz_keys[k]) != 0)
						continue;
					free(found[k]);
					found[k] = strdup(fuzz_trim(eq + 1));
				}
			}
		}
		free(line);
		start = end + 1;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	char	   *profile;
	const char *text;
	size_t		len;
	char	   *buf;
	CredFileValues values;
	const char *got[FUZZ_NKEYS];
	char	   *want[FUZZ_NKEYS] = {NULL};

	if (nul)
	{
		profile = strndup((const char *) data, nul - data);
		text = (const char *) nul + 1;
		len = size - (nul - data) - 1;
	}
	else
	{
		profile = strdup("default");
		text = (const char *) data;
		len = size;
	}
	/* exactly len + 1 bytes, so that AddressSanitizer sees any overrun */
	buf = malloc(len + 1);
	memcpy(buf, text, len);
	credfile_parse(buf, len, profile, &values);
	got[0] = values.access_key_id;
	got[1] = values.secret_access_key;
	got[2] = values.session_token;
	got[3] = values.role_arn;
	got[4] = values.source_profile;
	got[5] = values.role_session_name;
	got[6] = values.external_id;
	got[7] = values.credential_source;

	fuzz_reference(text, len, profile, want);
	for (int k = 0; k < FUZZ_NKEYS; k++)
	{
		size_t		n;

		if ((got[k] == NULL) != (want[k] == NULL))
			abort();
		if (got[k] == NULL)
			continue;
		if (got[k] < buf || got[k] > buf + len)
			abort();
		n = strlen(got[k]);
		if (got[k] + n > buf + len)
			abort();
		if (memcmp(got[k], text + (got[k] - buf), n) != 0 || strchr(got[k], '\n') ||
			(n > 0 && (fuzz_space(got[k][0]) || fuzz_space(got[k][n - 1]))))
			abort();
		if (strcmp(got[k], want[k]) != 0)
			abort();
		free(want[k]);
	}
	free(buf);
	free(profile);
	return 0;
}
