/*-------------------------------------------------------------------------
 *
 * nextval.h
 *		The nextval-compatible SQL entry points and the counter moves they
 *		share with ALTER SEQUENCE.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEQDIST_NEXTVAL_H
#define SEQDIST_NEXTVAL_H

#include "backend_cache.h"

/* Defines seqdist.allow_rewind */
extern void nextval_init(void);

/*
 * Move the counter of a registered sequence to position (the last value
 * used, as setval sets it); values cached by this instance before the move
 * are not handed out after it.  Moving backwards needs seqdist.allow_rewind.
 */
extern void nextval_move_counter(BackendSeq *seq, int128 position);

/* Drop what this instance cached for seq (a gap), as a counter move does */
extern void nextval_discard_cached(BackendSeq *seq);

/*
 * ALTER SEQUENCE of a registered sequence: record seq's (new) definition in
 * its counter and, when restart, move the counter to restart_position; the
 * instance cache slot takes the new definition, empty.
 */
extern void nextval_alter_counter(BackendSeq *seq, bool restart, int128 restart_position);

/*
 * The next value of registered sequence relid from its counter, as
 * seqdist_nextval returns it; check_access: the native privilege check.
 */
extern int64 nextval_counter_value(Oid relid, bool check_access);

/* seqdist_setval's work: move the counter, as setval(relid, value, iscalled) */
extern int64 nextval_setval(Oid relid, int64 value, bool iscalled);

/*
 * Whether the session's latest sequence value came from a counter (true)
 * or from a native sequence that routing.c saw (false): lastval's answer.
 */
extern bool nextval_counter_was_last;

/*
 * Bumped for every value the session takes (counter values, and native
 * ones routing.c sees), so that currval can tell which side was last.
 */
extern uint64 nextval_tick;

/* The SQL entry points routing.c calls directly */
extern Datum seqdist_currval(PG_FUNCTION_ARGS);
extern Datum seqdist_lastval(PG_FUNCTION_ARGS);

#endif							/* SEQDIST_NEXTVAL_H */
