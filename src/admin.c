/*-------------------------------------------------------------------------
 *
 * admin.c
 *		SQL functions for DBAs: create the counter table, check health,
 *		register sequences, look at a counter item.
 *
 * Registration writes the counter item first and the local row second, so a
 * failure in between leaves at worst a counter item that the next
 * registration finds and reuses.  It never moves an existing counter back:
 * two databases that register the same counter key share one position.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/latch.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/wait_event.h"

#include "seqdist.h"
#include "counter.h"
#include "credentials.h"
#include "dynamo.h"
#include "nextval.h"

/* How long create_table() waits for a new table to become ACTIVE */
#define ADMIN_ACTIVE_WAIT_MS 60000
#define ADMIN_ACTIVE_POLL_MS 100

PG_FUNCTION_INFO_V1(seqdist_create_table);
PG_FUNCTION_INFO_V1(seqdist_health);
PG_FUNCTION_INFO_V1(seqdist_register);
PG_FUNCTION_INFO_V1(seqdist_counter_item);
PG_FUNCTION_INFO_V1(seqdist_set_block_size);
PG_FUNCTION_INFO_V1(seqdist_set_strict);

/*
 * seqdist.create_table() returns text
 *
 * Create the counter table (on-demand billing) if it does not exist, and wait
 * until it is ACTIVE.  Returns 'created' or 'exists'.
 */
Datum
seqdist_create_table(PG_FUNCTION_ARGS)
{
	bool		created;
	int			waited = 0;

	seqdist_check_preloaded();

	created = counter_table_create();

	for (;;)
	{
		bool		key_ok = false;
		char	   *status = counter_table_status(NULL, &key_ok);

		if (!key_ok)
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("DynamoDB table \"%s\" exists but is not a seqdist counter table", seqdist_table),
					 errdetail("Its key schema is not a single hash key named \"counter\".")));
		if (strcmp(status, "ACTIVE") == 0)
			break;
		if (waited >= ADMIN_ACTIVE_WAIT_MS)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("DynamoDB table \"%s\" is still %s after %d seconds",
							seqdist_table, status, ADMIN_ACTIVE_WAIT_MS / 1000)));
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 ADMIN_ACTIVE_POLL_MS, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		waited += ADMIN_ACTIVE_POLL_MS;
	}
	PG_RETURN_TEXT_P(cstring_to_text(created ? "created" : "exists"));
}

static void
admin_health_row(Tuplestorestate *ts, TupleDesc td, const char *check, int ok,
				 const char *detail)
{
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	values[0] = CStringGetTextDatum(check);
	if (ok < 0)
		nulls[1] = true;
	else
		values[1] = BoolGetDatum(ok != 0);
	values[2] = CStringGetTextDatum(detail);
	tuplestore_putvalues(ts, td, values, nulls);
}

/*
 * seqdist.health() returns table (check text, ok boolean, detail text)
 *
 * Three checks, each answered without raising an error: is the endpoint
 * reachable, are the credentials accepted, is the table ACTIVE.  ok is NULL
 * for a check that could not be made because an earlier one failed.
 */
