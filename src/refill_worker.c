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
 * Refills run as a stream of up to seqdist.refill_concurrency requests in
 * flight at once (counter_reserve_batch over http_post_stream: one
 * connection each, so never more than a third of the descriptors fd.c
 * leaves the worker), most urgent first (the least time left before the slot
 * runs dry): as soon as one answer arrives the next request goes out, so
 * refill capacity grows with DynamoDB's latency instead of collapsing, and
 * a slow request holds up no other.  Each request is the very conditional
 * UpdateItem a backend sends; only the sending is concurrent.  A job takes
 * its slot's token just before its request goes out, not before: a backend
 * that runs dry on a slot whose job is still queued reserves its block
 * itself (a job that comes up while it does is skipped; one that comes up
 * after reserves the slot's spare), and one that runs dry on a slot
 * whose request is in flight waits for that request only, which hands the
 * block over as soon as its answer arrives, whatever the others do.
 *
 * After the instance starts, before anything else, the worker reads the
 * prewarm list (prewarm.c), gives each sequence of it a slot and reserves a
 * block and its spare for each (one request of twice the block size),
 * most demanded first, in the same streams, up to PREWARM_MAX_STREAM jobs
 * each; so after a restart under load backends find their blocks there, or
 * wait for one round trip at most, and the first values taken set off no
 * second round of requests.  It writes the list every
 * PREWARM_DUMP_INTERVAL_MS and when it stops.
 *
 * The worker talks to the store its own settings name, and refills only
 * slots whose blocks came from that store: a session that points
 * seqdist.endpoint elsewhere is served by its backends alone.
 *
 * Failures back off per slot (refill_policy_failed, on top of the
 * per-request retries) and are logged at most once per
 * REFILL_LOG_INTERVAL_MS, with a count of what was suppressed.
 *
 * The worker holds the fetching token of a job's slot only between
 * instance_cache_refill_start and refill_done/refill_failed; an exit in
 * between gives the tokens back (refill_on_exit).
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
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
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
#include "prewarm.h"
#include "refill_policy.h"
#include "refill_worker.h"
#include "store.h"

#define REFILL_TICK_MS 100
#define REFILL_MAX_JOBS 1024
#define REFILL_MAX_CONCURRENCY 256
/* prewarm jobs per stream: few drains of the window, and bounded memory */
#define PREWARM_MAX_STREAM 4096
#define REFILL_LOG_INTERVAL_MS 10000
#define PREWARM_DUMP_INTERVAL_MS 60000

/* A slot that should get a block ahead of need, as planned this tick */
typedef struct RefillJob
{
	InstanceTicket ticket;
	RefillDemand demand;
	char		key[INSTANCE_KEY_MAX];
	int64		size;
	int64		split;			/* > 0: a current block of split values and a
								 * spare of the rest (prewarm) */
	double		urgency;		/* seconds before the slot runs dry */
} RefillJob;

PGDLLEXPORT void seqdist_refill_main(Datum arg);

/*---- settings ----*/
static bool refill_enabled = true;
static int	refill_concurrency = 256;

static RefillJob refill_jobs[REFILL_MAX_JOBS];
/*
 * The jobs of the stream in flight whose tokens the worker holds, by their
 * place in it; valid after a longjmp or exit: tokens to give back
 */
static RefillJob **refill_inflight = NULL;
static int	refill_inflight_size = 0;
static int	refill_ninflight = 0;
static TimestampTz refill_last_log = 0;
static int	refill_suppressed = 0;

static bool refill_abort_check(void);
static void refill_on_exit(int code, Datum arg);
static int	refill_plan(const SeqdistStore *store);
static int	refill_run(const SeqdistStore *store, RefillJob *jobs, int n, MemoryContext cxt);
static int	refill_stream(const SeqdistStore *store, RefillJob *jobs, int n, int *accepted);
static void refill_prewarm(const SeqdistStore *store, MemoryContext cxt);
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
	DefineCustomIntVariable("seqdist.refill_concurrency",
							"DynamoDB requests the refill worker keeps in flight at once.",
							"Refill capacity is about this many blocks per DynamoDB round trip.",
							&refill_concurrency, 256, 1, REFILL_MAX_CONCURRENCY,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);
	prewarm_init();
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

/* Give back the tokens of the stream in flight, so that nobody waits */
static void
refill_give_back(const char *message)
{
	DynamoStats none;
	TimestampTz now = GetCurrentTimestamp();

	memset(&none, 0, sizeof(none));
	for (int i = 0; i < refill_ninflight; i++)
		if (refill_inflight[i] != NULL)
		{
			instance_cache_refill_failed(&refill_inflight[i]->ticket, message, &none, now);
			refill_inflight[i] = NULL;
		}
	refill_ninflight = 0;
}

static void
refill_on_exit(int code, Datum arg)
{
	instance_cache_set_worker_latch(NULL);
	refill_give_back("the refill worker exited");
}

void
seqdist_refill_main(Datum arg)
{
	MemoryContext cxt;
	TimestampTz last_dump;

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

	/* once per start of the instance, not per start of the worker */
	if (prewarm_enabled() && instance_cache_claim_prewarm())
		refill_prewarm(store_current(), cxt);
	last_dump = GetCurrentTimestamp();

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
		refill_run(store, refill_jobs, n, cxt);

		if (prewarm_enabled() &&
			TimestampDifferenceExceeds(last_dump, GetCurrentTimestamp(), PREWARM_DUMP_INTERVAL_MS))
		{
			MemoryContextReset(cxt);
			MemoryContextSwitchTo(cxt);
			(void) prewarm_dump();
			last_dump = GetCurrentTimestamp();
		}
	}
	if (prewarm_enabled())
	{
		int			n;

		MemoryContextReset(cxt);
		MemoryContextSwitchTo(cxt);
		n = prewarm_dump();
		if (n >= 0)
			ereport(LOG,
					(errmsg("seqdist wrote the prewarm list of %d sequences", n)));
	}
	/* exit code 1: the postmaster starts a new worker unless it is stopping */
	proc_exit(1);
}

