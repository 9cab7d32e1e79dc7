/*-------------------------------------------------------------------------
 *
 * registry.h
 *		seqdist.sequences: which native sequences draw from which counter.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEQDIST_REGISTRY_H
#define SEQDIST_REGISTRY_H

typedef struct RegistryEntry
{
	char	   *key;			/* counter key, palloc'd */
	int32		block_size;		/* 0: seqdist.block_size */
	bool		strict;
} RegistryEntry;

/* The registration of relid; false when it is not registered */
extern bool registry_lookup(Oid relid, RegistryEntry *out);

/* Raise the native "permission denied" unless the user may record a registration */
extern void registry_check_writable(void);

/*
 * Record relid with counter key (nothing happens if it is recorded
 * already) and tell every backend to look again.
 */
extern void registry_insert(Oid relid, const char *key);

/*
 * Change one column of relid's registration ("block_size = $2") to arg and
 * tell every backend; false when relid is not registered.
 */
extern bool registry_update(Oid relid, const char *assignment, Oid argtype,
							Datum arg, bool isnull);

/* Remove relid's registration and tell every backend; false when there was none */
extern bool registry_delete(Oid relid);

#endif							/* SEQDIST_REGISTRY_H */
