// SPDX-License-Identifier: MIT
/* The live status line: one line, never wider than a terminal's 80 columns. */
#include <criterion/criterion.h>
#include <string.h>
#include "collect/status.h"

Test(status, shows_the_split_so_far)
{
	struct collect_snapshot s = { .total = 1000, .threads = 5, .procs = 2, .events = 123 };
	char buf[128];

	s.ns[CAT_CPU] = 450;
	s.ns[CAT_LOCK] = 300;
	s.ns[CAT_SLEEP] = 250;
	status_format(buf, sizeof(buf), 3.25, &s);
	cr_expect_str_eq(buf, "concur: 3.2s  2 proc  5 thr  123 ev  cpu 45% lock 30% slp 25%");
}

Test(status, every_category_still_fits_80_columns)
{
	struct collect_snapshot s = {
		.total = 1000, .threads = 123456, .procs = 65535, .events = 18446744073709551615ull
	};
	char buf[80];
	int c;

	for (c = 0; c < CAT_MAX; c++)
		s.ns[c] = 100;
	status_format(buf, sizeof(buf), 123456.7, &s);
	cr_expect_leq(strlen(buf), 79);
	cr_expect_null(strchr(buf, '\n'));
}
