/*-------------------------------------------------------------------------
 *
 * ddl_triggers.h
 *		Keeping counters in step with DDL on registered sequences.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEQDIST_DDL_TRIGGERS_H
#define SEQDIST_DDL_TRIGGERS_H

/* When preloading, installs the utility hook that sees TRUNCATE */
extern void ddl_triggers_init(bool preloading);

#endif							/* SEQDIST_DDL_TRIGGERS_H */
