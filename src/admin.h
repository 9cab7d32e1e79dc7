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

/*
 * Register relid for a migration: its registered key or its default key,
 * the counter at least at the native position and (has_floor) at floor.
 * Returns the key (palloc'd); *last receives the counter's position.
 */
extern char *admin_register_for_migration(Oid relid, bool has_floor, int128 floor,
										  int128 *last);

#endif							/* SEQDIST_ADMIN_H */
