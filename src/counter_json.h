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

/* The items of keys[0..n-1] as counter_read_items reads them, as texts */
extern void counter_json_items(const SeqdistStore *store, char **keys, int n, int concurrency,
							   char **texts);


#endif							/* SEQDIST_COUNTER_JSON_H */
