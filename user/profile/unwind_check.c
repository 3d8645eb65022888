// SPDX-License-Identifier: MIT
/*
 * Frame-pointer unwinding stops at the first function built without frame pointers: its
 * stacks end after a frame or two. Such stacks are grouped by the object of their innermost
 * user frame; an object most of whose stack weight is that shallow is named in the report.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "unwind_check.h"

/* At most this many user frames: a stack that stopped early (a real one has a thread entry
 * and a caller or two above any leaf). */
#define SHALLOW_FRAMES 2
/* Named when at least this share of its weight, and this many stacks, are shallow. */
#define SHALLOW_SHARE 0.5
#define MIN_STACKS 3

static struct unwind_warning *find_or_add(struct profile *p, const char *module)
{
	struct unwind_warning *tmp;
	size_t i;

	for (i = 0; i < p->nunwind; i++)
		if (p->unwind[i].module == module)
			return &p->unwind[i];
	tmp = realloc(p->unwind, (p->nunwind + 1) * sizeof(*tmp));
	if (!tmp)
		return NULL;
	p->unwind = tmp;
	tmp = &p->unwind[p->nunwind++];
	memset(tmp, 0, sizeof(*tmp));
	tmp->module = module;
	return tmp;
}

static int cmp_warning(const void *a, const void *b)
{
	const struct unwind_warning *x = a, *y = b;

	return x->shallow_ns > y->shallow_ns ? -1 : x->shallow_ns < y->shallow_ns;
}

/* Keeps only the modules that deserve a warning, worst first. */
static void keep_suspects(struct profile *p)
{
	size_t i, out = 0;

	for (i = 0; i < p->nunwind; i++) {
		struct unwind_warning *w = &p->unwind[i];

		if (w->shallow_stacks >= MIN_STACKS && w->total_ns &&
		    (double)w->shallow_ns / (double)w->total_ns >= SHALLOW_SHARE)
			p->unwind[out++] = *w;
	}
	p->nunwind = out;
	if (p->nunwind)
		qsort(p->unwind, p->nunwind, sizeof(*p->unwind), cmp_warning);
}

int profile__check_unwinding(struct profile *p)
{
	struct unwind_warning *w;
	uint32_t i, user;
	size_t s;

	for (s = 0; s < p->nstacks; s++) {
		const struct stack *st = &p->stacks[s];

		for (user = 0, i = 0; i < st->nframes && !st->frames[i].kernel; i++)
			user++;
		/* "[vdso]", "[unknown]", "[no stack]": nothing anyone could rebuild. */
		if (!user || !st->frames[user - 1].module || st->frames[user - 1].module[0] == '[')
			continue;
		w = find_or_add(p, st->frames[user - 1].module);
		if (!w)
			return -ENOMEM;
		w->total_ns += st->ns;
		w->stacks++;
		if (user <= SHALLOW_FRAMES) {
			w->shallow_ns += st->ns;
			w->shallow_stacks++;
		}
	}
	keep_suspects(p);
	return 0;
}
