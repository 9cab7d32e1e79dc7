/*-------------------------------------------------------------------------
 *
 * credentials_cache.c
 *		The instance's temporary credentials: one copy in shared memory,
 *		refreshed ahead of expiry by one process at a time.
 *
 * Design:
 *	- The credentials a remote provider (web identity, container, instance
 *	  metadata) gave are kept in one small struct in shared memory with
 *	  their expiry and the provider they came from, so the whole instance
 *	  (every backend and the refill worker) asks the provider once per
 *	  credentials' lifetime, not once per backend or per request.
 *	- They are fresh until seqdist.credential_refresh before their
 *	  expiry (5 minutes by default, the middle of what the AWS SDKs use), or
 *	  until half their lifetime is left if that is later (so that a refresh
 *	  window longer than the credentials' lifetime does not make every
 *	  request a refresh), valid until CRED_EXPIRY_MARGIN_S before it, and
 *	  never used after that.
 *	- The first process that needs credentials that are not fresh takes the
 *	  refresh token (refresher = its pid) and asks the provider outside any
 *	  lock; the others use the old credentials while they are valid, and
 *	  otherwise wait, interruptibly, on the condition variable.
 *	- A failed refresh while the old credentials are still valid is a LOG
 *	  line, and no process tries again for CRED_RETRY_AFTER_MS; once they
 *	  have expired, the failure is an ERROR for every caller (the last
 *	  failure's text is kept here, so that callers during the same pause
 *	  get it without a request of their own).
 *	- Secrets in shared memory are wiped before they are replaced.
 *
 * Locking: the LWLock of tranche "seqdist credentials" protects every field
 * but the condition variable; it is held only to copy fields, never during a
 * request.  The refresh token is given back on every path: at the end of
 * the request, on ERROR (PG_CATCH) and at exit (before_shmem_exit), and
 * then the condition variable is broadcast.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/condition_variable.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "credentials_cache.h"

#define CRED_TRANCHE "seqdist credentials"

#define CRED_KEY_ID_MAX 256
#define CRED_SECRET_MAX 256
#define CRED_TOKEN_MAX 16384
#define CRED_PROBLEM_MAX 1024
/* What identifies a profile's role: role, session name, external id, source key */
#define CRED_IDENTITY_MAX 4096

/* Credentials are not used in the last second before their expiry */
#define CRED_EXPIRY_MARGIN_S 1
/* After a failed refresh, nobody tries again for this long */
#define CRED_RETRY_AFTER_MS 1000
/* How long a waiter sleeps before it looks again */
#define CRED_WAIT_SLICE_MS 100

typedef struct CredShared
{
	LWLock	   *lock;
	ConditionVariable cv;
	CredProvider provider;		/* whose credentials are held; NONE: none */
	char		identity[CRED_IDENTITY_MAX];	/* for a profile's role, which */
	TimestampTz expiration;
	TimestampTz obtained;		/* when they were stored */
	TimestampTz retry_after;	/* no request before this, after a failure */
	pid_t		refresher;		/* who is asking the provider, or 0 */
	char		problem[CRED_PROBLEM_MAX];	/* the last failure, or "" */
	bool		problem_absent; /* it was: no metadata service answered */
	char		access_key_id[CRED_KEY_ID_MAX];
	char		secret_access_key[CRED_SECRET_MAX];
	char		session_token[CRED_TOKEN_MAX];
} CredShared;

/*---- settings ----*/
static int	cred_refresh_ahead_s = 300;

static CredShared *cred_shared = NULL;
static bool cred_holding_token = false;
static bool cred_exit_registered = false;

static shmem_request_hook_type cred_prev_shmem_request_hook = NULL;
static shmem_startup_hook_type cred_prev_shmem_startup_hook = NULL;

static void cred_shmem_request(void);
static void cred_shmem_startup(void);
static void cred_give_back(void);
static void cred_on_exit(int code, Datum arg);
static TimestampTz cred_refresh_at(void);
static char *cred_identity(CredProvider provider, const CredAssumeRole *assume);

/* Are the held credentials those of provider and identity?  Lock held */
static inline bool
cred_holds(CredProvider provider, const char *identity)
{
	return cred_shared->provider == provider && strcmp(cred_shared->identity, identity) == 0;
}

