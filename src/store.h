/*-------------------------------------------------------------------------
 *
 * store.h
 *		Which DynamoDB table the counters live in: endpoint, region, table.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEQDIST_STORE_H
#define SEQDIST_STORE_H

/*
 * A DynamoDB table as one process's settings name it.  Every tier-1 call
 * takes the store it talks to as an argument; nothing below reads the
 * settings itself.  Two stores with the same id are the same table, so
 * values reserved from one are valid for the other.
 */
typedef struct SeqdistStore
{
	const char *endpoint;		/* URL requests are posted to */
	const char *host;			/* host[:port] of endpoint, sent as Host */
	const char *path;			/* URI path of endpoint, "/" when it has none */
	const char *region;			/* signing region */
	const char *table;			/* table holding the counter items */
	uint64		id;				/* identity of (endpoint, region, table) */
} SeqdistStore;

/* Defines seqdist.endpoint, seqdist.region and seqdist.table_name */
extern void store_init(void);

/*
 * The store this process's settings name now.  The result stays valid until
 * one of the three settings changes; do not keep it across statements.
 */
extern const SeqdistStore *store_current(void);

/* Hash of a counter key, to tell counters of one store apart cheaply */
extern uint64 store_key_hash(const char *key);

#endif							/* SEQDIST_STORE_H */
