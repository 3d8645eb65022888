// SPDX-License-Identifier: MIT
/* stacks_rank_frames (integer keys) against the frame walk it replaces (stack_cmp_frames on
 * unranked stacks), on random stacks built to hit its corners. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "profile/profile.h"
#include "profile/stack_merge.h"

#define NNAMES	700 /* past the name table's first growth (512 names) */
#define NSTACKS 400

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t below(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng % n;
}

/* Names that sort apart from their pointers: interned ones, an unnamed frame (NULL) equal to
 * the interned "", and an uninterned copy of an interned name (a recording may repeat one). */
static void make_names(struct profile *p, const char **names, char *copy)
{
	char buf[32];
	int i;

	for (i = 0; i < NNAMES - 3; i++) {
		snprintf(buf, sizeof(buf), "f%d", (i * 7919) % NNAMES);
		names[i] = profile__intern(p, buf);
	}
	names[NNAMES - 3] = NULL;
	names[NNAMES - 2] = profile__intern(p, "");
	strcpy(copy, names[0]);
	names[NNAMES - 1] = copy;
}

/* Short stacks over few names near the root, so many share prefixes, are equal, or one is
 * the prefix of another. */
static void add_stacks(struct profile *p, const char **names)
{
	static const uint32_t pick[] = { 3, 0, 1, 2 }; /* NULL, "", copy, or any at depth 0 */
	int i, j;

	for (i = 0; i < NSTACKS; i++) {
		struct stack st = { .pid = 1, .tid = 1, .cat = i % 2, .ns = 1, .count = 1 };

		st.nframes = below(7);
		st.frames = calloc(st.nframes + 1, sizeof(*st.frames));
		for (j = 0; j < (int)st.nframes; j++) {
			uint32_t k = pick[below(4)];

			st.frames[j].name = k < 3 && j < 2 ? names[NNAMES - 3 + k] :
							     names[below(j < 3 ? 4 : NNAMES)];
			st.frames[j].kernel = below(3) == 0;
		}
		cr_assert_eq(profile__add_stack(p, &st), 0);
	}
}

static int sign(long v)
{
	return (v > 0) - (v < 0);
}

Test(stack_rank, ranks_order_stacks_as_the_frame_walk_does)
{
	struct profile *p = profile__new(MODE_ATTACH, NULL);
	const char *names[NNAMES];
	char copy[32];
	size_t i, j, equal = 0;
	uint32_t max = 0;

	cr_assert_not_null(p);
	make_names(p, names, copy);
	add_stacks(p, names);
	cr_assert_eq(stacks_rank_frames(p), 0);
	for (i = 0; i < p->nstacks; i++) {
		struct stack x = p->stacks[i];

		cr_assert_geq(x.frames_rank, 1);
		max = x.frames_rank > max ? x.frames_rank : max;
		x.frames_rank = 0;
		for (j = 0; j < p->nstacks; j++) {
			struct stack y = p->stacks[j];
			int want;

			y.frames_rank = 0;
			want = sign(stack_cmp_frames(&x, &y));
			cr_assert_eq(
				sign((long)p->stacks[i].frames_rank - p->stacks[j].frames_rank),
				want, "stacks %zu and %zu", i, j);
			equal += i != j && !want;
		}
	}
	/* The corners were reached: some distinct stacks compare equal (the same frames, or
	 * NULL against "", or the copy against its original), and ranks are dense. */
	cr_expect_gt(equal, 0);
	cr_expect_lt(max, p->nstacks);
	profile__free(p);
}

Test(stack_rank, null_and_empty_names_rank_equal)
{
	struct profile *p = profile__new(MODE_ATTACH, NULL);
	struct frame a = { .name = NULL }, b = { .name = profile__intern(p, "") };
	struct stack x = { .nframes = 1, .frames = malloc(sizeof(a)) },
		     y = { .nframes = 1, .frames = malloc(sizeof(b)) };

	x.frames[0] = a;
	y.frames[0] = b;
	cr_assert_eq(profile__add_stack(p, &x), 0);
	cr_assert_eq(profile__add_stack(p, &y), 0);
	cr_assert_eq(stacks_rank_frames(p), 0);
	cr_expect_eq(p->stacks[0].frames_rank, p->stacks[1].frames_rank);
	profile__free(p);
}
