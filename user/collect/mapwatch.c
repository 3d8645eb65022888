// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include "mapwatch.h"

#define MS 1000000ull

/* After the first read: 10 ms, 50 ms, 250 ms, then every second. */
static uint64_t next_delay(uint32_t reads)
{
	static const uint64_t steps[] = { 10 * MS, 40 * MS, 200 * MS };

	return reads <= sizeof(steps) / sizeof(steps[0]) ? steps[reads - 1] : 1000 * MS;
}

int mapwatch_add(struct mapwatch *w, uint32_t pid, uint64_t now)
{
	struct mapwatch_entry *tmp;
	size_t i;

	for (i = 0; i < w->n; i++) {
		if (w->e[i].pid == pid) {
			w->e[i].reads = 0;	/* a new image (exec): start over */
			w->e[i].due_ns = now;
			return 0;
		}
	}
	if (w->n == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 16;
		tmp = realloc(w->e, w->cap * sizeof(*tmp));
		if (!tmp)
			return -ENOMEM;
		w->e = tmp;
	}
	w->e[w->n++] = (struct mapwatch_entry){ pid, 0, now };
	return 0;
}

uint64_t mapwatch_run(struct mapwatch *w, uint64_t now, int (*read)(uint32_t pid, void *ctx),
		      void *ctx)
{
	uint64_t next = 0;
	size_t i = 0;

	while (i < w->n) {
		struct mapwatch_entry *e = &w->e[i];

		if (e->due_ns <= now) {
			/* A process that is gone keeps the last map read while it lived. */
			if (read(e->pid, ctx) == -ENOENT) {
				*e = w->e[--w->n];
				continue;
			}
			e->reads++;
			e->due_ns = now + next_delay(e->reads);
		}
		if (!next || e->due_ns < next)
			next = e->due_ns;
		i++;
	}
	return next;
}

void mapwatch_free(struct mapwatch *w)
{
	free(w->e);
	w->e = NULL;
	w->n = w->cap = 0;
}
