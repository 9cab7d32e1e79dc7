/*-------------------------------------------------------------------------
 *
 * credentials_parse.c
 *		Parse what the credential services answer: the XML of an STS
 *		AssumeRoleWithWebIdentity answer, and timestamps.
 *
 * An STS answer is remote text, so the parser trusts nothing in it: it
 * walks the bytes once, with every read bounded by the length it was given
 * (the text is not NUL-terminated), keeps a stack of at most
 * CREDPARSE_MAX_DEPTH element names as spans of the input, and records the
 * text of the few leaf elements seqdist needs.  It is not a general XML
 * parser: processing instructions and comments are skipped; a DOCTYPE, a
 * CDATA section, a NUL byte, a tag that does not close, or an end tag that
 * does not match its start tag make the whole answer malformed.  Namespaces
 * are not interpreted: an element is known by its local name ("a:Code" is
 * "Code").
 *
 * This file has no PostgreSQL dependency (it is built into the fuzz harness
 * on its own) and allocates nothing.
 *
 * Locking: none.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "credentials_parse.h"

typedef struct CredParseStack
{
	CredParseSpan name[CREDPARSE_MAX_DEPTH];
	int			depth;
} CredParseStack;

static int
credparse_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int
credparse_is(CredParseSpan s, const char *word)
{
	size_t		n = strlen(word);

	return s.len == n && memcmp(s.ptr, word, n) == 0;
}

/* The local name of a qualified name: what follows the last ':' */
static CredParseSpan
credparse_local(const char *p, size_t len)
{
	CredParseSpan s = {p, len};

	for (size_t i = 0; i < len; i++)
		if (p[i] == ':')
		{
			s.ptr = p + i + 1;
			s.len = len - i - 1;
		}
	return s;
}

/* Position of the first occurrence of needle in [p, end), or NULL */
static const char *
credparse_find(const char *p, const char *end, const char *needle)
{
	size_t		n = strlen(needle);

	while ((size_t) (end - p) >= n)
	{
		if (memcmp(p, needle, n) == 0)
			return p;
		p++;
	}
	return NULL;
}

/*
 * The end of a tag that starts at p ('<'): the position of its '>', quotes
 * in attribute values respected; NULL when the tag never closes.
 */
static const char *
credparse_tag_end(const char *p, const char *end)
{
	char		quote = 0;

	for (p++; p < end; p++)
	{
		if (quote)
		{
			if (*p == quote)
				quote = 0;
		}
		else if (*p == '"' || *p == '\'')
			quote = *p;
		else if (*p == '>')
			return p;
	}
	return NULL;
}

/* Record text as the value of the element on top of the stack, if wanted */
static void
credparse_record(const CredParseStack *st, CredParseSpan text, CredParseSts *out)
{
	CredParseSpan leaf;
	CredParseSpan parent;

	if (st->depth < 2)
		return;
	leaf = st->name[st->depth - 1];
	parent = st->name[st->depth - 2];
	if (credparse_is(parent, "Credentials"))
	{
		if (credparse_is(leaf, "AccessKeyId"))
			out->access_key_id = text;
		else if (credparse_is(leaf, "SecretAccessKey"))
			out->secret_access_key = text;
		else if (credparse_is(leaf, "SessionToken"))
			out->session_token = text;
		else if (credparse_is(leaf, "Expiration"))
			out->expiration = text;
	}
	else if (credparse_is(parent, "Error"))
	{
		if (credparse_is(leaf, "Code"))
			out->error_code = text;
		else if (credparse_is(leaf, "Message"))
			out->error_message = text;
	}
}

