// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <glib.h>
#include "mapgens.h"

struct mapgens {
	GHashTable *by_image; /* pid << 32 | gen -> value */
	GHashTable *newest;   /* pid -> 1 + its newest gen kept */
};

/* GHashTable keys are pointers: (pid, gen) packed in 64 bits, allocated (32-bit hosts too). */
static guint64 *image_key(uint32_t pid, uint32_t gen)
{
	guint64 *k = g_try_new(guint64, 1);

	if (k)
		*k = (guint64)pid << 32 | gen;
	return k;
}

struct mapgens *mapgens__new(void (*free_value)(void *))
{
	struct mapgens *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->by_image = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, free_value);
	t->newest = g_hash_table_new(NULL, NULL);
	return t;
}

void mapgens__free(struct mapgens *t)
{
	if (!t)
		return;
	g_hash_table_destroy(t->by_image);
	g_hash_table_destroy(t->newest);
	free(t);
}

int mapgens__put(struct mapgens *t, uint32_t pid, uint32_t gen, void *value)
{
	guint64 *k = image_key(pid, gen);
	gpointer pkey = GUINT_TO_POINTER(pid);

	if (!k)
		return -ENOMEM;
	/* Replaces the key and the value, freeing both old ones. */
	g_hash_table_replace(t->by_image, k, value);
	if ((guint64)gen + 1 > GPOINTER_TO_SIZE(g_hash_table_lookup(t->newest, pkey)))
		g_hash_table_insert(t->newest, pkey, GSIZE_TO_POINTER((gsize)gen + 1));
	return 0;
}

void *mapgens__get(const struct mapgens *t, uint32_t pid, uint32_t gen)
{
	guint64 k = (guint64)pid << 32 | gen;

	return g_hash_table_lookup(t->by_image, &k);
}

void *mapgens__latest(const struct mapgens *t, uint32_t pid, uint32_t *gen)
{
	gsize newest = GPOINTER_TO_SIZE(g_hash_table_lookup(t->newest, GUINT_TO_POINTER(pid)));

	if (!newest)
		return NULL;
	if (gen)
		*gen = (uint32_t)(newest - 1);
	return mapgens__get(t, pid, (uint32_t)(newest - 1));
}
