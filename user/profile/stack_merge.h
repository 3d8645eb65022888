/* SPDX-License-Identifier: MIT */
#ifndef CONCUR_STACK_MERGE_H
#define CONCUR_STACK_MERGE_H

#include "profile.h"

struct merged_stack {
	const struct stack *st; /* category and frames; its pid/tid are one thread's of many */
	uint64_t ns;
	uint64_t count;
};

/* Orders stacks by their frames, root first: names, then user before kernel, then depth.
 * Two ranked stacks (struct stack.frames_rank) compare by rank, which is the same order. */
int stack_cmp_frames(const struct stack *x, const struct stack *y);
/* Sets every stack's frames_rank (one sort of the stacks by frames; stack_rank.c): 0, or
 * -ENOMEM or -EOVERFLOW (2^31 frames in all), when the ranks stay 0 and comparisons walk
 * the frames. */
int stacks_rank_frames(struct profile *p);
/* Sorted by category, then frames; *out is malloc'ed. */
int stacks_merge(const struct profile *p, struct merged_stack **out, size_t *nout);

#endif
