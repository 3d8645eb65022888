/* SPDX-License-Identifier: MIT */
/*
 * The profile stage: everything a report needs, as plain data owned by the model.
 *
 * Owns: the profile and its records (processes, threads, stacks, futex waits), the string
 * table, the symbolizer, runtime detection and the analyses of stacks and futex words.
 * May not touch: BPF maps, the skeleton or the probes' structs (collect converts those into
 * these records once, where the maps are read), and nothing here writes output.
 *
 * Lifecycle: profile__new(), then the profile__add_*() builders (collect, or the recording
 * reader), then profile__finish() exactly once, which sorts every array and derives the
 * per-process totals; from then on the profile is read-only and its arrays are in the order
 * documented on each field.
 */
#ifndef CONCUR_PROFILE_H
#define CONCUR_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "model.h"
#include "unwind.h"

enum profile_mode { MODE_RUN, MODE_ATTACH };

struct other_sys {
	int32_t nr; /* CONCUR_NO_SYSCALL: outside any syscall */
	uint64_t ns;
	uint64_t cnt;
};

struct proc {
	uint32_t pid;
	uint32_t ppid;
	uint64_t start_ns; /* relative to the window; 0 also for "before it" */
	uint64_t end_ns;   /* 0 while alive */
	bool exited;
	char comm[CONCUR_COMM_LEN];
	char runtime[16];      /* "CPython 3.11", "native"..., "" when unknown (see runtime.h) */
	uint32_t cpus;	       /* it may use (affinity, cgroup quota); 0 when unknown */
	uint32_t peak_running; /* most threads on a CPU at one on-CPU sample; 0 unknown */
	uint64_t rss_kb;       /* peak resident memory; 0 when unknown */
	/* Its cpu cgroup's CFS throttling over the window (cpu.stat): runnable time the quota
	 * held it off the CPUs (summed over CPUs: may exceed the window), and how many
	 * periods; 0 when none or unknown. */
	uint64_t throttled_ns;
	uint64_t nr_throttled;
	/* Derived by profile__finish() from its threads: */
	uint32_t nthreads;
	uint64_t ns[CAT_MAX];
	struct other_sys *other; /* by ns, heaviest first */
	size_t nother;
};

/* A thread's wall-clock time in the window, split into categories that add up to it. */
struct thread {
	uint32_t pid;
	uint32_t tid;
	char comm[CONCUR_COMM_LEN]; /* NUL-terminated */
	uint64_t start_ns;	    /* relative to the window start */
	uint64_t end_ns;	    /* its exit, or the window's end */
	bool exited;
	uint64_t ns[CAT_MAX];  /* sum: end_ns - start_ns */
	uint64_t cnt[CAT_MAX]; /* intervals per category (cnt[CAT_CPU]: switches out) */
	uint64_t preemptions;  /* left a CPU still runnable */
	uint64_t wakeups;      /* got a CPU back after blocking */
	/* Of ns[CAT_CPU], what the run queue's task clock did not count: steal by the hypervisor,
	 * and interrupts' time with IRQ time accounting (account.h). */
	uint64_t steal_ns;
	/* An event loop's CPU stalls: its iterations (woken from its poll to its next block in
	 * it) of LOOP_STALL_NS or more, mostly on a CPU or runnable (include/account.h). Count,
	 * their total and the longest, ns; 0 for other threads, and when read from a recording
	 * (the format does not carry them yet). */
	uint64_t cpu_stalls;
	uint64_t cpu_stall_ns;
	uint64_t cpu_stall_max_ns;
	/* Derived by profile__finish(): its process, an index into procs (a pid reused within
	 * the window is a new process). */
	size_t proc;
};

/* One symbolized frame. Strings are interned in the profile: equal names, equal pointers. */
struct frame {
	uint64_t ip;	  /* the address as sampled */
	const char *name; /* function; for an unresolved frame "[unknown]" */
	const char
		*module; /* file name of the ELF object ("libc.so.6"), "[kernel]" for the kernel */
	/* A Python frame's source: its name is "function (file:line)", and file and line say
	 * the same apart; NULL and 0 for every other frame. */
	const char *file;
	uint32_t line;
	bool kernel;
};

