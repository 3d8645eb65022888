/* SPDX-License-Identifier: MIT */
/*
 * Stacks concur had to cut, and the pseudo frame that says so at their root.
 *
 * A user stack comes from the kernel's frame-pointer walk, leaf first. It is cut for one of
 * two reasons: the kernel kept only the CONCUR_STACK_DEPTH frames nearest the leaf (the
 * stack was deeper: "[truncated]"), or the walk went through code that uses rbp as a general
 * register and read return addresses that are no code of the process (cut before the first
 * such one: "[unwind stopped]"). Either way the stack's root frame is then a marker of
 * module "[concur]", which no real object can be (a module is a file name, without
 * brackets). The counts in the reports are derived from these roots, so a recording needs
 * no field of its own for them.
 *
 * With --unwind=cfi a third: a stack taken before the process's unwind index was written (its
 * first milliseconds) came from the frame-pointer walk, which stops in the first function
 * built without frame pointers: "[no unwind table yet]", so that a wait that began then is not
 * read as a whole stack (`sleep;clock_nanosleep` alone, for a sleep in main).
 */
#ifndef CONCUR_STACK_MARKS_H
#define CONCUR_STACK_MARKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "profile.h"

#define MARK_MODULE "[concur]"

enum stack_mark {
	MARK_NONE,
	MARK_TRUNCATED,	     /* deeper than the kernel's limit: the root side is missing */
	MARK_UNWIND_STOPPED, /* the walk left the process's code: cut there */
	MARK_NO_TABLE,	     /* --unwind=cfi, taken before the process's index was in: the
			      * kernel's frame-pointer walk, its callers likely missing */
	MARK_MAX
};

/* The marker frame's name ("[truncated]"...); NULL for MARK_NONE. */
const char *stack_mark_name(enum stack_mark m);

/* Whether the process maps code executable at ip; ctx is the caller's. */
typedef bool (*code_at_fn)(uint64_t ip, void *ctx);

/*
 * Checks a user stack of n return addresses, leaf first, as the kernel gave it (at most
 * limit). Returns how many frames to keep from the leaf and sets *mark. The leaf is the
 * sampled ip itself, kept whatever it is (JIT or anonymous code is not in any file's
 * mapping); each caller is checked at ip - 1 (the call, not the instruction after it).
 */
size_t stack_check_user(const uint64_t *ips, size_t n, size_t limit, code_at_fn code_at, void *ctx,
			enum stack_mark *mark);

/* The mark at the stack's root, MARK_NONE when its root is a real frame. */
enum stack_mark stack_mark_of(const struct stack *st);

/* Stacks with one mark, and their weight. */
struct mark_total {
	uint64_t stacks;
	uint64_t samples; /* of the on-CPU ones */
	uint64_t ns;	  /* in every category */
};

/* Sums the profile's stacks by their root's mark (out[MARK_NONE]: the unmarked ones). */
void profile__mark_totals(const struct profile *p, struct mark_total out[MARK_MAX]);

#endif
