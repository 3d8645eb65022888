// SPDX-License-Identifier: MIT
/*
 * Folded stacks, one line per distinct stack: "category;root;...;leaf weight", the weight in
 * microseconds for every category (on-CPU samples are converted with the sampling period),
 * so that on-CPU and off-CPU time share one scale. flamegraph.pl, speedscope and inferno
 * read it. Kernel frames carry the "_[k]" suffix; threads are merged.
 */
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include "output.h"
#include "printable.h"
#include "profile/name_ids.h"
#include "profile/stack_merge.h"

/* ';' separates frames and a newline ends the record: neither may come from a name. */
static void put_name(FILE *f, const char *s)
{
	const char *semi;

	for (; (semi = strchr(s, ';')); s = semi + 1) {
		printable_fputs(f, s, semi - s, SIZE_MAX);
		putc_unlocked(':', f);
	}
	printable_fputs(f, s, SIZE_MAX, SIZE_MAX);
}

/* Each distinct name's folded form (put_name's bytes), made once and then copied: 3 million
 * frames of 100 000 stacks hold a few thousand names, and escaping every frame was most of the
 * writer's time. By the name's number in ids. */
struct folded_names {
	struct name_ids *ids;
	GArray *text; /* GString *, by number */
};

static void folded_names__fini(struct folded_names *n)
{
	name_ids__free(n->ids);
	if (n->text)
		g_array_free(n->text, TRUE);
}

static void free_text(gpointer s)
{
	g_string_free(*(GString **)s, TRUE);
}

/* The folded form of s, NULL when out of memory. */
static const GString *folded_names__get(struct folded_names *n, const char *s)
{
	int64_t id = name_ids__get(n->ids, s);
	GString *g;
	char *buf = NULL;
	size_t len = 0;
	FILE *m;

	if (id < 0)
		return NULL;
	if (id < n->text->len)
		return g_array_index(n->text, GString *, id);
	m = open_memstream(&buf, &len);
	if (!m)
		return NULL;
	put_name(m, s ? s : "");
	if (fclose(m)) {
		free(buf);
		return NULL;
	}
	g = g_string_new_len(buf, len);
	free(buf);
	g_array_append_val(n->text, g);
	return g;
}

static void put_u64(FILE *f, uint64_t v)
{
	char buf[20], *p = buf + sizeof(buf);

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	fwrite_unlocked(p, 1, buf + sizeof(buf) - p, f);
}

/* 0 or -ENOMEM. */
static int put_stack(FILE *f, struct folded_names *names, const struct stack *st, uint64_t ns)
{
	uint32_t i;

	fputs_unlocked(cat_names[st->cat < CAT_MAX ? st->cat : CAT_OTHER], f);
	for (i = 0; i < st->nframes; i++) {
		const GString *name = folded_names__get(names, st->frames[i].name);

		if (!name)
			return -ENOMEM;
		putc_unlocked(';', f);
		fwrite_unlocked(name->str, 1, name->len, f);
		if (st->frames[i].kernel)
			fwrite_unlocked("_[k]", 1, 4, f);
	}
	putc_unlocked(' ', f);
	put_u64(f, (ns + 500) / 1000);
	putc_unlocked('\n', f);
	return 0;
}

int write_folded(const struct profile *p, const struct advice *a, FILE *f)
{
	struct folded_names names = { .ids = name_ids__new() };
	struct merged_stack *m = NULL;
	size_t i, n;
	int err = -ENOMEM;

	(void)a;
	names.text = g_array_new(FALSE, FALSE, sizeof(GString *));
	g_array_set_clear_func(names.text, free_text);
	if (!names.ids)
		goto cleanup;
	err = stacks_merge(p, &m, &n);
	if (err)
		goto cleanup;
	flockfile(f);
	for (i = 0; i < n && !err; i++)
		if (m[i].ns >= 500)
			err = put_stack(f, &names, m[i].st, m[i].ns);
	funlockfile(f);
	if (!err && ferror(f))
		err = -EIO;
cleanup:
	free(m);
	folded_names__fini(&names);
	return err;
}
