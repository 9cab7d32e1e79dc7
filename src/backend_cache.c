/*-------------------------------------------------------------------------
 *
 * backend_cache.c
 *		Tier 3: per-backend state of each sequence.
 *
 * For every sequence it has touched, a backend keeps (like native
 * sequence.c's SeqTable): the native definition, the seqdist registration
 * (counter key, block size, strict mode), a pointer to the instance cache
 * slot, the values it took from the instance cache and has not handed out
 * yet (the sequence's CACHE n keeps its native meaning: n values are taken
 * at a time), and the currval() state.
 *
 * The definition and registration are read from the catalogs only when they
 * may have changed: a syscache callback on pg_sequence (ALTER SEQUENCE) and a
 * relcache callback on the sequence (DROP, GRANT, and seqdist's own
 * registration functions, which send one) mark them stale.  Invalidation
 * messages are processed when the sequence is locked, once per transaction,
 * and at every transaction start.
 *
 * When a reloaded definition differs from the one the cached values were
 * taken under, those values are dropped: no cached value is handed out that
 * the new definition forbids.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/pg_sequence.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "storage/proc.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/syscache.h"

#include "seqdist.h"
#include "backend_cache.h"

static HTAB *backend_table = NULL;

static void backend_init(void);
static void backend_seq_load_definition(BackendSeq *seq);
static void backend_on_sequence_change(Datum arg, int cacheid, uint32 hashvalue);
static void backend_on_relation_change(Datum arg, Oid relid);

static void
backend_init(void)
{
	HASHCTL		ctl;

	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(BackendSeq);
	backend_table = hash_create("seqdist sequences", 16, &ctl, HASH_ELEM | HASH_BLOBS);
	CacheRegisterSyscacheCallback(SEQRELID, backend_on_sequence_change, (Datum) 0);
	CacheRegisterRelcacheCallback(backend_on_relation_change, (Datum) 0);
}

/* pg_sequence changed: we cannot tell which sequence, so recheck them all */
static void
backend_on_sequence_change(Datum arg, int cacheid, uint32 hashvalue)
{
	HASH_SEQ_STATUS status;
	BackendSeq *seq;

	hash_seq_init(&status, backend_table);
	while ((seq = hash_seq_search(&status)) != NULL)
		seq->def_valid = false;
}

static void
backend_on_relation_change(Datum arg, Oid relid)
{
	HASH_SEQ_STATUS status;
	BackendSeq *seq;

	hash_seq_init(&status, backend_table);
	while ((seq = hash_seq_search(&status)) != NULL)
	{
		if (relid == InvalidOid || seq->relid == relid)
		{
			seq->def_valid = false;
			seq->reg_valid = false;
		}
	}
}

