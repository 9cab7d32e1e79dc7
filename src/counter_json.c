/*-------------------------------------------------------------------------
 *
 * counter_json.c
 *		Render a counter item for SQL: DynamoDB's attribute-value form
 *		({"a": {"S": "x"}, "b": {"N": "1"}}) becomes plain JSON
 *		({"a": "x", "b": 1}).
 *
 * Numbers are copied as text, so that a position beyond the float range of
 * JSON parsers loses no digit; string sets become arrays; a number that is
 * not a strict integer, and any attribute type seqdist does not write,
 * becomes null rather than an
 * error, so that a damaged item can still be looked at.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <jansson.h>

#include "lib/stringinfo.h"

#include "counter.h"
#include "counter_json.h"

/* Append a jansson value's JSON encoding; jansson's buffer is freed at once */
static void
counter_json_append(StringInfo out, json_t *value, const char *fallback)
{
	char	   *enc = value ? json_dumps(value, JSON_ENCODE_ANY) : NULL;

	appendStringInfoString(out, enc ? enc : fallback);
	free(enc);
}

static void
counter_json_append_value(StringInfo out, json_t *value)
{
	json_t	   *v;
	int128		ignored;

	if ((v = json_object_get(value, "N")) != NULL && json_is_string(v))
		appendStringInfoString(out, counter_parse_int128(json_string_value(v), &ignored) ?
							   json_string_value(v) : "null");
	else if ((v = json_object_get(value, "BOOL")) != NULL)
		appendStringInfoString(out, json_is_true(v) ? "true" : "false");
	else if ((v = json_object_get(value, "S")) != NULL)
		counter_json_append(out, v, "null");
	else if ((v = json_object_get(value, "SS")) != NULL && json_is_array(v))
		counter_json_append(out, v, "null");
	else
		appendStringInfoString(out, "null");
}

/* An item in attribute-value form (or NULL) as plain JSON text (or NULL) */
static char *
counter_json_render(json_t *item)
{
	StringInfoData out;
	const char *name;
	json_t	   *value;
	bool		first = true;

	if (item == NULL)
		return NULL;

	initStringInfo(&out);
	appendStringInfoChar(&out, '{');
	json_object_foreach(item, name, value)
	{
		json_t	   *jname = json_string(name);

		appendStringInfoString(&out, first ? "" : ", ");
		counter_json_append(&out, jname, "\"?\"");
		json_decref(jname);
		appendStringInfoString(&out, ": ");
		counter_json_append_value(&out, value);
		first = false;
	}
	appendStringInfoChar(&out, '}');
	return out.data;
}

char *
counter_json_item(const SeqdistStore *store, const char *key)
{
	json_t	   *item = counter_read_item(store, key);
	char	   *text = counter_json_render(item);

	if (item)
		json_decref(item);
	return text;
}

void
counter_json_items(const SeqdistStore *store, char **keys, int n, int concurrency, char **texts)
{
	json_t	  **items = palloc0(sizeof(json_t *) * Max(n, 1));

	counter_read_items(store, keys, n, concurrency, items);
	for (int i = 0; i < n; i++)
	{
		texts[i] = counter_json_render(items[i]);
		if (items[i] != NULL)
			json_decref(items[i]);
	}
}
