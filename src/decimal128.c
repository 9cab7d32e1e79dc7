/*-------------------------------------------------------------------------
 *
 * decimal128.c
 *		Decimal text of 128-bit integers.
 *
 * Counter positions are kept in 128 bits because start - increment, and
 * positions near the int64 bounds plus a block, do not fit in 64.  38
 * digits, DynamoDB's precision, always fit in an int128, so parsing cannot
 * overflow.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "decimal128.h"

char *
decimal128_format(int128 v, char *buf)
{
	char		tmp[DECIMAL128_BUFSIZE];
	char	   *p = tmp + sizeof(tmp) - 1;
	bool		neg = v < 0;
	uint128		u = neg ? -(uint128) v : (uint128) v;

	*p = '\0';
	do
	{
		*--p = '0' + (int) (u % 10);
		u /= 10;
	} while (u != 0);
	if (neg)
		*--p = '-';
	memcpy(buf, p, tmp + sizeof(tmp) - p);
	return buf;
}

bool
decimal128_parse(const char *s, int128 *out)
{
	bool		neg = false;
	int128		v = 0;
	int			digits = 0;

	if (*s == '-')
	{
		neg = true;
		s++;
	}
	for (; *s; s++)
	{
		if (*s < '0' || *s > '9' || ++digits > 38)
			return false;
		v = v * 10 + (*s - '0');
	}
	if (digits == 0)
		return false;
	*out = neg ? -v : v;
	return true;
}
