// SPDX-License-Identifier: MIT
/* Stacks merged across threads: equal category and frames, one entry. For the folded and
 * JSON writers, which show code paths rather than threads. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "stack_merge.h"

static int cmp_frames_walk(const struct stack *x, const struct stack *y)
{
	uint32_t i, n = x->nframes < y->nframes ? x->nframes : y->nframes;
	int c;

	for (i = 0; i < n; i++) {
		if (x->frames[i].name != y->frames[i].name) {
			/* A recording may hold an unnamed frame (NULL): it sorts as "". */
			c = strcmp(x->frames[i].name ? x->frames[i].name : "",
				   y->frames[i].name ? y->frames[i].name : "");
			if (c)
				return c;
		}
		if (x->frames[i].kernel != y->frames[i].kernel)
			return x->frames[i].kernel ? 1 : -1;
	}
	return x->nframes < y->nframes ? -1 : x->nframes > y->nframes;
}

int stack_cmp_frames(const struct stack *x, const struct stack *y)
{
	if (x->frames_rank && y->frames_rank)
		return x->frames_rank < y->frames_rank ? -1 : x->frames_rank > y->frames_rank;
	return cmp_frames_walk(x, y);
}

static int cmp_stack(const void *a, const void *b)
{
	const struct stack *x = *(const struct stack *const *)a,
			   *y = *(const struct stack *const *)b;

	if (x->cat != y->cat)
		return x->cat < y->cat ? -1 : 1;
	return stack_cmp_frames(x, y);
}

int stacks_merge(const struct profile *p, struct merged_stack **out, size_t *nout)
{
	const struct stack **order = calloc(p->nstacks + 1, sizeof(*order));
	struct merged_stack *m = calloc(p->nstacks + 1, sizeof(*m));
	size_t i, j, n = 0;

	if (!order || !m) {
		free(order);
		free(m);
		return -ENOMEM;
	}
	for (i = 0; i < p->nstacks; i++)
		order[i] = &p->stacks[i];
	qsort(order, p->nstacks, sizeof(*order), cmp_stack);
	for (i = 0; i < p->nstacks; i = j) {
		m[n] = (struct merged_stack){ .st = order[i] };
		for (j = i; j < p->nstacks && !cmp_stack(&order[i], &order[j]); j++) {
			m[n].ns += order[j]->ns;
			m[n].count += order[j]->count;
		}
		n++;
	}
	free(order);
	*out = m;
	*nout = n;
	return 0;
}
