/*-------------------------------------------------------------------------
 *
 * credentials.c
 *		Find the AWS credentials a server process can use.
 *
 * The sources, in order (the first one that is configured wins; the AWS
 * SDKs' default chain after seqdist's own settings):
 *	1. the superuser-only settings seqdist.aws_access_key_id,
 *	   seqdist.aws_secret_access_key and seqdist.aws_session_token;
 *	2. the server's environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
 *	   AWS_SESSION_TOKEN;
 *	3. the shared credentials file (AWS_SHARED_CREDENTIALS_FILE, else
 *	   ~/.aws/credentials of the server's OS user), then the shared config
 *	   file (AWS_CONFIG_FILE, else ~/.aws/config; its named profiles are
 *	   "[profile NAME]"), profile AWS_PROFILE or "default".  A profile with
 *	   role_arn and a source_profile that has static keys assumes its role
 *	   through STS AssumeRole (credentials_remote.c, cached like every
 *	   temporary credential); credential_source and chains of roles are
 *	   refused;
 *	4. web identity, 5. container credentials, 6. EC2 instance metadata:
 *	   the remote providers of credentials_remote.c, whose temporary
 *	   credentials are cached once per instance by credentials_cache.c.
 *
 * Sources 1 to 3 are read again for every request rather than cached, so a
 * rotated key in the environment of a new backend or in a file is used at
 * once.  No value found here is ever put into a message.
 *
 * The settings are superuser-only in both directions: a non-superuser can
 * neither set nor read them, and SHOW masks them even for superusers.  They
 * can be set only with SET in a session: their check hook refuses every
 * other source (configuration files, ALTER SYSTEM, ALTER ROLE / DATABASE,
 * a function's SET clause), all of which would store the secret where
 * others read it or log it when it changes, and its message never echoes
 * the value.  An emit_log_hook keeps the text of statements that name a
 * credential setting out of the log, and such a statement is replaced in
 * pg_stat_activity.
 *
 * The shared credentials file is read whole into one buffer (not through
 * stdio, whose buffer would keep a copy), parsed in place by
 * credentials_file.c, and wiped.  Every copy of a secret made here is wiped
 * before it is freed.
 *
 * Locking: none here; the shared cache of temporary credentials has its
 * own (credentials_cache.c).
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <fcntl.h>
#include <unistd.h>

#include "lib/stringinfo.h"
#include "pgstat.h"
#include "tcop/tcopprot.h"
#include "utils/elog.h"
#include "utils/guc.h"

#include "credentials.h"
#include "credentials_cache.h"
#include "credentials_file.h"
#include "credentials_remote.h"

typedef enum CredFileStatus
{
	CRED_FILE_OK,
	CRED_FILE_MISSING,			/* no file, or one that cannot be read */
	CRED_FILE_TOO_BIG
} CredFileStatus;

/* What pg_stat_activity and the log show instead of such a statement */
#define CRED_REDACTED_STATEMENT "<statement redacted: it mentions a seqdist credential setting>"

/*---- settings ----*/
static char *cred_access_key_id = NULL;
static char *cred_secret_access_key = NULL;
static char *cred_session_token = NULL;

static emit_log_hook_type cred_prev_emit_log_hook = NULL;

static bool cred_check_access_key(char **newval, void **extra, GucSource source);
static bool cred_check_secret(char **newval, void **extra, GucSource source);
static bool cred_check_token(char **newval, void **extra, GucSource source);
static void cred_redact_activity(void);
static void cred_emit_log(ErrorData *edata);

static bool cred_from_settings(SeqdistCredentials *creds);
static bool cred_from_environment(SeqdistCredentials *creds);
static bool cred_from_files(SeqdistCredentials *creds, bool raise_errors, bool remote);
static bool cred_from_chain(SeqdistCredentials *creds, bool raise_errors, bool remote);
static const char *cred_show_access_key(void);
static const char *cred_show_secret(void);
static const char *cred_show_token(void);

