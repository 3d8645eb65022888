// SPDX-License-Identifier: MIT
#include <glib.h>
#include "strtab.h"

/* A GStringChunk interns by itself (g_string_chunk_insert_const) and frees all at once. */
struct strtab {
	GStringChunk *chunk;
};

struct strtab *strtab__new(void)
{
	struct strtab *t = g_new(struct strtab, 1);

	t->chunk = g_string_chunk_new(4096);
	return t;
}

void strtab__free(struct strtab *t)
{
	if (!t)
		return;
	g_string_chunk_free(t->chunk);
	g_free(t);
}

const char *strtab__intern(struct strtab *t, const char *s)
{
	return g_string_chunk_insert_const(t->chunk, s);
}
