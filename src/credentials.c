/*-------------------------------------------------------------------------
 *
 * credentials.c
 *		Find the AWS credentials a server process can use.
 *
 * The sources, in order (the first complete one wins):
 *	1. the superuser-only settings seqdist.aws_access_key_id,
 *	   seqdist.aws_secret_access_key and seqdist.aws_session_token;
 *	2. the server's environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
 *	   AWS_SESSION_TOKEN;
 *	3. the shared credentials file (AWS_SHARED_CREDENTIALS_FILE, else
 *	   ~/.aws/credentials of the server's OS user), profile AWS_PROFILE or
 *	   "default".
 *
 * Credentials are resolved for every request rather than cached, so a
 * rotated key in the environment of a new backend or in the credentials file
 * is used at once.  No value found here is ever put into a message.
 *
 * The settings are superuser-only in both directions: a non-superuser can
 * neither set nor read them; SHOW masks them even for superusers; and they
 * carry no check hook, because a check hook's rejection message would echo
 * the value.
 *
 * Locking: none; nothing here is shared between processes.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "utils/guc.h"

#include "credentials.h"

#define CRED_LINE_MAX 4096

/*---- settings ----*/
static char *cred_access_key_id = NULL;
static char *cred_secret_access_key = NULL;
static char *cred_session_token = NULL;

static bool cred_from_settings(SeqdistCredentials *creds);
static bool cred_from_environment(SeqdistCredentials *creds);
static bool cred_from_file(SeqdistCredentials *creds);
static char *cred_trim(char *s);
static const char *cred_show_access_key(void);
static const char *cred_show_secret(void);
static const char *cred_show_token(void);

void
credentials_init(void)
{
	DefineCustomStringVariable("seqdist.aws_access_key_id",
							   "AWS access key id; overrides the environment and the shared credentials file.",
							   NULL,
							   &cred_access_key_id, "",
							   PGC_SUSET, GUC_SUPERUSER_ONLY | GUC_NO_SHOW_ALL,
							   NULL, NULL, cred_show_access_key);
	DefineCustomStringVariable("seqdist.aws_secret_access_key",
							   "AWS secret access key; overrides the environment and the shared credentials file.",
							   NULL,
							   &cred_secret_access_key, "",
							   PGC_SUSET, GUC_SUPERUSER_ONLY | GUC_NO_SHOW_ALL,
							   NULL, NULL, cred_show_secret);
	DefineCustomStringVariable("seqdist.aws_session_token",
							   "AWS session token for temporary credentials.",
							   NULL,
							   &cred_session_token, "",
							   PGC_SUSET, GUC_SUPERUSER_ONLY | GUC_NO_SHOW_ALL,
							   NULL, NULL, cred_show_token);
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

bool
credentials_try_resolve(SeqdistCredentials *creds)
{
	memset(creds, 0, sizeof(*creds));
	return cred_from_settings(creds) ||
		cred_from_environment(creds) ||
		cred_from_file(creds);
}

void
credentials_resolve(SeqdistCredentials *creds)
{
	if (credentials_try_resolve(creds))
		return;

	ereport(ERROR,
			(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
			 errmsg("no AWS credentials found for seqdist"),
			 errhint("Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the server's environment, "
					 "provide a shared credentials file (AWS_PROFILE selects the profile), "
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
 * Read the INI-style shared credentials file.  Only the three keys seqdist
 * needs are read; anything else in the profile is ignored.
 */
static bool
cred_from_file(SeqdistCredentials *creds)
{
	const char *path = getenv("AWS_SHARED_CREDENTIALS_FILE");
	const char *profile = getenv("AWS_PROFILE");
	char		pathbuf[MAXPGPATH];
	char		line[CRED_LINE_MAX];
	char	   *akid = NULL;
	char	   *secret = NULL;
	char	   *token = NULL;
	bool		in_profile = false;
	bool		found;
	FILE	   *f;

	if (profile == NULL || profile[0] == '\0')
		profile = "default";
	if (path == NULL || path[0] == '\0')
	{
		const char *home = getenv("HOME");

		if (home == NULL || home[0] == '\0')
			return false;
		snprintf(pathbuf, sizeof(pathbuf), "%s/.aws/credentials", home);
		path = pathbuf;
	}

	f = fopen(path, "r");
	if (f == NULL)
		return false;

	while (fgets(line, sizeof(line), f) != NULL)
	{
		char	   *s = cred_trim(line);
		char	   *eq;
		char	  **dest = NULL;

		if (s[0] == '\0' || s[0] == '#' || s[0] == ';')
			continue;
		if (s[0] == '[')
		{
			char	   *end = strchr(s, ']');

			if (end)
				*end = '\0';
			in_profile = (strcmp(cred_trim(s + 1), profile) == 0);
			continue;
		}
		if (!in_profile || (eq = strchr(s, '=')) == NULL)
			continue;
		*eq = '\0';
		s = cred_trim(s);
		if (strcmp(s, "aws_access_key_id") == 0)
			dest = &akid;
		else if (strcmp(s, "aws_secret_access_key") == 0)
			dest = &secret;
		else if (strcmp(s, "aws_session_token") == 0)
			dest = &token;
		if (dest)
		{
			if (*dest)
			{
				explicit_bzero(*dest, strlen(*dest));
				pfree(*dest);
			}
			*dest = pstrdup(cred_trim(eq + 1));
		}
	}
	explicit_bzero(line, sizeof(line));
	fclose(f);

	found = cred_set(creds, akid, secret, token, "shared credentials file");
	if (akid)
		pfree(akid);
	if (secret)
	{
		explicit_bzero(secret, strlen(secret));
		pfree(secret);
	}
	if (token)
	{
		explicit_bzero(token, strlen(token));
		pfree(token);
	}
	return found;
}

static char *
cred_trim(char *s)
{
	char	   *end;

	while (isspace((unsigned char) *s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char) end[-1]))
		*--end = '\0';
	return s;
}
