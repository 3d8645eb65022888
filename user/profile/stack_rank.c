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
#include "name_ids.h"
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

/* Each stack's row of keys, laid out one after another in keys (total frames long), as name
 * number x 2 + kernel; 0 or -ENOMEM. */
static int fill_rows(struct profile *p, struct name_ids *ids, uint32_t *keys, struct key_row *rows)
{
	size_t i, j, at = 0;

	for (i = 0; i < p->nstacks; i++) {
		const struct stack *st = &p->stacks[i];

		rows[i] = (struct key_row){ .keys = keys + at,
					    .n = st->nframes,
					    .st = &p->stacks[i] };
		for (j = 0; j < st->nframes; j++) {
			int64_t id = name_ids__get(ids, name_of(&st->frames[j]));

			if (id < 0)
				return id;
			keys[at++] = id * 2 + st->frames[j].kernel;
		}
	}
	return 0;
}

/* The names' numbers in keys become their ranks by strcmp, from 1. Distinct pointers may hold
 * equal strings ("" and an unnamed frame, or a recording's repeated string): one rank. */
static int rank_keys(struct name_ids *ids, uint32_t *keys, size_t total)
{
	uint32_t n = name_ids__count(ids), *rank = calloc(n + 1, sizeof(*rank)), r = 0, i;
	const char **by_name = calloc(n + 1, sizeof(*by_name));
	size_t k;

	if (!rank || !by_name) {
		free(rank);
		free(by_name);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++)
		by_name[i] = name_ids__name(ids, i);
	qsort(by_name, n, sizeof(*by_name), cmp_name);
	/* Every name was seen: get returns its number. */
	for (i = 0; i < n; i++) {
		if (!i || strcmp(by_name[i - 1], by_name[i]))
			r++;
		rank[name_ids__get(ids, by_name[i])] = r;
	}
	for (k = 0; k < total; k++)
		keys[k] = rank[keys[k] >> 1] * 2 + (keys[k] & 1);
	free(rank);
	free(by_name);
	return 0;
}

int stacks_rank_frames(struct profile *p)
{
	struct name_ids *ids = NULL;
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
	ids = name_ids__new();
	if (!rows || !keys || !ids || fill_rows(p, ids, keys, rows) || rank_keys(ids, keys, total))
		goto cleanup;
	qsort(rows, p->nstacks, sizeof(*rows), cmp_row);
	for (i = 0; i < p->nstacks; i++) {
		if (!i || !rows_equal(&rows[i - 1], &rows[i]))
			rank++;
		rows[i].st->frames_rank = rank;
	}
	err = 0;
cleanup:
	name_ids__free(ids);
	free(rows);
	free(keys);
	return err;
}
