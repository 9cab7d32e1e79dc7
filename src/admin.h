/*-------------------------------------------------------------------------
 *
 * admin.h
 *		What the migration functions share with seqdist.register.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEQDIST_ADMIN_H
#define SEQDIST_ADMIN_H

#include "counter.h"

/*
 * Check and prepare relid's registration for a migration (not sent): its
 * registered key or its default key, the counter at least at the native
 * position and (has_floor) at floor.  Locks the sequence; returns its
 * native state in *native_last and *native_called.
 */
extern void admin_prepare_migration(Oid relid, bool has_floor, int128 floor,
									CounterJoin *join, int64 *native_last,
									bool *native_called);

#endif							/* SEQDIST_ADMIN_H */