Datum
seqdist_health(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	SeqdistCredentials creds;
	DynamoError err;
	char	   *status;
	bool		key_ok = false;
	const char *endpoint;

	seqdist_check_preloaded();
	InitMaterializedSRF(fcinfo, 0);
	endpoint = seqdist_effective_endpoint();

	if (!credentials_try_resolve(&creds))
	{
		admin_health_row(rsinfo->setResult, rsinfo->setDesc, "endpoint", -1,
						 psprintf("%s (not tried: no credentials)", endpoint));
		admin_health_row(rsinfo->setResult, rsinfo->setDesc, "credentials", 0,
						 "no AWS credentials found in the settings, the environment or the shared credentials file");
		admin_health_row(rsinfo->setResult, rsinfo->setDesc, "table", -1, seqdist_table);
		PG_RETURN_VOID();
	}
	{
		const char *source = creds.source;

		credentials_release(&creds);
		creds.source = source;
	}

	status = counter_table_status(&err, &key_ok);
	if (status == NULL && (err.kind == DYNAMO_TRANSPORT || err.kind == DYNAMO_UNAVAILABLE ||
						   err.kind == DYNAMO_MALFORMED))
	{
		admin_health_row(rsinfo->setResult, rsinfo->setDesc, "endpoint", 0,
						 psprintf("%s: %s", endpoint, err.message ? err.message : "no answer"));
		admin_health_row(rsinfo->setResult, rsinfo->setDesc, "credentials", -1,
						 psprintf("from %s (not verified)", creds.source));
		admin_health_row(rsinfo->setResult, rsinfo->setDesc, "table", -1, seqdist_table);
		PG_RETURN_VOID();
	}
	admin_health_row(rsinfo->setResult, rsinfo->setDesc, "endpoint", 1, endpoint);
	if (status == NULL && dynamo_error_is_auth(&err))
	{
		admin_health_row(rsinfo->setResult, rsinfo->setDesc, "credentials", 0,
						 psprintf("from %s, rejected: %s: %s", creds.source, err.type,
								  err.message ? err.message : ""));
		admin_health_row(rsinfo->setResult, rsinfo->setDesc, "table", -1, seqdist_table);
		PG_RETURN_VOID();
	}
	admin_health_row(rsinfo->setResult, rsinfo->setDesc, "credentials", 1,
					 psprintf("from %s, accepted", creds.source));
	if (status == NULL)
	{
		admin_health_row(rsinfo->setResult, rsinfo->setDesc, "table", 0,
						 dynamo_error_is(&err, "ResourceNotFoundException") ?
						 psprintf("%s does not exist", seqdist_table) :
						 psprintf("%s: %s: %s", seqdist_table, err.type ? err.type : "error",
								  err.message ? err.message : ""));
		PG_RETURN_VOID();
	}
	if (!key_ok)
		admin_health_row(rsinfo->setResult, rsinfo->setDesc, "table", 0,
						 psprintf("%s is not a seqdist counter table (key schema)", seqdist_table));
	else
		admin_health_row(rsinfo->setResult, rsinfo->setDesc, "table",
						 strcmp(status, "ACTIVE") == 0,
						 psprintf("%s is %s", seqdist_table, status));
	PG_RETURN_VOID();
}

/* The native sequence's position: the last value it handed out or cached */
static int128
admin_native_position(Oid relid, const CounterParams *params)
{
	char	   *query;
	int			rc;
	bool		isnull;
	int64		last;
	bool		called;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	query = psprintf("SELECT last_value, is_called FROM %s",
					 quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
												get_rel_name(relid)));
	rc = SPI_execute(query, true, 1);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not read the state of sequence %u", relid);
	last = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	called = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	SPI_finish();
	return called ? (int128) last : (int128) last - params->increment;
}

/* Insert or check the local registration row */
static void
admin_record_registration(Oid relid, const char *key, const char *name)
{
	Oid			argtypes[2] = {REGCLASSOID, TEXTOID};
	Datum		args[2] = {ObjectIdGetDatum(relid), CStringGetTextDatum(key)};
	int			rc;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	rc = SPI_execute_with_args("INSERT INTO seqdist.sequences (seqrelid, counter_key) VALUES ($1, $2) "
							   "ON CONFLICT (seqrelid) DO NOTHING",
							   2, argtypes, args, NULL, false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "could not record the registration: %s", SPI_result_code_string(rc));
	SPI_finish();
	/* backends that cached "not registered" must look again */
	CacheInvalidateRelcacheByRelid(relid);
}

/* Change one column of a registration and tell every backend */
static void
admin_update_registration(Oid relid, const char *assignment, Oid argtype, Datum arg, bool isnull)
{
	Oid			argtypes[2] = {REGCLASSOID, argtype};
	Datum		args[2] = {ObjectIdGetDatum(relid), arg};
	char		nulls[2] = {' ', isnull ? 'n' : ' '};
	CounterParams params;
	char	   *name;
	int			rc;

	seqdist_check_preloaded();
	name = seqdist_open_sequence(relid, ShareRowExclusiveLock, &params);
	if (!pg_class_ownercheck(relid, GetUserId()))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be owner of sequence %s", name)));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	rc = SPI_execute_with_args(psprintf("UPDATE seqdist.sequences SET %s WHERE seqrelid = $1", assignment),
							   2, argtypes, args, nulls, false, 0);
	if (rc != SPI_OK_UPDATE)
		elog(ERROR, "could not update the registration: %s", SPI_result_code_string(rc));
	if (SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("sequence \"%s\" is not registered with seqdist", name)));
	SPI_finish();
	CacheInvalidateRelcacheByRelid(relid);
}