void
credentials_init(bool preloading)
{
	static const struct
	{
		const char *name;
		const char *description;
		char	  **variable;
		GucStringCheckHook check;
		GucShowHook show;
	}			settings[] = {
		{"seqdist.aws_access_key_id",
			"AWS access key id; overrides the environment and the shared credentials file.",
		&cred_access_key_id, cred_check_access_key, cred_show_access_key},
		{"seqdist.aws_secret_access_key",
			"AWS secret access key; overrides the environment and the shared credentials file.",
		&cred_secret_access_key, cred_check_secret, cred_show_secret},
		{"seqdist.aws_session_token",
			"AWS session token for temporary credentials.",
		&cred_session_token, cred_check_token, cred_show_token},
	};

	for (size_t i = 0; i < lengthof(settings); i++)
		DefineCustomStringVariable(settings[i].name, settings[i].description,
								   "Can be set only with SET in a session; never shown.",
								   settings[i].variable, "",
								   PGC_SUSET,
								   GUC_SUPERUSER_ONLY | GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE |
								   GUC_DISALLOW_IN_FILE | GUC_DISALLOW_IN_AUTO_FILE,
								   settings[i].check, NULL, settings[i].show);

	cred_prev_emit_log_hook = emit_log_hook;
	emit_log_hook = cred_emit_log;

	credentials_remote_init();
	credentials_cache_init(preloading);
}

/*
 * Where a credential setting may come from: a SET in a session (and the
 * empty default).  Everywhere else it would be stored where others read it
 * (pg_db_role_setting, pg_proc, configuration files) or logged when it
 * changes.  The message never includes the value.
 */
static bool
cred_check_source(const char *name, GucSource source)
{
	if (source == PGC_S_DEFAULT)
		return true;
	if (source == PGC_S_SESSION)
	{
		cred_redact_activity();
		return true;
	}
	GUC_check_errcode(ERRCODE_CANT_CHANGE_RUNTIME_PARAM);
	GUC_check_errmsg("parameter \"%s\" can only be set with SET in a session", name);
	GUC_check_errdetail("A credential set in a configuration file, with ALTER ROLE, ALTER DATABASE "
						"or in a function's SET clause would be stored where others can read it.");
	GUC_check_errhint("Give the server its credentials in its environment or in the shared credentials file.");
	return false;
}

static bool
cred_check_access_key(char **newval, void **extra, GucSource source)
{
	return cred_check_source("seqdist.aws_access_key_id", source);
}

static bool
cred_check_secret(char **newval, void **extra, GucSource source)
{
	return cred_check_source("seqdist.aws_secret_access_key", source);
}

static bool
cred_check_token(char **newval, void **extra, GucSource source)
{
	return cred_check_source("seqdist.aws_session_token", source);
}

/*---- keeping statements that carry a credential out of sight ----*/

/*
 * The first mention of a credential setting's name in text, case
 * insensitive; *namelen is set to the length of the name found.
 */
static const char *
cred_find_setting(const char *text, size_t *namelen)
{
	static const char *const names[] = {
		"aws_access_key_id", "aws_secret_access_key", "aws_session_token",
	};

	if (text == NULL)
		return NULL;
	for (const char *p = text; *p; p++)
	{
		if (*p != 'a' && *p != 'A')
			continue;
		for (size_t i = 0; i < lengthof(names); i++)
		{
			size_t		n = strlen(names[i]);

			if (pg_strncasecmp(p, names[i], n) == 0)
			{
				*namelen = n;
				return p;
			}
		}
	}
	return NULL;
}

static bool
cred_mentions_setting(const char *text)
{
	size_t		namelen;

	return cred_find_setting(text, &namelen) != NULL;
}

/*
 * A statement that sets a credential stays the backend's current query in
 * pg_stat_activity, which members of pg_read_all_stats can read: replace
 * it there.
 */
