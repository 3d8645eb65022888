// SPDX-License-Identifier: MIT
/* Cutting user stacks (the kernel's depth limit, a walk out of the code) and counting them. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include "fixture.h"
#include "profile/stack_marks.h"
#include "render/output.h"

/* The "process" maps code at [0x1000, 0x2000) only; every call is logged. */
struct probe {
	uint64_t asked[CONCUR_STACK_DEPTH];
	size_t n;
};

static bool code_in_range(uint64_t ip, void *ctx)
{
	struct probe *pr = ctx;

	if (pr->n < CONCUR_STACK_DEPTH)
		pr->asked[pr->n++] = ip;
	return ip >= 0x1000 && ip < 0x2000;
}

Test(stack_marks, a_whole_stack_is_kept_unmarked)
{
	uint64_t ips[] = { 0x1100, 0x1200, 0x1300 };
	struct probe pr = { 0 };
	enum stack_mark m;

	cr_expect_eq(stack_check_user(ips, 3, CONCUR_STACK_DEPTH, code_in_range, &pr, &m), 3);
	cr_expect_eq(m, MARK_NONE);
	/* callers at ip - 1 (the call); the leaf is not asked about */
	cr_expect_eq(pr.n, 2);
	cr_expect_eq(pr.asked[0], 0x11ff);
	cr_expect_eq(pr.asked[1], 0x12ff);
}

Test(stack_marks, a_stack_at_the_limit_is_truncated)
{
	uint64_t ips[CONCUR_STACK_DEPTH];
	struct probe pr = { 0 };
	enum stack_mark m;
	size_t i;

	for (i = 0; i < CONCUR_STACK_DEPTH; i++)
		ips[i] = 0x1010 + i;
	cr_expect_eq(stack_check_user(ips, CONCUR_STACK_DEPTH, CONCUR_STACK_DEPTH, code_in_range,
				      &pr, &m),
		     CONCUR_STACK_DEPTH);
	cr_expect_eq(m, MARK_TRUNCATED);
	cr_expect_eq(stack_check_user(ips, CONCUR_STACK_DEPTH - 1, CONCUR_STACK_DEPTH,
				      code_in_range, &pr, &m),
		     CONCUR_STACK_DEPTH - 1);
	cr_expect_eq(m, MARK_NONE);
}

Test(stack_marks, a_walk_out_of_the_code_is_cut_before_the_first_bad_frame)
{
	uint64_t ips[CONCUR_STACK_DEPTH];
	struct probe pr = { 0 };
	enum stack_mark m;
	size_t i;

	/* a full-depth walk: 3 good frames, then garbage read through a clobbered rbp */
	for (i = 0; i < CONCUR_STACK_DEPTH; i++)
		ips[i] = i < 3 ? 0x1100 + i : 0xdead0000 + i;
	ips[5] = 0x1500; /* garbage that happens to point into code: cut before it anyway */
	cr_expect_eq(stack_check_user(ips, CONCUR_STACK_DEPTH, CONCUR_STACK_DEPTH, code_in_range,
				      &pr, &m),
		     3);
	cr_expect_eq(m, MARK_UNWIND_STOPPED);
	cr_expect_eq(pr.n, 3, "the walk is checked only up to the first bad frame");
}

Test(stack_marks, the_leaf_is_kept_even_outside_any_mapping)
{
	/* JIT code: the sampled ip itself is real, whatever maps it */
	uint64_t jit[] = { 0x7f0000001234 }, jit_then_bad[] = { 0x7f0000001234, 0x10 };
	struct probe pr = { 0 };
	enum stack_mark m;

	cr_expect_eq(stack_check_user(jit, 1, CONCUR_STACK_DEPTH, code_in_range, &pr, &m), 1);
	cr_expect_eq(m, MARK_NONE);
	cr_expect_eq(stack_check_user(jit_then_bad, 2, CONCUR_STACK_DEPTH, code_in_range, &pr, &m),
		     1);
	cr_expect_eq(m, MARK_UNWIND_STOPPED);
	cr_expect_eq(stack_check_user(jit, 0, CONCUR_STACK_DEPTH, code_in_range, &pr, &m), 0);
	cr_expect_eq(m, MARK_NONE);
}

Test(stack_marks, a_call_ending_a_mapping_still_counts_as_code)
{
	/* the return address is the mapping's end: the call before it is inside */
	uint64_t ips[] = { 0x1100, 0x2000 };
	struct probe pr = { 0 };
	enum stack_mark m;

	cr_expect_eq(stack_check_user(ips, 2, CONCUR_STACK_DEPTH, code_in_range, &pr, &m), 2);
	cr_expect_eq(m, MARK_NONE);
}

/* Adds to p a stack of cat for server's worker, root first: root (of module mod), descend. */
static void add_stack(struct profile *p, uint32_t cat, const char *root, const char *mod,
		      uint64_t ns, uint64_t count)
{
	struct stack st = { .pid = 100, .tid = 101, .cat = cat, .ns = ns, .count = count };

	st.nframes = 2;
	st.frames = calloc(2, sizeof(*st.frames));
	cr_assert_not_null(st.frames);
	st.frames[0] = (struct frame){ 0, profile__intern(p, root), profile__intern(p, mod),
				       .kernel = false };
	st.frames[1] = (struct frame){ 0x1234, profile__intern(p, "descend"),
				       profile__intern(p, "deep"), .kernel = false };
	cr_assert_eq(profile__add_stack(p, &st), 0);
}

