/*-------------------------------------------------------------------------
 *
 * counter_json.h
 *		A counter item as plain JSON, for seqdist.counter_item().
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEQDIST_COUNTER_JSON_H
#define SEQDIST_COUNTER_JSON_H

#include "store.h"

/* The item as a JSON text of plain attributes, or NULL when there is none */
extern char *counter_json_item(const SeqdistStore *store, const char *key);

/* The item's last_value; false when there is no item or it has none */
extern bool counter_json_last_value(const SeqdistStore *store, const char *key,
									int128 *last_value);

#endif							/* SEQDIST_COUNTER_JSON_H */
