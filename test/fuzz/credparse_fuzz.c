/*
 * credparse_fuzz.c
 *		libFuzzer harness for the parsers of what credential services
 *		answer (src/credentials_parse.c): the XML of STS and timestamps.
 *
 * The input is given to both parsers, as an STS answer and as a timestamp.
 * Whatever the input, the XML parser must stay inside its buffer (which is
 * not NUL-terminated: AddressSanitizer sees a read one byte past it); each
 * span it reports must lie in the input, hold no '<' unless a comment or
 * processing instruction sits inside the element, and start and end with no
 * white space.  A timestamp it accepts must be in the documented form,
 * and printing it back with gmtime gives the same date and time (for the
 * form "YYYY-MM-DDTHH:MM:SSZ").
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <time.h>

#include "credentials_parse.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_check_span(CredParseSpan s, const char *buf, size_t len)
{
	if (s.ptr == NULL)
		return;
	if (s.ptr < buf || s.ptr + s.len > buf + len)
		abort();
	if (s.len > 0 && (s.ptr[0] == ' ' || s.ptr[0] == '\n' || s.ptr[0] == '\t' || s.ptr[0] == '\r'))
		abort();
	if (s.len > 0 && (s.ptr[s.len - 1] == ' ' || s.ptr[s.len - 1] == '\n' ||
					  s.ptr[s.len - 1] == '\t' || s.ptr[s.len - 1] == '\r'))
		abort();
	if (memchr(s.ptr, '<', s.len) != NULL &&
		memmem(s.ptr, s.len, "<!--", 4) == NULL && memmem(s.ptr, s.len, "<?", 2) == NULL)
		abort();
}

/* The timestamp printed back: only for the plain "...Z" form */
static void
fuzz_check_time(const char *s, size_t len)
{
	int64_t		epoch;
	time_t		t;
	struct tm	tm;
	char		back[32];

	if (credparse_time(s, len, &epoch) != 0)
		return;
	if (len < 20 || s[4] != '-' || s[7] != '-' || s[13] != ':' || s[16] != ':')
		abort();
	if (len != 20 || s[19] != 'Z' || s[10] != 'T' || memcmp(s + 17, "60", 2) == 0)
		return;
	t = (time_t) epoch;
	if (gmtime_r(&t, &tm) == NULL)
		abort();
	strftime(back, sizeof(back), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (memcmp(back, s, 20) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* exactly size bytes, so that AddressSanitizer sees any overrun */
	char	   *buf = malloc(size ? size : 1);
	CredParseSts out;

	memcpy(buf, data, size);
	if (credparse_sts_xml(buf, size, &out) == 0)
	{
		fuzz_check_span(out.access_key_id, buf, size);
		fuzz_check_span(out.secret_access_key, buf, size);
		fuzz_check_span(out.session_token, buf, size);
		fuzz_check_span(out.expiration, buf, size);
		fuzz_check_span(out.error_code, buf, size);
		fuzz_check_span(out.error_message, buf, size);
	}
	fuzz_check_time(buf, size);
	free(buf);
	return 0;
}
