// SPDX-License-Identifier: MIT
/* The HTML report: one file, nothing fetched, hostile names only as escaped data. */
#include <criterion/criterion.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "fixture.h"
#include "render/json.h"
#include "render/out_html.h"
#include "html_page.h"

#define DATA_OPEN "<script type=\"application/json\" id=\"data\">"

static char *render(size_t *len)
{
	struct profile *p = fixture_profile();
	char *buf = NULL;
	FILE *f;

	cr_assert_not_null(p);
	f = open_memstream(&buf, len);
	cr_assert_not_null(f);
	cr_assert_eq(fixture_write(write_html, p, f), 0);
	fclose(f);
	profile__free(p);
	return buf;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (hay = strstr(hay, needle); hay; hay = strstr(hay + 1, needle))
		n++;
	return n;
}

/* The data block, copied out: what follows its opening tag up to the first "</script". */
static char *data_block(const char *html)
{
	const char *start = strstr(html, DATA_OPEN), *end;

	cr_assert_not_null(start);
	start += strlen(DATA_OPEN);
	end = strstr(start, "</script");
	cr_assert_not_null(end);
	return strndup(start, end - start);
}

/* A strict JSON validator (RFC 8259), enough to know JSON.parse will accept the block. */
static const char *value(const char *s);

static const char *ws(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	return s;
}

static const char *string(const char *s)
{
	if (*s++ != '"')
		return NULL;
	for (; *s != '"'; s++) {
		if ((unsigned char)*s < 0x20)
			return NULL;
		if (*s != '\\')
			continue;
		s++;
		if (*s == 'u') {
			for (int i = 1; i <= 4; i++)
				if (!isxdigit((unsigned char)s[i]))
					return NULL;
			s += 4;
		} else if (!strchr("\"\\/bfnrt", *s) || !*s) {
			return NULL;
		}
	}
	return s + 1;
}

static const char *number(const char *s)
{
	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (isdigit((unsigned char)*s))
		while (isdigit((unsigned char)*s))
			s++;
	else
		return NULL;
	if (*s == '.') {
		if (!isdigit((unsigned char)*++s))
			return NULL;
		while (isdigit((unsigned char)*s))
			s++;
	}
	return s;
}

static const char *items(const char *s, char close, bool keys)
{
	s = ws(s + 1);
	if (*s == close)
		return s + 1;
	for (;;) {
		if (keys) {
			s = string(ws(s));
			if (!s || *(s = ws(s)) != ':')
				return NULL;
			s++;
		}
		s = value(s);
		if (!s)
			return NULL;
		s = ws(s);
		if (*s == close)
			return s + 1;
		if (*s++ != ',')
			return NULL;
	}
}

static const char *value(const char *s)
{
	s = ws(s);
	if (*s == '{')
		return items(s, '}', true);
	if (*s == '[')
		return items(s, ']', false);
	if (*s == '"')
		return string(s);
	if (!strncmp(s, "true", 4) || !strncmp(s, "null", 4))
		return s + 4;
	if (!strncmp(s, "false", 5))
		return s + 5;
	return number(s);
}

/* The page without its data block: our own markup only. */
static char *page_only(const char *html)
{
	const char *start = strstr(html, DATA_OPEN), *end;
	char *out;

	cr_assert_not_null(start);
	end = strstr(start + strlen(DATA_OPEN), "</script");
	cr_assert_not_null(end);
	out = malloc(strlen(html) + 1);
	memcpy(out, html, start - html);
	strcpy(out + (start - html), end);
	return out;
}

Test(html, one_file_nothing_fetched)
{
	size_t len;
	char *html = render(&len), *page = page_only(html);

	cr_expect_eq(strlen(html), len, "a NUL inside the page");
	cr_expect(!strncmp(html, "<!DOCTYPE html>", 15));
	cr_expect_not_null(strstr(html, "</html>"));
	cr_expect_null(strstr(html, "http://"));
	cr_expect_null(strstr(html, "https://"));
	cr_expect_null(strstr(page, "<link"));
	cr_expect_null(strstr(page, "src="), "nothing loaded from elsewhere");
	cr_expect_null(strstr(page, "url("));
	cr_expect_eq(count(page, "@@"), 0, "a template marker left unreplaced");
	free(page);
	free(html);
}

