/*
 * A minimal streaming JSON writer onto a FILE (jsonw.c): objects, arrays, strings (escaped),
 * integers, numbers (the shortest of 15 or 17 significant digits that reads back exactly; NaN
 * and infinity as null), booleans and null. libs2's renderers (the energy report) and s2ctl's
 * --json output both write through it, so their JSON is formatted one way. Project-internal:
 * not installed.
 */
#ifndef S2_JSONW_INTERNAL_H
#define S2_JSONW_INTERNAL_H

#include <stdbool.h>
#include <stdio.h>

/** A document being written; depth at most 31. */
struct json {
	FILE *f;
	int depth;
	bool first[32];
};

void s2_json_begin(struct json *j, FILE *f);
/** key NULL inside arrays (for every call taking a key). */
void s2_json_obj(struct json *j, const char *key);
void s2_json_arr(struct json *j, const char *key);
void s2_json_end_obj(struct json *j);
void s2_json_end_arr(struct json *j);
/** v NULL writes null. */
void s2_json_str(struct json *j, const char *key, const char *v);
void s2_json_int(struct json *j, const char *key, long long v);
void s2_json_uint(struct json *j, const char *key, unsigned long long v);
void s2_json_num(struct json *j, const char *key, double v);
void s2_json_flag(struct json *j, const char *key, bool v);
void s2_json_null(struct json *j, const char *key);
/** End the document: a newline, and flush. */
void s2_json_finish(struct json *j);
/** s as a JSON string, quoted and escaped, for JSON printed without struct json. */
void s2_json_escaped(FILE *f, const char *s);

#endif
