/*-------------------------------------------------------------------------
 *
 * block_size.h
 *		How many values one reservation from DynamoDB takes.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEQDIST_BLOCK_SIZE_H
#define SEQDIST_BLOCK_SIZE_H

#include "datatype/timestamp.h"

/* Defines seqdist.block_size, max_block_size and block_target_duration */
extern void block_size_init(void);

/* seqdist.block_size: the block of a sequence without a size of its own */
extern int64 block_size_default(void);

/*
 * The size of the next block a backend reserves, given the size of the
 * previous one (0 at first), when that one was reserved (0: never) and now.
 * base is the smallest block; fixed means base is the sequence's own size.
 */
extern int64 block_size_next(int64 previous, int64 base, bool fixed,
							 TimestampTz last_fetch, TimestampTz now);

/* A block of about want values, within seqdist.block_size .. max_block_size */
extern int64 block_size_clamp(double want);

#endif							/* SEQDIST_BLOCK_SIZE_H */
