/*-------------------------------------------------------------------------
 *
 * block_size.c
 *		The block size rule and its settings.
 *
 * A sequence with its own block size (seqdist.set_block_size) always gets
 * that size.  Otherwise a block that lasted less than
 * seqdist.block_target_duration makes the next one twice as big (up to
 * seqdist.max_block_size); one that lasted more than four times as long
 * makes it half as big (down to seqdist.block_size).  Under load the
 * instance then asks DynamoDB about once per target duration, however fast
 * values are taken; when idle, blocks, and the gaps a restart leaves, stay
 * small.  The refill worker sizes the blocks it reserves ahead of need from
 * measured demand, within the same bounds (block_size_clamp).
 *
 * The functions are pure arithmetic on their arguments and the settings, so
 * the instance cache may call them under a slot's spinlock.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/guc.h"

#include "block_size.h"

/*---- settings ----*/
static int	block_size_setting = 1000;
static int	block_max_setting = 1000000;
static int	block_target_ms = 1000;

void
block_size_init(void)
{
	DefineCustomIntVariable("seqdist.block_size",
							"Values reserved from DynamoDB per request, for sequences without their own block size.",
							"A restart or crash can leave up to this many values of a sequence unused.",
							&block_size_setting, 1000, 1, 1000000000,
							PGC_SUSET, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("seqdist.max_block_size",
							"Largest block the instance cache reserves when demand is high.",
							"A crash or restart can leave up to one block per sequence unused.",
							&block_max_setting, 1000000, 1, 1000000000,
							PGC_SUSET, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("seqdist.block_target_duration",
							"How long a block should last: blocks grow while they last less and shrink when they last much longer.",
							NULL,
							&block_target_ms, 1000, 1, 3600000,
							PGC_SUSET, GUC_UNIT_MS,
							NULL, NULL, NULL);
}

int64
block_size_default(void)
{
	return block_size_setting;
}

int64
block_size_next(int64 previous, int64 base, bool fixed, TimestampTz last_fetch,
				TimestampTz now)
{
	int64		size = Max(previous, base);
	int64		ceiling = fixed ? base : Max((int64) block_max_setting, base);

	if (last_fetch != 0)
	{
		int64		elapsed_ms = (now - last_fetch) / 1000;

		if (elapsed_ms < block_target_ms)
			size = size > ceiling / 2 ? ceiling : size * 2;
		else if (elapsed_ms > 4 * (int64) block_target_ms)
			size = Max(size / 2, base);
	}
	return Min(size, ceiling);
}

int64
block_size_clamp(double want)
{
	int64		base = Max((int64) block_size_setting, 1);

	return (int64) Max(Min(want, (double) block_max_setting), (double) base);
}
