// SPDX-License-Identifier: MIT
/*
 * The stacks' frames order (stack_cmp_frames), computed once: stacks_rank_frames. Sorting
 * 100 000 stacks by their frame lists called strcmp millions of times on names that are few
 * and interned, so the distinct names are ranked once and each stack becomes a row of small
 * integers (name rank x 2 + kernel) that the sort compares without looking at a string.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include "stack_merge.h"

/* One stack's frames as keys: root first, name rank x 2 + kernel. */
struct key_row {
	const uint32_t *keys;
	uint32_t n;
	struct stack *st;
};

/* A recording may hold an unnamed frame (NULL): it sorts as "". */
static const char *name_of(const struct frame *fr)
{
	return fr->name ? fr->name : "";
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Lexicographic on the keys, then the shorter first: cmp_frames_walk's order. */
static int cmp_row(const void *a, const void *b)
{
	const struct key_row *x = a, *y = b;
	uint32_t i, n = x->n < y->n ? x->n : y->n;

	for (i = 0; i < n; i++)
		if (x->keys[i] != y->keys[i])
			return x->keys[i] < y->keys[i] ? -1 : 1;
	return x->n < y->n ? -1 : x->n > y->n;
}

static bool rows_equal(const struct key_row *x, const struct key_row *y)
{
	return x->n == y->n && !memcmp(x->keys, y->keys, x->n * sizeof(*x->keys));
}

/*
 * Names by pointer -> a number in the order first seen, in open addressing: GHashTable's
 * lookup was most of the ranking's time (one per frame, 3 million for 100 000 stacks).
 * Interned names are few; the table holds twice as many slots, so probes stay short.
 */
struct name_ids {
	const char **slot; /* NULL: empty */
	uint32_t *id;
	size_t mask;
	GPtrArray *names; /* by id */
};

static size_t slot_of(const struct name_ids *t, const char *s)
{
	size_t i = ((uintptr_t)s * 0x9e3779b97f4a7c15ull) >> 32 & t->mask;

	while (t->slot[i] && t->slot[i] != s)
		i = (i + 1) & t->mask;
	return i;
}

static int name_ids__init(struct name_ids *t, size_t cap)
{
	t->mask = cap - 1;
	t->slot = calloc(cap, sizeof(*t->slot));
	t->id = calloc(cap, sizeof(*t->id));
	t->names = g_ptr_array_new();
	return t->slot && t->id ? 0 : -ENOMEM;
}

static void name_ids__fini(struct name_ids *t)
{
	free(t->slot);
	free(t->id);
	if (t->names)
		g_ptr_array_free(t->names, TRUE);
}

/* Doubles the table when half full; 0 or -ENOMEM. */
static int name_ids__grow(struct name_ids *t)
{
	struct name_ids bigger = { .names = t->names };
	size_t i, j;

	if (t->names->len < (t->mask + 1) / 2)
		return 0;
	bigger.slot = calloc(2 * (t->mask + 1), sizeof(*bigger.slot));
	bigger.id = calloc(2 * (t->mask + 1), sizeof(*bigger.id));
	if (!bigger.slot || !bigger.id) {
		free(bigger.slot);
		free(bigger.id);
		return -ENOMEM;
	}
	bigger.mask = 2 * t->mask + 1;
	for (i = 0; i <= t->mask; i++)
		if (t->slot[i]) {
			j = slot_of(&bigger, t->slot[i]);
			bigger.slot[j] = t->slot[i];
			bigger.id[j] = t->id[i];
		}
	free(t->slot);
	free(t->id);
	*t = bigger;
	return 0;
}

/* s's number, a new one when unseen; UINT32_MAX when out of memory. */
static uint32_t name_ids__get(struct name_ids *t, const char *s)
{
	size_t i = slot_of(t, s);
	uint32_t id = t->names->len;

	if (t->slot[i])
		return t->id[i];
	t->slot[i] = s;
	t->id[i] = id;
	g_ptr_array_add(t->names, (gpointer)s);
	return name_ids__grow(t) ? UINT32_MAX : id;
}

/* Each stack's row of keys, laid out one after another in keys (total frames long), as name
 * number x 2 + kernel; 0 or -ENOMEM. */
static int fill_rows(struct profile *p, struct name_ids *t, uint32_t *keys, struct key_row *rows)
{
	size_t i, j, at = 0;

	for (i = 0; i < p->nstacks; i++) {
		const struct stack *st = &p->stacks[i];

		rows[i] = (struct key_row){ .keys = keys + at,
					    .n = st->nframes,
					    .st = &p->stacks[i] };
		for (j = 0; j < st->nframes; j++) {
			uint32_t id = name_ids__get(t, name_of(&st->frames[j]));

			if (id == UINT32_MAX)
				return -ENOMEM;
			keys[at++] = id * 2 + st->frames[j].kernel;
		}
	}
	return 0;
}

/* The names' numbers in keys become their ranks by strcmp, from 1. Distinct pointers may hold
 * equal strings ("" and an unnamed frame, or a recording's repeated string): one rank. */
static int rank_keys(struct name_ids *t, uint32_t *keys, size_t total)
{
	uint32_t *rank = calloc(t->names->len + 1, sizeof(*rank)), r = 0, i;
	const char **by_name = calloc(t->names->len + 1, sizeof(*by_name));
	size_t k;

	if (!rank || !by_name) {
		free(rank);
		free(by_name);
		return -ENOMEM;
	}
	memcpy(by_name, t->names->pdata, t->names->len * sizeof(*by_name));
	qsort(by_name, t->names->len, sizeof(*by_name), cmp_name);
	for (i = 0; i < t->names->len; i++) {
		if (!i || strcmp(by_name[i - 1], by_name[i]))
			r++;
		rank[t->id[slot_of(t, by_name[i])]] = r;
	}
	for (k = 0; k < total; k++)
		keys[k] = rank[keys[k] >> 1] * 2 + (keys[k] & 1);
	free(rank);
	free(by_name);
	return 0;
}

int stacks_rank_frames(struct profile *p)
{
	struct name_ids ids = {};
	struct key_row *rows = NULL;
	uint32_t *keys = NULL, rank = 0;
	size_t i, total = 0;
	int err = -ENOMEM;

	for (i = 0; i < p->nstacks; i++)
		total += p->stacks[i].nframes;
	/* A name's rank x 2 + 1 must fit a key; ranks are at most the number of frames. */
	if (total >= UINT32_MAX / 2)
		return -EOVERFLOW;
	rows = calloc(p->nstacks + 1, sizeof(*rows));
	keys = calloc(total + 1, sizeof(*keys));
	if (!rows || !keys || name_ids__init(&ids, 1024) || fill_rows(p, &ids, keys, rows) ||
	    rank_keys(&ids, keys, total))
		goto cleanup;
	qsort(rows, p->nstacks, sizeof(*rows), cmp_row);
	for (i = 0; i < p->nstacks; i++) {
		if (!i || !rows_equal(&rows[i - 1], &rows[i]))
			rank++;
		rows[i].st->frames_rank = rank;
	}
	err = 0;
cleanup:
	name_ids__fini(&ids);
	free(rows);
	free(keys);
	return err;
}
