/*-------------------------------------------------------------------------
 *
 * counter_share.h
 *		Joining a counter, for the reservation path.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEQDIST_COUNTER_SHARE_H
#define SEQDIST_COUNTER_SHARE_H

#include "counter_internal.h"

/*
 * Add ref->client to the clients of the counter read into state, if its
 * definition can share the counter (an ERROR otherwise).  The caller reads
 * the item again afterwards, whether or not another client moved first.
 */
extern void counter_join(const CounterRef *ref, const CounterParams *params,
						 const CounterState *state, DynamoStats *stats);

#endif							/* SEQDIST_COUNTER_SHARE_H */
