/*-------------------------------------------------------------------------
 *
 * refill_worker.h
 *		The background worker that reserves blocks ahead of need.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEQDIST_REFILL_WORKER_H
#define SEQDIST_REFILL_WORKER_H

/* Defines seqdist.refill; when preloading, registers the worker */
extern void refill_worker_init(bool preloading);

#endif							/* SEQDIST_REFILL_WORKER_H */
