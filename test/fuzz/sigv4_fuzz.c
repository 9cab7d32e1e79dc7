/*
 * sigv4_fuzz.c
 *		libFuzzer harness for the SigV4 signer (src/sigv4.c).
 *
 * The input is split at NUL bytes into the fields of a request: path,
 * access key id, secret, session token, region, service, amz_date, then
 * header name/value pairs, and what is left is the payload.  Whatever the
 * input, sigv4_sign must either refuse it (-1, nothing allocated) or sign
 * it (0, every result string present and the signature 64 hex digits),
 * and sanitizers must find nothing.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 */
#include <stdlib.h>
#include <string.h>
#include <stdint.h>

#include "sigv4.h"

#define FUZZ_MAX_FIELDS 32

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *buf = malloc(size + 1);
	const char *field[FUZZ_MAX_FIELDS];
	int			nfields = 0;
	size_t		start = 0;
	SigV4Header headers[FUZZ_MAX_FIELDS / 2];
	int			nheaders = 0;
	SigV4Request req;
	SigV4Credentials cred;
	SigV4Result result;
	const char *payload;
	size_t		payload_len;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (size_t i = 0; i < size && nfields < FUZZ_MAX_FIELDS; i++)
	{
		if (buf[i] == '\0')
		{
			field[nfields++] = buf + start;
			start = i + 1;
		}
	}
	payload = buf + start;
	payload_len = size - start;
	while (nfields < 7)
		field[nfields++] = "";
	for (int i = 7; i + 1 < nfields; i += 2)
		headers[nheaders++] = (SigV4Header) {field[i], field[i + 1]};

	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.path = field[0];
	req.headers = headers;
	req.nheaders = nheaders;
	req.payload = (const unsigned char *) payload;
	req.payload_len = payload_len;
	cred.access_key_id = field[1];
	cred.secret_access_key = field[2];
	cred.session_token = field[3];

	if (sigv4_sign(&req, &cred, field[4], field[5], field[6], &result) == 0)
	{
		if (result.canonical_request == NULL || result.string_to_sign == NULL ||
			result.authorization == NULL || result.signature == NULL ||
			strlen(result.signature) != 64 ||
			strspn(result.signature, "0123456789abcdef") != 64)
			abort();
		sigv4_result_free(&result);
	}
	free(buf);
	return 0;
}