static void
cred_redact_activity(void)
{
	if (cred_mentions_setting(debug_query_string))
		pgstat_report_activity(STATE_RUNNING, CRED_REDACTED_STATEMENT);
}

/* Replace every occurrence of stmt in *field */
static void
cred_replace_statement(char **field, const char *stmt)
{
	StringInfoData out;
	const char *p = *field;
	const char *hit;
	size_t		n = strlen(stmt);

	if (p == NULL || n == 0 || strstr(p, stmt) == NULL)
		return;
	initStringInfo(&out);
	while ((hit = strstr(p, stmt)) != NULL)
	{
		appendBinaryStringInfo(&out, p, hit - p);
		appendStringInfoString(&out, CRED_REDACTED_STATEMENT);
		p = hit + n;
	}
	appendStringInfoString(&out, p);
	*field = out.data;
}

/*
 * Cut *field after the first credential setting it names, if it is
 * statement text: always when labelled is false, else only when a label
 * ("statement: ", "parameters: ", "execute <name>: " ...: how PostgreSQL
 * logs statements and their parameters) comes before the name.  Messages
 * that merely name a setting ("parameter ... cannot be changed") stay.
 */
static void
cred_cut_after_setting(char **field, bool labelled)
{
	size_t		namelen;
	const char *hit = cred_find_setting(*field, &namelen);
	bool		has_label = false;

	if (hit == NULL)
		return;
	for (const char *p = *field; p + 1 < hit; p++)
		if (p[0] == ':' && p[1] == ' ')
			has_label = true;
	if (labelled && !has_label)
		return;
	*field = psprintf("%.*s [redacted]", (int) (hit - *field + namelen), *field);
}

/*
 * emit_log_hook: no log line shows a statement that mentions a credential
 * setting (it would carry the secret): no STATEMENT: line, the statement's
 * text replaced in what PostgreSQL logs about it (log_statement,
 * log_min_duration_statement, bind parameters, the QUERY and CONTEXT of an
 * error inside a function), and a syntax error reported without quoting the
 * statement.  Runs in the error context's memory.
 */
static void
cred_emit_log(ErrorData *edata)
{
	const char *stmt = debug_query_string;

	if (cred_mentions_setting(stmt))
	{
		edata->hide_stmt = true;
		if (edata->sqlerrcode == ERRCODE_SYNTAX_ERROR)
		{
			edata->message = pstrdup("syntax error in a statement that sets a seqdist credential");
			edata->cursorpos = 0;
		}
		cred_replace_statement(&edata->message, stmt);
		cred_replace_statement(&edata->detail, stmt);
		cred_replace_statement(&edata->detail_log, stmt);
		cred_replace_statement(&edata->context, stmt);
		cred_replace_statement(&edata->internalquery, stmt);
	}
	cred_cut_after_setting(&edata->message, true);
	cred_cut_after_setting(&edata->detail, true);
	cred_cut_after_setting(&edata->detail_log, true);
	cred_cut_after_setting(&edata->context, false);
	cred_cut_after_setting(&edata->internalquery, false);

	if (cred_prev_emit_log_hook)
		cred_prev_emit_log_hook(edata);
}

/*
 * Credentials are never shown, not even to superusers or members of
 * pg_read_all_settings: SHOW and pg_settings say only whether one is set.
 */
static const char *
cred_show_masked(const char *value)
{
	return (value == NULL || value[0] == '\0') ? "" : "********";
}

static const char *
cred_show_access_key(void)
{
	return cred_show_masked(cred_access_key_id);
}

static const char *
cred_show_secret(void)
{
	return cred_show_masked(cred_secret_access_key);
}

static const char *
cred_show_token(void)
{
	return cred_show_masked(cred_session_token);
}

/*
 * Walk the chain.  Without remote, the remote providers give only what is
 * cached.  False when no source has credentials; creds->problem may say
 * why.  With raise_errors, a failing remote provider raises its ERROR.
 */