/* Read the definition; drop cached values if it changed */
static void
backend_seq_load_definition(BackendSeq *seq)
{
	HeapTuple	tup;
	Form_pg_class cls;
	Form_pg_sequence def;
	CounterParams p = {0};

	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(seq->relid));
	if (!HeapTupleIsValid(tup))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("could not open relation with OID %u", seq->relid)));
	cls = (Form_pg_class) GETSTRUCT(tup);
	if (cls->relkind != RELKIND_SEQUENCE)
	{
		char	   *name = pstrdup(NameStr(cls->relname));

		ReleaseSysCache(tup);
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a sequence", name)));
	}
	if (seq->name)
		pfree(seq->name);
	seq->name = MemoryContextStrdup(TopMemoryContext, NameStr(cls->relname));
	seq->persistence = cls->relpersistence;
	/* RESTART gives the sequence a new relfilenode, as native init_sequence checks */
	if (seq->filenode != cls->relfilenode)
	{
		backend_cache_forget(seq);
		seq->filenode = cls->relfilenode;
	}
	ReleaseSysCache(tup);

	tup = SearchSysCache1(SEQRELID, ObjectIdGetDatum(seq->relid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for sequence %u", seq->relid);
	def = (Form_pg_sequence) GETSTRUCT(tup);
	p.increment = def->seqincrement;
	p.min_value = def->seqmin;
	p.max_value = def->seqmax;
	p.start_value = def->seqstart;
	p.cycle = def->seqcycle;
	seq->cache = def->seqcache;
	ReleaseSysCache(tup);

	if (p.increment != seq->params.increment || p.min_value != seq->params.min_value ||
		p.max_value != seq->params.max_value || p.start_value != seq->params.start_value ||
		p.cycle != seq->params.cycle)
	{
		backend_cache_forget(seq);
		seq->params = p;
	}
	seq->idef.params = p;
	seq->def_valid = true;
}

BackendSeq *
backend_seq_open(Oid relid)
{
	BackendSeq *seq;
	bool		found;

	if (backend_table == NULL)
		backend_init();

	seq = hash_search(backend_table, &relid, HASH_ENTER, &found);
	if (!found)
	{
		memset((char *) seq + sizeof(Oid), 0, sizeof(BackendSeq) - sizeof(Oid));
		/* lock and load below */
	}

	if (seq->lxid != MyProc->lxid)
	{
		ResourceOwner saved = CurrentResourceOwner;

		/*
		 * As native sequences do: the lock belongs to the top transaction, so
		 * that rolling back to a savepoint does not release it while lxid
		 * says it is held.  Taking it processes pending invalidations, which
		 * may mark us stale.
		 */
		CurrentResourceOwner = TopTransactionResourceOwner;
		LockRelationOid(relid, RowExclusiveLock);
		CurrentResourceOwner = saved;
		seq->lxid = MyProc->lxid;
	}
	if (!seq->def_valid)
		backend_seq_load_definition(seq);
	return seq;
}

/* Checked on every call, as native does: role memberships may change */
void
backend_seq_check_access(BackendSeq *seq, AclMode mode)
{
	if (pg_class_aclcheck(seq->relid, GetUserId(), mode) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for sequence %s", seq->name)));
}

bool
backend_seq_registered(BackendSeq *seq)
{
	Oid			argtypes[1] = {REGCLASSOID};
	Datum		args[1];
	int			rc;

	if (seq->reg_valid && seq->store_version == seqdist_store_version)
		return seq->registered;
	seq->store_version = seqdist_store_version;
	/* an invalidation arriving during the lookup below clears this again */
	seq->reg_valid = true;

	args[0] = ObjectIdGetDatum(seq->relid);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	rc = SPI_execute_with_args("SELECT counter_key, coalesce(block_size, 0), strict "
							   "FROM seqdist.sequences WHERE seqrelid OPERATOR(pg_catalog.=) $1",
							   1, argtypes, args, NULL, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not read seqdist.sequences: %s", SPI_result_code_string(rc));

	if (seq->key)
	{
		pfree(seq->key);
		seq->key = NULL;
	}
	seq->registered = (SPI_processed == 1);
	if (seq->registered)
	{
		HeapTuple	tup = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		char	   *key = SPI_getvalue(tup, desc, 1);
		uint64		key_hash;

		bool		strict = DatumGetBool(SPI_getbinval(tup, desc, 3, &isnull));

		seq->key = MemoryContextStrdup(TopMemoryContext, key);
		seq->block_size = DatumGetInt32(SPI_getbinval(tup, desc, 2, &isnull));
		if (strict != seq->strict)
			backend_cache_forget(seq);
		seq->strict = strict;
		key_hash = seqdist_counter_hash(key);
		if (key_hash != seq->idef.key_hash)
		{
			/* values of another counter must not be handed out */
			backend_cache_forget(seq);
			seq->idef.key_hash = key_hash;
		}
	}
	SPI_finish();
	return seq->registered;
}

void
backend_cache_keep(BackendSeq *seq, const CounterBlock *block)
{
	if (block->count > 1)
	{
		seq->next = block->first + seq->params.increment;
		seq->remaining = block->count - 1;
	}
	else
		seq->remaining = 0;
}

void
backend_cache_forget(BackendSeq *seq)
{
	seq->remaining = 0;
}
