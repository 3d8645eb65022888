/* SPDX-License-Identifier: MIT */
/*
 * Who waits for CPython's GIL, in which Python function, and who held it meanwhile: the
 * profile's GIL-wait stacks (struct stack.gil == STACK_GIL_TAKE) summed per waiting thread and
 * function (at one line), each split by the holder: its tid and the Python function it ran
 * when the wait began, whatever the line.
 */
#ifndef CONCUR_GIL_WAITS_H
#define CONCUR_GIL_WAITS_H

#include <stddef.h>
#include <stdint.h>
#include "profile.h"

/* Names a waiter function when its stack has no Python frame (a thread started from C). */
#define GIL_NO_PYTHON_FRAME "[no Python frame]"

struct gil_holder_share {
	uint32_t tid;	      /* 0: unknown (not read, or the GIL was free at the wait's start) */
	const char *thread;   /* its comm; NULL when unknown */
	const char *function; /* "qualname (file:line)", the line of its heaviest stack; NULL
			       * when unknown */
	uint64_t ns;
	uint64_t heaviest; /* the heaviest stack's ns, of those summed into it */
};

struct gil_wait_row {
	uint32_t pid, tid;
	const char *thread;   /* the waiter's comm ("" when the profile has no such thread) */
	const char *function; /* its leaf-most Python frame, or GIL_NO_PYTHON_FRAME */
	uint64_t ns, count;
	struct gil_holder_share *holders; /* most time first */
	size_t nholders;
};

/*
 * The rows of p, most time first (*out malloc'ed; gil_waits_free it). Returns how many, or
 * -ENOMEM. Strings are the profile's.
 */
long gil_waits(const struct profile *p, struct gil_wait_row **out);
void gil_waits_free(struct gil_wait_row *rows, size_t n);

#endif
