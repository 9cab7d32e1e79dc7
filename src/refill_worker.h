/*-------------------------------------------------------------------------
 *
 * refill_worker.h
 *		The background worker that reserves blocks ahead of need.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEQDIST_REFILL_WORKER_H
#define SEQDIST_REFILL_WORKER_H

/* Called from _PG_init while preloading */
extern void refill_worker_register(void);

#endif							/* SEQDIST_REFILL_WORKER_H */
