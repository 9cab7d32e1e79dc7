/*-------------------------------------------------------------------------
 *
 * decimal128.h
 *		Decimal text of 128-bit integers, as DynamoDB numbers are written.
 *
 * Pure C on PostgreSQL's int128 type, with no allocation, so that the
 * libFuzzer harness in test/fuzz can link it alone.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEQDIST_DECIMAL128_H
#define SEQDIST_DECIMAL128_H

/* Room for any int128 in decimal, with a sign and the terminator */
#define DECIMAL128_BUFSIZE 48

/* Write v in decimal into buf; returns buf */
extern char *decimal128_format(int128 v, char *buf);

/*
 * Parse a strict decimal integer of 1 to 38 digits with an optional "-":
 * DynamoDB returns numbers that way, without exponent or fraction, and 38
 * digits is its precision.  False, *out untouched, for anything else.
 */
extern bool decimal128_parse(const char *s, int128 *out);

#endif							/* SEQDIST_DECIMAL128_H */
