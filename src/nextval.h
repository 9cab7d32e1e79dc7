/*-------------------------------------------------------------------------
 *
 * nextval.h
 *		The nextval-compatible SQL entry points and the counter moves they
 *		share with ALTER SEQUENCE.
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

#endif							/* SEQDIST_NEXTVAL_H */