static bool
cred_from_chain(SeqdistCredentials *creds, bool raise_errors, bool remote)
{
	CredProvider provider;
	bool		absent;

	memset(creds, 0, sizeof(*creds));
	if (cred_from_settings(creds) ||
		cred_from_environment(creds) ||
		cred_from_files(creds, raise_errors, remote))
		return true;
	if (creds->problem)
		return false;			/* a profile that cannot be used ends the chain */
	provider = credentials_remote_configured();
	if (provider == CRED_PROVIDER_NONE)
		return false;
	if (!remote)
		return credentials_cache_peek(provider, NULL, creds);
	return credentials_cache_get(provider, NULL, creds, raise_errors, &absent);
}

bool
credentials_try_resolve(SeqdistCredentials *creds)
{
	return cred_from_chain(creds, false, true);
}

bool
credentials_peek(SeqdistCredentials *creds)
{
	return cred_from_chain(creds, false, false);
}

void
credentials_resolve(SeqdistCredentials *creds)
{
	if (cred_from_chain(creds, true, true))
		return;

	ereport(ERROR,
			(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
			 errmsg("no AWS credentials found for seqdist"),
			 creds->problem ? errdetail_internal("%s", creds->problem) : 0,
			 errhint("Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the server's environment, "
					 "provide a shared credentials or config file (AWS_PROFILE selects the profile), "
					 "web identity, container or instance credentials, "
					 "or set seqdist.aws_access_key_id and seqdist.aws_secret_access_key.")));
}

void
credentials_release(SeqdistCredentials *creds)
{
	if (creds->secret_access_key)
	{
		explicit_bzero(creds->secret_access_key, strlen(creds->secret_access_key));
		pfree(creds->secret_access_key);
	}
	if (creds->session_token)
	{
		explicit_bzero(creds->session_token, strlen(creds->session_token));
		pfree(creds->session_token);
	}
	if (creds->access_key_id)
		pfree(creds->access_key_id);
	if (creds->problem)
		pfree(creds->problem);
	memset(creds, 0, sizeof(*creds));
}

static bool
cred_set(SeqdistCredentials *creds, const char *akid, const char *secret,
		 const char *token, const char *source)
{
	if (akid == NULL || akid[0] == '\0' || secret == NULL || secret[0] == '\0')
		return false;
	creds->access_key_id = pstrdup(akid);
	creds->secret_access_key = pstrdup(secret);
	creds->session_token = (token && token[0]) ? pstrdup(token) : NULL;
	creds->source = source;
	return true;
}

static bool
cred_from_settings(SeqdistCredentials *creds)
{
	return cred_set(creds, cred_access_key_id, cred_secret_access_key,
					cred_session_token, "settings");
}

static bool
cred_from_environment(SeqdistCredentials *creds)
{
	return cred_set(creds, getenv("AWS_ACCESS_KEY_ID"),
					getenv("AWS_SECRET_ACCESS_KEY"),
					getenv("AWS_SESSION_TOKEN"), "environment");
}

/*
 * The path of a shared file: the environment variable env, else
 * ~/.aws/<name> of the server's OS user; NULL when there is none to look for.
 */
static const char *
cred_file_path(const char *env, const char *name, char *pathbuf, size_t size)
{
	const char *path = getenv(env);
	const char *home;

	if (path != NULL && path[0] != '\0')
		return path;
	home = getenv("HOME");
	if (home == NULL || home[0] == '\0')
		return NULL;
	snprintf(pathbuf, size, "%s/.aws/%s", home, name);
	return pathbuf;
}

/* Wipe and free a buffer that held the file's text */
static void
cred_wipe_free(char *buf, size_t size)
{
	explicit_bzero(buf, size);
	pfree(buf);
}

/*
 * Read the whole file into one palloc'd buffer (not through stdio, whose
 * buffer would keep a copy of the secrets after fclose), with one byte to
 * spare for the parser.  CRED_FILE_TOO_BIG when it is larger than
 * CREDFILE_MAX_SIZE; CRED_FILE_MISSING when it cannot be opened or read.
 */
