/*-------------------------------------------------------------------------
 *
 * pg_compat.h
 *		The differences between the PostgreSQL versions seqdist builds
 *		against (15, 16 and 17), in one place: each one a small wrapper named
 *		after what it does, chosen by PG_VERSION_NUM.  The code calls the
 *		wrappers and never tests PG_VERSION_NUM itself.
 *
 * The interfaces that are the same in 15, 16 and 17 and need no wrapper:
 * ProcessUtility_hook's signature (14 and later), shmem_request_hook (15
 * and later), RegisterBackgroundWorker and its fields, condition
 * variables, latches, event trigger data, InitMaterializedSRF (15 and
 * later), MarkGUCPrefixReserved (15 and later), pg_class_aclcheck and
 * PG_WAIT_EXTENSION (which 17 still accepts beside WaitEventExtensionNew).
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEQDIST_PG_COMPAT_H
#define SEQDIST_PG_COMPAT_H

#include "access/relation.h"
#include "catalog/dependency.h"
#include "catalog/pg_class.h"
#include "storage/proc.h"
#include "utils/acl.h"

#if PG_VERSION_NUM < 150000
#error "seqdist needs PostgreSQL 15 or later"
#endif

/*
 * Does the role own the relation?  16 replaced pg_class_ownercheck and its
 * siblings by object_ownercheck.
 */
static inline bool
seqdist_owns_relation(Oid relid, Oid roleid)
{
#if PG_VERSION_NUM >= 160000
	return object_ownercheck(RelationRelationId, relid, roleid);
#else
	return pg_class_ownercheck(relid, roleid);
#endif
}

/*
 * This backend's local transaction id: 17 moved it into the PGPROC's
 * virtual transaction id.
 */
static inline LocalTransactionId
seqdist_my_lxid(void)
{
#if PG_VERSION_NUM >= 170000
	return MyProc->vxid.lxid;
#else
	return MyProc->lxid;
#endif
}

/*
 * The sequence of an identity column (InvalidOid if it has none): 17's
 * getIdentitySequence takes the open relation instead of its oid.  The
 * caller holds a lock on the table.
 */
static inline Oid
seqdist_identity_sequence(Oid relid, AttrNumber attnum)
{
#if PG_VERSION_NUM >= 170000
	Relation	rel = relation_open(relid, NoLock);
	Oid			seqid = getIdentitySequence(rel, attnum, true);

	relation_close(rel, NoLock);
	return seqid;
#else
	return getIdentitySequence(relid, attnum, true);
#endif
}

#endif							/* SEQDIST_PG_COMPAT_H */
