/*-------------------------------------------------------------------------
 *
 * credentials_remote.c
 *		Temporary credentials from the providers that answer over HTTP, as
 *		the AWS SDKs ask them.
 *
 * The providers, in the order of the chain (the first one the server's
 * environment configures is the one asked; it is not skipped when it fails):
 *	- web identity: AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN (EKS IAM
 *	  roles for service accounts).  The token file is read at every refresh
 *	  (it rotates) and sent, unsigned, in an STS AssumeRoleWithWebIdentity
 *	  Query API POST to seqdist.sts_endpoint, by default the regional
 *	  endpoint of seqdist.region; the XML answer is parsed by
 *	  credentials_parse.c.
 *	- container credentials: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (on
 *	  http://169.254.170.2, ECS task roles) or
 *	  AWS_CONTAINER_CREDENTIALS_FULL_URI (EKS Pod Identity, ...), with the
 *	  Authorization header from AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (read
 *	  at every refresh) or AWS_CONTAINER_AUTHORIZATION_TOKEN.  A FULL_URI
 *	  over plain http must name a loopback address (or localhost) or one of
 *	  the ECS and EKS link-local addresses; any other host needs https.
 *	- EC2 instance metadata, IMDSv2 only: a PUT for a session token, then
 *	  the role's name and the role's credentials with that token.  Never
 *	  IMDSv1.  Unless AWS_EC2_METADATA_DISABLED is "true".  The endpoint is
 *	  AWS_EC2_METADATA_SERVICE_ENDPOINT, else http://169.254.169.254 (or
 *	  http://[fd00:ec2::254] with AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6);
 *	  each request has AWS_METADATA_SERVICE_TIMEOUT seconds (1) and
 *	  AWS_METADATA_SERVICE_NUM_ATTEMPTS attempts (1), the SDKs' defaults.  No
 *	  answer at all means "not on EC2": no credentials, not an error of its
 *	  own.
 *
 * Requests to the container and metadata endpoints never go through
 * seqdist.proxy; STS requests do, like DynamoDB's.  Every request has a
 * short timeout and stays cancellable (http.c).  Answers are wiped after
 * use; remote text reaches a message only escaped, cut short, and with the
 * tokens seqdist sent replaced.
 *
 * Locking: none; the caching and the single refresher are
 * credentials_cache.c's business.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>

#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "credentials_parse.h"
#include "credentials_remote.h"
#include "http.h"
#include "sigv4.h"

/* Container credentials: per attempt, and attempts (transport failures and 5xx) */
#define CRED_CONTAINER_TIMEOUT_MS 2000
#define CRED_CONTAINER_ATTEMPTS 2
#define CRED_ECS_HOST "http://169.254.170.2"

#define CRED_IMDS_DEFAULT "http://169.254.169.254"
#define CRED_IMDS_DEFAULT_V6 "http://[fd00:ec2::254]"
/* What the session token is asked for: the SDKs' six hours */
#define CRED_IMDS_TOKEN_TTL "21600"
#define CRED_IMDS_ROLE_PATH "/latest/meta-data/iam/security-credentials/"

/* The largest token file read (a web identity or an authorization token) */
#define CRED_TOKEN_FILE_MAX (64 * 1024)
/* How much remote text a message quotes */
#define CRED_QUOTE_MAX 300

/*---- settings ----*/
static char *cred_sts_endpoint = NULL;

static bool cred_check_sts_endpoint(char **newval, void **extra, GucSource source);

void
credentials_remote_init(void)
{
	DefineCustomStringVariable("seqdist.sts_endpoint",
							   "STS endpoint for web identity credentials (http:// or https://).",
							   "Empty means the regional endpoint of seqdist.region.",
							   &cred_sts_endpoint, "",
							   PGC_SIGHUP, GUC_SUPERUSER_ONLY,
							   cred_check_sts_endpoint, NULL, NULL);
}

static bool
cred_check_sts_endpoint(char **newval, void **extra, GucSource source)
{
	const char *problem;

	if (*newval == NULL || (*newval)[0] == '\0')
		return true;
	problem = http_url_problem(*newval, "STS endpoint", true);
	if (problem)
		GUC_check_errdetail("%s", problem);
	return problem == NULL;
}

