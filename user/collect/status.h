/* SPDX-License-Identifier: MIT */
/* The live status line on stderr while collecting (only on a terminal): it shows what
 * collect_snapshot() took, and reads nothing itself. */
#ifndef CONCUR_STATUS_H
#define CONCUR_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include "collect.h"

struct status {
	bool shown;
};

/* Formats one line of at most `size` - 1 characters (no newline). */
void status_format(char *buf, size_t size, double elapsed_s, const struct collect_snapshot *snap);
/* Shows the snapshot taken elapsed_s into the window, redrawn in place. */
void status_update(struct status *st, double elapsed_s, const struct collect_snapshot *snap);
void status_clear(struct status *st);

#endif