/*
 * Should the slot get a block ahead of need from this worker now?  Not
 * before anything was taken from it: a prewarmed slot has its block, and a
 * spare for a sequence that is not used again would be one more gap.
 */
static bool
refill_wanted(const InstanceView *view, const SeqdistStore *store, TimestampTz now)
{
	return refill_enabled && view->key_complete && !view->fetching && view->taken > 0 &&
		view->spare_count == 0 && view->ticket.def.store_id == store->id &&
		refill_policy_due(&view->demand, now);
}

/* Most urgent first: the least time before the slot runs dry */
static int
refill_by_urgency(const void *a, const void *b)
{
	double		ua = ((const RefillJob *) a)->urgency;
	double		ub = ((const RefillJob *) b)->urgency;

	return ua < ub ? -1 : ua > ub ? 1 : 0;
}

/*
 * Sample every slot's demand and plan this tick's jobs into refill_jobs,
 * most urgent first.  Nothing here raises while a slot is locked.
 */
static int
refill_plan(const SeqdistStore *store)
{
	InstanceScan scan;
	InstanceView view;
	TimestampTz now = GetCurrentTimestamp();
	int			n = 0;

	instance_cache_scan_begin(&scan, INSTANCE_SCAN_KEY);
	while (instance_cache_scan_next(&scan, &view))
	{
		RefillJob  *job;

		refill_policy_sample(&view.demand, view.taken, now);
		instance_cache_set_demand(&view.ticket, &view.demand);
		if (n >= REFILL_MAX_JOBS || !refill_wanted(&view, store, now))
			continue;
		job = &refill_jobs[n++];
		job->ticket = view.ticket;
		memcpy(job->key, view.key, INSTANCE_KEY_MAX);
		job->demand = view.demand;
		if (view.fixed_size && view.block_size > 0)
			job->size = view.block_size;
		else
			job->size = refill_policy_job_size(&view.demand);
		job->split = 0;
		job->urgency = (double) view.remaining / Max(view.demand.rate, REFILL_IDLE_RATE);
	}
	instance_cache_scan_end(&scan);
	qsort(refill_jobs, n, sizeof(RefillJob), refill_by_urgency);
	return n;
}

