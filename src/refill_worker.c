/*-------------------------------------------------------------------------
 *
 * refill_worker.c
 *		The refill worker: reserves blocks before the instance cache runs dry.
 *
 * One background worker per instance (started by shared_preload_libraries,
 * restarted by the postmaster a second after it dies).  Every tick, or at
 * once when a backend sets its latch (a backend did that when it started
 * on a block reserved ahead of need, or had to reserve one itself), it
 * samples each slot's demand and, for every active slot without a spare
 * block, reserves one sized for seqdist.runway seconds of the current demand
 * (within seqdist.block_size .. seqdist.max_block_size).  In steady state the
 * spare block takes over when the current one runs out, so no backend waits
 * on DynamoDB, and the instance holds a runway that rides out an outage.
 *
 * Failures back off per slot (capped exponential with jitter, on top of the
 * per-request retries) and are logged at most once per
 * REFILL_LOG_INTERVAL_MS, with a count of what was suppressed.
 *
 * Done the PostgreSQL way: the signal handlers only set flags and the latch;
 * SIGHUP reloads the configuration; SIGTERM stops a request in flight within
 * one transport polling slice and the worker exits; SIGUSR1 is the standard
 * procsignal handler; the memory context is reset every tick.  The worker
 * connects to no particular database (so DROP DATABASE never waits for it),
 * only enough to show in pg_stat_activity with its wait events; it needs
 * only shared memory and the server's settings and credentials.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/procsignal.h"
#include "tcop/tcopprot.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "seqdist.h"
#include "counter.h"
#include "dynamo.h"
#include "http.h"
#include "instance_cache.h"
#include "refill_worker.h"

#define REFILL_TICK_MS 100
#define REFILL_MAX_JOBS 64
#define REFILL_LOG_INTERVAL_MS 10000

PGDLLEXPORT void seqdist_refill_main(Datum arg);

static RefillJob refill_jobs[REFILL_MAX_JOBS];
static RefillJob *refill_current = NULL;
static TimestampTz refill_last_log = 0;
static int	refill_suppressed = 0;

static bool refill_abort_check(void);
static void refill_on_exit(int code, Datum arg);
static void refill_one(RefillJob *job, MemoryContext cxt);
static void refill_log_failure(const RefillJob *job, const char *message);

void
refill_worker_register(void)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	/* a connection to no database: enough to show in pg_stat_activity */
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = 1;
	strlcpy(worker.bgw_library_name, "seqdist", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "seqdist_refill_main", BGW_MAXLEN);
	strlcpy(worker.bgw_name, "seqdist refill worker", BGW_MAXLEN);
	strlcpy(worker.bgw_type, "seqdist refill", BGW_MAXLEN);
	RegisterBackgroundWorker(&worker);
}

static bool
refill_abort_check(void)
{
	return ShutdownRequestPending;
}

/* Leaving with a job in flight: release the slot so that nobody waits */
static void
refill_on_exit(int code, Datum arg)
{
	instance_cache_set_worker_latch(NULL);
	if (refill_current != NULL)
	{
		instance_cache_refill_failed(refill_current, "the refill worker exited");
		refill_current = NULL;
	}
}

void
seqdist_refill_main(Datum arg)
{
	MemoryContext cxt;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
	pqsignal(SIGUSR1, procsignal_sigusr1_handler);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);
	pgstat_report_appname("seqdist refill worker");

	http_set_abort_check(refill_abort_check);
	before_shmem_exit(refill_on_exit, (Datum) 0);
	instance_cache_set_worker_latch(MyLatch);
	cxt = AllocSetContextCreate(TopMemoryContext, "seqdist refill", ALLOCSET_DEFAULT_SIZES);

	while (!ShutdownRequestPending)
	{
		int			n;

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 REFILL_TICK_MS, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		/* absorbs procsignal barriers, which DROP DATABASE waits for */
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		MemoryContextReset(cxt);

		n = instance_cache_plan_refills(refill_jobs, REFILL_MAX_JOBS);
		for (int i = 0; i < n && !ShutdownRequestPending; i++)
			refill_one(&refill_jobs[i], cxt);
	}
	/* exit code 1: the postmaster starts a new worker unless it is stopping */
	proc_exit(1);
}

/* Reserve one block for a job; never raises an error */
static void
refill_one(RefillJob *job, MemoryContext cxt)
{
	CounterBlock block;
	volatile bool done = false;

	/* the slot may have been served or dropped since the plan was made */
	if (!instance_cache_refill_start(job))
		return;
	refill_current = job;
	dynamo_stats_reset();
	PG_TRY();
	{
		MemoryContextSwitchTo(cxt);
		counter_reserve(job->key, &job->def.params, job->size, job->key, &block);
		done = true;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		/* the transfer's wait event may still be set */
		pgstat_report_wait_end();
		instance_cache_refill_failed(job, edata->message ? edata->message : "");
		refill_log_failure(job, edata->message ? edata->message : "");
	}
	PG_END_TRY();
	refill_current = NULL;
	if (done)
		instance_cache_refill_done(job, &block);
}

static void
refill_log_failure(const RefillJob *job, const char *message)
{
	TimestampTz now = GetCurrentTimestamp();

	if (ShutdownRequestPending)
		return;
	if (refill_last_log != 0 &&
		!TimestampDifferenceExceeds(refill_last_log, now, REFILL_LOG_INTERVAL_MS))
	{
		refill_suppressed++;
		return;
	}
	if (refill_suppressed > 0)
		ereport(LOG,
				(errmsg("seqdist could not reserve a block of counter \"%s\" ahead of need: %s",
						job->key, message),
				 errdetail("%d similar messages were suppressed in the last %d seconds.",
						   refill_suppressed, REFILL_LOG_INTERVAL_MS / 1000)));
	else
		ereport(LOG,
				(errmsg("seqdist could not reserve a block of counter \"%s\" ahead of need: %s",
						job->key, message)));
	refill_last_log = now;
	refill_suppressed = 0;
}
