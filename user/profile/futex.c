// SPDX-License-Identifier: MIT
/* Futex waits summed per word: the locks of a process, named by the global holding them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "futex.h"

static int by_ns_desc(const void *a, const void *b)
{
	const struct futex_sum *x = a, *y = b;

	if (x->ns != y->ns)
		return x->ns > y->ns ? -1 : 1;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

long futex_sums(const struct futex_wait *fw, size_t n, futex_keep_fn keep, void *ctx,
		struct futex_sum **out)
{
	struct futex_sum *s = calloc(n + 1, sizeof(*s));
	size_t i, k = 0;

	*out = s;
	if (!s)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if (keep && !keep(&fw[i], ctx))
			continue;
		/* Input sorted by pid and addr: one word's waits are consecutive. */
		if (!k || s[k - 1].addr != fw[i].addr || s[k - 1].pid != fw[i].pid) {
			s[k++] = (struct futex_sum){ .pid = fw[i].pid,
						     .addr = fw[i].addr,
						     .symbol = fw[i].symbol,
						     .module = fw[i].module,
						     .offset = fw[i].offset };
		}
		s[k - 1].ns += fw[i].ns;
		s[k - 1].count += fw[i].count;
		s[k - 1].threads++;
	}
	qsort(s, k, sizeof(*s), by_ns_desc);
	return k;
}

bool futex_is_gil(const struct futex_sum *s)
{
	return s->symbol && !strcmp(s->symbol, FUTEX_GIL_SYMBOL);
}
