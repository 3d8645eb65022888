/* SPDX-License-Identifier: MIT */
#ifndef CONCUR_COLLECT_H
#define CONCUR_COLLECT_H

#include "profile/profile.h"

struct collect_fds {
	int threads;
	int dead_threads;
	int procs;
	int dead_procs;
	int other;
	int stats;
	int stack_weights;
	int stacks;
	int futexes;
};

struct symbolizer;

/* Reads the maps into p; open intervals are closed at end_mono (CLOCK_MONOTONIC ns). */
int collect_profile(struct profile *p, const struct collect_fds *fds, uint64_t end_mono);
/* Adds the symbolized stacks; after collect_profile, while the symbolizer knows the maps. */
int collect_stacks(struct profile *p, const struct collect_fds *fds, struct symbolizer *sym);
/* Adds the time blocked per futex word, named by the global variable holding it where there
 * is one; after collect_profile, while the symbolizer knows the maps (sym may be NULL). */
int collect_futexes(struct profile *p, int fd, struct symbolizer *sym);
/* Calls fn on every entry of a hash map (keys of key_size bytes, at most 32). */
int map_walk(int fd, size_t key_size, void *value,
	     int (*fn)(const void *key, void *value, void *ctx), void *ctx);
int collect_stats(uint64_t out[STAT_MAX], int fd);

#endif
