// SPDX-License-Identifier: MIT
/*
 * Folded stacks, one line per distinct stack: "category;root;...;leaf weight", the weight in
 * microseconds for every category (on-CPU samples are converted with the sampling period),
 * so that on-CPU and off-CPU time share one scale. flamegraph.pl, speedscope and inferno
 * read it. Kernel frames carry the "_[k]" suffix; threads are merged.
 */
#include <stdlib.h>
#include <string.h>
#include "output.h"
#include "printable.h"
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

static void put_stack(FILE *f, const struct stack *st, uint64_t ns)
{
	uint32_t i;

	fputs(cat_names[st->cat < CAT_MAX ? st->cat : CAT_OTHER], f);
	for (i = 0; i < st->nframes; i++) {
		putc_unlocked(';', f);
		put_name(f, st->frames[i].name);
		if (st->frames[i].kernel)
			fputs("_[k]", f);
	}
	fprintf(f, " %llu\n", (unsigned long long)((ns + 500) / 1000));
}

int write_folded(const struct profile *p, const struct advice *a, FILE *f)
{
	struct merged_stack *m;
	size_t i, n;
	int err = stacks_merge(p, &m, &n);

	(void)a;
	if (err)
		return err;
	flockfile(f);
	for (i = 0; i < n; i++)
		if (m[i].ns >= 500)
			put_stack(f, m[i].st, m[i].ns);
	funlockfile(f);
	free(m);
	return ferror(f) ? -EIO : 0;
}
