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
 * This file is the SQL surface only: the table is administered by
 * counter_table.c, items by counter.c and counter_json.c, registrations are
 * stored by registry.c.
 *
 * Locking: register and the option setters take ShareRowExclusiveLock on
 * the sequence, which conflicts with the RowExclusiveLock of nextval, so
 * no native nextval can move the sequence while its position is read and
 * the counter item written.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"

#include "admin.h"
#include "backend_cache.h"
#include "counter.h"
#include "counter_json.h"
#include "counter_table.h"
#include "credentials.h"
#include "instance_cache.h"
#include "nextval.h"
#include "pg_compat.h"
#include "registry.h"
#include "sequence_catalog.h"
#include "store.h"

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
	instance_cache_check_preloaded();
	PG_RETURN_TEXT_P(cstring_to_text(counter_table_ensure(store_current()) ?
									 "created" : "exists"));
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
	Tuplestorestate *ts;
	TupleDesc	td;
	const SeqdistStore *store;
	SeqdistCredentials creds;
	const char *source;
	TableProbe probe;

	instance_cache_check_preloaded();
	InitMaterializedSRF(fcinfo, 0);
	ts = rsinfo->setResult;
	td = rsinfo->setDesc;
	store = store_current();

	if (!credentials_try_resolve(&creds))
	{
		admin_health_row(ts, td, "endpoint", -1,
						 psprintf("%s (not tried: no credentials)", store->endpoint));
		admin_health_row(ts, td, "credentials", 0,
						 creds.problem ? creds.problem :
						 "no AWS credentials found in the settings, the environment, the shared files or a credential provider");
		admin_health_row(ts, td, "table", -1, store->table);
		PG_RETURN_VOID();
	}
	source = creds.source;
	credentials_release(&creds);

	counter_table_probe(store, &probe);
	if (probe.outcome == TABLE_PROBE_UNREACHABLE)
	{
		admin_health_row(ts, td, "endpoint", 0, psprintf("%s: %s", store->endpoint, probe.error));
		admin_health_row(ts, td, "credentials", -1, psprintf("from %s (not verified)", source));
		admin_health_row(ts, td, "table", -1, store->table);
		PG_RETURN_VOID();
	}
	admin_health_row(ts, td, "endpoint", 1, store->endpoint);
	if (probe.outcome == TABLE_PROBE_REJECTED)
	{
		admin_health_row(ts, td, "credentials", 0,
						 psprintf("from %s, rejected: %s", source, probe.error));
		admin_health_row(ts, td, "table", -1, store->table);
		PG_RETURN_VOID();
	}
	admin_health_row(ts, td, "credentials", 1, psprintf("from %s, accepted", source));
	if (probe.outcome == TABLE_PROBE_MISSING)
		admin_health_row(ts, td, "table", 0, psprintf("%s does not exist", store->table));
	else if (probe.outcome == TABLE_PROBE_FAILED)
		admin_health_row(ts, td, "table", 0, psprintf("%s: %s", store->table, probe.error));
	else if (!probe.key_ok)
		admin_health_row(ts, td, "table", 0,
						 psprintf("%s is not a seqdist counter table (key schema)", store->table));
	else
		admin_health_row(ts, td, "table", strcmp(probe.status, "ACTIVE") == 0,
						 psprintf("%s is %s", store->table, probe.status));
	PG_RETURN_VOID();
}

/*
 * The native sequence's state (last_value, is_called), and its position:
 * the last value it handed out or cached.
 */
static int128
admin_native_state(Oid relid, const CounterParams *params, int64 *last, bool *called)
{
	char	   *query;
	int			rc;
	bool		isnull;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	query = psprintf("SELECT last_value, is_called FROM %s",
					 quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
												get_rel_name(relid)));
	rc = SPI_execute(query, true, 1);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not read the state of sequence %u", relid);
	*last = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	*called = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	SPI_finish();
	return *called ? (int128) *last : (int128) *last - params->increment;
}

static int128
admin_native_position(Oid relid, const CounterParams *params)
{
	int64		last;
	bool		called;

	return admin_native_state(relid, params, &last, &called);
}

/* Change one column of a registration, as the sequence's owner */
static void
admin_update_registration(Oid relid, const char *assignment, Oid argtype, Datum arg, bool isnull)
{
	SequenceCatalog cat;

	instance_cache_check_preloaded();
	sequence_catalog_open(relid, ShareRowExclusiveLock, &cat);
	if (!seqdist_owns_relation(relid, GetUserId()))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be owner of sequence %s", cat.name)));
	if (!registry_update(relid, assignment, argtype, arg, isnull))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("sequence \"%s\" is not registered with seqdist", cat.name)));
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
	Oid			relid = PG_GETARG_OID(0);
	BackendSeq *seq;

	admin_update_registration(relid, "strict = $2", BOOLOID, PG_GETARG_DATUM(1), false);

	/*
	 * Values the instance cached before the switch lie behind what strict
	 * calls reserve meanwhile: handing them out afterwards would break the
	 * instance-wide order.
	 */
	seq = backend_seq_open(relid);
	if (backend_seq_registered(seq, store_current()))
		nextval_discard_cached(seq);
	PG_RETURN_VOID();
}

