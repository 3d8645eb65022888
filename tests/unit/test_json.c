// SPDX-License-Identifier: MIT
/* The JSON emitter: structure and escaping of hostile strings. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "render/json.h"

static char *escaped(const char *s, size_t n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	json_escape(f, s, n);
	fclose(f);
	return buf;
}

static void expect_escape(const char *in, size_t n, const char *want)
{
	char *got = escaped(in, n);

	cr_expect_str_eq(got, want);
	free(got);
}

Test(json, quotes_backslashes_and_controls)
{
	expect_escape("a\"b\\c", 5, "a\\\"b\\\\c");
	expect_escape("line\nnext\ttab\x01\x7f", 15, "line\\u000anext\\u0009tab\\u0001\\u007f");
	expect_escape("<script>", 8, "<script>");
}

Test(json, valid_utf8_passes_invalid_is_replaced)
{
	expect_escape("caf\xc3\xa9", 5, "caf\xc3\xa9");
	expect_escape("\xe2\x82\xac", 3, "\xe2\x82\xac");
	expect_escape("bad\xff!", 5, "bad\\ufffd!");
	expect_escape("\xc3", 1, "\\ufffd");			   /* truncated sequence */
	expect_escape("\xc0\xaf", 2, "\\ufffd\\ufffd");		   /* overlong '/' */
	expect_escape("\xed\xa0\x80", 3, "\\ufffd\\ufffd\\ufffd"); /* a surrogate */
}

Test(json, stops_at_nul_and_at_n)
{
	expect_escape("abc\0def", 7, "abc");
	expect_escape("abcdef", 3, "abc");
}

Test(json, nested_document)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct json j;

	json_init(&j, f);
	json_obj_begin(&j, NULL);
	json_u64(&j, "n", 18446744073709551615ull);
	json_i64(&j, "neg", -3);
	json_arr_begin(&j, "empty");
	json_arr_end(&j);
	json_arr_begin(&j, "list");
	json_str(&j, NULL, "x");
	json_bool(&j, NULL, true);
	json_arr_end(&j);
	json_obj_end(&j);
	fclose(f);
	cr_expect_str_eq(buf,
			 "{\n  \"n\": 18446744073709551615,\n  \"neg\": -3,\n  \"empty\": [],\n"
			 "  \"list\": [\n    \"x\",\n    true\n  ]\n}\n");
	free(buf);
}

Test(json, integers_at_their_limits)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct json j;

	json_init(&j, f);
	json_arr_begin(&j, NULL);
	json_u64(&j, NULL, 0);
	json_i64(&j, NULL, 0);
	json_i64(&j, NULL, INT64_MIN);
	json_i64(&j, NULL, INT64_MAX);
	json_i64(&j, NULL, -1);
	json_arr_end(&j);
	fclose(f);
	cr_expect_str_eq(
		buf, "[\n  0,\n  0,\n  -9223372036854775808,\n  9223372036854775807,\n  -1\n]\n");
	free(buf);
}
