/*-------------------------------------------------------------------------
 *
 * migrate.h
 *		The fence on migrated native sequences, set and removed at commit.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEQDIST_MIGRATE_H
#define SEQDIST_MIGRATE_H

/* Registers the transaction callbacks that move native sequences at commit */
extern void migrate_init(void);

/*
 * DDL reset the native state of relid (ALTER SEQUENCE, RESTART, TRUNCATE
 * ... RESTART IDENTITY): if it is migrated, fence it again at commit.
 */
extern void migrate_refence(Oid relid);

#endif							/* SEQDIST_MIGRATE_H */
