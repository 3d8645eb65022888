// SPDX-License-Identifier: MIT
/* The one rule for target strings in text: UTF-8 stays, controls and invalid bytes are '?'. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include "render/printable.h"

static void expect_shown(const char *in, size_t n, size_t cols, const char *want, size_t count)
{
	char *buf = NULL;
	size_t len = 0, done;
	FILE *f = open_memstream(&buf, &len);

	done = printable_fputs(f, in, n, cols);
	fclose(f);
	cr_expect_str_eq(buf, want);
	cr_expect_eq(done, count, "%s: %zu characters, not %zu", want, done, count);
	if (cols == SIZE_MAX)
		cr_expect_eq(printable_cols(in, n), count, "printable_cols agrees");
	free(buf);
}

Test(printable, controls_and_invalid_bytes_are_replaced)
{
	expect_shown("a\nb\x1b[1m\x7f", SIZE_MAX, SIZE_MAX, "a?b?[1m?", 8);
	expect_shown("<script>\x01\xff", SIZE_MAX, SIZE_MAX, "<script>??", 10);
	expect_shown("\xc2\x9b"
		     "2J",
		     SIZE_MAX, SIZE_MAX, "??2J", 4);	       /* C1 CSI */
	expect_shown("\xc0\xaf", SIZE_MAX, SIZE_MAX, "??", 2); /* overlong */
}

Test(printable, utf8_stays_and_counts_as_one_column)
{
	expect_shown("caf\xc3\xa9 \xe2\x82\xac", SIZE_MAX, SIZE_MAX, "caf\xc3\xa9 \xe2\x82\xac", 6);
	expect_shown("caf\xc3\xa9", SIZE_MAX, 4, "caf\xc3\xa9", 4);
	expect_shown("caf\xc3\xa9", SIZE_MAX, 3, "caf", 3);
}

Test(printable, byte_limit_cuts_a_sequence_into_question_marks)
{
	expect_shown("ab\xc3\xa9", 3, SIZE_MAX, "ab?", 3);
	expect_shown("ab\0cd", 5, SIZE_MAX, "ab", 2);
}

/* Runs of plain ASCII are written whole: the limits still cut them where they fall. */
Test(printable, ascii_runs_stop_at_each_limit)
{
	expect_shown("abcdef", SIZE_MAX, 4, "abcd", 4);
	expect_shown("abcdef", 2, SIZE_MAX, "ab", 2);
	expect_shown("ab\xc3\xa9"
		     "cd\x01"
		     "ef",
		     SIZE_MAX, 6,
		     "ab\xc3\xa9"
		     "cd?",
		     6);
	expect_shown("ab\xc3\xa9"
		     "cd\x01"
		     "ef",
		     SIZE_MAX, SIZE_MAX,
		     "ab\xc3\xa9"
		     "cd?ef",
		     8);
}
