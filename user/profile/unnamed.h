/* SPDX-License-Identifier: MIT */
/*
 * Stacks with user frames concur could not name, counted from their frames (a recording needs
 * no field of its own), by why: no memory map of the process's image was read (the frame's
 * module is SYM_NO_MAP: the process exited, or exec'd, before its map could be read), or the
 * address lay outside every file the process had mapped when its map was read (JIT or
 * anonymous code; code mapped and gone between two reads). Either way the frame is
 * "[unknown]", and the reports say how much of the profile that is.
 */
#ifndef CONCUR_UNNAMED_H
#define CONCUR_UNNAMED_H

#include "profile.h"
#include "stack_marks.h"

enum unnamed_reason {
	UNNAMED_NONE,	 /* every user frame named */
	UNNAMED_NO_MAP,	 /* some frame had no map to be named with */
	UNNAMED_OUTSIDE, /* else, some frame lay outside every mapped file */
	UNNAMED_MAX
};

/* Why st has an unnamed user frame, UNNAMED_NONE when it has none. */
enum unnamed_reason stack_unnamed(const struct stack *st);

/* Sums the profile's stacks by stack_unnamed() (samples: of the on-CPU ones). */
void profile__unnamed_totals(const struct profile *p, struct mark_total out[UNNAMED_MAX]);

#endif
