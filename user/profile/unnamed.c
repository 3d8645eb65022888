// SPDX-License-Identifier: MIT
#include <string.h>
#include "symbolize.h"
#include "unnamed.h"

enum unnamed_reason stack_unnamed(const struct stack *st)
{
	enum unnamed_reason why = UNNAMED_NONE;
	uint32_t i;

	for (i = 0; i < st->nframes; i++) {
		const struct frame *f = &st->frames[i];

		/* The first byte before strcmp: every frame of every stack comes here. */
		if (f->kernel || !f->name || f->name[0] != '[' || strcmp(f->name, "[unknown]"))
			continue;
		if (f->module && !strcmp(f->module, SYM_NO_MAP))
			return UNNAMED_NO_MAP;
		why = UNNAMED_OUTSIDE;
	}
	return why;
}

void profile__unnamed_totals(const struct profile *p, struct mark_total out[UNNAMED_MAX])
{
	size_t i;

	memset(out, 0, UNNAMED_MAX * sizeof(*out));
	for (i = 0; i < p->nstacks; i++) {
		const struct stack *st = &p->stacks[i];
		struct mark_total *t = &out[stack_unnamed(st)];

		t->stacks++;
		t->ns += st->ns;
		if (st->cat == CAT_CPU)
			t->samples += st->count;
	}
}
