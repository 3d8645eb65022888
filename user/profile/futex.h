/* SPDX-License-Identifier: MIT */
/* Futex waits (struct futex_wait, one per thread and word) summed per word. */
#ifndef CONCUR_FUTEX_H
#define CONCUR_FUTEX_H

#include <stdbool.h>
#include "profile.h"

/* The symbol CPython's runtime state is exported as: its GIL lies inside it. */
#define FUTEX_GIL_SYMBOL "_PyRuntime"

struct futex_sum {
	uint32_t pid;
	uint64_t addr;
	uint64_t ns, count;
	uint32_t threads;   /* that waited on it */
	const char *symbol; /* as in struct futex_wait */
	const char *module;
	uint64_t offset;
};

/* keep: which waits count (NULL: all). */
typedef bool (*futex_keep_fn)(const struct futex_wait *fw, void *ctx);

/*
 * Sums fw[0..n) (sorted by pid, addr, tid, as in struct profile) per word into
 * *out (malloc'ed), most time first; returns how many, or -ENOMEM.
 */
long futex_sums(const struct futex_wait *fw, size_t n, futex_keep_fn keep, void *ctx,
		struct futex_sum **out);

/* A word inside CPython's runtime state: the GIL (its mutex and condition variable). */
bool futex_is_gil(const struct futex_sum *s);

#endif
