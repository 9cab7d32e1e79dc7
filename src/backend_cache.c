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
 * The definition (sequence_catalog.c) and registration (registry.c) are
 * read only when they may have changed: a syscache callback on pg_sequence
 * (ALTER SEQUENCE) and a relcache callback on the sequence (DROP, GRANT, and
 * seqdist's own registration functions, which send one) mark them stale.
 * Invalidation messages are processed when the sequence is locked, once per
 * transaction, and at every transaction start.  An invalidation that
 * arrives while the registration is being read (the read runs a query, which
 * processes invalidations) leaves it stale, as does an error in the read.
 *
 * Cached values belong to one store and counter key (InstanceDef): when the
 * session's settings name another store, they are dropped.
 *
 * When a reloaded definition differs from the one the cached values were
 * taken under, those values are dropped: no cached value is handed out that
 * the new definition forbids.
 *
 * Locking: the entries are backend-local and need none.  The sequence's
 * RowExclusiveLock is taken once per transaction and owned by the top
 * transaction, as native sequences do.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_sequence.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "storage/proc.h"
#include "utils/acl.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/syscache.h"

#include "backend_cache.h"
#include "pg_compat.h"
#include "registry.h"
#include "sequence_catalog.h"

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

/* The definition and the registration are read again before the next use */
static void
backend_seq_invalidate(BackendSeq *seq)
{
	seq->def_valid = false;
	seq->reg_valid = false;
	seq->reg_invalidations++;
}

static void
backend_on_relation_change(Datum arg, Oid relid)
{
	HASH_SEQ_STATUS status;
	BackendSeq *seq;

	/* one relation: a lookup, not a scan (DDL on any table comes here) */
	if (relid != InvalidOid)
	{
		seq = hash_search(backend_table, &relid, HASH_FIND, NULL);
		if (seq != NULL)
			backend_seq_invalidate(seq);
		return;
	}
	hash_seq_init(&status, backend_table);
	while ((seq = hash_seq_search(&status)) != NULL)
		backend_seq_invalidate(seq);
}

/* Read the definition; drop cached values if it changed */
static void
backend_seq_load_definition(BackendSeq *seq)
{
	SequenceCatalog cat;

	sequence_catalog_read(seq->relid, &cat);
	if (seq->name)
		pfree(seq->name);
	seq->name = MemoryContextStrdup(TopMemoryContext, cat.name);
	pfree(cat.name);
	seq->persistence = cat.persistence;
	seq->cache = cat.cache;
	/* RESTART gives the sequence a new relfilenode, as native init_sequence checks */
	if (seq->filenode != cat.filenode)
	{
		backend_cache_forget(seq);
		seq->filenode = cat.filenode;
	}
	if (cat.params.increment != seq->params.increment ||
		cat.params.min_value != seq->params.min_value ||
		cat.params.max_value != seq->params.max_value ||
		cat.params.start_value != seq->params.start_value ||
		cat.params.cycle != seq->params.cycle)
	{
		backend_cache_forget(seq);
		seq->params = cat.params;
	}
	seq->idef.params = cat.params;
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
		seq->client = MemoryContextStrdup(TopMemoryContext,
										  counter_client_id(MyDatabaseId, relid));
		/* lock and load below */
	}

	if (seq->lxid != seqdist_my_lxid())
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
		seq->lxid = seqdist_my_lxid();
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

/* Read the registration; an error leaves it stale */
static void
backend_seq_load_registration(BackendSeq *seq)
{
	uint64		invalidations = seq->reg_invalidations;
	RegistryEntry entry;

	seq->registered = registry_lookup(seq->relid, &entry);
	if (seq->key)
	{
		pfree(seq->key);
		seq->key = NULL;
	}
	if (seq->registered)
	{
		uint64		key_hash = store_key_hash(entry.key);

		seq->key = MemoryContextStrdup(TopMemoryContext, entry.key);
		seq->block_size = entry.block_size;
		if (entry.strict != seq->strict)
			backend_cache_forget(seq);
		seq->strict = entry.strict;
		if (key_hash != seq->idef.key_hash)
		{
			/* values of another counter must not be handed out */
			backend_cache_forget(seq);
			seq->idef.key_hash = key_hash;
		}
	}
	seq->reg_valid = (seq->reg_invalidations == invalidations);
}

bool
backend_seq_registered(BackendSeq *seq, const SeqdistStore *store)
{
	if (!seq->reg_valid)
		backend_seq_load_registration(seq);
	if (seq->registered && seq->idef.store_id != store->id)
	{
		/* the session's settings name another store now */
		backend_cache_forget(seq);
		seq->idef.store_id = store->id;
	}
	return seq->registered;
}

CounterRef
backend_seq_counter(BackendSeq *seq, const SeqdistStore *store)
{
	CounterRef	ref;

	ref.store = store;
	ref.key = seq->key;
	ref.client = seq->client;
	ref.seqname = seq->name;
	return ref;
}

char *
backend_seq_registered_key(Oid relid)
{
	BackendSeq *seq = backend_seq_open(relid);

	return backend_seq_registered(seq, store_current()) ? pstrdup(seq->key) : NULL;
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
