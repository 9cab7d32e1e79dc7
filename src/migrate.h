/*-------------------------------------------------------------------------
 *
 * migrate.h
 *		The fence on migrated native sequences, set and removed at commit.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEQDIST_MIGRATE_H
#define SEQDIST_MIGRATE_H

/* Registers the transaction callbacks that move native sequences at commit */
extern void migrate_init(void);

#endif							/* SEQDIST_MIGRATE_H */
