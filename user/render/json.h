/* SPDX-License-Identifier: MIT */
/* A small streaming JSON emitter: escapes every string, replaces invalid UTF-8. */
#ifndef CONCUR_JSON_H
#define CONCUR_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 16

struct json {
	FILE *f;
	int depth;
	bool first[JSON_MAX_DEPTH];
	/* Options, off after json_init: set them before the first value. */
	bool compact;	/* no newlines or indentation: for large machine-read data */
	bool html_safe; /* '<', '>', '&' as \u escapes: embeddable in an HTML <script> */
};

/* The caller holds f's lock (flockfile) while it writes: values go out with the _unlocked
 * stdio calls, a lock and unlock per call having been a tenth of a 100 000-stack HTML report. */
void json_init(struct json *j, FILE *f);
/* key is NULL inside arrays and for the top-level value. */
void json_obj_begin(struct json *j, const char *key);
void json_obj_end(struct json *j);
void json_arr_begin(struct json *j, const char *key);
void json_arr_end(struct json *j);
void json_u64(struct json *j, const char *key, uint64_t v);
void json_i64(struct json *j, const char *key, int64_t v);
/* A number with a fixed count of decimals; NaN and infinities as 0. */
void json_fixed(struct json *j, const char *key, double v, int decimals);
void json_bool(struct json *j, const char *key, bool v);
void json_str(struct json *j, const char *key, const char *s);
/* A string of at most n bytes (stops at NUL). */
void json_strn(struct json *j, const char *key, const char *s, size_t n);
/* Writes s escaped as the body of a JSON string (no quotes). */
void json_escape(FILE *f, const char *s, size_t n);
/* The same, with '<', '>' and '&' escaped too, so no "</script" or "<!--" can appear. */
void json_escape_html(FILE *f, const char *s, size_t n);

#endif
