// SPDX-License-Identifier: MIT
#include <errno.h>
#include "mapwatch.h"

#define MS 1000000ull

/* After the first read: 10 ms, 50 ms, 250 ms, then every second. */
static uint64_t next_delay(uint32_t reads)
{
	static const uint64_t steps[] = { 10 * MS, 40 * MS, 200 * MS };

	return reads <= sizeof(steps) / sizeof(steps[0]) ? steps[reads - 1] : 1000 * MS;
}

static struct mapwatch_entry *entry(const struct mapwatch *w, size_t i)
{
	return &g_array_index(w->e, struct mapwatch_entry, i);
}

void mapwatch_add(struct mapwatch *w, uint32_t pid, uint64_t now)
{
	struct mapwatch_entry e = { pid, 0, now };
	size_t i;

	if (!w->e)
		w->e = g_array_new(FALSE, FALSE, sizeof(e));
	for (i = 0; i < w->e->len; i++) {
		if (entry(w, i)->pid == pid) {
			*entry(w, i) = e; /* a new image (exec): start over */
			return;
		}
	}
	g_array_append_val(w->e, e);
}

uint64_t mapwatch_run(struct mapwatch *w, uint64_t now, int (*read)(uint32_t pid, void *ctx),
		      void *ctx)
{
	uint64_t next = 0;
	size_t i = 0;

	while (w->e && i < w->e->len) {
		struct mapwatch_entry *e = entry(w, i);

		if (e->due_ns <= now) {
			/* A process that is gone keeps the last map read while it lived. */
			if (read(e->pid, ctx) == -ENOENT) {
				g_array_remove_index_fast(w->e, i);
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
	if (w->e)
		g_array_free(w->e, TRUE);
	w->e = NULL;
}
