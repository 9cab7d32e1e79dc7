/*-------------------------------------------------------------------------
 *
 * prewarm.h
 *		The list of sequences an instance served, kept in the data
 *		directory so that the refill worker can reserve their blocks right
 *		after a restart.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEQDIST_PREWARM_H
#define SEQDIST_PREWARM_H

#include "instance_cache.h"

/* The file, in the data directory (the server's working directory) */
#define PREWARM_FILE "seqdist_prewarm.list"

/* One sequence of the list: what its slot needs to reserve a block */
typedef struct PrewarmEntry
{
	Oid			dbid;
	Oid			relid;
	InstanceDef def;			/* what its blocks were reserved under */
	int64		block_size;
	bool		fixed_size;
	double		rate;			/* values per second when the list was written */
	char		key[INSTANCE_KEY_MAX];	/* the counter key, NUL-terminated */
} PrewarmEntry;

/* Defines seqdist.prewarm */
extern void prewarm_init(void);

/* Is seqdist.prewarm on? */
extern bool prewarm_enabled(void);

/*
 * Write the list of every slot that handed out values since the instance
 * started, atomically (a temporary file, fsync, rename).  Returns how many
 * sequences it holds, -1 when it could not be written (logged).
 */
extern int	prewarm_dump(void);

/*
 * Read the list, most demanded first, palloc'd; NULL with *n = 0 when there
 * is none, or when the file is damaged or another cluster's (logged).
 */
extern PrewarmEntry *prewarm_load(int *n);

#endif							/* SEQDIST_PREWARM_H */
