/* SPDX-License-Identifier: MIT */
/*
 * The advise stage: from a finished profile, what bounds each process and the whole workload,
 * and whether more threads, more processes or async I/O would help, with a speedup bound and
 * its basis.
 *
 * Owns: the verdicts, the levers' rows and their evidence (struct advice).
 * May not touch: the kernel, /proc, the collect stage, or any output. It reads the profile
 * only, so a recording gives the same advice as the run that made it; main computes it once
 * per run and hands it to every writer that shows it (nothing of it is recorded).
 *
 * Design, in three steps (advise.c: scopes and verdicts; advise_rules.c: the levers):
 *   1. A scope (one process, or the whole workload) is reduced to its "active" threads: a
 *      thread parked nearly all its life (poll, lock, sleep or wait) with almost no CPU is idle
 *      capacity, not a bottleneck, and is only counted ("N idle threads"); so is a helper that
 *      runs little and stays parked (socket and pipe too) while the workload's busy threads
 *      work (a supervisor joining them, a pool's result handler, a resource tracker). A thread
 *      waiting for its children, in wait4 or their pipes and poll, waits for their time
 *      (advise_children.c).
 *   2. The verdict is chosen from the active threads' split and a few shape tests (one busy
 *      thread, a busy thread that also polls, run-queue share against the CPUs in use: a run
 *      queue the workload's own threads do not explain is other load, context only). The
 *      whole workload whose work is in children run fewer at once than the CPUs allow gets
 *      "run more at once"; children too short to advise alone are summarised by executable.
 *   3. Each verdict has one small rule function that fills the three levers' rows; a
 *      process's runtime (proc.runtime: CPython's GIL, an event loop) changes what a lever
 *      means, never the measured split; what is measured (the GIL's futex wait, where the
 *      on-CPU samples ran) decides over what the runtime is known for.
 */
#ifndef CONCUR_ADVISE_H
#define CONCUR_ADVISE_H

#include "profile/futex.h"
#include "profile/profile.h"

enum adv_verdict {
	ADV_TOO_SHORT,	   /* window under ADV_MIN_WINDOW_NS; a child process alive
			    * under 50 ms (summarised in advice.exes) */
	ADV_NO_THREADS,	   /* nothing was measured in this scope */
	ADV_IDLE,	   /* parked (poll/lock) with almost no CPU: waiting for work */
	ADV_CPU,	   /* CPU work */
	ADV_CPU_SATURATED, /* runnable but waiting for a CPU */
	ADV_LOCK,	   /* lock contention */
	ADV_IO_DISK,	   /* blocking I/O */
	ADV_IO_NET,
	ADV_IO_PIPE,
	ADV_LOOP_SATURATED, /* an event loop busy nearly all the time */
	ADV_LOOP_WAITING,   /* an event loop waiting for events: bound by its input */
	ADV_SLEEP,	    /* deliberate sleeps */
	ADV_WAIT,	    /* waiting for children */
	ADV_OTHER,	    /* blocked in other syscalls or page faults */
	ADV_LOOP_STALLED,   /* an event loop blocked outside its poll (advise_stall.c) */
	ADV_VERDICT_MAX,
};

enum adv_effect { ADV_NA, ADV_HELPS, ADV_NO_EFFECT, ADV_HURTS, ADV_ALREADY_USED, ADV_EFFECT_MAX };

enum adv_lever { ADV_THREADS, ADV_PROCESSES, ADV_ASYNC, ADV_LEVER_MAX };

/* The classic table's aspects (advise_table.c). */
enum adv_aspect {
	ADV_ASPECT_CPU,	     /* CPU work in parallel: cpu share, CPUs busy and idle */
	ADV_ASPECT_IO,	     /* blocking I/O and poll shares */
	ADV_ASPECT_GIL,	     /* CPython's GIL wait */
	ADV_ASPECT_IPC,	     /* time in pipes between processes */
	ADV_ASPECT_STARTUP,  /* threads and processes started per second */
	ADV_ASPECT_MEMORY,   /* resident memory per process: one more process's cost */
	ADV_ASPECT_SWITCHES, /* context switches per second and the run-queue wait */
	ADV_ASPECT_MAX,
};

#define ADV_MIN_WINDOW_NS 10000000ull /* 10 ms */
#define ADV_TOP_STACKS	  3
#define ADV_TEXT	  320

extern const char *const adv_verdict_keys[ADV_VERDICT_MAX];  /* "cpu_saturated", ... */
extern const char *const adv_verdict_names[ADV_VERDICT_MAX]; /* "CPU saturation", ... */
extern const char *const adv_effect_names[ADV_EFFECT_MAX];   /* "helps", "no effect", ... */
extern const char *const adv_lever_names[ADV_LEVER_MAX];     /* "threads", ... */
extern const char *const adv_aspect_keys[ADV_ASPECT_MAX];    /* "cpu", "io", ... */
extern const char *const adv_aspect_names[ADV_ASPECT_MAX];   /* "CPU in parallel", ... */

struct adv_row {
	enum adv_effect effect;
	double bound;	       /* the speedup's upper bound; 0 when there is none */
	char basis[ADV_TEXT];  /* what the bound rests on; "" without a bound */
	char reason[ADV_TEXT]; /* one sentence, from the measured split */
};