/*
 * Run the jobs, seqdist.refill_concurrency in flight at a time; never
 * raises.  Returns how many blocks the slots accepted.
 */
static int
refill_run(const SeqdistStore *store, RefillJob *jobs, int n, MemoryContext cxt)
{
	int			next = 0;
	int			accepted = 0;

	while (next < n && !ShutdownRequestPending)
	{
		MemoryContextSwitchTo(cxt);
		next += refill_stream(store, jobs + next, n - next, &accepted);
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
	}
	return accepted;
}

/* What the callbacks of a stream need */
typedef struct RefillStream
{
	RefillJob  *jobs;
	CounterReservation *res;
	int			accepted;
} RefillStream;

/*
 * Job i of the stream is about to be sent: take its slot's token now, not
 * before, so that a backend running dry on a slot whose job has not started
 * yet reserves its block itself instead of waiting behind the others.  The
 * slot may have been served or dropped since the plan was made: then the
 * job is skipped.
 */
static bool
refill_job_start(int i, void *arg)
{
	RefillStream *s = (RefillStream *) arg;
	RefillJob  *job = &s->jobs[i];
	char		key[INSTANCE_KEY_MAX];

	if (!instance_cache_refill_start(&job->ticket, key))
		return false;
	refill_inflight[i] = job;
	/* the request was made for the key of the plan; never another one */
	if (strcmp(key, job->key) != 0)
	{
		refill_inflight[i] = NULL;
		instance_cache_refill_failed(&job->ticket, "the counter key changed before the refill was sent",
									 &s->res[i].stats, GetCurrentTimestamp());
		return false;
	}
	return true;
}

/* Job i of the stream is done: hand its block over (or its failure) at once */
static void
refill_job_done(int i, void *arg)
{
	RefillStream *s = (RefillStream *) arg;
	CounterReservation *r = &s->res[i];
	RefillJob  *job = refill_inflight[i];
	TimestampTz now = GetCurrentTimestamp();

	if (job == NULL)
		return;
	refill_inflight[i] = NULL;
	if (!r->ok)
	{
		instance_cache_refill_failed(&job->ticket, r->error, &r->stats, now);
		refill_policy_failed(&job->demand, now);
		refill_log_failure(job, r->error);
	}
	else if (instance_cache_refill_done(&job->ticket, &r->block, job->split, &r->stats))
	{
		refill_policy_succeeded(&job->demand);
		s->accepted++;
	}
	else
	{
		refill_policy_failed(&job->demand, now);
		refill_log_failure(job, "the counter moved backwards under this instance");
	}
	instance_cache_set_demand(&job->ticket, &job->demand);
}

/*
 * Reserve a block for each of the n jobs, seqdist.refill_concurrency in
 * flight at once, the next one starting as soon as one ends, and hand each
 * over as soon as it arrives; never raises.  Adds the blocks the slots
 * accepted to *accepted; returns how many of the jobs were sent or skipped
 * (the stream stops starting jobs while one takes the slow path).
 */
