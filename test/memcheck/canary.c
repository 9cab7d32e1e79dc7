/*
 * canary.c -- the positive controls of test/memcheck.sh: a throwaway module
 * (built there, never installed) that leaks blocks, leaks memory allocated
 * inside libjansson and libcurl (to show that stacks unwind through
 * uninstrumented libraries to their caller), reads past a 16-byte malloc
 * and overflows an int.  memcheck.sh checks that every checker reports each
 * of them, attributed to the canary, so that a clean result means
 * something.  Built twice: instrumented for the ASan server, plain for
 * valgrind.  scan.pl recognises the canary by this file's and these
 * functions' names.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 */
#include "postgres.h"
#include "fmgr.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include <jansson.h>

PG_MODULE_MAGIC;

PG_FUNCTION_INFO_V1(memcheck_canary_leak);
PG_FUNCTION_INFO_V1(memcheck_canary_overflow);
PG_FUNCTION_INFO_V1(memcheck_canary_ubsan);

static void *volatile canary_sink;

/* 100 blocks of 4242 bytes whose only pointers are overwritten at once */
static void __attribute__((noinline))
canary_leak_blocks(void)
{
	for (int i = 0; i < 100; i++)
	{
		char	   *p = malloc(4242);

		memset(p, 'x', 4242);
		canary_sink = p;
	}
	canary_sink = NULL;
}

/* memory allocated inside the libraries seqdist uses */
static void __attribute__((noinline))
canary_leak_libs(void)
{
	canary_sink = json_pack("{s:s, s:[i,i]}", "canary", "leak", "n", 1, 2);
	canary_sink = curl_easy_init();
	canary_sink = NULL;
}

/* no stale copy of a pointer stays on the stack */
static void __attribute__((noinline))
canary_scrub_stack(void)
{
	volatile char buf[65536];

	memset((char *) buf, 0, sizeof(buf));
}

Datum
memcheck_canary_leak(PG_FUNCTION_ARGS)
{
	canary_leak_blocks();
	canary_leak_libs();
	canary_scrub_stack();
	PG_RETURN_VOID();
}

Datum
memcheck_canary_overflow(PG_FUNCTION_ARGS)
{
	volatile char *p = malloc(16);
	char		c = p[PG_GETARG_INT32(0)];	/* called with 16: one past the end */

	free((void *) p);
	PG_RETURN_INT32(c);
}

Datum
memcheck_canary_ubsan(PG_FUNCTION_ARGS)
{
	volatile int x = INT_MAX;
	int			y = x + PG_GETARG_INT32(0);	/* called with 1: signed overflow */

	PG_RETURN_INT32(y);
}
