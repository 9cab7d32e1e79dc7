/*-------------------------------------------------------------------------
 *
 * pending_ddl.h
 *		Changes of counter items that DDL asks for and that wait for the
 *		transaction to commit.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEQDIST_PENDING_DDL_H
#define SEQDIST_PENDING_DDL_H

/* Registers the transaction callbacks; every backend */
extern void pending_ddl_init(void);

/*
 * Sequence relid was altered (restarting: with RESTART): record its
 * definition, as it is at commit, in its counter item just before the
 * transaction commits, and give it to the instance cache slot once it has.
 */
extern void pending_ddl_redefine(Oid relid, bool restarting);

/*
 * Registered sequence relid, whose counter key is key, was dropped: remove
 * it from the counter's clients just before the transaction commits, and
 * free its instance cache slot once it has.
 */
extern void pending_ddl_leave(Oid relid, const char *key);

#endif							/* SEQDIST_PENDING_DDL_H */
