// SPDX-License-Identifier: MIT
#include <inttypes.h>
#include <string.h>
#include "json.h"
#include "printable.h"

void json_init(struct json *j, FILE *f)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
	j->first[0] = true;
}

static void escape(FILE *f, const char *str, size_t n, bool html)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, len;

	while (i < n && s[i]) {
		unsigned char c = s[i];

		if (c == '"' || c == '\\') {
			fprintf(f, "\\%c", c);
		} else if (c < 0x20 || c == 0x7f || (html && (c == '<' || c == '>' || c == '&'))) {
			fprintf(f, "\\u%04x", c);
		} else if (c < 0x80) {
			putc_unlocked(c, f);
		} else {
			len = utf8_len(s + i, strnlen(str + i, n - i));
			if (!len) {
				fputs_unlocked("\\ufffd", f);
				len = 1;
			} else {
				fwrite_unlocked(s + i, 1, len, f);
			}
			i += len;
			continue;
		}
		i++;
	}
}

void json_escape(FILE *f, const char *s, size_t n)
{
	escape(f, s, n, false);
}

void json_escape_html(FILE *f, const char *s, size_t n)
{
	escape(f, s, n, true);
}

static void indent(struct json *j)
{
	int i;

	if (j->compact)
		return;
	putc_unlocked('\n', j->f);
	for (i = 0; i < j->depth; i++)
		fputs_unlocked("  ", j->f);
}

static void prefix(struct json *j, const char *key)
{
	if (j->depth > 0) {
		if (!j->first[j->depth])
			putc_unlocked(',', j->f);
		indent(j);
	}
	j->first[j->depth] = false;
	if (key) {
		putc_unlocked('"', j->f);
		escape(j->f, key, strlen(key), j->html_safe);
		fputs_unlocked(j->compact ? "\":" : "\": ", j->f);
	}
}

static void open_container(struct json *j, const char *key, char c)
{
	prefix(j, key);
	putc_unlocked(c, j->f);
	if (j->depth + 1 < JSON_MAX_DEPTH)
		j->depth++;
	j->first[j->depth] = true;
}

static void close_container(struct json *j, char c)
{
	bool empty = j->first[j->depth];

	if (j->depth > 0)
		j->depth--;
	if (!empty)
		indent(j);
	putc_unlocked(c, j->f);
	if (j->depth == 0)
		putc_unlocked('\n', j->f);
}

void json_obj_begin(struct json *j, const char *key)
{
	open_container(j, key, '{');
}

void json_obj_end(struct json *j)
{
	close_container(j, '}');
}

void json_arr_begin(struct json *j, const char *key)
{
	open_container(j, key, '[');
}

void json_arr_end(struct json *j)
{
	close_container(j, ']');
}

/* Decimal digits of v, written at once: fprintf's format parsing was a tenth of rendering a
 * 100 000-stack HTML report, whose page data is mostly integers. */
static void put_u64(FILE *f, uint64_t v, bool minus)
{
	char buf[21], *p = buf + sizeof(buf);

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	if (minus)
		*--p = '-';
	fwrite_unlocked(p, 1, buf + sizeof(buf) - p, f);
}

void json_u64(struct json *j, const char *key, uint64_t v)
{
	prefix(j, key);
	put_u64(j->f, v, false);
}

void json_fixed(struct json *j, const char *key, double v, int decimals)
{
	prefix(j, key);
	/* JSON has no NaN or infinity: such a value (a bug upstream) is written as 0. */
	fprintf(j->f, "%.*f", decimals, v == v && v - v == 0 ? v : 0.0);
}

void json_i64(struct json *j, const char *key, int64_t v)
{
	prefix(j, key);
	/* The magnitude as unsigned: -INT64_MIN does not fit an int64_t. */
	put_u64(j->f, v < 0 ? -(uint64_t)v : (uint64_t)v, v < 0);
}

void json_bool(struct json *j, const char *key, bool v)
{
	prefix(j, key);
	fputs(v ? "true" : "false", j->f);
}

void json_strn(struct json *j, const char *key, const char *s, size_t n)
{
	prefix(j, key);
	fputc('"', j->f);
	escape(j->f, s, n, j->html_safe);
	fputc('"', j->f);
}

void json_str(struct json *j, const char *key, const char *s)
{
	json_strn(j, key, s, strlen(s));
}
