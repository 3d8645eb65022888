// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "strtab.h"

/* Open addressing on a power-of-two table of owned strings, kept at most half full. */
struct strtab {
	char **slots;
	size_t cap;
	size_t count;
};

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;	/* FNV-1a */

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

struct strtab *strtab__new(void)
{
	struct strtab *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->cap = 1024;
	t->slots = calloc(t->cap, sizeof(*t->slots));
	if (!t->slots) {
		free(t);
		return NULL;
	}
	return t;
}

void strtab__free(struct strtab *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->cap; i++)
		free(t->slots[i]);
	free(t->slots);
	free(t);
}

static char **find_slot(char **slots, size_t cap, const char *s)
{
	size_t i = hash(s) & (cap - 1);

	while (slots[i] && strcmp(slots[i], s))
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

static int grow(struct strtab *t)
{
	size_t cap = t->cap * 2, i;
	char **slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (i = 0; i < t->cap; i++)
		if (t->slots[i])
			*find_slot(slots, cap, t->slots[i]) = t->slots[i];
	free(t->slots);
	t->slots = slots;
	t->cap = cap;
	return 0;
}

const char *strtab__intern(struct strtab *t, const char *s)
{
	char **slot;

	if ((t->count + 1) * 2 > t->cap && grow(t))
		return NULL;
	slot = find_slot(t->slots, t->cap, s);
	if (!*slot) {
		*slot = strdup(s);
		if (!*slot)
			return NULL;
		t->count++;
	}
	return *slot;
}

size_t strtab__count(const struct strtab *t)
{
	return t->count;
}
