/*
 * decimal128_fuzz.c
 *		libFuzzer harness for the decimal text of counter positions
 *		(src/decimal128.c), which parses numbers DynamoDB returns.
 *
 * Whatever the input, decimal128_parse accepts exactly an optional "-" and
 * 1 to 38 digits, and what it accepts formats back to the same number.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 */
#include "postgres.h"

#include "decimal128.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
fuzz_well_formed(const char *s)
{
	size_t		digits;

	if (*s == '-')
		s++;
	digits = strspn(s, "0123456789");
	return digits >= 1 && digits <= 38 && s[digits] == '\0';
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *s = malloc(size + 1);
	char		text[DECIMAL128_BUFSIZE];
	int128		v = 0;
	int128		again = 0;
	bool		ok;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	ok = decimal128_parse(s, &v);
	if (ok != fuzz_well_formed(s))
		abort();
	if (ok && (!decimal128_parse(decimal128_format(v, text), &again) || again != v))
		abort();
	free(s);
	return 0;
}
