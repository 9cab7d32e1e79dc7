/*-------------------------------------------------------------------------
 *
 * counter_table.c
 *		Create and describe the DynamoDB table of counter items.
 *
 * The table has one string hash key, COUNTER_KEY_ATTR, and on-demand
 * billing, so that no capacity planning stands between a DBA and the first
 * registered sequence.  A table of the same name with another key schema is
 * refused rather than used: its items would not be seqdist's counters.
 *
 * counter_table_probe() answers seqdist.health(): it sorts DynamoDB's answer
 * into outcomes the SQL layer can report without knowing DynamoDB's error
 * types.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <jansson.h>

#include "miscadmin.h"
#include "storage/latch.h"
#include "utils/wait_event.h"

#include "counter.h"
#include "counter_table.h"
#include "dynamo.h"

/* How long counter_table_ensure() waits for a new table to become ACTIVE */
#define TABLE_ACTIVE_WAIT_MS 60000
#define TABLE_ACTIVE_POLL_MS 100

/*
 * TableStatus from DescribeTable; palloc'd, or NULL with *err filled.
 * *key_ok tells whether the key schema is the one seqdist creates.
 */
static char *
counter_table_status(const SeqdistStore *store, DynamoError *err, bool *key_ok)
{
	json_t	   *req = json_pack("{s:s}", "TableName", store->table);
	json_t	   *resp = dynamo_call(store, "DescribeTable", req, err, NULL);
	json_t	   *table;
	json_t	   *keys;
	json_t	   *name;
	const char *status;
	char	   *result;

	if (resp == NULL)
		return NULL;
	table = json_object_get(resp, "Table");
	status = json_string_value(json_object_get(table, "TableStatus"));
	keys = json_object_get(table, "KeySchema");
	name = json_object_get(json_array_get(keys, 0), "AttributeName");
	*key_ok = json_is_array(keys) && json_array_size(keys) == 1 &&
		json_is_string(name) && strcmp(json_string_value(name), COUNTER_KEY_ATTR) == 0;
	result = status ? pstrdup(status) : NULL;
	json_decref(resp);
	if (result == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_PROTOCOL_VIOLATION),
				 errmsg("malformed response from DynamoDB to DescribeTable"),
				 errdetail("The answer carries no TableStatus.")));
	return result;
}

bool
counter_table_ensure(const SeqdistStore *store)
{
	json_t	   *req = json_pack("{s:s, s:[{s:s, s:s}], s:[{s:s, s:s}], s:s}",
								"TableName", store->table,
								"AttributeDefinitions",
								"AttributeName", COUNTER_KEY_ATTR, "AttributeType", "S",
								"KeySchema", "AttributeName", COUNTER_KEY_ATTR, "KeyType", "HASH",
								"BillingMode", "PAY_PER_REQUEST");
	bool		created = dynamo_call_unless(store, "CreateTable", req,
											 "ResourceInUseException", NULL);
	int			waited = 0;

	for (;;)
	{
		bool		key_ok = false;
		char	   *status = counter_table_status(store, NULL, &key_ok);

		if (!key_ok)
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("DynamoDB table \"%s\" exists but is not a seqdist counter table",
							store->table),
					 errdetail("Its key schema is not a single hash key named \"%s\".",
							   COUNTER_KEY_ATTR)));
		if (strcmp(status, "ACTIVE") == 0)
			return created;
		if (waited >= TABLE_ACTIVE_WAIT_MS)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("DynamoDB table \"%s\" is still %s after %d seconds",
							store->table, status, TABLE_ACTIVE_WAIT_MS / 1000)));
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 TABLE_ACTIVE_POLL_MS, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		waited += TABLE_ACTIVE_POLL_MS;
	}
}

void
counter_table_probe(const SeqdistStore *store, TableProbe *probe)
{
	DynamoError err;

	memset(probe, 0, sizeof(*probe));
	probe->status = counter_table_status(store, &err, &probe->key_ok);
	if (probe->status != NULL)
	{
		probe->outcome = TABLE_PROBE_ANSWERED;
		return;
	}
	if (err.kind == DYNAMO_TRANSPORT || err.kind == DYNAMO_UNAVAILABLE ||
		err.kind == DYNAMO_MALFORMED)
	{
		probe->outcome = TABLE_PROBE_UNREACHABLE;
		probe->error = err.message ? err.message : pstrdup("no answer");
		return;
	}
	if (dynamo_error_is_auth(&err))
		probe->outcome = TABLE_PROBE_REJECTED;
	else if (dynamo_error_is(&err, "ResourceNotFoundException"))
		probe->outcome = TABLE_PROBE_MISSING;
	else
		probe->outcome = TABLE_PROBE_FAILED;
	probe->error = psprintf("%s: %s", err.type ? err.type : "error",
							err.message ? err.message : "");
}
