/*-------------------------------------------------------------------------
 *
 * nextval.h
 *		Sequence lookups shared by the SQL entry points.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEQDIST_NEXTVAL_H
#define SEQDIST_NEXTVAL_H

#include "counter.h"

/*
 * Lock the sequence relid with lockmode, check that it is a sequence, and
 * read its definition.  Returns its name for messages (palloc'd).
 */
extern char *seqdist_open_sequence(Oid relid, LOCKMODE lockmode, CounterParams *params);

/* The counter key registered for relid, or NULL (palloc'd); locks it as nextval does */
extern char *seqdist_registered_key(Oid relid);

#endif							/* SEQDIST_NEXTVAL_H */