static const char *
cred_env(const char *name)
{
	const char *v = getenv(name);

	return (v != NULL && v[0] != '\0') ? v : NULL;
}

CredProvider
credentials_remote_configured(void)
{
	const char *disabled = cred_env("AWS_EC2_METADATA_DISABLED");

	if (cred_env("AWS_WEB_IDENTITY_TOKEN_FILE") && cred_env("AWS_ROLE_ARN"))
		return CRED_PROVIDER_WEB_IDENTITY;
	if (cred_env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") ||
		cred_env("AWS_CONTAINER_CREDENTIALS_FULL_URI"))
		return CRED_PROVIDER_CONTAINER;
	if (disabled && pg_strcasecmp(disabled, "true") == 0)
		return CRED_PROVIDER_NONE;
	return CRED_PROVIDER_IMDS;
}

const char *
credentials_remote_name(CredProvider provider)
{
	switch (provider)
	{
		case CRED_PROVIDER_WEB_IDENTITY:
			return "web identity (STS AssumeRoleWithWebIdentity)";
		case CRED_PROVIDER_CONTAINER:
			return "the container credentials endpoint";
		case CRED_PROVIDER_IMDS:
			return "the EC2 instance metadata service (IMDSv2)";
		case CRED_PROVIDER_ASSUME_ROLE:
			return "a profile's role (STS AssumeRole)";
		case CRED_PROVIDER_NONE:
			break;
	}
	return "no provider";
}

const char *
credentials_remote_hint(CredProvider provider)
{
	switch (provider)
	{
		case CRED_PROVIDER_WEB_IDENTITY:
			return "Check AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE, seqdist.sts_endpoint and seqdist.region.";
		case CRED_PROVIDER_CONTAINER:
			return "Check AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or AWS_CONTAINER_CREDENTIALS_FULL_URI, "
				"and AWS_CONTAINER_AUTHORIZATION_TOKEN or AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE.";
		case CRED_PROVIDER_IMDS:
			return "Check the instance's IAM role and metadata options, or AWS_EC2_METADATA_SERVICE_ENDPOINT.";
		case CRED_PROVIDER_ASSUME_ROLE:
			return "Check the profile's role_arn and source_profile, the role's trust policy, "
				"seqdist.sts_endpoint and seqdist.region.";
		case CRED_PROVIDER_NONE:
			break;
	}
	return NULL;
}

void
credentials_fetched_release(CredFetched *f)
{
	if (f->secret_access_key)
	{
		explicit_bzero(f->secret_access_key, strlen(f->secret_access_key));
		pfree(f->secret_access_key);
	}
	if (f->session_token)
	{
		explicit_bzero(f->session_token, strlen(f->session_token));
		pfree(f->session_token);
	}
	if (f->access_key_id)
		pfree(f->access_key_id);
	memset(f, 0, sizeof(*f));
}

static void
cred_wipe_free(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	pfree(s);
}

/*
 * Remote text fit for a message: the secret (a token seqdist sent) replaced
 * wherever it occurs, bytes that are not printable ASCII shown as \xNN, cut
 * after about CRED_QUOTE_MAX bytes.
 */
static char *
cred_quote(const char *text, size_t len, const char *secret)
{
	return http_quote(text, len, CRED_QUOTE_MAX, &secret, 1);
}

/*
 * Read a token file whole (at most CRED_TOKEN_FILE_MAX bytes), without
 * trailing white space; NULL with *problem set when it cannot be read or
 * holds no token.  The result is palloc'd; wipe it after use.
 */
