/*-------------------------------------------------------------------------
 *
 * credentials.h
 *		Where AWS credentials come from.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEQDIST_CREDENTIALS_H
#define SEQDIST_CREDENTIALS_H

typedef struct SeqdistCredentials
{
	char	   *access_key_id;	/* palloc'd */
	char	   *secret_access_key;	/* palloc'd; wiped by credentials_release */
	char	   *session_token;	/* palloc'd or NULL */
	const char *source;			/* where they came from, for messages */
} SeqdistCredentials;

/* Defines the seqdist.aws_* settings */
extern void credentials_init(void);

/* Find credentials or raise an ERROR that says where seqdist looked */
extern void credentials_resolve(SeqdistCredentials *creds);

/* Find credentials; false (and nothing allocated) when there are none */
extern bool credentials_try_resolve(SeqdistCredentials *creds);

/* Wipe and free what credentials_resolve allocated */
extern void credentials_release(SeqdistCredentials *creds);

#endif							/* SEQDIST_CREDENTIALS_H */