static int
refill_stream(const SeqdistStore *store, RefillJob *jobs, int n, int *accepted)
{
	RefillStream s;
	MemoryContext cxt = CurrentMemoryContext;
	volatile int consumed = n;

	if (n > refill_inflight_size)
	{
		/* grown before any token is taken; never shrinks */
		refill_inflight = refill_inflight == NULL
			? MemoryContextAllocZero(TopMemoryContext, sizeof(RefillJob *) * n)
			: repalloc(refill_inflight, sizeof(RefillJob *) * n);
		refill_inflight_size = n;
	}
	s.jobs = jobs;
	s.res = palloc0(sizeof(CounterReservation) * n);
	s.accepted = 0;
	for (int i = 0; i < n; i++)
	{
		RefillJob  *job = &jobs[i];

		s.res[i].ref.store = store;
		s.res[i].ref.key = job->key;
		s.res[i].ref.client = counter_client_id(job->ticket.dbid, job->ticket.relid);
		s.res[i].ref.seqname = job->key;
		s.res[i].params = job->ticket.def.params;
		s.res[i].n = job->size;
		refill_inflight[i] = NULL;
	}
	refill_ninflight = n;
	PG_TRY();
	{
		/* never joins: the sequence may have been dropped since */
		/* one descriptor per request in flight: never more than fd.c allows */
		consumed = counter_reserve_batch(s.res, n, Min(refill_concurrency, http_max_parallel()),
										 refill_job_start,
										 refill_job_done, &s);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		/* the transfer's wait event may still be set */
		pgstat_report_wait_end();
		refill_give_back(edata->message ? edata->message : "");
		FreeErrorData(edata);
	}
	PG_END_TRY();
	/* every job sent was done or given back; nothing is in flight */
	refill_give_back("the refill was not sent");
	*accepted += s.accepted;
	return Max(consumed, 1);
}

/*
 * Right after the instance started: a slot and a block for each sequence of
 * the prewarm list, most demanded first, in streams like any refill.  Each
 * request reserves twice the block size, split into the slot's current block
 * and its spare (instance_cache_refill_done): a slot holds the same two
 * blocks as in steady state, and the first values taken from each sequence
 * do not set off a second round of requests, one per sequence, right when
 * the instance gets busy again.
 */
static void
refill_prewarm(const SeqdistStore *store, MemoryContext cxt)
{
	PrewarmEntry *entries;
	RefillJob  *jobs;
	int			count;
	int			adopted = 0;
	int			reserved = 0;
	TimestampTz start = GetCurrentTimestamp();
	long		secs;
	int			usecs;

	MemoryContextSwitchTo(cxt);
	entries = prewarm_load(&count);
	jobs = palloc(sizeof(RefillJob) * Max(Min(count, PREWARM_MAX_STREAM), 1));
	for (int first = 0; first < count && !ShutdownRequestPending; first += PREWARM_MAX_STREAM)
	{
		int			n = 0;

		for (int i = first; i < count && i < first + PREWARM_MAX_STREAM; i++)
		{
			PrewarmEntry *e = &entries[i];
			RefillJob  *job = &jobs[n];
			int64		size;

			/* the worker refills only the slots of its own store */
			if (e->def.store_id != store->id)
				continue;
			memset(&job->demand, 0, sizeof(job->demand));
			job->demand.rate = e->rate;
			if (!instance_cache_adopt(e->dbid, e->relid, &e->def, e->key, e->block_size,
									  e->fixed_size, &job->demand, &job->ticket))
				continue;
			strlcpy(job->key, e->key, INSTANCE_KEY_MAX);
			if (e->fixed_size && e->block_size > 0)
				size = e->block_size;
			else
				size = refill_policy_job_size(&job->demand);
			/* the block and its spare in one request (see above) */
			job->split = size <= PG_INT64_MAX / 2 ? size : 0;
			job->size = job->split > 0 ? 2 * size : size;
			job->urgency = 0;
			n++;
		}
		adopted += n;
		reserved += refill_run(store, jobs, n, cxt);
	}
	TimestampDifference(start, GetCurrentTimestamp(), &secs, &usecs);
	if (count > 0 || entries != NULL)
		ereport(LOG,
				(errmsg("seqdist prewarmed %d of %d sequences of the prewarm list in %ld ms",
						reserved, count, secs * 1000 + usecs / 1000),
				 errdetail("%d were given a slot; the others had one already, belong to another store, or found no free slot.",
						   adopted)));
	MemoryContextReset(cxt);
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
