/* SPDX-License-Identifier: MIT */
/*
 * Kernel maps → the profile. The probes' structs (include/concur.h) end here: every map entry
 * is converted into the profile's own records once, and nothing past this stage sees one.
 */
#ifndef CONCUR_COLLECT_H
#define CONCUR_COLLECT_H

#include "concur.h"
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
	int ustacks; /* the CFI unwinder's user stacks; -1 when it was off */
};

/*
 * The interval a thread was in when the window closed: no event recorded it, so its time
 * still has to be added to the stack the thread left its CPU with.
 */
struct open_interval {
	struct stack_key key; /* the thread, the interval's category and its stacks */
	uint64_t ns;
};

/* What collecting keeps beside the profile until the stacks are read. */
struct collect_pending {
	struct open_interval *open;
	size_t nopen;
};

struct symbolizer;
struct pyframes;

/*
 * A probe's account → the profile's thread: the interval in progress is closed at end_mono
 * (CLOCK_MONOTONIC ns) on a copy, times become relative to window_start. *open gets the
 * interval that the window's end closed (ns 0: none, or on a CPU).
 */
void collect_convert_thread(const struct thread_acct *a, uint64_t window_start, uint64_t end_mono,
			    struct thread *t, struct open_interval *open);
/* Reads the processes, threads, `other` time and counters into p; open intervals are closed
 * at end_mono and kept in *pending for collect_stacks. 0 or -errno. */
int collect_profile(struct profile *p, const struct collect_fds *fds, uint64_t end_mono,
		    struct collect_pending *pending);
/* Adds the symbolized stacks, with their Python frames when py knows the process (py may be
 * NULL); after collect_profile, while the symbolizer knows the maps. */
int collect_stacks(struct profile *p, const struct collect_fds *fds, struct symbolizer *sym,
		   struct pyframes *py, const struct collect_pending *pending);
/* Adds the time blocked per futex word, named by the global variable holding it where there
 * is one; after collect_profile, while the symbolizer knows the maps (sym may be NULL). */
int collect_futexes(struct profile *p, int fd, struct symbolizer *sym);
void collect_pending_free(struct collect_pending *pending);

/* The live view: every thread's time per category as if the window ended at now. */
struct collect_snapshot {
	uint64_t ns[CAT_MAX];
	uint64_t total;
	size_t threads;
	size_t procs;
	uint64_t events; /* switches, switches in after a block, forks and exits */
};

/* Sums the threads of the live map (u32 keys) and the exited map (u64 keys). */
void collect_snapshot(const int thread_fds[2], int stats_fd, uint64_t now,
		      struct collect_snapshot *snap);

/* Calls fn on every entry of a hash map (keys of key_size bytes, at most 32). */
int map_walk(int fd, size_t key_size, void *value,
	     int (*fn)(const void *key, void *value, void *ctx), void *ctx);
int collect_stats(uint64_t out[STAT_MAX], int fd);

#endif
