/*-------------------------------------------------------------------------
 *
 * sequence_catalog.h
 *		What PostgreSQL's catalogs say about a native sequence.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEQDIST_SEQUENCE_CATALOG_H
#define SEQDIST_SEQUENCE_CATALOG_H

#include "storage/lockdefs.h"

#include "counter.h"

typedef struct SequenceCatalog
{
	char	   *name;			/* relation name, palloc'd, for messages */
	char		persistence;	/* relpersistence */
	Oid			filenode;		/* relfilenode; RESTART changes it */
	CounterParams params;		/* increment, bounds, start, cycle */
	int64		cache;			/* CACHE */
} SequenceCatalog;

/*
 * Read the sequence's pg_class and pg_sequence rows from the syscache.
 * Raises the native errors when relid is no relation or not a sequence.
 */
extern void sequence_catalog_read(Oid relid, SequenceCatalog *out);

/* Lock the relation with lockmode first, as relation_open does, then read */
extern void sequence_catalog_open(Oid relid, LOCKMODE lockmode, SequenceCatalog *out);

#endif							/* SEQDIST_SEQUENCE_CATALOG_H */