Test(html, hostile_names_only_escaped)
{
	size_t len;
	char *html = render(&len);

	/* Our two script elements, the data and the code; nothing from the data. */
	cr_expect_eq(count(html, "<script"), 2);
	cr_expect_eq(count(html, "</script"), 2);
	cr_expect_null(strstr(html, "<img"));
	cr_expect_null(strstr(html, "<script>\x01"));
	cr_expect_not_null(strstr(html, "parse_\\u003cimg src=x onerror=alert(1)\\u003e"));
	cr_expect_not_null(strstr(html, "\"\\u003cscript\\u003e\\u0001\\ufffd\""));
	cr_expect_not_null(strstr(html, "\"worker \\\"1\\\"\""));
	free(html);
}

Test(html, data_block_is_json_with_no_markup)
{
	size_t len;
	char *html = render(&len), *data = data_block(html);
	const char *end = value(data);

	cr_assert_not_null(end, "the data block is not JSON");
	cr_expect_eq(*ws(end), '\0', "text after the JSON value");
	cr_expect_null(strchr(data, '<'), "a '<' could open a tag or end the block");
	cr_expect_not_null(strstr(data, "\"categories\":[\"cpu\",\"runqueue\","));
	cr_expect_not_null(strstr(data, "\"funcs\":["));
	/* Sorted by category, then function names: cpu first, and main@child < main@server. */
	cr_expect_not_null(strstr(data, "\"stacks\":[200,200,0,450000000,45,2,"));
	/* 7 stacks: 6 header numbers each and 27 frames. */
	cr_expect_eq(count(strstr(data, "\"stacks\":["), ","), 7 * 6 + 27 - 1);
	free(data);
	free(html);
}

Test(html, template_cannot_break_out)
{
	size_t len;
	char *html = render(&len);
	char csp[128];
	char *js = strndup((const char *)page_js, sizeof(page_js));
	char *css = strndup((const char *)page_css, sizeof(page_css));

	cr_expect_eq(strlen(js), sizeof(page_js));
	cr_expect_null(strcasestr(js, "</script"));
	cr_expect_null(strstr(js, "<!--"));
	cr_expect_null(strcasestr(css, "</style"));
	cr_expect_null(strstr(js, "innerHTML"), "data reaches the page as text only");
	cr_expect_null(strstr(js, "insertAdjacentHTML"));
	cr_expect_null(strstr(js, "document.write"));
	/* Only our script may run: the policy names its hash. */
	snprintf(csp, sizeof(csp), "script-src 'sha256-%s'", page_js_sha256);
	cr_expect_not_null(strstr(html, csp));
	cr_expect_not_null(strstr(html, "default-src 'none'"));
	free(js);
	free(css);
	free(html);
}

static char *escaped_html(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	json_escape_html(f, s, strlen(s));
	fclose(f);
	return buf;
}

Test(html, json_html_safe_escapes)
{
	char *got = escaped_html("</script><!-- a&b \"q\"");

	cr_expect_str_eq(got, "\\u003c/script\\u003e\\u003c!-- a\\u0026b \\\"q\\\"");
	free(got);
}

Test(html, empty_profile)
{
	struct profile *p = profile__new(MODE_ATTACH, NULL);
	char *buf = NULL, *data;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(p);
	profile__finish(p);
	cr_expect_eq(fixture_write(write_html, p, f), 0);
	fclose(f);
	data = data_block(buf);
	cr_expect_not_null(value(data));
	cr_expect_not_null(strstr(data, "\"stacks\":[]"));
	free(data);
	free(buf);
	profile__free(p);
}
