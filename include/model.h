/* SPDX-License-Identifier: MIT */
/*
 * The vocabulary every stage shares, each list written once: the categories a thread's time
 * is split into, and the probes' counters. The enums, the names the outputs use and the
 * tests' lists are all expanded from these X-macros. Plain C: the BPF side, the profile and
 * the writers include it alike.
 */
#ifndef CONCUR_MODEL_H
#define CONCUR_MODEL_H

/* A task's name as the kernel keeps it (TASK_COMM_LEN, include/linux/sched.h), NUL included. */
#define CONCUR_COMM_LEN 16

/*
 * Where a thread's wall-clock time goes; the order is the report's column order.
 * X(id, name, short name: at most 4 characters, for columns)
 */
#define CONCUR_CATEGORIES(X)                \
	X(CAT_CPU, "cpu", "cpu")            \
	X(CAT_RUNQUEUE, "runqueue", "runq") \
	X(CAT_LOCK, "lock", "lock")         \
	X(CAT_IO_DISK, "io.disk", "disk")   \
	X(CAT_IO_NET, "io.net", "net")      \
	X(CAT_IO_PIPE, "io.pipe", "pipe")   \
	X(CAT_POLL, "poll", "poll")         \
	X(CAT_SLEEP, "sleep", "slp")        \
	X(CAT_WAIT, "wait", "wait")         \
	X(CAT_OTHER, "other", "othr")

/* clang-format sees no comma after the expansion: it would indent the next line. */
/* clang-format off */
enum concur_cat {
#define CONCUR_CAT_ENUM(id, name, short_name) id,
	CONCUR_CATEGORIES(CONCUR_CAT_ENUM)
#undef CONCUR_CAT_ENUM
	CAT_MAX,
};
/* clang-format on */

/* What a counter counts: an event, data lost (a map full: left out of every total), detail
 * lost (kept in the totals, not by stack or syscall), stack capture, or the probes' own time
 * (--bench-timing). */
enum concur_stat_kind {
	STAT_KIND_EVENT,
	STAT_KIND_LOST,
	STAT_KIND_DETAIL,
	STAT_KIND_STACKS,
	STAT_KIND_TIMING
};

/*
 * The probes' counters: index into the per-CPU `stats` array.
 * X(id, key: the JSON summary's name for it, kind)
 */
#define CONCUR_STATS(X)                                                                        \
	X(STAT_SWITCHES, "switches", STAT_KIND_EVENT)                                          \
	/* target threads back on a CPU after blocking (wake-ups themselves are not traced) */ \
	X(STAT_WAKEUPS, "wakeups", STAT_KIND_EVENT)                                            \
	X(STAT_FORKS, "forks", STAT_KIND_EVENT)                                                \
	X(STAT_EXITS, "exits", STAT_KIND_EVENT)                                                \
	/* a thread could not be tracked: map full */                                          \
	X(STAT_THREADS_FULL, "threads_map_full", STAT_KIND_LOST)                               \
	/* a child process could not be followed: map full */                                  \
	X(STAT_PROCS_FULL, "procs_map_full", STAT_KIND_LOST)                                   \
	/* 'other' time kept in totals but not by syscall */                                   \
	X(STAT_OTHER_FULL, "other_map_full", STAT_KIND_LOST)                                   \
	/* a stack could not be captured (stack map full, collision) */                        \
	X(STAT_STACK_ERRORS, "errors", STAT_KIND_STACKS)                                       \
	/* time kept in totals but not by stack: map full */                                   \
	X(STAT_STACK_KEYS_FULL, "weights_lost", STAT_KIND_STACKS)                              \
	/* on-CPU samples of target threads */                                                 \
	X(STAT_SAMPLES, "samples", STAT_KIND_STACKS)                                           \
	/* ring buffer full: a process's memory map may not be read */                         \
	X(STAT_MAPS_LOST, "maps_lost", STAT_KIND_STACKS)                                       \
	/* an exited thread kept under its tid: a reused tid adds to it */                     \
	X(STAT_DEAD_FULL, "dead_map_full", STAT_KIND_LOST)                                     \
	/* lock time kept in totals but not by futex: map full */                              \
	X(STAT_FUTEX_FULL, "futex_map_full", STAT_KIND_DETAIL)                                 \
	/* switch-outs whose stacks the stack cache gave, and those captured anew */           \
	X(STAT_CACHE_HITS, "cache_hits", STAT_KIND_STACKS)                                     \
	X(STAT_CACHE_MISSES, "cache_misses", STAT_KIND_STACKS)                                 \
	/* --unwind=cfi: walks by the tables (not fallbacks before them), their frames */      \
	X(STAT_CFI_WALKS, "cfi_walks", STAT_KIND_STACKS)                                       \
	X(STAT_CFI_FRAMES, "cfi_frames", STAT_KIND_STACKS)                                     \
	/* --bench-timing only: user stack and Python stack captures timed, the ns they */     \
	/* took, and the timer's own ns over the same calls (two clock reads each) */          \
	X(STAT_USTACK_CALLS, "ustack_calls", STAT_KIND_TIMING)                                 \
	X(STAT_USTACK_NS, "ustack_ns", STAT_KIND_TIMING)                                       \
	X(STAT_PYSTACK_CALLS, "pystack_calls", STAT_KIND_TIMING)                               \
	X(STAT_PYSTACK_NS, "pystack_ns", STAT_KIND_TIMING)                                     \
	X(STAT_TIMER_NS, "timer_ns", STAT_KIND_TIMING)

/* clang-format off */
enum concur_stat {
#define CONCUR_STAT_ENUM(id, key, kind) id,
	CONCUR_STATS(CONCUR_STAT_ENUM)
#undef CONCUR_STAT_ENUM
	STAT_MAX,
};
/* clang-format on */

#endif /* CONCUR_MODEL_H */
