// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include "name_ids.h"

/* Open addressing, linear probing, at most half full so probes stay short. */
struct name_ids {
	const char **slot; /* by slot; slot_used says which hold a pointer (NULL is a key) */
	uint8_t *slot_used;
	uint32_t *slot_id;
	size_t mask;
	const char **names; /* by id */
	uint32_t count;
};

static size_t slot_of(const struct name_ids *t, const char *s)
{
	/* Fibonacci hashing: the multiply spreads pointers that differ in a few low bits. */
	size_t i = ((uintptr_t)s * 0x9e3779b97f4a7c15ull) >> 32 & t->mask;

	while (t->slot_used[i] && t->slot[i] != s)
		i = (i + 1) & t->mask;
	return i;
}

static int alloc_slots(struct name_ids *t, size_t cap)
{
	t->mask = cap - 1;
	t->slot = calloc(cap, sizeof(*t->slot));
	t->slot_used = calloc(cap, sizeof(*t->slot_used));
	t->slot_id = calloc(cap, sizeof(*t->slot_id));
	t->names = calloc(cap / 2, sizeof(*t->names));
	return t->slot && t->slot_used && t->slot_id && t->names ? 0 : -ENOMEM;
}

static void free_slots(struct name_ids *t)
{
	free(t->slot);
	free(t->slot_used);
	free(t->slot_id);
	free(t->names);
}

struct name_ids *name_ids__new(void)
{
	struct name_ids *t = calloc(1, sizeof(*t));

	if (t && alloc_slots(t, 1024)) {
		name_ids__free(t);
		return NULL;
	}
	return t;
}

void name_ids__free(struct name_ids *t)
{
	if (!t)
		return;
	free_slots(t);
	free(t);
}

/* Twice the slots, every pointer moved; 0 or -ENOMEM (t unchanged). */
static int grow(struct name_ids *t)
{
	struct name_ids big = { .count = t->count };
	size_t i, j;

	if (alloc_slots(&big, 2 * (t->mask + 1))) {
		free_slots(&big);
		return -ENOMEM;
	}
	for (i = 0; i <= t->mask; i++) {
		if (!t->slot_used[i])
			continue;
		j = slot_of(&big, t->slot[i]);
		big.slot[j] = t->slot[i];
		big.slot_used[j] = 1;
		big.slot_id[j] = t->slot_id[i];
		big.names[t->slot_id[i]] = t->slot[i];
	}
	free_slots(t);
	*t = big;
	return 0;
}

int64_t name_ids__get(struct name_ids *t, const char *s)
{
	size_t i = slot_of(t, s);

	if (t->slot_used[i])
		return t->slot_id[i];
	if (t->count + 1 > (t->mask + 1) / 2) {
		if (t->count == UINT32_MAX / 2 || grow(t))
			return -ENOMEM;
		i = slot_of(t, s);
	}
	t->slot[i] = s;
	t->slot_used[i] = 1;
	t->slot_id[i] = t->count;
	t->names[t->count] = s;
	return t->count++;
}

uint32_t name_ids__count(const struct name_ids *t)
{
	return t->count;
}

const char *name_ids__name(const struct name_ids *t, uint32_t id)
{
	return id < t->count ? t->names[id] : NULL;
}
