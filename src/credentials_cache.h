/*-------------------------------------------------------------------------
 *
 * credentials_cache.h
 *		Temporary credentials of the remote providers, cached once per
 *		instance in shared memory and refreshed ahead of their expiry.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEQDIST_CREDENTIALS_CACHE_H
#define SEQDIST_CREDENTIALS_CACHE_H

#include "credentials.h"
#include "credentials_remote.h"

/*
 * Called from _PG_init.  Defines seqdist.credential_refresh and, when
 * preloading, installs the shared memory hooks.
 */
extern void credentials_cache_init(bool preloading);

/*
 * Credentials of provider (assume: the role and source keys of
 * CRED_PROVIDER_ASSUME_ROLE, else NULL): the cached ones while they are fresh, else new
 * ones from the provider (one process asks at a time; the others keep using
 * the cached ones while they are valid, or wait).  When the provider fails:
 * with still valid credentials, a LOG line and the old credentials; else, if
 * raise_errors, an ERROR that names the provider and says why (28000), or
 * false with creds->problem set.  CRED_FETCH_ABSENT (no metadata service)
 * returns false with creds->problem set, in both cases.
 */
extern bool credentials_cache_get(CredProvider provider, const CredAssumeRole *assume,
								  SeqdistCredentials *creds, bool raise_errors, bool *absent);

/* The cached credentials of provider, whatever their age; no request */
extern bool credentials_cache_peek(CredProvider provider, const CredAssumeRole *assume,
								   SeqdistCredentials *creds);

#endif							/* SEQDIST_CREDENTIALS_CACHE_H */