/* Handle the tag [p, gt]; returns -1 when it makes the document malformed */
static int
credparse_tag(const char *p, const char *gt, CredParseStack *st,
			  const char *text_start, int *leaf_open, CredParseSts *out)
{
	int			closing = (p[1] == '/');
	int			self_closing = (gt[-1] == '/' && gt - 1 > p + 1);
	const char *n = p + (closing ? 2 : 1);
	const char *ne = n;
	CredParseSpan name;

	while (ne < gt && !credparse_is_space(*ne) && *ne != '/')
		ne++;
	if (ne == n)
		return -1;
	name = credparse_local(n, ne - n);
	if (closing)
	{
		CredParseSpan text = {text_start, p - text_start};

		if (st->depth == 0)
			return -1;
		if (st->name[st->depth - 1].len != name.len ||
			memcmp(st->name[st->depth - 1].ptr, name.ptr, name.len) != 0)
			return -1;
		/* text counts only for an element with no child element */
		if (*leaf_open)
		{
			while (text.len > 0 && credparse_is_space(text.ptr[0]))
			{
				text.ptr++;
				text.len--;
			}
			while (text.len > 0 && credparse_is_space(text.ptr[text.len - 1]))
				text.len--;
			credparse_record(st, text, out);
		}
		st->depth--;
		*leaf_open = 0;
		return 0;
	}
	if (self_closing)
	{
		*leaf_open = 0;
		return 0;
	}
	if (st->depth >= CREDPARSE_MAX_DEPTH)
		return -1;
	st->name[st->depth++] = name;
	*leaf_open = 1;
	return 0;
}

int
credparse_sts_xml(const char *buf, size_t len, CredParseSts *out)
{
	const char *p = buf;
	const char *end = buf + len;
	const char *text_start = buf;
	CredParseStack st;
	int			leaf_open = 0;

	memset(out, 0, sizeof(*out));
	st.depth = 0;
	if (memchr(buf, '\0', len) != NULL)
		return -1;
	while (p < end)
	{
		const char *gt;

		if (*p != '<')
		{
			p++;
			continue;
		}
		if ((size_t) (end - p) >= 4 && memcmp(p, "<!--", 4) == 0)
		{
			const char *close = credparse_find(p + 4, end, "-->");

			if (close == NULL)
				return -1;
			p = close + 3;
			continue;
		}
		if ((size_t) (end - p) >= 2 && p[1] == '!')
			return -1;			/* DOCTYPE, CDATA: not in an STS answer */
		if ((size_t) (end - p) >= 2 && p[1] == '?')
		{
			const char *close = credparse_find(p + 2, end, "?>");

			if (close == NULL)
				return -1;
			p = close + 2;
			continue;
		}
		gt = credparse_tag_end(p, end);
		if (gt == NULL)
			return -1;
		if (credparse_tag(p, gt, &st, text_start, &leaf_open, out) != 0)
			return -1;
		p = gt + 1;
		text_start = p;
	}
	return st.depth == 0 ? 0 : -1;
}

/* n digits at s as a number; -1 if they are not all digits */
static int
credparse_digits(const char *s, int n)
{
	int			v = 0;

	for (int i = 0; i < n; i++)
	{
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* Days from 1970-01-01 to y-m-d of the proleptic Gregorian calendar */
static int64_t
credparse_days(int64_t y, int m, int d)
{
	int64_t		era;
	int64_t		yoe;
	int64_t		doy;
	int64_t		doe;

	y -= (m <= 2);
	era = y / 400;				/* y is at least 1: no negative division */
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int
credparse_time(const char *s, size_t len, int64_t *epoch)
{
	static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int			y,
				mo,
				d,
				h,
				mi,
				sec;
	size_t		i = 19;
	int64_t		offset = 0;

	if (len < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
		s[13] != ':' || s[16] != ':')
		return -1;
	y = credparse_digits(s, 4);
	mo = credparse_digits(s + 5, 2);
	d = credparse_digits(s + 8, 2);
	h = credparse_digits(s + 11, 2);
	mi = credparse_digits(s + 14, 2);
	sec = credparse_digits(s + 17, 2);
	/* credparse_digits gives -1 for a field that is not all digits */
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h < 0 || h > 23 ||
		mi < 0 || mi > 59 || sec < 0 || sec > 60)
		return -1;
	if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return -1;
	if (s[i] == '.')
	{
		i++;
		if (i >= len || s[i] < '0' || s[i] > '9')
			return -1;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	if (i < len && (s[i] == 'Z' || s[i] == 'z'))
		i++;
	else if (i + 6 <= len && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':')
	{
		int			oh = credparse_digits(s + i + 1, 2);
		int			om = credparse_digits(s + i + 4, 2);

		if (oh < 0 || oh > 23 || om < 0 || om > 59)
			return -1;
		offset = (int64_t) (oh * 60 + om) * 60;
		if (s[i] == '-')
			offset = -offset;
		i += 6;
	}
	else
		return -1;
	if (i != len)
		return -1;
	*epoch = credparse_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset;
	return 0;
}