static char *
cred_read_token_file(const char *path, const char *what, char **problem)
{
	char	   *buf = palloc(CRED_TOKEN_FILE_MAX + 2);
	size_t		len = 0;
	int			fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
	{
		*problem = psprintf("The %s file \"%s\" cannot be opened: %m.", what, path);
		pfree(buf);
		return NULL;
	}
	for (;;)
	{
		ssize_t		n = read(fd, buf + len, CRED_TOKEN_FILE_MAX + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
		{
			*problem = psprintf("The %s file \"%s\" cannot be read: %m.", what, path);
			close(fd);
			explicit_bzero(buf, CRED_TOKEN_FILE_MAX + 2);
			pfree(buf);
			return NULL;
		}
		if (n == 0 || len + n > CRED_TOKEN_FILE_MAX)
		{
			len += n;
			break;
		}
		len += n;
	}
	close(fd);
	while (len > 0 && isspace((unsigned char) buf[len - 1]))
		len--;
	buf[len] = '\0';
	if (len > CRED_TOKEN_FILE_MAX)
		*problem = psprintf("The %s file \"%s\" is larger than %d bytes.", what, path,
							CRED_TOKEN_FILE_MAX);
	else if (len == 0)
		*problem = psprintf("The %s file \"%s\" is empty.", what, path);
	else if (strlen(buf) != len || strpbrk(buf, "\r\n") != NULL)
		*problem = psprintf("The %s file \"%s\" holds more than one line of text.", what, path);
	else
		return buf;
	explicit_bzero(buf, CRED_TOKEN_FILE_MAX + 2);
	pfree(buf);
	return NULL;
}

/* Seconds since 1970 to TimestampTz */
static TimestampTz
cred_epoch_to_timestamptz(int64 epoch)
{
	return (TimestampTz) ((epoch - (int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY) *
						  USECS_PER_SEC);
}

/* A value of an answer is plain printable ASCII, as keys and tokens are */
static bool
cred_plain_value(const char *s, size_t len)
{
	if (len == 0 || len > 16384)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f || s[i] == '<' || s[i] == '&')
			return false;
	return true;
}

/*
 * One request with up to attempts attempts (transport failures and 5xx are
 * retried at once; the provider is local, or the request is unsigned and
 * idempotent).  False with *problem set when no answer came.
 */
static bool
cred_send(HttpRequest *req, int attempts, HttpResponse *resp, char **problem)
{
	for (int attempt = 1;; attempt++)
	{
		http_request(req, resp);
		if (resp->outcome == HTTP_RESPONSE && resp->status < 500)
			return true;
		if (attempt >= attempts)
			break;
		http_response_free(resp);
		CHECK_FOR_INTERRUPTS();
	}
	if (resp->outcome == HTTP_RESPONSE)
		return true;
	*problem = psprintf("%s %s failed after %d attempt%s: %s", req->method, req->url, attempts,
						attempts == 1 ? "" : "s", resp->error ? resp->error : "transport failure");
	http_response_free(resp);
	return false;
}

/*
 * The JSON credentials of a container or metadata answer:
 * AccessKeyId, SecretAccessKey, Token, Expiration.
 */
static bool
cred_from_json(const HttpResponse *resp, const char *who, CredFetched *out, char **problem)
{
	json_t	   *doc = json_loadb(resp->body, resp->body_len, 0, NULL);
	const char *names[4] = {"AccessKeyId", "SecretAccessKey", "Token", "Expiration"};
	const char *values[4] = {NULL, NULL, NULL, NULL};
	int64_t		epoch;
	bool		ok = false;

	if (doc == NULL || !json_is_object(doc))
		*problem = psprintf("%s answered something that is not a JSON object.", who);
	else
	{
		json_t	   *code = json_object_get(doc, "Code");

		for (int i = 0; i < 4; i++)
		{
			json_t	   *v = json_object_get(doc, names[i]);

			if (json_is_string(v) && cred_plain_value(json_string_value(v), json_string_length(v)))
				values[i] = json_string_value(v);
		}
		if (json_is_string(code) && strcmp(json_string_value(code), "Success") != 0)
			*problem = psprintf("%s answered Code \"%s\".", who,
								cred_quote(json_string_value(code), json_string_length(code), NULL));
		else if (values[0] == NULL || values[1] == NULL || values[3] == NULL)
			*problem = psprintf("%s answered no AccessKeyId, SecretAccessKey and Expiration.", who);
		else if (credparse_time(values[3], strlen(values[3]), &epoch) != 0)
			*problem = psprintf("%s answered an Expiration that is not a timestamp: \"%s\".", who,
								cred_quote(values[3], strlen(values[3]), NULL));
		else
		{
			out->access_key_id = pstrdup(values[0]);
			out->secret_access_key = pstrdup(values[1]);
			out->session_token = values[2] ? pstrdup(values[2]) : NULL;
			out->expiration = cred_epoch_to_timestamptz(epoch);
			ok = true;
		}
	}
	if (doc)
	{
		/* jansson frees without wiping: wipe the secrets it holds first */
		for (int i = 0; i < 3; i++)
		{
			json_t	   *v = json_object_get(doc, names[i]);

			if (json_is_string(v))
				explicit_bzero((char *) json_string_value(v), json_string_length(v));
		}
		json_decref(doc);
	}
	return ok;
}

/*---- web identity ----*/

/* Append s to buf, percent-encoded as the Query API's form body wants */
static void
cred_append_encoded(StringInfo buf, const char *s)
{
	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
	{
		if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~')
			appendStringInfoChar(buf, (char) *p);
		else
			appendStringInfo(buf, "%%%02X", *p);
	}
}

/* The STS endpoint: the setting, else the regional endpoint of seqdist.region */
static char *
cred_sts_url(void)
{
	const char *region;

	if (cred_sts_endpoint && cred_sts_endpoint[0])
		return pstrdup(cred_sts_endpoint);
	region = GetConfigOption("seqdist.region", true, false);
	if (region == NULL || region[0] == '\0')
		region = "us-east-1";
	if (strncmp(region, "cn-", 3) == 0)
		return psprintf("https://sts.%s.amazonaws.com.cn/", region);
	return psprintf("https://sts.%s.amazonaws.com/", region);
}

/*
 * POST an STS Query API body and take the credentials from its answer;
 * secret is a token the body carries, replaced wherever the answer echoes it
 */
static CredFetchOutcome
cred_sts_call(const char *url, const char *const *headers, int nheaders,
			  const StringInfoData *body, const char *secret, CredFetched *out,
			  char **problem)
{
	HttpRequest req;
	HttpResponse resp;
	CredParseSts sts;
	int64_t		epoch;
	CredFetchOutcome outcome = CRED_FETCH_FAILED;

	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = url;
	req.headers = headers;
	req.nheaders = nheaders;
	req.body = body->data;
	req.body_len = body->len;
	req.what = "STS";

	if (!cred_send(&req, 1, &resp, problem))
		return CRED_FETCH_FAILED;
	if (credparse_sts_xml(resp.body, resp.body_len, &sts) != 0)
		*problem = psprintf("STS at %s answered HTTP %ld with malformed XML: %s", url, resp.status,
							cred_quote(resp.body, resp.body_len, secret));
	else if (resp.status != 200)
		*problem = psprintf("STS at %s answered HTTP %ld: %s: %s", url, resp.status,
							sts.error_code.ptr ? cred_quote(sts.error_code.ptr, sts.error_code.len, secret) : "(no error code)",
							sts.error_message.ptr ? cred_quote(sts.error_message.ptr, sts.error_message.len, secret) : "");
	else if (!sts.access_key_id.ptr || !sts.secret_access_key.ptr ||
			 !sts.session_token.ptr || !sts.expiration.ptr ||
			 !cred_plain_value(sts.access_key_id.ptr, sts.access_key_id.len) ||
			 !cred_plain_value(sts.secret_access_key.ptr, sts.secret_access_key.len) ||
			 !cred_plain_value(sts.session_token.ptr, sts.session_token.len))
		*problem = psprintf("STS at %s answered no usable AccessKeyId, SecretAccessKey, SessionToken and Expiration.", url);
	else if (credparse_time(sts.expiration.ptr, sts.expiration.len, &epoch) != 0)
		*problem = psprintf("STS at %s answered an Expiration that is not a timestamp.", url);
	else
	{
		out->access_key_id = pnstrdup(sts.access_key_id.ptr, sts.access_key_id.len);
		out->secret_access_key = pnstrdup(sts.secret_access_key.ptr, sts.secret_access_key.len);
		out->session_token = pnstrdup(sts.session_token.ptr, sts.session_token.len);
		out->expiration = cred_epoch_to_timestamptz(epoch);
		outcome = CRED_FETCH_OK;
	}
	http_response_free(&resp);
	return outcome;
}

/* The role session name: the configured one, else seqdist-<pid>-<time> */
static void
cred_append_session_name(StringInfo body, const char *session)
{
	appendStringInfoString(body, "&RoleSessionName=");
	if (session)
		cred_append_encoded(body, session);
	else
		appendStringInfo(body, "seqdist-%d-%ld", MyProcPid, (long) time(NULL));
}

static CredFetchOutcome
cred_fetch_web_identity(CredFetched *out, char **problem)
{
	char	   *token;
	char	   *url = cred_sts_url();
	StringInfoData body;
	const char *headers[2] = {"Content-Type: application/x-www-form-urlencoded; charset=utf-8",
	"Accept: text/xml"};
	CredFetchOutcome outcome = CRED_FETCH_FAILED;

	token = cred_read_token_file(cred_env("AWS_WEB_IDENTITY_TOKEN_FILE"), "web identity token", problem);
	if (token == NULL)
		return CRED_FETCH_FAILED;

	initStringInfo(&body);
	appendStringInfoString(&body, "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=");
	cred_append_encoded(&body, cred_env("AWS_ROLE_ARN"));
	cred_append_session_name(&body, cred_env("AWS_ROLE_SESSION_NAME"));
	appendStringInfoString(&body, "&WebIdentityToken=");
	cred_append_encoded(&body, token);

	PG_TRY();
	{
		outcome = cred_sts_call(url, headers, lengthof(headers), &body, token, out, problem);
	}
	PG_FINALLY();
	{
		explicit_bzero(body.data, body.len);
		pfree(body.data);
		cred_wipe_free(token);
	}
	PG_END_TRY();
	return outcome;
}

/* host[:port] and path of an http(s) URL, palloc'd */
static void
cred_split_url(const char *url, char **host, char **path)
{
	const char *h = strstr(url, "://") + 3;
	const char *slash = strchr(h, '/');

	*host = slash ? pnstrdup(h, slash - h) : pstrdup(h);
	*path = pstrdup(slash ? slash : "/");
}

/*
 * STS AssumeRole for a profile's role_arn, signed (SigV4, service "sts",
 * region seqdist.region) with the source profile's keys
 */
static CredFetchOutcome
cred_fetch_assume_role(const CredAssumeRole *assume, CredFetched *out, char **problem)
{
	char	   *url = cred_sts_url();
	const char *region = GetConfigOption("seqdist.region", true, false);
	char	   *host;
	char	   *path;
	StringInfoData body;
	SigV4Header sh[5];
	int			nsh = 0;
	SigV4Request req;
	SigV4Credentials sc;
	SigV4Result sig;
	char		amz_date[17];
	time_t		now = time(NULL);
	struct tm	tmbuf;
	const char *volatile lines[7];
	volatile int nlines = 0;
	CredFetchOutcome outcome = CRED_FETCH_FAILED;

	if (region == NULL || region[0] == '\0')
		region = "us-east-1";
	cred_split_url(url, &host, &path);
	strftime(amz_date, sizeof(amz_date), "%Y%m%dT%H%M%SZ", gmtime_r(&now, &tmbuf));

	initStringInfo(&body);
	appendStringInfoString(&body, "Action=AssumeRole&Version=2011-06-15&RoleArn=");
	cred_append_encoded(&body, assume->role_arn);
	cred_append_session_name(&body, assume->session_name);
	if (assume->external_id)
	{
		appendStringInfoString(&body, "&ExternalId=");
		cred_append_encoded(&body, assume->external_id);
	}

	sh[nsh++] = (SigV4Header) {"Host", host};
	sh[nsh++] = (SigV4Header) {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"};
	sh[nsh++] = (SigV4Header) {"X-Amz-Date", amz_date};
	if (assume->source.session_token)
		sh[nsh++] = (SigV4Header) {"X-Amz-Security-Token", assume->source.session_token};
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.path = path;
	req.headers = sh;
	req.nheaders = nsh;
	req.payload = (const unsigned char *) body.data;
	req.payload_len = body.len;
	sc.access_key_id = assume->source.access_key_id;
	sc.secret_access_key = assume->source.secret_access_key;
	sc.session_token = assume->source.session_token;
	if (sigv4_sign(&req, &sc, region, "sts", amz_date, &sig) != 0)
	{
		*problem = psprintf("The AssumeRole request to %s could not be signed.", url);
		return CRED_FETCH_FAILED;
	}
	for (int i = 0; i < nsh; i++)
		lines[nlines++] = psprintf("%s: %s", sh[i].name, sh[i].value);
	lines[nlines++] = psprintf("Authorization: %s", sig.authorization);
	lines[nlines++] = "Accept: text/xml";
	sigv4_result_free(&sig);

	PG_TRY();
	{
		outcome = cred_sts_call(url, (const char *const *) lines, nlines, &body, NULL, out, problem);
	}
	PG_FINALLY();
	{
		/* the token line is wiped, not just freed */
		for (int i = 0; i < nlines - 1; i++)
		{
			explicit_bzero((char *) lines[i], strlen(lines[i]));
			pfree((char *) lines[i]);
		}
		pfree(body.data);
	}
	PG_END_TRY();
	return outcome;
}

/*---- container credentials ----*/

/*
 * May credentials be fetched from url over plain http?  Only from a
 * loopback address (or localhost), the ECS address 169.254.170.2 or the EKS
 * Pod Identity addresses 169.254.170.23 and fd00:ec2::23.
 */
static bool
cred_container_host_allowed(const char *url)
{
	const char *host = url + strlen("http://");
	const char *end;
	char		name[64];
	unsigned char addr[16];

	if (*host == '[')
	{
		host++;
		end = strchr(host, ']');
	}
	else
		end = host + strcspn(host, ":/");
	if (end == NULL || end - host <= 0 || end - host >= (ptrdiff_t) sizeof(name))
		return false;
	memcpy(name, host, end - host);
	name[end - host] = '\0';
	if (pg_strcasecmp(name, "localhost") == 0)
		return true;
	if (inet_pton(AF_INET, name, addr) == 1)
		return addr[0] == 127 ||
			(addr[0] == 169 && addr[1] == 254 && addr[2] == 170 && (addr[3] == 2 || addr[3] == 23));
	if (inet_pton(AF_INET6, name, addr) == 1)
	{
		static const unsigned char loopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
		static const unsigned char eks[16] = {0xfd, 0, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x23};

		return memcmp(addr, loopback, 16) == 0 || memcmp(addr, eks, 16) == 0;
	}
	return false;
}

/* The container endpoint's URL, or NULL with *problem set */
static pg_noinline char *
cred_container_url(char **problem)
{
	const char *relative = cred_env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	const char *full = cred_env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	const char *bad;

	if (relative)
	{
		if (relative[0] != '/' || strpbrk(relative, " \t\r\n#") != NULL)
		{
			*problem = pstrdup("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI must be a path that starts with \"/\".");
			return NULL;
		}
		return psprintf("%s%s", CRED_ECS_HOST, relative);
	}
	bad = http_url_problem(full, "container credentials URI", true);
	if (bad)
	{
		*problem = psprintf("AWS_CONTAINER_CREDENTIALS_FULL_URI is not usable: %s", bad);
		return NULL;
	}
	if (strncmp(full, "http://", 7) == 0 && !cred_container_host_allowed(full))
	{
		*problem = pstrdup("AWS_CONTAINER_CREDENTIALS_FULL_URI over http must name a loopback address, "
						   "169.254.170.2, 169.254.170.23 or fd00:ec2::23; any other host needs https.");
		return NULL;
	}
	return pstrdup(full);
}

static CredFetchOutcome
cred_fetch_container(CredFetched *out, char **problem)
{
	char	   *url = cred_container_url(problem);
	const char *token_file = cred_env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	char	   *token = NULL;
	char	   *volatile auth = NULL;
	const char *headers[2];
	int			nheaders = 0;
	HttpRequest req;
	HttpResponse resp;
	CredFetchOutcome outcome = CRED_FETCH_FAILED;

	if (url == NULL)
		return CRED_FETCH_FAILED;
	if (token_file)
	{
		token = cred_read_token_file(token_file, "container authorization token", problem);
		if (token == NULL)
			return CRED_FETCH_FAILED;
	}
	else if (cred_env("AWS_CONTAINER_AUTHORIZATION_TOKEN"))
	{
		token = pstrdup(cred_env("AWS_CONTAINER_AUTHORIZATION_TOKEN"));
		if (strpbrk(token, "\r\n") != NULL)
		{
			cred_wipe_free(token);
			*problem = pstrdup("AWS_CONTAINER_AUTHORIZATION_TOKEN holds a line break.");
			return CRED_FETCH_FAILED;
		}
	}
	headers[nheaders++] = "Accept: application/json";
	if (token)
	{
		auth = psprintf("Authorization: %s", token);
		headers[nheaders++] = auth;
	}

	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = url;
	req.headers = headers;
	req.nheaders = nheaders;
	req.connect_timeout_ms = CRED_CONTAINER_TIMEOUT_MS;
	req.timeout_ms = CRED_CONTAINER_TIMEOUT_MS;
	req.direct = true;
	req.what = "container credentials";

	PG_TRY();
	{
		if (cred_send(&req, CRED_CONTAINER_ATTEMPTS, &resp, problem))
		{
			if (resp.status != 200)
				*problem = psprintf("The container credentials endpoint %s answered HTTP %ld: %s", url,
									resp.status, cred_quote(resp.body, resp.body_len, token));
			else if (cred_from_json(&resp, "The container credentials endpoint", out, problem))
				outcome = CRED_FETCH_OK;
			http_response_free(&resp);
		}
	}
	PG_FINALLY();
	{
		cred_wipe_free(auth);
		cred_wipe_free(token);
	}
	PG_END_TRY();
	return outcome;
}

/*---- EC2 instance metadata (IMDSv2) ----*/

/* A whole number of at least 1 from the environment, else dflt */
static int
cred_env_int(const char *name, int dflt, int max)
{
	const char *v = cred_env(name);
	char	   *end;
	long		n;

	if (v == NULL)
		return dflt;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || *end != '\0' || n < 1)
		return dflt;
	return (int) Min(n, (long) max);
}

/* The metadata endpoint without a trailing "/", or NULL with *problem set */
static pg_noinline char *
cred_imds_base(char **problem)
{
	const char *endpoint = cred_env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	const char *mode = cred_env("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
	const char *bad;
	char	   *base;
	size_t		len;

	if (endpoint == NULL)
		return pstrdup(mode && pg_strcasecmp(mode, "IPv6") == 0 ? CRED_IMDS_DEFAULT_V6 : CRED_IMDS_DEFAULT);
	bad = http_url_problem(endpoint, "instance metadata endpoint", false);
	if (bad)
	{
		*problem = psprintf("AWS_EC2_METADATA_SERVICE_ENDPOINT is not usable: %s", bad);
		return NULL;
	}
	base = pstrdup(endpoint);
	len = strlen(base);
	while (len > 0 && base[len - 1] == '/')
		base[--len] = '\0';
	return base;
}

static CredFetchOutcome
cred_fetch_imds(CredFetched *out, char **problem)
{
	char	   *volatile base = cred_imds_base(problem);
	int			timeout_ms;
	int			attempts = cred_env_int("AWS_METADATA_SERVICE_NUM_ATTEMPTS", 1, 10);
	HttpRequest req;
	HttpResponse resp;
	const char *ttl_header[1] = {"X-aws-ec2-metadata-token-ttl-seconds: " CRED_IMDS_TOKEN_TTL};
	const char *token_header[1];
	char	   *volatile token_line = NULL;
	char	   *volatile role = NULL;
	CredFetchOutcome outcome = CRED_FETCH_FAILED;

	if (base == NULL)
		return CRED_FETCH_FAILED;
	timeout_ms = cred_env_int("AWS_METADATA_SERVICE_TIMEOUT", 1, 60) * 1000;

	memset(&req, 0, sizeof(req));
	req.connect_timeout_ms = timeout_ms;
	req.timeout_ms = timeout_ms;
	req.direct = true;
	req.what = "instance metadata";

	/* 1. a session token */
	req.method = "PUT";
	req.url = psprintf("%s/latest/api/token", base);
	req.headers = ttl_header;
	req.nheaders = 1;
	if (!cred_send(&req, attempts, &resp, problem))
		return CRED_FETCH_ABSENT;
	if (resp.status != 200 || !cred_plain_value(resp.body, resp.body_len))
	{
		*problem = psprintf("The instance metadata service at %s answered HTTP %ld to the session token request%s",
							base, resp.status,
							resp.status == 403 ? " (IMDS may be disabled for this instance)." : ".");
		http_response_free(&resp);
		return CRED_FETCH_FAILED;
	}
	token_line = psprintf("X-aws-ec2-metadata-token: %s", resp.body);
	http_response_free(&resp);
	token_header[0] = token_line;

	PG_TRY();
	{
		/* 2. the role's name */
		req.method = "GET";
		req.url = psprintf("%s%s", base, CRED_IMDS_ROLE_PATH);
		req.headers = token_header;
		if (cred_send(&req, attempts, &resp, problem))
		{
			size_t		n = resp.body_len;

			if (resp.body && memchr(resp.body, '\n', n))
				n = (char *) memchr(resp.body, '\n', n) - resp.body;
			while (n > 0 && isspace((unsigned char) resp.body[n - 1]))
				n--;
			if (resp.status == 404)
				*problem = psprintf("No IAM role is attached to this instance (the instance metadata service at %s answered HTTP 404).", base);
			else if (resp.status != 200 || n == 0 || n > 128 || !cred_plain_value(resp.body, n) ||
					 memchr(resp.body, '/', n) || memchr(resp.body, '?', n) || memchr(resp.body, '%', n))
				*problem = psprintf("The instance metadata service at %s answered HTTP %ld and no usable role name to %s.",
									base, resp.status, CRED_IMDS_ROLE_PATH);
			else
				role = pnstrdup(resp.body, n);
			http_response_free(&resp);
		}

		/* 3. the role's credentials */
		if (role)
		{
			req.url = psprintf("%s%s%s", base, CRED_IMDS_ROLE_PATH, role);
			if (cred_send(&req, attempts, &resp, problem))
			{
				if (resp.status != 200)
					*problem = psprintf("The instance metadata service at %s answered HTTP %ld for the credentials of role \"%s\".",
										base, resp.status, role);
				else if (cred_from_json(&resp, "The instance metadata service", out, problem))
					outcome = CRED_FETCH_OK;
				http_response_free(&resp);
			}
		}
	}
	PG_FINALLY();
	{
		cred_wipe_free(token_line);
	}
	PG_END_TRY();
	return outcome;
}

CredFetchOutcome
credentials_remote_fetch(CredProvider provider, const CredAssumeRole *assume,
						 CredFetched *out, char **problem)
{
	memset(out, 0, sizeof(*out));
	*problem = NULL;
	switch (provider)
	{
		case CRED_PROVIDER_WEB_IDENTITY:
			return cred_fetch_web_identity(out, problem);
		case CRED_PROVIDER_CONTAINER:
			return cred_fetch_container(out, problem);
		case CRED_PROVIDER_IMDS:
			return cred_fetch_imds(out, problem);
		case CRED_PROVIDER_ASSUME_ROLE:
			return cred_fetch_assume_role(assume, out, problem);
		case CRED_PROVIDER_NONE:
			break;
	}
	*problem = pstrdup("No credential provider is configured.");
	return CRED_FETCH_ABSENT;
}