/* seqdist.set_block_size(seq regclass, block_size integer) */
Datum
seqdist_set_block_size(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_VOID();
	if (!PG_ARGISNULL(1) && (PG_GETARG_INT32(1) < 1 || PG_GETARG_INT32(1) > 1000000000))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("block size must be between 1 and 1000000000")));
	admin_update_registration(PG_GETARG_OID(0), "block_size = $2", INT4OID,
							  PG_ARGISNULL(1) ? (Datum) 0 : PG_GETARG_DATUM(1),
							  PG_ARGISNULL(1));
	PG_RETURN_VOID();
}

/* seqdist.set_strict(seq regclass, strict boolean) */
Datum
seqdist_set_strict(PG_FUNCTION_ARGS)
{
	admin_update_registration(PG_GETARG_OID(0), "strict = $2", BOOLOID,
							  PG_GETARG_DATUM(1), false);
	PG_RETURN_VOID();
}

/*
 * seqdist.register(seq regclass, counter_key text default null)
 *	returns table (counter_key text, status text, last_value numeric)
 *
 * Create the sequence's counter item from the sequence's current state, or
 * join an existing counter of the same key, and record the registration.
 */
Datum
seqdist_register(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	CounterParams params;
	char	   *name;
	char	   *key;
	char	   *existing;
	char	   *origin;
	int128		position;
	int128		last;
	CounterRegistration reg;
	TupleDesc	tupdesc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};
	static const char *const status_names[] = {"created", "existing", "advanced"};

	seqdist_check_preloaded();
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	/* no nextval of the native sequence may slip in while we read its state */
	name = seqdist_open_sequence(relid, ShareRowExclusiveLock, &params);
	if (!pg_class_ownercheck(relid, GetUserId()))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be owner of sequence %s", name)));

	if (PG_ARGISNULL(1))
		key = psprintf("%s.%s.%s", get_database_name(MyDatabaseId),
					   get_namespace_name(get_rel_namespace(relid)), name);
	else
		key = text_to_cstring(PG_GETARG_TEXT_PP(1));
	if (key[0] == '\0' || strlen(key) > 1024)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("counter key must be between 1 and 1024 bytes long")));

	existing = seqdist_registered_key(relid);
	if (existing != NULL && strcmp(existing, key) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("sequence \"%s\" is already registered with counter key \"%s\"", name, existing)));

	position = admin_native_position(relid, &params);
	origin = psprintf("seqdist register of %s.%s in database %s", get_namespace_name(get_rel_namespace(relid)),
					  name, get_database_name(MyDatabaseId));
	reg = counter_register(key, &params, position, origin, &last);
	admin_record_registration(relid, key, name);

	values[0] = CStringGetTextDatum(key);
	values[1] = CStringGetTextDatum(status_names[reg]);
	values[2] = DirectFunctionCall3(numeric_in, CStringGetDatum(counter_int128_text(last)),
									ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/*
 * seqdist.counter_item(seq regclass) returns jsonb
 *
 * The sequence's counter item, read consistently, as plain JSON; NULL when
 * the item does not exist.
 */
Datum
seqdist_counter_item(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	CounterParams params;
	char	   *name;
	char	   *key;
	char	   *json;

	seqdist_check_preloaded();
	name = seqdist_open_sequence(relid, AccessShareLock, &params);
	if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT | ACL_USAGE) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for sequence %s", name)));
	key = seqdist_registered_key(relid);
	if (key == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("sequence \"%s\" is not registered with seqdist", name)));
	json = counter_item_json(key);
	if (json == NULL)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(json)));
}