static CredFileStatus
cred_read_file(const char *path, char **bufp, size_t *lenp, size_t *sizep)
{
	size_t		size = 4096;
	size_t		len = 0;
	char	   *buf;
	int			fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return CRED_FILE_MISSING;
	buf = palloc(size);
	for (;;)
	{
		ssize_t		n;

		if (len + 1 >= size)
		{
			size_t		bigger = Min(size * 2, (size_t) CREDFILE_MAX_SIZE + 2);
			char	   *grown;

			if (bigger <= size)
			{
				/* full at CREDFILE_MAX_SIZE + 1 bytes: too big */
				close(fd);
				cred_wipe_free(buf, size);
				return CRED_FILE_TOO_BIG;
			}
			grown = palloc(bigger);
			memcpy(grown, buf, len);
			cred_wipe_free(buf, size);
			buf = grown;
			size = bigger;
		}
		n = read(fd, buf + len, size - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
		{
			close(fd);
			cred_wipe_free(buf, size);
			return CRED_FILE_MISSING;
		}
		if (n == 0)
			break;
		len += n;
	}
	close(fd);
	if (len > CREDFILE_MAX_SIZE)
	{
		cred_wipe_free(buf, size);
		return CRED_FILE_TOO_BIG;
	}
	*bufp = buf;
	*lenp = len;
	*sizep = size;
	return CRED_FILE_OK;
}

/* A profile's role, as one shared file gives it (strings palloc'd) */
typedef struct CredProfileRole
{
	char	   *role_arn;
	char	   *source_profile;
	char	   *session_name;
	char	   *external_id;
	bool		credential_source;
	const char *what;			/* the file that gave it */
	const char *path;
} CredProfileRole;

static char *
cred_pstrdup_or_null(const char *s)
{
	return s ? pstrdup(s) : NULL;
}

/*
 * Credentials from one shared file: section is the profile's header there.
 * A file too big to be one raises an ERROR when raise_errors, and otherwise
 * counts as no file.  A profile with role_arn and no keys fills *role.
 */
static bool
cred_from_file(SeqdistCredentials *creds, bool raise_errors, const char *path,
			   const char *what, const char *section, CredProfileRole *role)
{
	char	   *buf;
	size_t		len;
	size_t		size;
	CredFileValues values;
	bool		found;

	switch (cred_read_file(path, &buf, &len, &size))
	{
		case CRED_FILE_OK:
			break;
		case CRED_FILE_MISSING:
			return false;
		case CRED_FILE_TOO_BIG:
			if (!raise_errors)
				return false;
			ereport(ERROR,
					(errcode(ERRCODE_CONFIG_FILE_ERROR),
					 errmsg("%s \"%s\" is too large", what, path),
					 errdetail("seqdist reads credentials files of at most %d bytes.",
							   CREDFILE_MAX_SIZE)));
	}

	credfile_parse(buf, len, section, &values);
	found = cred_set(creds, values.access_key_id, values.secret_access_key,
					 values.session_token, what);
	if (!found && values.role_arn != NULL)
	{
		role->role_arn = pstrdup(values.role_arn);
		role->source_profile = cred_pstrdup_or_null(values.source_profile);
		role->session_name = cred_pstrdup_or_null(values.role_session_name);
		role->external_id = cred_pstrdup_or_null(values.external_id);
		role->credential_source = values.credential_source != NULL;
		role->what = what;
		role->path = path;
	}
	cred_wipe_free(buf, size);
	return found;
}

/*
 * A profile that cannot be used ends the chain: an ERROR (0A000: what
 * seqdist does not support; 28000: a source profile without keys) when
 * raise_errors, else creds->problem.
 */
static bool
cred_profile_unusable(SeqdistCredentials *creds, bool raise_errors, int sqlstate,
					  char *problem)
{
	if (!raise_errors)
	{
		creds->problem = problem;
		return false;
	}
	ereport(ERROR,
			(errcode(sqlstate),
			 errmsg("%s", problem),
			 sqlstate == ERRCODE_FEATURE_NOT_SUPPORTED ?
			 errhint("Give the profile aws_access_key_id and aws_secret_access_key, or role_arn with "
					 "a source_profile that has them, or use web identity, container or instance credentials.") : 0));
	return false;
}

/*
 * Credentials of profile from the shared credentials file, then the shared
 * config file.  A profile with role_arn and source_profile (whose own keys
 * are static) is a role assumed through STS AssumeRole (cached like every
 * temporary credential; without remote, only the cached ones).
 */
static bool
cred_from_profile(SeqdistCredentials *creds, bool raise_errors, bool remote,
				  const char *profile, bool allow_role)
{
	char		pathbuf[MAXPGPATH];
	const char *path;
	char	   *section;
	CredProfileRole role;
	CredAssumeRole assume;
	bool		found;
	bool		absent;

	memset(&role, 0, sizeof(role));
	path = cred_file_path("AWS_SHARED_CREDENTIALS_FILE", "credentials", pathbuf, sizeof(pathbuf));
	if (path != NULL &&
		cred_from_file(creds, raise_errors, path, "shared credentials file", profile, &role))
		return true;
	if (role.role_arn == NULL)
	{
		path = cred_file_path("AWS_CONFIG_FILE", "config", pathbuf, sizeof(pathbuf));
		if (path == NULL)
			return false;
		/* the config file names its profiles "[profile NAME]", but "[default]" */
		section = strcmp(profile, "default") == 0 ? pstrdup(profile) : psprintf("profile %s", profile);
		found = cred_from_file(creds, raise_errors, path, "shared config file", section, &role);
		pfree(section);
		if (found)
			return true;
	}
	if (role.role_arn == NULL)
		return false;

	if (!allow_role || role.credential_source || role.source_profile == NULL)
		return cred_profile_unusable(creds, raise_errors, ERRCODE_FEATURE_NOT_SUPPORTED,
									 psprintf("profile \"%s\" of %s \"%s\" assumes a role %s, which seqdist does not support",
											  profile, role.what, role.path,
											  !allow_role ? "for another profile's role" :
											  role.credential_source ? "with credential_source" :
											  "without source_profile"));

	memset(&assume, 0, sizeof(assume));
	if (!cred_from_profile(&assume.source, raise_errors, remote, role.source_profile, false))
	{
		if (assume.source.problem)
			return cred_profile_unusable(creds, raise_errors, ERRCODE_FEATURE_NOT_SUPPORTED,
										 assume.source.problem);
		return cred_profile_unusable(creds, raise_errors, ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION,
									 psprintf("source profile \"%s\" of profile \"%s\" has no aws_access_key_id and aws_secret_access_key",
											  role.source_profile, profile));
	}
	assume.role_arn = role.role_arn;
	assume.session_name = role.session_name;
	assume.external_id = role.external_id;
	found = remote ?
		credentials_cache_get(CRED_PROVIDER_ASSUME_ROLE, &assume, creds, raise_errors, &absent) :
		credentials_cache_peek(CRED_PROVIDER_ASSUME_ROLE, &assume, creds);
	credentials_release(&assume.source);
	if (!found && creds->problem == NULL && remote)
		creds->problem = pstrdup("STS AssumeRole gave no credentials");
	return found;
}

/* Credentials of profile AWS_PROFILE, or "default", from the shared files */
static bool
cred_from_files(SeqdistCredentials *creds, bool raise_errors, bool remote)
{
	const char *profile = getenv("AWS_PROFILE");

	if (profile == NULL || profile[0] == '\0')
		profile = "default";
	return cred_from_profile(creds, raise_errors, remote, profile, true);
}
