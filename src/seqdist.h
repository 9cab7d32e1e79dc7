/*-------------------------------------------------------------------------
 *
 * seqdist.h
 *		Declarations shared by every module of seqdist: the settings and the
 *		checks that every SQL entry point makes first.
 *
 * The modules, from the SQL surface down to the wire:
 *	nextval.c		seqdist_nextval() and friends (the hot path)
 *	admin.c			table creation, health check, sequence registration
 *	counter.c		the counter item format and block reservation
 *	dynamo.c		DynamoDB operations: signing, retries, error mapping
 *	http.c			the libcurl transport (timeouts, cancellation)
 *	sigv4.c			AWS Signature Version 4 (no PostgreSQL dependency)
 *	credentials.c	where AWS credentials come from
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEQDIST_H
#define SEQDIST_H

/* Settings (seqdist.c); see the GUC definitions for meaning and bounds */
extern char *seqdist_endpoint;
extern char *seqdist_region;
extern char *seqdist_table;
extern char *seqdist_ca_file;
extern char *seqdist_access_key_id;
extern char *seqdist_secret_access_key;
extern char *seqdist_session_token;
extern int	seqdist_connect_timeout_ms;
extern int	seqdist_request_timeout_ms;
extern int	seqdist_max_attempts;
extern int	seqdist_retry_base_ms;
extern int	seqdist_retry_cap_ms;
extern int	seqdist_max_sequences;
extern int	seqdist_block_size;
extern int	seqdist_max_block_size;
extern int	seqdist_block_target_ms;
extern int	seqdist_runway_s;
extern bool seqdist_refill;
extern int	seqdist_store_version;

/* Hash identifying a counter: where it is stored and its key */
extern uint64 seqdist_counter_hash(const char *key);
extern bool seqdist_allow_rewind;

/* Raise an ERROR unless the library was loaded by shared_preload_libraries */
extern void seqdist_check_preloaded(void);

/* The endpoint URL actually used: the setting, or the regional AWS default */
extern const char *seqdist_effective_endpoint(void);

#endif							/* SEQDIST_H */
