/*
 * The JSON writer of libs2 and s2ctl (jsonw_internal.h): output goes straight to a FILE, with
 * commas placed by the depth's "first element" flag; nothing is buffered or built in memory.
 */
#include "jsonw_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void s2_json_begin(struct json *j, FILE *f)
{
	memset(j, 0, sizeof *j);
	j->f = f;
	j->first[0] = true;
}

static void json_key(struct json *j, const char *key)
{
	if (!j->first[j->depth])
		fputc(',', j->f);
	j->first[j->depth] = false;
	if (key)
		fprintf(j->f, "\"%s\":", key);
}

void s2_json_escaped(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

void s2_json_obj(struct json *j, const char *key)
{
	json_key(j, key);
	fputc('{', j->f);
	j->first[++j->depth] = true;
}

void s2_json_arr(struct json *j, const char *key)
{
	json_key(j, key);
	fputc('[', j->f);
	j->first[++j->depth] = true;
}

void s2_json_end_obj(struct json *j)
{
	fputc('}', j->f);
	j->depth--;
}

void s2_json_end_arr(struct json *j)
{
	fputc(']', j->f);
	j->depth--;
}

void s2_json_str(struct json *j, const char *key, const char *v)
{
	json_key(j, key);
	if (v)
		s2_json_escaped(j->f, v);
	else
		fputs("null", j->f);
}

void s2_json_int(struct json *j, const char *key, long long v)
{
	json_key(j, key);
	fprintf(j->f, "%lld", v);
}

void s2_json_uint(struct json *j, const char *key, unsigned long long v)
{
	json_key(j, key);
	fprintf(j->f, "%llu", v);
}

void s2_json_num(struct json *j, const char *key, double v)
{
	json_key(j, key);
	if (!isfinite(v)) { /* JSON has no NaN or infinity */
		fputs("null", j->f);
		return;
	}
	/* The shortest of 15 or 17 significant digits that reads back as v. */
	char buf[40];
	snprintf(buf, sizeof buf, "%.15g", v);
	if (strtod(buf, NULL) != v)
		snprintf(buf, sizeof buf, "%.17g", v);
	fputs(buf, j->f);
}

void s2_json_flag(struct json *j, const char *key, bool v)
{
	json_key(j, key);
	fputs(v ? "true" : "false", j->f);
}

void s2_json_null(struct json *j, const char *key)
{
	json_key(j, key);
	fputs("null", j->f);
}

void s2_json_finish(struct json *j)
{
	fputc('\n', j->f);
	fflush(j->f);
}
