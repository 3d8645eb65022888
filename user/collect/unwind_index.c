// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "unwind_index.h"

int unwind_bias(const struct unwind_seg *segs, size_t n, uint64_t start, uint64_t pgoff,
		uint64_t page, uint64_t *bias)
{
	size_t i;

	for (i = 0; i < n; i++) {
		uint64_t first = segs[i].off & ~(page - 1);

		if (segs[i].filesz && pgoff >= first &&
		    (pgoff < segs[i].off || pgoff - segs[i].off < segs[i].filesz)) {
			/* The file byte at off is at start + (off - pgoff), its ELF address vaddr.
			 * Wrapping arithmetic: a non-PIE's bias is 0, a PIE's its base. */
			*bias = start + segs[i].off - pgoff - segs[i].vaddr;
			return 0;
		}
	}
	return -ENOENT;
}

static int cmp_start(const void *a, const void *b)
{
	const struct unwind_mapping *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

size_t unwind_index_build(struct unwind_mapping *m, size_t n, struct unwind_proc *out)
{
	size_t i, left = 0;

	memset(out, 0, sizeof(*out));
	if (n)
		qsort(m, n, sizeof(*m), cmp_start);
	for (i = 0; i < n; i++) {
		if (m[i].end <= m[i].start || out->n == UNWIND_MAX_MAPPINGS ||
		    (out->n && m[i].start < out->m[out->n - 1].end)) {
			left++;
			continue;
		}
		out->m[out->n++] = m[i];
	}
	return left;
}
