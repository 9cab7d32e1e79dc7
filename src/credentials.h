/*-------------------------------------------------------------------------
 *
 * credentials.h
 *		Where AWS credentials come from.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEQDIST_CREDENTIALS_H
#define SEQDIST_CREDENTIALS_H

#include "datatype/timestamp.h"

typedef struct SeqdistCredentials
{
	char	   *access_key_id;	/* palloc'd */
	char	   *secret_access_key;	/* palloc'd; wiped by credentials_release */
	char	   *session_token;	/* palloc'd or NULL */
	const char *source;			/* where they came from, for messages */
	TimestampTz expiration;		/* when temporary credentials expire; 0: never */
	char	   *problem;		/* why none were found (try_resolve), or NULL */
} SeqdistCredentials;

/*
 * Defines the credential settings; when preloading, requests the shared
 * memory of the instance's temporary credentials
 */
extern void credentials_init(bool preloading);

/* Find credentials or raise an ERROR that says where seqdist looked */
extern void credentials_resolve(SeqdistCredentials *creds);

/*
 * Find credentials; false when there are none or their provider failed
 * (creds->problem then says why, when known)
 */
extern bool credentials_try_resolve(SeqdistCredentials *creds);

/*
 * The credentials seqdist would use, without asking any remote provider
 * (the cached temporary ones, whatever their age); for redaction
 */
extern bool credentials_peek(SeqdistCredentials *creds);

/* Wipe and free what credentials_resolve allocated */
extern void credentials_release(SeqdistCredentials *creds);

#endif							/* SEQDIST_CREDENTIALS_H */
