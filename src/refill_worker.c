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
 * The worker talks to the store its own settings name, and refills only
 * slots whose blocks came from that store: a session that points
 * seqdist.endpoint elsewhere is served by its backends alone.
 *
 * Failures back off per slot (refill_policy_failed, on top of the
 * per-request retries) and are logged at most once per
 * REFILL_LOG_INTERVAL_MS, with a count of what was suppressed.
 *
 * The worker holds a slot's fetching token only between
 * instance_cache_refill_start and refill_done/refill_failed, one slot at a
 * time; an exit in between gives it back (refill_on_exit).
 *
 * Done the PostgreSQL way: the signal handlers only set flags and the latch;
 * SIGHUP reloads the configuration; SIGTERM stops a request in flight within
 * one transport polling slice and the worker exits; SIGUSR1 is the standard
 * procsignal handler; the memory context is reset every tick.  The worker
 * connects to no particular database (so DROP DATABASE never waits for it),
 * only enough to show in pg_stat_activity with its wait events; it needs
 * only shared memory and the server's settings and credentials.
 *
 * Locking: the worker holds the instance cache table's LWLock in shared
 * mode only while it scans the slots, and a slot's spinlock only to copy
 * from or into it; it calls DynamoDB holding neither.
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
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "counter.h"
#include "http.h"
#include "instance_cache.h"
#include "refill_policy.h"
#include "refill_worker.h"
#include "store.h"

#define REFILL_TICK_MS 100
#define REFILL_MAX_JOBS 64
#define REFILL_LOG_INTERVAL_MS 10000

/* A slot that should get a block ahead of need, as planned this tick */
typedef struct RefillJob
{
	InstanceTicket ticket;
	RefillDemand demand;
	char		key[INSTANCE_KEY_MAX];
	int64		size;
} RefillJob;

PGDLLEXPORT void seqdist_refill_main(Datum arg);

/*---- settings ----*/
static bool refill_enabled = true;

static RefillJob refill_jobs[REFILL_MAX_JOBS];
/* the job in flight and what its calls did, valid after a longjmp or exit */
static RefillJob *refill_current = NULL;
static DynamoStats refill_calls;
static TimestampTz refill_last_log = 0;
static int	refill_suppressed = 0;

static bool refill_abort_check(void);
static void refill_on_exit(int code, Datum arg);
static int	refill_plan(const SeqdistStore *store);
static void refill_one(const SeqdistStore *store, RefillJob *job, MemoryContext cxt);
static void refill_log_failure(const RefillJob *job, const char *message);

void
refill_worker_init(bool preloading)
{
	BackgroundWorker worker;

	DefineCustomBoolVariable("seqdist.refill",
							 "Lets the refill worker reserve blocks ahead of need.",
							 "Off, backends reserve every block themselves when they run out.",
							 &refill_enabled, true,
							 PGC_SIGHUP, 0,
							 NULL, NULL, NULL);
	if (!preloading)
		return;

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

/* Leaving with a job in flight: give its token back so that nobody waits */
static void
refill_on_exit(int code, Datum arg)
{
	instance_cache_set_worker_latch(NULL);
	if (refill_current != NULL)
	{
		instance_cache_refill_failed(&refill_current->ticket, "the refill worker exited",
									 &refill_calls, GetCurrentTimestamp());
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
		const SeqdistStore *store;
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

		store = store_current();
		n = refill_plan(store);
		for (int i = 0; i < n && !ShutdownRequestPending; i++)
			refill_one(store, &refill_jobs[i], cxt);
	}
	/* exit code 1: the postmaster starts a new worker unless it is stopping */
	proc_exit(1);
}

/* Should the slot get a block ahead of need from this worker now? */
static bool
refill_wanted(const InstanceView *view, const SeqdistStore *store, TimestampTz now)
{
	return refill_enabled && view->key_complete && !view->fetching &&
		view->spare_count == 0 && view->ticket.def.store_id == store->id &&
		refill_policy_due(&view->demand, now);
}

/*
 * Sample every slot's demand and plan this tick's jobs into refill_jobs.
 * Nothing here raises: the scan keeps the slot table locked.
 */
static int
refill_plan(const SeqdistStore *store)
{
	InstanceScan scan;
	InstanceView view;
	TimestampTz now = GetCurrentTimestamp();
	int			n = 0;

	instance_cache_scan_begin(&scan, 0);
	while (instance_cache_scan_next(&scan, &view))
	{
		RefillJob  *job;

		refill_policy_sample(&view.demand, view.taken, now);
		instance_cache_set_demand(&view.ticket, &view.demand);
		if (n >= REFILL_MAX_JOBS || !refill_wanted(&view, store, now))
			continue;
		job = &refill_jobs[n++];
		job->ticket = view.ticket;
		job->demand = view.demand;
		if (view.fixed_size && view.block_size > 0)
			job->size = view.block_size;
		else
			job->size = refill_policy_job_size(&view.demand);
	}
	instance_cache_scan_end(&scan);
	return n;
}

/* Reserve one block for a job; never raises an error */
static void
refill_one(const SeqdistStore *store, RefillJob *job, MemoryContext cxt)
{
	CounterBlock block;
	volatile bool done = false;

	/* the slot may have been served or dropped since the plan was made */
	if (!instance_cache_refill_start(&job->ticket, job->key))
		return;
	refill_current = job;
	memset(&refill_calls, 0, sizeof(refill_calls));
	PG_TRY();
	{
		CounterRef	ref;

		MemoryContextSwitchTo(cxt);
		ref.store = store;
		ref.key = job->key;
		ref.client = counter_client_id(job->ticket.dbid, job->ticket.relid);
		ref.seqname = job->key;
		/* never joins: the sequence may have been dropped since */
		counter_reserve(&ref, &job->ticket.def.params, job->size, false, &block,
						&refill_calls);
		done = true;
	}
	PG_CATCH();
	{
		ErrorData  *edata;
		TimestampTz now;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		/* the transfer's wait event may still be set */
		pgstat_report_wait_end();
		now = GetCurrentTimestamp();
		instance_cache_refill_failed(&job->ticket, edata->message ? edata->message : "",
									 &refill_calls, now);
		refill_policy_failed(&job->demand, now);
		refill_log_failure(job, edata->message ? edata->message : "");
	}
	PG_END_TRY();
	refill_current = NULL;
	if (done && instance_cache_refill_done(&job->ticket, &block, &refill_calls))
		refill_policy_succeeded(&job->demand);
	else if (done)
	{
		refill_policy_failed(&job->demand, GetCurrentTimestamp());
		refill_log_failure(job, "the counter moved backwards under this instance");
	}
	instance_cache_set_demand(&job->ticket, &job->demand);
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