void
credentials_cache_init(bool preloading)
{
	DefineCustomIntVariable("seqdist.credential_refresh",
							"How long before their expiry temporary credentials are refreshed.",
							"Until then the instance uses the cached credentials without asking their provider.",
							&cred_refresh_ahead_s, 300, 0, 43200,
							PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);
	if (!preloading)
		return;
	cred_prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = cred_shmem_request;
	cred_prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = cred_shmem_startup;
}

static void
cred_shmem_request(void)
{
	if (cred_prev_shmem_request_hook)
		cred_prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(CredShared)));
	RequestNamedLWLockTranche(CRED_TRANCHE, 1);
}

static void
cred_shmem_startup(void)
{
	bool		found;

	if (cred_prev_shmem_startup_hook)
		cred_prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	cred_shared = ShmemInitStruct("seqdist credentials", sizeof(CredShared), &found);
	if (!found)
	{
		memset(cred_shared, 0, sizeof(CredShared));
		cred_shared->lock = &(GetNamedLWLockTranche(CRED_TRANCHE))->lock;
		ConditionVariableInit(&cred_shared->cv);
	}
	LWLockRelease(AddinShmemInitLock);
}

static void
cred_require_shmem(void)
{
	if (cred_shared == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("seqdist must be loaded via shared_preload_libraries"),
				 errhint("Add seqdist to shared_preload_libraries in postgresql.conf and restart the server.")));
}

/* Copy the shared credentials into creds (palloc); lock held */
static void
cred_copy_out(SeqdistCredentials *creds, CredProvider provider)
{
	creds->access_key_id = pstrdup(cred_shared->access_key_id);
	creds->secret_access_key = pstrdup(cred_shared->secret_access_key);
	creds->session_token = cred_shared->session_token[0] ? pstrdup(cred_shared->session_token) : NULL;
	creds->source = credentials_remote_name(provider);
	creds->expiration = cred_shared->expiration;
}

/*
 * When the held credentials stop being fresh: seqdist.credential_refresh
 * before their expiry, but not before half their lifetime; lock held
 */
static TimestampTz
cred_refresh_at(void)
{
	TimestampTz ahead = (TimestampTz) cred_refresh_ahead_s * USECS_PER_SEC;
	TimestampTz half = (cred_shared->expiration - cred_shared->obtained) / 2;

	return cred_shared->expiration - Min(ahead, Max(half, 0));
}

/* Give the refresh token back and wake the waiters */
static void
cred_give_back(void)
{
	if (!cred_holding_token)
		return;
	LWLockAcquire(cred_shared->lock, LW_EXCLUSIVE);
	if (cred_shared->refresher == MyProcPid)
		cred_shared->refresher = 0;
	LWLockRelease(cred_shared->lock);
	cred_holding_token = false;
	ConditionVariableBroadcast(&cred_shared->cv);
}

static void
cred_on_exit(int code, Datum arg)
{
	cred_give_back();
}

/*
 * Why the new credentials cannot be stored, or NULL: too long for the
 * shared struct, or already expired.
 */
static const char *
cred_unstorable(const CredFetched *f, const char *identity, TimestampTz now)
{
	if (strlen(identity) >= CRED_IDENTITY_MAX)
		return "The profile's role_arn, role_session_name or external_id is too long.";
	if (strlen(f->access_key_id) >= CRED_KEY_ID_MAX ||
		strlen(f->secret_access_key) >= CRED_SECRET_MAX ||
		(f->session_token && strlen(f->session_token) >= CRED_TOKEN_MAX))
		return "The provider answered credentials longer than seqdist can keep.";
	if (f->expiration <= TimestampTzPlusMilliseconds(now, CRED_EXPIRY_MARGIN_S * 1000))
		return psprintf("The provider answered credentials that expire at %s, already past.",
						timestamptz_to_str(f->expiration));
	return NULL;
}

/*
 * What the held credentials must be for: "" for the providers the
 * environment configures, the role and its source key for a profile's role
 */
