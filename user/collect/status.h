/* SPDX-License-Identifier: MIT */
/* The live status line on stderr while recording (only on a terminal). */
#ifndef CONCUR_STATUS_H
#define CONCUR_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "concur.h"

struct status {
	bool shown;
};

struct status_sums {
	__u64 ns[CAT_MAX];
	uint64_t total;
	size_t threads;
	size_t procs;
	uint64_t events;
};

/* Formats one line of at most `size` - 1 characters (no newline). */
void status_format(char *buf, size_t size, double elapsed_s, const struct status_sums *sums);
/* thread_fds: the live threads' map (u32 keys) and the exited threads' (u64 keys). */
void status_update(struct status *st, const int thread_fds[2], int stats_fd, uint64_t now,
		   uint64_t t0);
void status_clear(struct status *st);

#endif