/* What a stack's lock time waited on in CPython's GIL (struct stack.gil). */
enum stack_gil {
	STACK_GIL_NONE,
	STACK_GIL_TAKE, /* take_gil: a thread waiting for the GIL */
	STACK_GIL_DROP, /* drop_gil: the thread that dropped it, waiting until another takes it */
	STACK_GIL_MAX
};

/*
 * A distinct stack with its weight in one category, for one thread. Frames run from the
 * root (outermost caller) to the leaf: user frames first, then kernel frames.
 */
struct stack {
	uint32_t pid;
	uint32_t tid;
	uint32_t cat; /* enum concur_cat: CAT_CPU for samples, else off-CPU time */
	uint32_t nframes;
	struct frame *frames;
	uint64_t ns;	/* time: samples x period for cpu, the blocked/waiting time otherwise */
	uint64_t count; /* samples (cpu) or intervals (off-CPU) */
	/* Lock time in CPython's GIL (enum stack_gil; its frames then hold a "[GIL] take_gil"
	 * frame): the thread that held the GIL when each wait began (0: unknown, or none held
	 * it), and the Python function it ran then ("qualname (file:line)", NULL: unknown). */
	uint32_t gil;
	uint32_t gil_holder;
	const char *gil_holder_frame;
	/* The stack's place in the order of all stacks' frames (stack_cmp_frames), from 1; equal
	 * frames, equal rank. Derived by profile__finish() (0 before, or when memory ran out), so
	 * the writers' and the advisor's sorts compare two numbers, not two frame lists. */
	uint32_t frames_rank;
};

/*
 * The Python frame walker's counts over the window (BPF's and the merge's), all 0 when no
 * CPython process was walked. X(id, the JSON summary's key).
 */
#define PY_COUNTS(X)                        \
	X(PYC_LISTS, "frame_lists")         \
	X(PYC_FRAMES, "frames")             \
	X(PYC_TRUNCATED, "truncated")       \
	X(PYC_NO_TSTATE, "no_thread_state") \
	X(PYC_FAULTS, "read_faults")        \
	X(PYC_NOT_CODE, "not_code")         \
	X(PYC_FULL, "map_full")             \
	X(PYC_NOTICES_LOST, "notices_lost") \
	X(PYC_UNRESOLVED, "unresolved")     \
	X(PYC_SPLICED, "spliced")           \
	X(PYC_ROOTED, "rooted")             \
	X(PYC_MISMATCHED, "mismatched")     \
	X(PYC_GIL_WAITS, "gil_waits")       \
	X(PYC_GIL_HOLDERS, "gil_holders")
#define PY_COUNT_ENUM(id, key) id,
enum py_count { PY_COUNTS(PY_COUNT_ENUM) PYC_MAX };
#undef PY_COUNT_ENUM
extern const char *const py_count_keys[PYC_MAX];

/* An object whose stacks stop after a frame or two: built without frame pointers. */
struct unwind_warning {
	const char *module;
	uint64_t shallow_ns, total_ns;
	uint64_t shallow_stacks, stacks;
};

/*
 * How the CFI unwinder's walks of user stacks ended in one object (--unwind=cfi), by
 * include/unwind.h's reasons. Per walk: a stack the probes reused from their stack cache is
 * not walked again, so these count captures, not time.
 */
struct unwind_stops {
	const char *module; /* the object of the walk's last frame; "[unknown]" for none */
	uint64_t stop[UNWIND_STOP_MAX];
	uint64_t fp_frames; /* frames walked by frame pointers in it (no table there) */
};

/*
 * What the CFI unwinder's table loader did (--unwind=cfi; all zero otherwise): objects seen
 * (files mapped executable, the vDSO), of them with a table in the kernel, without usable CFI
 * (none, unreadable, refused, Go), and left without one because the row or rule array was
 * full; the arrays' use and size. Objects without a table are walked by frame pointers.
 */
struct unwind_tables {
	uint32_t objects, tables, no_cfi, full;
	uint32_t rows, max_rows, rules, max_rules;
};

/*
 * Time a process's threads spent blocked on one futex word. A word inside a global variable
 * is named by it: a lock by its symbol, CPython's GIL as "_PyRuntime".
 */
struct futex_wait {
	uint32_t pid;
	uint32_t tid; /* the thread that waited */
	uint64_t addr;
	uint64_t ns;	    /* blocked; the runnable part after each wake-up is not in it */
	uint64_t count;	    /* waits */
	const char *symbol; /* the global it lies in, NULL when none was found */
	const char *module; /* the object that defines it; NULL with symbol */
	uint64_t offset;    /* of addr into the symbol */
};