Test(stack_marks, marks_are_read_from_the_root_frame_only)
{
	struct profile *p = fixture_profile();
	struct mark_total t[MARK_MAX];

	cr_assert_not_null(p);
	add_stack(p, CAT_CPU, "[truncated]", MARK_MODULE, 30 * FIXTURE_MS, 3);
	add_stack(p, CAT_LOCK, "[truncated]", MARK_MODULE, 70 * FIXTURE_MS, 2);
	add_stack(p, CAT_CPU, "[unwind stopped]", MARK_MODULE, 10 * FIXTURE_MS, 1);
	/* a real object's function of that name, and an unknown pseudo frame: not marks */
	add_stack(p, CAT_CPU, "[truncated]", "deep", 10 * FIXTURE_MS, 1);
	add_stack(p, CAT_CPU, "[elsewhere]", MARK_MODULE, 10 * FIXTURE_MS, 1);
	profile__mark_totals(p, t);
	cr_expect_eq(t[MARK_TRUNCATED].stacks, 2);
	cr_expect_eq(t[MARK_TRUNCATED].samples, 3);
	cr_expect_eq(t[MARK_TRUNCATED].ns, 100 * FIXTURE_MS);
	cr_expect_eq(t[MARK_UNWIND_STOPPED].stacks, 1);
	cr_expect_eq(t[MARK_UNWIND_STOPPED].samples, 1);
	cr_expect_eq(t[MARK_NONE].stacks, p->nstacks - 3);
	cr_expect_str_eq(stack_mark_name(MARK_TRUNCATED), "[truncated]");
	cr_expect_null(stack_mark_name(MARK_NONE));
	profile__free(p);
}

static char *render(writer_fn writer, struct profile *p)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_eq(fixture_write(writer, p, f), 0);
	fclose(f);
	return buf;
}

/* The JSON without its layout (nor the spaces in its strings). */
static char *squeeze(char *s)
{
	char *in, *out = s;

	for (in = s; *in; in++)
		if (*in != ' ' && *in != '\n')
			*out++ = *in;
	*out = '\0';
	return s;
}

Test(stack_marks, text_and_json_count_the_cut_stacks)
{
	struct profile *p = fixture_profile();
	char *out;

	cr_assert_not_null(p);
	out = render(fixture_write_text, p);
	cr_expect_null(strstr(out, "[truncated]"), "no note without marked stacks: %s", out);
	free(out);
	out = render(write_json, p);
	cr_expect_null(strstr(out, "\"truncated\""), "no key without marked stacks: %s", out);
	free(out);

	add_stack(p, CAT_CPU, "[truncated]", MARK_MODULE, 30 * FIXTURE_MS, 3);
	add_stack(p, CAT_LOCK, "[truncated]", MARK_MODULE, 70 * FIXTURE_MS, 2);
	add_stack(p, CAT_CPU, "[unwind stopped]", MARK_MODULE, 10 * FIXTURE_MS, 1);
	out = render(fixture_write_text, p);
	cr_expect_not_null(strstr(out, "note: 2 stacks (3 samples, 0.100 s) were deeper than the "
				       "kernel's limit of 127"),
			   "%s", out);
	cr_expect_not_null(strstr(out, "[truncated].\n"), "%s", out);
	cr_expect_not_null(strstr(out, "note: 1 stacks (1 samples, 0.010 s) walked into"), "%s",
			   out);
	free(out);
	/* With --unwind=cfi (the loader's figures are there) the limit is the walker's. */
	p->utables.max_rows = 1 << 20;
	out = render(fixture_write_text, p);
	cr_expect_not_null(strstr(out, "note: 2 stacks (3 samples, 0.100 s) were deeper than the "
				       "CFI walker's limit of\n  127 frames"),
			   "%s", out);
	free(out);
	p->utables.max_rows = 0;
	out = squeeze(render(write_json, p));
	cr_expect_not_null(strstr(out, "\"truncated\":{\"frame\":\"[truncated]\",\"stacks\":2,"
				       "\"samples\":3,\"ns\":100000000}"),
			   "%s", out);
	cr_expect_not_null(strstr(out, "\"unwind_stopped\":{\"frame\":\"[unwindstopped]\","
				       "\"stacks\":1,\"samples\":1,\"ns\":10000000}"),
			   "%s", out);
	free(out);
	out = render(write_folded, p);
	cr_expect_not_null(strstr(out, "cpu;[truncated];descend 30000\n"), "%s", out);
	free(out);
	profile__free(p);
}

/* --unwind=cfi: a stack taken before the process's index was in is marked at its root, counted
 * apart in the text note and the JSON. */
Test(stack_marks, stacks_before_the_tables_are_counted_apart)
{
	struct profile *p = fixture_profile();
	struct mark_total t[MARK_MAX];
	char *out;

	cr_assert_not_null(p);
	add_stack(p, CAT_SLEEP, "[no unwind table yet]", MARK_MODULE, 1000 * FIXTURE_MS, 1);
	add_stack(p, CAT_CPU, "[no unwind table yet]", MARK_MODULE, 20 * FIXTURE_MS, 2);
	profile__mark_totals(p, t);
	cr_expect_eq(t[MARK_NO_TABLE].stacks, 2);
	cr_expect_eq(t[MARK_NO_TABLE].samples, 2);
	cr_expect_eq(t[MARK_NO_TABLE].ns, 1020 * FIXTURE_MS);
	cr_expect_eq(t[MARK_TRUNCATED].stacks, 0);
	out = render(fixture_write_text, p);
	cr_expect_not_null(strstr(out,
				  "note: 2 stacks (2 samples, 1.020 s) were taken before their "
				  "process's unwind"),
			   "%s", out);
	free(out);
	out = squeeze(render(write_json, p));
	cr_expect_not_null(strstr(out, "\"no_table_yet\":{\"frame\":\"[nounwindtableyet]\","
				       "\"stacks\":2,\"samples\":2,\"ns\":1020000000}"),
			   "%s", out);
	free(out);
	profile__free(p);
}
