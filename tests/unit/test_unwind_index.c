// SPDX-License-Identifier: MIT
/* The CFI unwinder's per-process mapping index: load biases, sorting, bounds. */
#include <criterion/criterion.h>
#include <errno.h>
#include "collect/unwind_index.h"

#define PAGE 4096

/* A PIE as gcc links it: text at file offset 0x1000 = ELF address 0x1000. */
static const struct unwind_seg pie[] = {
	{ 0x0, 0x0, 0x628 },
	{ 0x1000, 0x1000, 0x745 },
	{ 0x2000, 0x2000, 0x1d4 },
	{ 0x2dd0, 0x3dd0, 0x2a8 },
};

Test(unwind_bias, pie_text_mapping)
{
	uint64_t bias = 0;

	cr_assert_eq(unwind_bias(pie, 4, 0x555555555000, 0x1000, PAGE, &bias), 0);
	cr_expect_eq(bias, 0x555555554000);
	/* cfi_lock_take at ELF 0x1390 runs at 0x555555555390. */
	cr_expect_eq(0x1390 + bias, 0x555555555390);
}

Test(unwind_bias, non_pie_is_zero)
{
	static const struct unwind_seg exe[] = { { 0x0, 0x400000, 0x500 },
						 { 0x1000, 0x401000, 0x2000 } };
	uint64_t bias = 1;

	cr_assert_eq(unwind_bias(exe, 2, 0x401000, 0x1000, PAGE, &bias), 0);
	cr_expect_eq(bias, 0);
}

Test(unwind_bias, segment_not_page_aligned)
{
	/* The data segment above: file 0x2dd0 is ELF 0x3dd0, mapped from its page 0x2000. */
	uint64_t bias = 0, start = 0x7f0000003000;

	cr_assert_eq(unwind_bias(pie, 4, start, 0x2000, PAGE, &bias), 0);
	/* The first segment holding page 0x2000 decides: the rodata one (off == vaddr). */
	cr_expect_eq(bias, start - 0x2000);
	cr_assert_eq(unwind_bias(&pie[3], 1, start, 0x2000, PAGE, &bias), 0);
	/* file 0x2dd0 is at start + 0xdd0; its ELF address 0x3dd0. */
	cr_expect_eq(0x3dd0 + bias, start + 0xdd0);
}

Test(unwind_bias, no_segment_holds_the_offset)
{
	static const struct unwind_seg empty[] = { { 0x5000, 0x5000, 0 } };
	uint64_t bias = 7;

	cr_expect_eq(unwind_bias(pie, 4, 0x1000, 0x9000, PAGE, &bias), -ENOENT);
	cr_expect_eq(unwind_bias(empty, 1, 0x1000, 0x5000, PAGE, &bias), -ENOENT);
	cr_expect_eq(unwind_bias(NULL, 0, 0x1000, 0, PAGE, &bias), -ENOENT);
	cr_expect_eq(bias, 7);
}

static struct unwind_proc proc;

Test(unwind_index, sorted_and_overlaps_dropped)
{
	struct unwind_mapping m[] = {
		{ .start = 0x7000, .end = 0x8000, .obj = 3 },
		{ .start = 0x1000, .end = 0x3000, .obj = 1 },
		{ .start = 0x2000, .end = 0x2800, .obj = 9 }, /* inside the one before */
		{ .start = 0x5000, .end = 0x5000, .obj = 8 }, /* empty */
		{ .start = 0x3000, .end = 0x4000, .obj = 2 }, /* touching is fine */
	};

	cr_expect_eq(unwind_index_build(m, 5, &proc), 2);
	cr_assert_eq(proc.n, 3);
	cr_expect_eq(proc.m[0].obj, 1);
	cr_expect_eq(proc.m[1].obj, 2);
	cr_expect_eq(proc.m[2].obj, 3);
	cr_expect_eq(proc.m[2].start, 0x7000);
}

Test(unwind_index, bounded)
{
	static struct unwind_mapping m[UNWIND_MAX_MAPPINGS + 10];
	size_t i;

	for (i = 0; i < UNWIND_MAX_MAPPINGS + 10; i++) {
		/* Highest addresses first: the lowest are kept. */
		m[i].start = (UNWIND_MAX_MAPPINGS + 10 - i) * 0x10000ull;
		m[i].end = m[i].start + 0x1000;
	}
	cr_expect_eq(unwind_index_build(m, UNWIND_MAX_MAPPINGS + 10, &proc), 10);
	cr_assert_eq(proc.n, UNWIND_MAX_MAPPINGS);
	cr_expect_eq(proc.m[0].start, 0x10000);
	cr_expect_eq(proc.m[UNWIND_MAX_MAPPINGS - 1].start, UNWIND_MAX_MAPPINGS * 0x10000ull);
	for (i = 1; i < proc.n; i++)
		cr_expect_lt(proc.m[i - 1].end, proc.m[i].start);
	cr_expect_eq(unwind_index_build(NULL, 0, &proc), 0);
	cr_expect_eq(proc.n, 0);
}