struct strtab;
struct profile_arrays;

struct profile {
	enum profile_mode mode;
	char **command; /* NULL-terminated */
	/* The array command points to when the profile owns it (a loaded recording: its strings
	 * are interned), freed with the profile; NULL when command is borrowed. */
	char **owned_command;
	int exit_status; /* run: the workload's, -1 if unknown */
	bool interrupted;
	uint64_t window_start_ns; /* CLOCK_MONOTONIC */
	uint64_t window_ns;
	int cpus;
	/* The workload's throttling: its processes' cgroups, each counted once. */
	uint64_t throttled_ns;
	uint64_t nr_throttled;
	uint64_t stats[STAT_MAX];
	uint64_t anomalies;	/* events that did not fit a thread's state */
	struct thread *threads; /* by pid, tid, start */
	size_t nthreads;
	struct proc *procs; /* by pid, start */
	size_t nprocs;
	struct stack *stacks; /* in the order added */
	size_t nstacks;
	uint32_t sample_hz; /* on-CPU sampling frequency, 0 when stacks were off */
	struct unwind_warning *unwind;
	size_t nunwind;
	struct unwind_stops *ustops; /* --unwind=cfi: by object, most walks first; else none */
	size_t nustops;
	struct unwind_tables utables;
	struct futex_wait *futexes; /* by pid, addr, tid (collect_futexes) */
	size_t nfutexes;
	/* enum py_count: frame lists walked, frames named "[python]", stacks merged... */
	uint64_t py[PYC_MAX];
	struct strtab *strings;
	struct profile_arrays *arrays; /* the builders' storage (profile.c) */
};

extern const char *const cat_names[CAT_MAX];
/* At most 4 characters, for columns. */
extern const char *const cat_short_names[CAT_MAX];
/* The JSON summary's name of each counter. */
extern const char *const stat_keys[STAT_MAX];
extern const enum concur_stat_kind stat_kinds[STAT_MAX];

struct profile *profile__new(enum profile_mode mode, char **command);
void profile__free(struct profile *p);

/* The builders: each copies its record into the profile (0, or -ENOMEM). */
int profile__add_thread(struct profile *p, const struct thread *t);
/* One instance of a pid that may be reused within the window: alive from start to end
 * (relative ns; start 0 also for "before the window"). -EEXIST for a known instance. */
int profile__add_proc(struct profile *p, const struct proc *pr);
/* Time outside the categories' syscalls, for the latest instance of pid (-ENOENT: none). */
int profile__add_other(struct profile *p, uint32_t pid, int32_t nr, uint64_t ns, uint64_t cnt);
/* Takes ownership of st->frames (malloc'ed). */
int profile__add_stack(struct profile *p, const struct stack *st);
/* Copies fw (its strings must be the profile's: profile__intern). */
int profile__add_futex(struct profile *p, const struct futex_wait *fw);
/* The latest instance of pid, while building (see profile__add_proc). */
struct proc *profile__find_proc(struct profile *p, uint32_t pid);
/* A stable copy of s owned by the profile; NULL when out of memory. */
const char *profile__intern(struct profile *p, const char *s);

/*
 * Puts every array in its documented order, gives each thread without a process one (named
 * after the thread), and derives the per-process totals and each thread's proc. Once, after
 * the last builder call, by collect and by the recording reader alike.
 */
void profile__finish(struct profile *p);

/* The futex waits of pid's threads, by addr then tid (a pid reused within the window: all its
 * instances'); *n of them, NULL when none. */
const struct futex_wait *profile__futexes_of(const struct profile *p, uint32_t pid, size_t *n);

uint64_t thread_lifetime_ns(const struct thread *t);
/* The sum of ns[] over the categories. */
uint64_t cat_sum(const uint64_t ns[CAT_MAX]);
/* The workload's time per category (ns, summed over its processes); returns their sum. */
uint64_t profile__thread_ns(const struct profile *p, uint64_t ns[CAT_MAX]);
/* The threads' steal, all part of their cpu (struct thread). */
uint64_t profile__steal_ns(const struct profile *p);
/* Events lost: the counters of kind STAT_KIND_LOST. */
uint64_t profile__lost(const struct profile *p);

#endif /* CONCUR_PROFILE_H */