/*
 * The default counter key, "<database>.<schema>.<sequence>", each part
 * quoted as an SQL identifier when it needs it, so that names containing
 * dots cannot make two sequences share a key by accident.
 */
static char *
admin_default_key(Oid relid, const char *name)
{
	return psprintf("%s.%s.%s", quote_identifier(get_database_name(MyDatabaseId)),
					quote_identifier(get_namespace_name(get_rel_namespace(relid))),
					quote_identifier(name));
}

/*
 * Everything register checks before it writes to DynamoDB, so that a call
 * that will fail changes no counter: ownership, persistence, the right to
 * record the registration, and who may name the key.
 */
static void
admin_check_register(Oid relid, const SequenceCatalog *cat, bool own_key)
{
	if (!seqdist_owns_relation(relid, GetUserId()))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be owner of sequence %s", cat->name)));
	if (cat->persistence == RELPERSISTENCE_TEMP)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("temporary sequence \"%s\" cannot be registered with seqdist", cat->name),
				 errdetail("A temporary sequence is dropped at the end of its session without any trigger firing, so its registration and counter membership would outlive it.")));
	if (own_key && !superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("only a superuser may register a sequence under a counter key of its choosing"),
				 errdetail("A counter key names a counter that other databases and services may use; joining it moves it forward for all of them."),
				 errhint("Omit the counter key to use the sequence's own, or ask a superuser.")));
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
	SequenceCatalog cat;
	char	   *name;
	char	   *key;
	char	   *existing;
	char	   *origin;
	int128		position;
	int128		last;
	CounterRegistration reg;
	CounterRef	ref;
	TupleDesc	tupdesc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};
	static const char *const status_names[] = {"created", "existing", "advanced"};

	instance_cache_check_preloaded();
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	/* no nextval of the native sequence may slip in while we read its state */
	sequence_catalog_open(relid, ShareRowExclusiveLock, &cat);
	name = cat.name;
	admin_check_register(relid, &cat, !PG_ARGISNULL(1));

	if (PG_ARGISNULL(1))
		key = admin_default_key(relid, name);
	else
		key = text_to_cstring(PG_GETARG_TEXT_PP(1));
	if (key[0] == '\0' || strlen(key) > 1024)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("counter key must be between 1 and 1024 bytes long")));

	existing = backend_seq_registered_key(relid);
	if (existing != NULL && strcmp(existing, key) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("sequence \"%s\" is already registered with counter key \"%s\"", name, existing)));

	position = admin_native_position(relid, &cat.params);
	origin = psprintf("seqdist register of %s.%s in database %s", get_namespace_name(get_rel_namespace(relid)),
					  name, get_database_name(MyDatabaseId));
	ref.store = store_current();
	ref.key = key;
	ref.client = counter_client_id(MyDatabaseId, relid);
	ref.seqname = name;
	registry_check_writable();
	reg = counter_register(&ref, &cat.params, position, origin, superuser(), NULL, &last);
	registry_insert(relid, key);

	values[0] = CStringGetTextDatum(key);
	values[1] = CStringGetTextDatum(status_names[reg]);
	values[2] = DirectFunctionCall3(numeric_in, CStringGetDatum(counter_int128_text(last)),
									ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/*
 * The registration of a migration (migrate.c), checked and prepared but
 * not sent: under the key the sequence is registered with already, or its
 * default key, and with the counter at least at the native position and,
 * if has_floor, at floor (both the last value used, in the direction of
 * the increment).  Takes the sequence's ShareRowExclusiveLock, so that no
 * native nextval moves it until the transaction ends; *native_last and
 * *native_called receive its native state.  The caller checked
 * ownership; it sends the registration (counter_register_batch) and then
 * records it (registry_insert).
 */
void
admin_prepare_migration(Oid relid, bool has_floor, int128 floor, CounterJoin *join,
						int64 *native_last, bool *native_called)
{
	SequenceCatalog cat;
	char	   *key;
	int128		position;

	instance_cache_check_preloaded();
	sequence_catalog_open(relid, ShareRowExclusiveLock, &cat);
	admin_check_register(relid, &cat, false);
	key = backend_seq_registered_key(relid);
	if (key == NULL)
		key = admin_default_key(relid, cat.name);
	position = admin_native_state(relid, &cat.params, native_last, native_called);
	if (has_floor && (cat.params.increment > 0 ? floor > position : floor < position))
		position = floor;
	registry_check_writable();
	join->ref.store = store_current();
	join->ref.key = key;
	join->ref.client = counter_client_id(MyDatabaseId, relid);
	join->ref.seqname = cat.name;
	join->params = cat.params;
	join->position = position;
	join->origin = psprintf("seqdist migrate of %s.%s in database %s",
							get_namespace_name(get_rel_namespace(relid)), cat.name,
							get_database_name(MyDatabaseId));
	join->may_join_foreign = superuser();
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
	SequenceCatalog cat;
	char	   *key;
	char	   *json;

	instance_cache_check_preloaded();
	sequence_catalog_open(relid, AccessShareLock, &cat);
	if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT | ACL_USAGE) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for sequence %s", cat.name)));
	key = backend_seq_registered_key(relid);
	if (key == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("sequence \"%s\" is not registered with seqdist", cat.name)));
	json = counter_json_item(store_current(), key);
	if (json == NULL)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(json)));
}
