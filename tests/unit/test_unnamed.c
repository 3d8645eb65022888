// SPDX-License-Identifier: MIT
/* Stacks with user frames that could not be named, by why, counted from their frames. */
#include <criterion/criterion.h>
#include "profile/symbolize.h"
#include "profile/unnamed.h"

#define USER(n, m)                                                        \
	{                                                                 \
		.ip = 0x1000, .name = (n), .module = (m), .kernel = false \
	}
#define KERN(n)                                                                     \
	{                                                                           \
		.ip = 0xffff0000, .name = (n), .module = "[kernel]", .kernel = true \
	}

static struct stack stack_of(struct frame *f, uint32_t n, uint32_t cat, uint64_t ns, uint64_t cnt)
{
	return (struct stack){
		.pid = 1, .tid = 1, .cat = cat, .nframes = n, .frames = f, .ns = ns, .count = cnt
	};
}

Test(unnamed, each_stack_by_its_reason)
{
	struct frame named[] = { USER("main", "prog"), USER("work", "prog"), KERN("schedule") };
	struct frame no_map[] = { USER("[unknown]", SYM_NO_MAP), USER("[unknown]", SYM_NO_MAP) };
	struct frame outside[] = { USER("main", "prog"), USER("[unknown]", "[unknown]") };
	/* No map wins over outside: nothing of that image could be named. */
	struct frame both[] = { USER("[unknown]", "[unknown]"), USER("[unknown]", SYM_NO_MAP) };
	/* Not unnamed user frames: a kernel frame, the no-stack placeholder, an unreadable object. */
	struct frame others[] = { USER("[no stack]", "[unknown]"), USER("[libx.so]", "libx.so"),
				  KERN("[unknown]") };
	struct stack st;

	st = stack_of(named, 3, CAT_CPU, 1, 1);
	cr_expect_eq(stack_unnamed(&st), UNNAMED_NONE);
	st = stack_of(no_map, 2, CAT_CPU, 1, 1);
	cr_expect_eq(stack_unnamed(&st), UNNAMED_NO_MAP);
	st = stack_of(outside, 2, CAT_CPU, 1, 1);
	cr_expect_eq(stack_unnamed(&st), UNNAMED_OUTSIDE);
	st = stack_of(both, 2, CAT_CPU, 1, 1);
	cr_expect_eq(stack_unnamed(&st), UNNAMED_NO_MAP);
	st = stack_of(others, 3, CAT_CPU, 1, 1);
	cr_expect_eq(stack_unnamed(&st), UNNAMED_NONE);
}

Test(unnamed, totals_count_stacks_samples_and_time)
{
	struct frame no_map[] = { USER("[unknown]", SYM_NO_MAP) };
	struct frame outside[] = { USER("[unknown]", "[unknown]") };
	struct frame named[] = { USER("main", "prog") };
	struct stack stacks[] = {
		stack_of(no_map, 1, CAT_CPU, 30, 3),   /* 3 samples */
		stack_of(no_map, 1, CAT_LOCK, 500, 2), /* 2 waits: not samples */
		stack_of(outside, 1, CAT_CPU, 10, 1),
		stack_of(named, 1, CAT_CPU, 70, 7),
	};
	struct profile p = { .stacks = stacks, .nstacks = 4 };
	struct mark_total t[UNNAMED_MAX];

	profile__unnamed_totals(&p, t);
	cr_expect_eq(t[UNNAMED_NO_MAP].stacks, 2);
	cr_expect_eq(t[UNNAMED_NO_MAP].samples, 3);
	cr_expect_eq(t[UNNAMED_NO_MAP].ns, 530);
	cr_expect_eq(t[UNNAMED_OUTSIDE].stacks, 1);
	cr_expect_eq(t[UNNAMED_OUTSIDE].samples, 1);
	cr_expect_eq(t[UNNAMED_OUTSIDE].ns, 10);
	cr_expect_eq(t[UNNAMED_NONE].stacks, 1);
	cr_expect_eq(t[UNNAMED_NONE].samples, 7);
}
