// SPDX-License-Identifier: MIT
/* Switch timestamps from the run queue's clock (include/clock_sync.h), on synthetic clocks. */
#include <criterion/criterion.h>
#include "clock_sync.h"

#define US 1000ull
#define MS 1000000ull
/* ktime runs this far ahead of the run-queue clock, in these tests. */
#define OFF (200 * US)

Test(clock_sync, first_sample_is_taken_as_is)
{
	struct clock_sync s = { 0, 0 };

	cr_assert(clock_sync_due(&s, 5 * MS));
	clock_sync_sample(&s, 5 * MS, 5 * MS + OFF);
	cr_expect_eq(s.off, (__s64)OFF);
	cr_expect_eq(clock_sync_ktime(&s, 5 * MS + 40 * US), 5 * MS + 40 * US + OFF);
}

Test(clock_sync, due_every_resync_period)
{
	struct clock_sync s = { 0, 0 };

	clock_sync_sample(&s, 5 * MS, 5 * MS + OFF);
	cr_expect_not(clock_sync_due(&s, 5 * MS + CLOCK_RESYNC_NS));
	cr_expect(clock_sync_due(&s, 5 * MS + CLOCK_RESYNC_NS + 1));
}

Test(clock_sync, a_stale_read_raises_the_offset_by_the_slew_allowance_only)
{
	struct clock_sync s = { 0, 0 };

	clock_sync_sample(&s, 5 * MS, 5 * MS + OFF);
	/* 100 us later the run-queue clock was read 30 us stale: the sample says OFF + 30 us. */
	clock_sync_sample(&s, 5 * MS + 70 * US, 5 * MS + 100 * US + OFF);
	/* 500 ppm of 70 us: the offset may grow by 35 ns, not 30 us. */
	cr_expect_eq(s.off, (__s64)(OFF + 35));
}

Test(clock_sync, a_first_sample_read_stale_is_corrected_by_the_next)
{
	struct clock_sync s = { 0, 0 };

	clock_sync_sample(&s, 5 * MS, 5 * MS + OFF + 20 * US);
	clock_sync_sample(&s, 5 * MS + 101 * US, 5 * MS + 101 * US + OFF);
	cr_expect_eq(s.off, (__s64)OFF);
}

Test(clock_sync, a_jump_between_the_clocks_is_followed_at_once)
{
	struct clock_sync s = { 0, 0 };

	clock_sync_sample(&s, 5 * MS, 5 * MS + OFF);
	clock_sync_sample(&s, 6 * MS, 6 * MS + OFF + 3 * MS);
	cr_expect_eq(s.off, (__s64)(OFF + 3 * MS));
}

Test(clock_sync, an_offset_falling_is_followed_at_once)
{
	struct clock_sync s = { 0, 0 };

	/* ktime behind the run-queue clock (a negative offset) is as good as ahead of it. */
	clock_sync_sample(&s, 5 * MS, 5 * MS - 10 * US);
	clock_sync_sample(&s, 6 * MS, 6 * MS - 12 * US);
	cr_expect_eq(s.off, -12 * (__s64)US);
	cr_expect_eq(clock_sync_ktime(&s, 7 * MS), 7 * MS - 12 * US);
}

Test(clock_sync, growth_after_a_long_idle_is_capped)
{
	struct clock_sync s = { 0, 0 };

	clock_sync_sample(&s, 5 * MS, 5 * MS + OFF);
	/* 10 s idle, then a sample 40 us stale: allowance of 500 ppm of 10 ms at most, 5 us. */
	clock_sync_sample(&s, 10005 * MS, 10005 * MS + OFF + 40 * US);
	cr_expect_eq(s.off, (__s64)(OFF + 5 * US));
}
