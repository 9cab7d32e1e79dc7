/*-------------------------------------------------------------------------
 *
 * counter_table.h
 *		Administration of the DynamoDB table that holds the counter items.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEQDIST_COUNTER_TABLE_H
#define SEQDIST_COUNTER_TABLE_H

#include "store.h"

/*
 * Create the store's table (on-demand billing, seqdist's key schema) unless
 * it exists, and wait until it is ACTIVE.  Returns true when it was created.
 */
extern bool counter_table_ensure(const SeqdistStore *store);

/* What a DescribeTable of the store's table found, without raising */
typedef enum TableProbeOutcome
{
	TABLE_PROBE_ANSWERED,		/* DynamoDB described the table */
	TABLE_PROBE_UNREACHABLE,	/* no usable answer: transport, 5xx, garbage */
	TABLE_PROBE_REJECTED,		/* the credentials were not accepted */
	TABLE_PROBE_MISSING,		/* the table does not exist */
	TABLE_PROBE_FAILED			/* DynamoDB refused for another reason */
} TableProbeOutcome;

typedef struct TableProbe
{
	TableProbeOutcome outcome;
	char	   *status;			/* TableStatus, when answered */
	bool		key_ok;			/* the key schema is seqdist's, when answered */
	char	   *error;			/* what went wrong, credentials removed */
} TableProbe;

extern void counter_table_probe(const SeqdistStore *store, TableProbe *probe);

#endif							/* SEQDIST_COUNTER_TABLE_H */
