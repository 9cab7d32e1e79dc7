/*-------------------------------------------------------------------------
 *
 * sequence_catalog.c
 *		The one reader of pg_class and pg_sequence for seqdist.
 *
 * The native sequence object is seqdist's definition of a sequence
 * (increment, bounds, start, cycle, cache, persistence); every module that
 * needs it reads it here, from the syscache, with native sequence.c's
 * messages and SQLSTATEs when the relation is missing or is not a sequence.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "catalog/pg_class.h"
#include "catalog/pg_sequence.h"
#include "utils/syscache.h"

#include "sequence_catalog.h"

void
sequence_catalog_read(Oid relid, SequenceCatalog *out)
{
	HeapTuple	tup;
	Form_pg_class cls;
	Form_pg_sequence seq;

	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tup))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("could not open relation with OID %u", relid)));
	cls = (Form_pg_class) GETSTRUCT(tup);
	out->name = pstrdup(NameStr(cls->relname));
	out->persistence = cls->relpersistence;
	out->filenode = cls->relfilenode;
	if (cls->relkind != RELKIND_SEQUENCE)
	{
		ReleaseSysCache(tup);
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a sequence", out->name)));
	}
	ReleaseSysCache(tup);

	tup = SearchSysCache1(SEQRELID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for sequence %u", relid);
	seq = (Form_pg_sequence) GETSTRUCT(tup);
	out->params.increment = seq->seqincrement;
	out->params.min_value = seq->seqmin;
	out->params.max_value = seq->seqmax;
	out->params.start_value = seq->seqstart;
	out->params.cycle = seq->seqcycle;
	out->cache = seq->seqcache;
	ReleaseSysCache(tup);
}

void
sequence_catalog_open(Oid relid, LOCKMODE lockmode, SequenceCatalog *out)
{
	relation_close(relation_open(relid, lockmode), NoLock);
	sequence_catalog_read(relid, out);
}
