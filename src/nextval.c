/*-------------------------------------------------------------------------
 *
 * nextval.c
 *		seqdist_nextval(): the nextval-compatible SQL entry point.
 *
 * The native sequence object is the definition (increment, bounds, cycle,
 * owner, privileges); the DynamoDB counter item is the position.  Checks are
 * made in the order native nextval makes them, with its messages and
 * SQLSTATEs: the relation must be a sequence, the caller needs USAGE or
 * UPDATE on it, and the transaction must not be read-only or parallel.
 *
 * The sequence is locked in RowExclusiveLock, as native nextval does, so
 * that a concurrent DROP or ALTER SEQUENCE waits for the call to finish.
 *
 * Each call currently reserves one value with one conditional UpdateItem.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "catalog/pg_class.h"
#include "catalog/pg_sequence.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "seqdist.h"
#include "counter.h"
#include "nextval.h"

PG_FUNCTION_INFO_V1(seqdist_nextval);

char *
seqdist_open_sequence(Oid relid, LOCKMODE lockmode, CounterParams *params)
{
	Relation	rel = relation_open(relid, lockmode);
	char	   *name = pstrdup(RelationGetRelationName(rel));
	HeapTuple	tup;
	Form_pg_sequence seq;

	if (rel->rd_rel->relkind != RELKIND_SEQUENCE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a sequence", name)));
	relation_close(rel, NoLock);

	tup = SearchSysCache1(SEQRELID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for sequence %u", relid);
	seq = (Form_pg_sequence) GETSTRUCT(tup);
	params->increment = seq->seqincrement;
	params->min_value = seq->seqmin;
	params->max_value = seq->seqmax;
	params->start_value = seq->seqstart;
	params->cycle = seq->seqcycle;
	ReleaseSysCache(tup);
	return name;
}

char *
seqdist_registered_key(Oid relid)
{
	Oid			argtypes[1] = {REGCLASSOID};
	Datum		args[1] = {ObjectIdGetDatum(relid)};
	char	   *key = NULL;
	MemoryContext caller = CurrentMemoryContext;
	int			rc;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	rc = SPI_execute_with_args("SELECT counter_key FROM seqdist.sequences WHERE seqrelid = $1",
							   1, argtypes, args, NULL, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not read seqdist.sequences: %s", SPI_result_code_string(rc));
	if (SPI_processed == 1)
	{
		char	   *v = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

		key = v ? MemoryContextStrdup(caller, v) : NULL;
	}
	SPI_finish();
	return key;
}

Datum
seqdist_nextval(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	CounterParams params;
	CounterBlock block;
	char	   *name;
	char	   *key;

	seqdist_check_preloaded();

	name = seqdist_open_sequence(relid, RowExclusiveLock, &params);

	if (pg_class_aclcheck(relid, GetUserId(), ACL_USAGE | ACL_UPDATE) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for sequence %s", name)));

	if (get_rel_persistence(relid) != RELPERSISTENCE_TEMP)
		PreventCommandIfReadOnly("nextval()");
	PreventCommandIfParallelMode("nextval()");

	key = seqdist_registered_key(relid);
	if (key == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("sequence \"%s\" is not registered with seqdist", name),
				 errhint("Register it with SELECT seqdist.register('%s').",
						 quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
													name))));

	counter_reserve(key, &params, 1, name, &block);
	PG_RETURN_INT64(block.first);
}
