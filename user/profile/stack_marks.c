// SPDX-License-Identifier: MIT
/* Stacks concur had to cut: where to cut them, and how many were (see stack_marks.h). */
#include <string.h>
#include "stack_marks.h"

static const char *const mark_names[MARK_MAX] = {
	[MARK_TRUNCATED] = "[truncated]",
	[MARK_UNWIND_STOPPED] = "[unwind stopped]",
	[MARK_NO_TABLE] = "[no unwind table yet]",
};

const char *stack_mark_name(enum stack_mark m)
{
	return m > MARK_NONE && m < MARK_MAX ? mark_names[m] : NULL;
}

size_t stack_check_user(const uint64_t *ips, size_t n, size_t limit, code_at_fn code_at, void *ctx,
			enum stack_mark *mark)
{
	size_t i;

	/* From the leaf: past the first bad address, every frame was read through a bad rbp. */
	for (i = 1; i < n; i++) {
		if (!code_at(ips[i] - 1, ctx)) {
			*mark = MARK_UNWIND_STOPPED;
			return i;
		}
	}
	*mark = n && n >= limit ? MARK_TRUNCATED : MARK_NONE;
	return n;
}

enum stack_mark stack_mark_of(const struct stack *st)
{
	const struct frame *root = st->nframes ? &st->frames[0] : NULL;
	int m;

	if (!root || root->kernel || !root->module || !root->name ||
	    strcmp(root->module, MARK_MODULE))
		return MARK_NONE;
	for (m = MARK_NONE + 1; m < MARK_MAX; m++)
		if (!strcmp(root->name, mark_names[m]))
			return m;
	return MARK_NONE;
}

void profile__mark_totals(const struct profile *p, struct mark_total out[MARK_MAX])
{
	size_t i;

	memset(out, 0, MARK_MAX * sizeof(*out));
	for (i = 0; i < p->nstacks; i++) {
		const struct stack *st = &p->stacks[i];
		struct mark_total *t = &out[stack_mark_of(st)];

		t->stacks++;
		t->ns += st->ns;
		if (st->cat == CAT_CPU)
			t->samples += st->count;
	}
}