/* One aspect of the classic table, for this scope: its measured figure in one phrase, and
 * what that figure says about each design (helps, hurts, already used, no effect, n/a). */
struct adv_aspect_row {
	enum adv_effect mark[ADV_LEVER_MAX];
	char measured[ADV_TEXT];
};

/* A code path of the bottleneck category, threads of the scope merged. */
struct adv_stack {
	const struct stack *st; /* frames and category; pid/tid are one thread's */
	uint64_t ns;
	uint64_t count;
};

/* An event loop's thread blocked outside its poll: its stall (advise_stall.c). */
struct adv_stall {
	uint32_t tid;
	bool python; /* recognised by asyncio's frames, else by its poll waits */
	/* A CPU stall: its loop's iterations computing for LOOP_STALL_NS or more (struct
	 * thread.cpu_stalls); ns, count and longest_ns are theirs, cat is CAT_CPU, function the
	 * heaviest on-CPU function (Python: the innermost user frame in asyncio's callbacks;
	 * native: the leaf), call NULL. */
	bool cpu;
	int cat;	     /* where its heaviest code path blocked; -1: none */
	uint64_t ns, count;  /* its time blocked outside its poll (in asyncio's callbacks), waits */
	uint64_t longest_ns; /* the largest average wait of one code path: <= the longest wait */
	uint64_t worst_ns;   /* the heaviest code path's time */
	/* The code that blocked on that path: "request (client.py:16)", or a native function,
	 * and the call it blocked in ("clock_nanosleep"); NULL when unknown (no stacks). */
	const char *function, *call;
};

struct adv_scope {
	bool whole;	 /* the whole workload, else one process */
	bool summarised; /* a child too short to advise alone: counted in advice.exes */
	uint32_t pid;
	char comm[CONCUR_COMM_LEN];
	char runtime[16]; /* the process's (see runtime.h); "" for the whole workload */
	enum adv_verdict verdict;
	int cat;	    /* the bottleneck's category, -1 when none */
	char why[ADV_TEXT]; /* the verdict in one sentence */
	struct adv_row rows[ADV_LEVER_MAX];
	int best; /* the lever to try first (enum adv_lever), -1: none helps */
	/* Evidence: the active threads' split, and the idle threads left out of it. */
	uint64_t ns[CAT_MAX];
	uint64_t active_ns; /* their summed lifetimes, wait for children excluded */
	uint32_t threads, active, idle;
	int idle_cat;	    /* what most idle threads were parked in, -1 if none */
	double parallelism; /* all the scope's cpu ns / window ns */
	/* The machine as the scope sees it, and what its concurrency costs. */
	int cpus;	       /* it may use: affinity, cgroup quota (else online) */
	uint32_t peak_running; /* most of its threads on a CPU at once; 0 unknown */
	uint64_t rss_kb;       /* peak resident memory (summed, whole); 0 unknown */
	uint64_t throttled_ns; /* its cgroups' CFS quota held it off the CPUs (cpu.stat) */
	uint64_t nr_throttled; /* in that many periods */
	double switches_per_s; /* its threads' context switches per second */
	char costs[ADV_TEXT];  /* those figures in one sentence */
	struct adv_stack top[ADV_TOP_STACKS];
	size_t ntop;
	/* Futex waits of the active threads (when measured): CPython's GIL, and the word other
	 * than the GIL waited on longest (lock.ns 0: none). */
	bool futexes_known;
	uint64_t gil_ns;
	struct futex_sum lock;
	/* A CPython process's on-CPU samples (active threads), by their innermost frame outside
	 * the C library: in the interpreter, which holds the GIL, or in native code (extensions),
	 * which may run without it; known when INTERP_MIN_SAMPLES were classified. */
	bool interp_known;
	uint64_t interp_ns, native_ns;
	struct adv_aspect_row table[ADV_ASPECT_MAX]; /* the classic table, by enum adv_aspect */
	/* The active thread whose event loop stalled longest (stall.ns 0: none), its life and
	 * the speedup bound of overlapping its stalls. */
	struct adv_stall stall;
	uint64_t stall_life_ns;
	double stall_bound;
};

/* Processes too short to advise on their own (alive under 50 ms), by executable. */
struct adv_exe {
	char comm[CONCUR_COMM_LEN];
	uint32_t count;
	uint64_t life_ns;     /* their summed lifetimes */
	uint64_t ns[CAT_MAX]; /* their threads' split, wait for children excluded */
	int cat;	      /* the largest category of it: what bounds them; -1 none */
};

struct advice {
	int cpus;
	uint64_t window_ns;
	double parallelism; /* the workload's cpu ns / window ns */
	struct adv_scope whole;
	struct adv_scope *procs; /* one per p->procs[i], same order */
	size_t nprocs;
	size_t *order;	      /* indices into procs, most thread-time first */
	struct adv_exe *exes; /* short processes by executable, most time first */
	size_t nexes;
};

/* Fills out (free with advice_free); 0, or -ENOMEM. The profile must be finished and must
 * outlive out (the top stacks point into it). */
int advise(const struct profile *p, struct advice *out);
void advice_free(struct advice *a);

#endif /* CONCUR_ADVISE_H */
