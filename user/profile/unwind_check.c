// SPDX-License-Identifier: MIT
/*
 * Frame-pointer unwinding stops at the first function built without frame pointers: its
 * stacks end after a frame or two. Such stacks are grouped by the object of their innermost
 * user frame; an object most of whose stack weight is that shallow is named in the report.
 */
#include <stdlib.h>
#include <glib.h>
#include "unwind_check.h"

/* At most this many user frames: a stack that stopped early (a real one has a thread entry
 * and a caller or two above any leaf). */
#define SHALLOW_FRAMES 2
/* Named when at least this share of its weight, and this many stacks, are shallow. */
#define SHALLOW_SHARE 0.5
#define MIN_STACKS    3

/* The warning for module in found, added when new; index maps a module to its place + 1. */
static struct unwind_warning *find_or_add(GArray *found, GHashTable *index, const char *module)
{
	guint at = GPOINTER_TO_UINT(g_hash_table_lookup(index, module));
	struct unwind_warning w = { .module = module };

	if (!at) {
		g_array_append_val(found, w);
		at = found->len;
		g_hash_table_insert(index, (gpointer)module, GUINT_TO_POINTER(at));
	}
	return &g_array_index(found, struct unwind_warning, at - 1);
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
	GArray *found = g_array_new(FALSE, FALSE, sizeof(struct unwind_warning));
	GHashTable *index = g_hash_table_new(NULL, NULL);
	struct unwind_warning *w;
	uint32_t i, user;
	size_t s;

	/* Warnings already there (a profile has none before this) add up with the new ones. */
	for (s = 0; s < p->nunwind; s++)
		*find_or_add(found, index, p->unwind[s].module) = p->unwind[s];
	for (s = 0; s < p->nstacks; s++) {
		const struct stack *st = &p->stacks[s];

		for (user = 0, i = 0; i < st->nframes && !st->frames[i].kernel; i++)
			user++;
		/* "[vdso]", "[unknown]", "[no stack]": nothing anyone could rebuild. */
		if (!user || !st->frames[user - 1].module || st->frames[user - 1].module[0] == '[')
			continue;
		w = find_or_add(found, index, st->frames[user - 1].module);
		w->total_ns += st->ns;
		w->stacks++;
		if (user <= SHALLOW_FRAMES) {
			w->shallow_ns += st->ns;
			w->shallow_stacks++;
		}
	}
	g_hash_table_destroy(index);
	/* The profile frees p->unwind with free(): GLib allocates with malloc (since 2.46). */
	free(p->unwind);
	p->nunwind = found->len;
	p->unwind = (struct unwind_warning *)g_array_free(found, FALSE);
	keep_suspects(p);
	return 0;
}
