/*-------------------------------------------------------------------------
 *
 * registry.c
 *		Read and write the table seqdist.sequences through SPI.
 *
 * The table lives in the extension's schema and is dumped by pg_dump
 * (pg_extension_config_dump), so a restored database keeps its
 * registrations.  Queries name every operator and relation with its schema,
 * so a hostile search_path cannot redirect them.  Every change sends a
 * relcache invalidation of the sequence, which is how other backends learn
 * that their cached registration is stale (backend_cache.c).
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "executor/spi.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "registry.h"

/*
 * Connect to SPI and run sql with the given arguments; the caller reads
 * the result and calls SPI_finish.
 */
static void
registry_execute(const char *sql, int nargs, Oid *argtypes, Datum *args,
				 const char *nulls, int expected, const char *what)
{
	int			rc;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	rc = SPI_execute_with_args(sql, nargs, argtypes, args, nulls,
							   expected == SPI_OK_SELECT, expected == SPI_OK_SELECT ? 1 : 0);
	if (rc != expected)
		elog(ERROR, "could not %s: %s", what, SPI_result_code_string(rc));
}

bool
registry_lookup(Oid relid, RegistryEntry *out)
{
	MemoryContext caller = CurrentMemoryContext;
	Oid			argtypes[1] = {REGCLASSOID};
	Datum		args[1] = {ObjectIdGetDatum(relid)};
	bool		found;

	/*
	 * Read like a catalog, with the latest snapshot: the caller holds the
	 * sequence's lock, which a registration holds until it commits, so this
	 * sees every registration that committed before the lock was granted,
	 * even when the statement's snapshot is older (COPY takes its snapshot
	 * before it waits for the table's lock, and then reads the column
	 * default that the migration switched from the catalog).  An error
	 * leaves the snapshot to the (sub)transaction's abort.
	 */
	PushActiveSnapshot(GetLatestSnapshot());
	registry_execute("SELECT counter_key, coalesce(block_size, 0), strict "
					 "FROM seqdist.sequences WHERE seqrelid OPERATOR(pg_catalog.=) $1",
					 1, argtypes, args, NULL, SPI_OK_SELECT, "read seqdist.sequences");
	PopActiveSnapshot();
	found = (SPI_processed == 1);
	if (found)
	{
		HeapTuple	tup = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;

		out->key = MemoryContextStrdup(caller, SPI_getvalue(tup, desc, 1));
		out->block_size = DatumGetInt32(SPI_getbinval(tup, desc, 2, &isnull));
		out->strict = DatumGetBool(SPI_getbinval(tup, desc, 3, &isnull));
	}
	SPI_finish();
	return found;
}

void
registry_check_writable(void)
{
	Oid			table = get_relname_relid("sequences", get_namespace_oid("seqdist", false));

	if (!OidIsValid(table) || pg_class_aclcheck(table, GetUserId(), ACL_INSERT) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for table sequences"),
				 errhint("Registering a sequence needs INSERT on seqdist.sequences.")));
}

void
registry_insert(Oid relid, const char *key)
{
	Oid			argtypes[2] = {REGCLASSOID, TEXTOID};
	Datum		args[2] = {ObjectIdGetDatum(relid), CStringGetTextDatum(key)};

	registry_execute("INSERT INTO seqdist.sequences (seqrelid, counter_key) VALUES ($1, $2) "
					 "ON CONFLICT (seqrelid) DO NOTHING",
					 2, argtypes, args, NULL, SPI_OK_INSERT, "record the registration");
	SPI_finish();
	/* backends that cached "not registered" must look again */
	CacheInvalidateRelcacheByRelid(relid);
}

bool
registry_update(Oid relid, const char *assignment, Oid argtype, Datum arg, bool isnull)
{
	Oid			argtypes[2] = {REGCLASSOID, argtype};
	Datum		args[2] = {ObjectIdGetDatum(relid), arg};
	char		nulls[2] = {' ', isnull ? 'n' : ' '};
	volatile bool found = false;
	Oid			table = get_relname_relid("sequences", get_namespace_oid("seqdist", false));
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(table));
	Oid			table_owner;
	Oid			save_userid;
	int			save_sec_context;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", table);
	table_owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);

	/*
	 * The caller checked that the user owns the sequence; the sequence's
	 * owner changes its own row without UPDATE on the whole table, so the
	 * statement (fixed text, fully qualified) runs as the table's owner.
	 */
	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(table_owner, save_sec_context | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	PG_TRY();
	{
		registry_execute(psprintf("UPDATE seqdist.sequences SET %s "
								  "WHERE seqrelid OPERATOR(pg_catalog.=) $1", assignment),
						 2, argtypes, args, nulls, SPI_OK_UPDATE, "update the registration");
		found = (SPI_processed == 1);
		SPI_finish();
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(save_userid, save_sec_context);
	}
	PG_END_TRY();
	if (found)
		CacheInvalidateRelcacheByRelid(relid);
	return found;
}

bool
registry_delete(Oid relid)
{
	Oid			argtypes[1] = {REGCLASSOID};
	Datum		args[1] = {ObjectIdGetDatum(relid)};
	bool		found;

	registry_execute("DELETE FROM seqdist.sequences WHERE seqrelid OPERATOR(pg_catalog.=) $1",
					 1, argtypes, args, NULL, SPI_OK_DELETE, "remove the registration");
	found = (SPI_processed == 1);
	SPI_finish();
	if (found)
		CacheInvalidateRelcacheByRelid(relid);
	return found;
}
