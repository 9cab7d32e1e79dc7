/*-------------------------------------------------------------------------
 *
 * credentials_remote.h
 *		The credential providers that answer over HTTP: web identity (STS),
 *		container credentials, EC2 instance metadata.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEQDIST_CREDENTIALS_REMOTE_H
#define SEQDIST_CREDENTIALS_REMOTE_H

#include "datatype/timestamp.h"

#include "credentials.h"

/* The remote providers, in the order of the chain */
typedef enum CredProvider
{
	CRED_PROVIDER_NONE = 0,
	CRED_PROVIDER_WEB_IDENTITY,
	CRED_PROVIDER_CONTAINER,
	CRED_PROVIDER_IMDS,
	CRED_PROVIDER_ASSUME_ROLE	/* a profile's role_arn and source_profile */
} CredProvider;

/* What STS AssumeRole needs: the role, and the source profile's keys */
typedef struct CredAssumeRole
{
	const char *role_arn;
	const char *session_name;	/* or NULL */
	const char *external_id;	/* or NULL */
	SeqdistCredentials source;	/* signs the request */
} CredAssumeRole;

typedef enum CredFetchOutcome
{
	CRED_FETCH_OK,
	CRED_FETCH_FAILED,			/* the provider is configured but failed */
	CRED_FETCH_ABSENT			/* no instance metadata service answered */
} CredFetchOutcome;

/* Temporary credentials as a provider gave them; strings palloc'd */
typedef struct CredFetched
{
	char	   *access_key_id;
	char	   *secret_access_key;
	char	   *session_token;
	TimestampTz expiration;
} CredFetched;

/* Defines seqdist.sts_endpoint */
extern void credentials_remote_init(void);

/* The first remote provider the server's environment configures */
extern CredProvider credentials_remote_configured(void);

/* The provider's name, for messages */
extern const char *credentials_remote_name(CredProvider provider);

/* A hint naming what configures the provider */
extern const char *credentials_remote_hint(CredProvider provider);

/*
 * Ask the provider for credentials (assume: what CRED_PROVIDER_ASSUME_ROLE
 * needs, else NULL).  On CRED_FETCH_OK fills *out; otherwise
 * *problem says why (a full sentence with no secret in it).  Raises an ERROR
 * only when canceled, or on a misconfigured HTTP client.
 */
extern CredFetchOutcome credentials_remote_fetch(CredProvider provider,
												 const CredAssumeRole *assume,
												 CredFetched *out, char **problem);

/* Wipe and free what credentials_remote_fetch allocated */
extern void credentials_fetched_release(CredFetched *fetched);

#endif							/* SEQDIST_CREDENTIALS_REMOTE_H */
