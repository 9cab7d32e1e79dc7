/*-------------------------------------------------------------------------
 *
 * routing.h
 *		The planner hook that routes native sequence calls of migrated
 *		sequences to their counters.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEQDIST_ROUTING_H
#define SEQDIST_ROUTING_H

/* Installs the planner and utility hooks (only when preloading) */
extern void routing_init(bool preloading);

/* Is relid a migrated sequence of this database? */
extern bool routing_is_migrated(Oid relid);

#endif							/* SEQDIST_ROUTING_H */