static char *
cred_identity(CredProvider provider, const CredAssumeRole *assume)
{
	if (provider != CRED_PROVIDER_ASSUME_ROLE || assume == NULL)
		return pstrdup("");
	return psprintf("%s\n%s\n%s\n%s", assume->role_arn,
					assume->session_name ? assume->session_name : "",
					assume->external_id ? assume->external_id : "",
					assume->source.access_key_id);
}

/* Store f in shared memory and give the token back; lock not held */
static void
cred_store(CredProvider provider, const char *identity, const CredFetched *f)
{
	LWLockAcquire(cred_shared->lock, LW_EXCLUSIVE);
	explicit_bzero(cred_shared->secret_access_key, CRED_SECRET_MAX);
	explicit_bzero(cred_shared->session_token, CRED_TOKEN_MAX);
	strlcpy(cred_shared->access_key_id, f->access_key_id, CRED_KEY_ID_MAX);
	strlcpy(cred_shared->secret_access_key, f->secret_access_key, CRED_SECRET_MAX);
	strlcpy(cred_shared->session_token, f->session_token ? f->session_token : "", CRED_TOKEN_MAX);
	cred_shared->provider = provider;
	strlcpy(cred_shared->identity, identity, CRED_IDENTITY_MAX);
	cred_shared->expiration = f->expiration;
	cred_shared->obtained = GetCurrentTimestamp();
	cred_shared->retry_after = 0;
	cred_shared->problem[0] = '\0';
	if (cred_shared->refresher == MyProcPid)
		cred_shared->refresher = 0;
	LWLockRelease(cred_shared->lock);
	cred_holding_token = false;
	ConditionVariableBroadcast(&cred_shared->cv);
}

/*
 * Record a failure and give the token back; copy the old credentials into
 * creds and return true when they are still valid.
 */
static bool
cred_record_failure(CredProvider provider, const char *identity, const char *problem,
					bool absent, SeqdistCredentials *creds, TimestampTz *expired_at)
{
	TimestampTz now = GetCurrentTimestamp();
	bool		valid;

	LWLockAcquire(cred_shared->lock, LW_EXCLUSIVE);
	cred_shared->retry_after = TimestampTzPlusMilliseconds(now, CRED_RETRY_AFTER_MS);
	strlcpy(cred_shared->problem, problem, CRED_PROBLEM_MAX);
	cred_shared->problem_absent = absent;
	*expired_at = cred_holds(provider, identity) ? cred_shared->expiration : 0;
	valid = cred_holds(provider, identity) &&
		TimestampTzPlusMilliseconds(now, CRED_EXPIRY_MARGIN_S * 1000) < cred_shared->expiration;
	if (valid)
		cred_copy_out(creds, provider);
	if (cred_shared->refresher == MyProcPid)
		cred_shared->refresher = 0;
	LWLockRelease(cred_shared->lock);
	cred_holding_token = false;
	ConditionVariableBroadcast(&cred_shared->cv);
	return valid;
}

/* The ERROR (or, without raise_errors, the problem) of a provider that failed */
static bool
cred_fail(CredProvider provider, const char *problem, TimestampTz expired_at,
		  SeqdistCredentials *creds, bool raise_errors)
{
	const char *name = credentials_remote_name(provider);

	if (!raise_errors)
	{
		creds->problem = expired_at != 0 ?
			psprintf("credentials from %s expired at %s and could not be refreshed: %s",
					 name, timestamptz_to_str(expired_at), problem) :
			psprintf("could not obtain credentials from %s: %s", name, problem);
		return false;
	}
	if (expired_at != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("AWS credentials from %s expired at %s and could not be refreshed",
						name, timestamptz_to_str(expired_at)),
				 errdetail_internal("%s", problem),
				 errhint("%s", credentials_remote_hint(provider))));
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
			 errmsg("could not obtain AWS credentials from %s", name),
			 errdetail_internal("%s", problem),
			 errhint("%s", credentials_remote_hint(provider))));
	return false;
}

bool
credentials_cache_get(CredProvider provider, const CredAssumeRole *assume,
					  SeqdistCredentials *creds, bool raise_errors, bool *absent)
{
	char	   *identity = cred_identity(provider, assume);
	CredFetched fetched;
	char	   *problem = NULL;
	CredFetchOutcome outcome;
	TimestampTz expired_at;

	*absent = false;
	cred_require_shmem();
	if (!cred_exit_registered)
	{
		before_shmem_exit(cred_on_exit, (Datum) 0);
		cred_exit_registered = true;
	}

	for (;;)
	{
		TimestampTz now = GetCurrentTimestamp();
		bool		held,
					valid,
					fresh,
					busy,
					pausing;

		LWLockAcquire(cred_shared->lock, LW_SHARED);
		held = cred_holds(provider, identity);
		valid = held && TimestampTzPlusMilliseconds(now, CRED_EXPIRY_MARGIN_S * 1000) < cred_shared->expiration;
		fresh = valid && now < cred_refresh_at();
		busy = cred_shared->refresher != 0;
		pausing = now < cred_shared->retry_after && cred_shared->problem[0] != '\0';
		if (fresh || (valid && (busy || pausing)))
		{
			cred_copy_out(creds, provider);
			LWLockRelease(cred_shared->lock);
			return true;
		}
		if (!busy && pausing)
		{
			/* expired, and a refresh has just failed: its error, at once */
			char	   *last = pstrdup(cred_shared->problem);
			bool		last_absent = cred_shared->problem_absent;

			expired_at = held ? cred_shared->expiration : 0;
			LWLockRelease(cred_shared->lock);
			if (last_absent && expired_at == 0)
			{
				*absent = true;
				creds->problem = last;
				return false;
			}
			return cred_fail(provider, last, expired_at, creds, raise_errors);
		}
		LWLockRelease(cred_shared->lock);

		if (busy)
		{
			/* nothing usable, and another process is asking: wait for it */
			ConditionVariableTimedSleep(&cred_shared->cv, CRED_WAIT_SLICE_MS, PG_WAIT_EXTENSION);
			ConditionVariableCancelSleep();
			CHECK_FOR_INTERRUPTS();
			continue;
		}

		LWLockAcquire(cred_shared->lock, LW_EXCLUSIVE);
		if (cred_shared->refresher == 0)
		{
			cred_shared->refresher = MyProcPid;
			cred_holding_token = true;
		}
		LWLockRelease(cred_shared->lock);
		if (cred_holding_token)
			break;
	}

	PG_TRY();
	{
		outcome = credentials_remote_fetch(provider, assume, &fetched, &problem);
	}
	PG_CATCH();
	{
		cred_give_back();
		PG_RE_THROW();
	}
	PG_END_TRY();

	if (outcome == CRED_FETCH_OK)
	{
		const char *why = cred_unstorable(&fetched, identity, GetCurrentTimestamp());

		if (why == NULL)
		{
			cred_store(provider, identity, &fetched);
			creds->access_key_id = fetched.access_key_id;
			creds->secret_access_key = fetched.secret_access_key;
			creds->session_token = fetched.session_token;
			creds->source = credentials_remote_name(provider);
			creds->expiration = fetched.expiration;
			return true;
		}
		credentials_fetched_release(&fetched);
		problem = pstrdup(why);
		outcome = CRED_FETCH_FAILED;
	}

	if (cred_record_failure(provider, identity, problem, outcome == CRED_FETCH_ABSENT, creds, &expired_at))
	{
		ereport(LOG,
				(errmsg("could not refresh AWS credentials from %s; the current ones stay valid until %s",
						credentials_remote_name(provider), timestamptz_to_str(creds->expiration)),
				 errdetail_internal("%s", problem)));
		return true;
	}
	if (outcome == CRED_FETCH_ABSENT && expired_at == 0)
	{
		*absent = true;
		creds->problem = problem;
		return false;
	}
	return cred_fail(provider, problem, expired_at, creds, raise_errors);
}

bool
credentials_cache_peek(CredProvider provider, const CredAssumeRole *assume,
					   SeqdistCredentials *creds)
{
	bool		held;
	char	   *identity;

	if (cred_shared == NULL)
		return false;
	identity = cred_identity(provider, assume);
	LWLockAcquire(cred_shared->lock, LW_SHARED);
	held = cred_holds(provider, identity) && cred_shared->access_key_id[0] != '\0';
	if (held)
		cred_copy_out(creds, provider);
	LWLockRelease(cred_shared->lock);
	return held;
}
