/* SPDX-License-Identifier: MIT */
/* What the advisor's verdicts (advise.c) and its rules (advise_rules.c) share. */
#ifndef CONCUR_ADVISE_INTERNAL_H
#define CONCUR_ADVISE_INTERNAL_H

#include <stdbool.h>
#include "advise.h"

/* A thread with less CPU than this share of its life does no work worth bounding... */
#define IDLE_CPU_SHARE 0.02
/* ...and when it is also parked this much of its life in one category, it is idle capacity
 * (a pool worker on its condition variable, an event loop with nothing to do, a timer thread):
 * its waits are not contention, they are the absence of work. */
#define IDLE_PARKED_SHARE 0.90
/*
 * Helpers: while the workload does work (its busy threads want WORKLOAD_WORKS CPUs on average),
 * a thread that runs under PARKED_CPU_SHARE of its life and stays parked PARKED_SHARE of it in
 * waits for others (socket, pipe, poll, lock other than the GIL, sleep, children) is idle
 * capacity: a supervisor joining its workers, a pool's result handler reading their pipe, a
 * resource tracker. Its waits are the others' work, not its own bottleneck. Disk and other
 * waits never count: a thread blocked in its own disk request is doing that request. The
 * GIL's wait is left out of the parked time: a thread waiting for the GIL has Python code to
 * run. Both shares are of the time the thread did not wait for a CPU: on a machine shared
 * with other load, a helper's every wake-up may wait in the run queue (measured up to 26 % of
 * a result handler's life beside busy workers). 10 %: a Python supervisor's start-up (imports,
 * spawning) is a few % of a second's run (measured 4-5 % in a 0.8-1.2 s pool run); 85 %: the
 * rest of its life is all waiting.
 */
#define PARKED_CPU_SHARE 0.10
#define PARKED_SHARE	 0.85
#define WORKLOAD_WORKS	 0.5
/* Run-queue time above this share of the active time: the threads want more CPU than they
 * get. Below it, preemption noise (a few % on a busy machine) is not saturation. */
#define RUNQ_SATURATED 0.20
/*
 * A thread that wants a CPU (on one, or runnable) this much of its life is "busy": it alone
 * could use a whole CPU. Its run-queue time counts: behind other load a busy thread waits for
 * a CPU as much as it runs (measured: pool_helpers' two workers beside other helpers' builds,
 * 54% and 49% on a CPU, the rest runnable; by CPU alone one of them was busy, and the pool
 * "one thread does the work: threads help").
 */
#define BUSY_CPU_SHARE 0.50
/* An event loop thread wanting a CPU (cpu + runqueue) this much of its life has no idle time
 * left: more events only queue up. */
#define LOOP_BUSY_SHARE 0.90
/* A busy thread whose poll holds this share of its blocked time waits for events, not for
 * one blocking call: an event loop, already async, even with idle time left (a loop busy 80%
 * on a machine shared with other load). */
#define LOOP_POLL_SHARE 0.50
/* Busy loops make the scope an event loop when they do this share of its active threads' CPU
 * work: a majority; below it the others' work is the bound (measured: `make unit-test`, one
 * test process polling its runner's socket among 257 made the suite "a saturated event loop"). */
#define LOOP_WORK_SHARE 0.50
/* Lock wait above this share, spread over two threads or more, with CPUs left idle,
 * serializes the work: lock contention is the bound even where the threads' CPU time is the
 * larger share (the holder computes while the others wait). */
#define LOCK_SERIALIZES 0.25
/* A thread waiting this share of its life for locks takes part in the turns (above). */
#define LOCKER_SHARE 0.10
/* This many active threads already overlap blocking I/O: threads are "already used". */
#define IO_MANY_THREADS 4
/* Overlapping waits is worth at most this: beyond it the other end (the server, the device,
 * the pipe's writer) becomes the bound, which this profile does not measure. */
#define IO_BOUND_CAP 10.0
/* Network waits this many, or this short on average: an event loop beats a thread per wait. */
#define NET_MANY_WAITS	  1000
#define NET_SHORT_WAIT_NS 1000000ull
/* A process whose threads wait for children this share of their time is a parent: its
 * children are the bound, whatever the little rest of its time does. */
#define WAIT_DOMINATES 0.50
/* Spare CPUs below this (in CPUs): the CPUs are full. */
#define CPU_SPARE 0.5
/*
 * Other load (advise.c: choose()). The scheduler is work-conserving: a runnable thread waits
 * only while every CPU it may use is busy. So when a scope's threads wait in the run queue
 * RUNQ_SATURATED of their time while the workload keeps fewer than its CPUs - CPU_SPARE busy
 * on average (half a CPU or more of them was not its own), the CPUs were busy with other
 * processes' work: the machine is shared, the wait is context, and the verdict comes from what
 * the threads do (their runnable time is CPU work delayed). Measured: a GIL-bound program
 * beside a load generator on 2 CPUs waited 20-40 % in the run queue with 0.9 CPUs busy of its
 * own. Under RUNQ_SATURATED the run queue is wake-up latency and the program's own churn, not
 * a sign of other load (thread_per_request.py alone on a quiet machine: 10 % runnable, its
 * 1001 threads each runnable until a CPU takes it; processes measured 1.99x there).
 */
/*
 * Supervisors (advise_children.c): a thread that waits for its children, in wait4 or through
 * pipes, sockets or poll (a test runner, a pool, a job server), WAIT_DOMINATES of its life
 * while its children run SUPERVISES_SHARE of it, waits for their work: that wait is theirs.
 * 50 %: a runner busy half its life with its own work is a worker too.
 */
#define SUPERVISES_SHARE 0.50
/*
 * ...and its children worked (on a CPU or runnable) at least this share of that wait: then the
 * wait is for their work. A client waiting on a server it started (a test's fixture answering
 * after a delay) waits for the server's idle time instead, which no lever of the children
 * shortens: its wait is its own (slow_server.py's client, 83 % in sockets to its child).
 */
#define SUPERVISED_WORK 0.50
/*
 * A relay: a thread of a process parked RELAY_SHARE of its life in pipes, sockets or poll
 * hands what it reads to the process's other threads through a queue, whose wait is a lock
 * (futex): pytest-xdist's controller waits on a queue its execnet reader thread fills from
 * the worker's pipe (measured: 86 % of its main thread's life in lock, the reader 98 % in a
 * pipe); multiprocessing.Pool's and concurrent.futures' callers wait so for their result
 * threads. In a process with a relay, a thread's lock wait (the GIL's left out) counts as a
 * wait for children under the same conditions as the relay's own (SUPERVISES_SHARE,
 * SUPERVISED_WORK): without children doing the work, it stays lock. 50 %: as WAIT_DOMINATES.
 */
#define RELAY_SHARE 0.50
/*
 * Children (advise_children.c). The whole workload's work is in its children when processes
 * started by another of its processes, other than supervisors, hold CHILD_WORK_SHARE of its
 * CPU time; they ran "one at a time" when they overlapped under SERIAL_OVERLAP on average
 * (their summed lives over the time any of them ran: 1.0 never overlapping; 10 % allows a
 * child's exit and the next one's start to overlap a little).
 */
#define CHILD_WORK_SHARE 0.50
#define SERIAL_OVERLAP	 1.10
/*
 * A child process alive under SHORT_PROC_NS (its time runnable behind others left out) is
 * too short to advise on its own: at the default 99 Hz per CPU it has at most 5 on-CPU
 * samples, and its exec, dynamic linking and exit (1-5 ms for a small C program) are a large
 * share of its life. It is one task of its parent's workload:
 * the whole workload's advice (how many such tasks ran at once) is its advice; it is
 * summarised by executable (struct adv_exe).
 */
#define SHORT_PROC_NS 50000000ull

/* CPython threads waiting this much for the GIL, besides computing: GIL-bound. */
#define GIL_LOCK_SHARE 0.10
/* GIL-bound and this many threads born per second of the window (at least GIL_CHURN_MIN): a
 * thread per task, whose start, exit and GIL hand-offs cost CPU one thread would not spend
 * (measured: 1000 tasks of 0.5 ms, one thread each, 1.3-1.4x slower than one thread). */
#define GIL_CHURN_PER_S 100.0
#define GIL_CHURN_MIN	50
/* A CPython process's on-CPU samples tell the interpreter (which holds the GIL) from native
 * code (extensions that may release it, e.g. hashlib on large buffers, zlib): with at least
 * this many samples classified, the split bounds what threads can run in parallel. */
#define INTERP_MIN_SAMPLES 10
/* A lever whose bound is under this gains less than run-to-run noise: "no effect". */
#define MIN_GAIN 1.10

/* An event loop's stalls (advise_stall.c) decide the verdict when its active threads were
 * stalled this share of their time or more: a quarter of the time is a bottleneck worth a
 * lever, as a quarter of lock wait is (LOCK_SERIALIZES). */
#define STALL_SHARE 0.25

/* What the rules read about a scope, beyond what adv_scope reports. */
struct metrics {
	int cpus;
	double share[CAT_MAX]; /* of the active threads' time */
	uint64_t cnt[CAT_MAX]; /* intervals, active threads */
	uint32_t busy;	       /* active threads with cpu + runqueue >= BUSY_CPU_SHARE */
	bool loop_busy;	       /* an active thread is a busy event loop (advise.c: busy_loop) */
	double loop_cpu;       /* the busiest such thread's cpu share */
	double loop_want;      /* and its cpu + runqueue share */
	uint64_t window_ns;
	bool waiting;	   /* a process dominated by waiting for children */
	double gil_share;  /* measured GIL wait, of the active threads' time */
	uint32_t born;	   /* active threads started inside the window */
	uint32_t lockers;  /* active threads waiting for locks LOCKER_SHARE of life */
	bool works;	   /* the workload works (adv_ctx.works) */
	double runq_other; /* run-queue share behind other processes' load (see RUNQ_SATURATED) */
	double wait_share; /* a waiting process's share waiting for children (any way) */
	bool supervises;   /* and part of it through pipes, sockets or poll */
	uint64_t short_ns; /* a child process alive under SHORT_PROC_NS: its life; else 0 */
};

/* What the advisor built once for every scope. */
struct adv_ctx {
	const struct profile *p;      /* finished: threads by pid, tid; procs by pid, start */
	bool *idle_proc, *idle_whole; /* per entry of p->threads */
	const struct stack **by_pid;  /* by pid, cat, frames */
	const struct stack **by_cat;  /* by cat, frames */
	uint64_t *gil_ns;	      /* per entry of p->threads: its measured wait for the GIL */
	bool works; /* the workload's busy threads hold WORKLOAD_WORKS CPUs on average */
	struct adv_stall *stalls; /* per entry of p->threads: its event loop's stall */
	/* per entry of p->threads: its wait for children (CAT_WAIT, and a supervisor's poll,
	 * pipe and socket waits; advise_children.c) */
	uint64_t *child_wait_ns;
	double whole_parallelism; /* the workload's, once the whole scope is advised */
};

/* The index in p->threads of (pid, tid), its first instance; p->nthreads when unknown. */
size_t adv_thread_index(const struct profile *p, uint32_t pid, uint32_t tid);
/* Each thread's event-loop stall into x->stalls (one per thread; ns 0: none), from its
 * stacks (asyncio's frames, or the poll rule) and, without stacks, its split. */
void adv_loop_stalls(const struct adv_ctx *x);
/* The speedup bound (1..IO_BOUND_CAP) of overlapping stall s of a thread that lived life_ns. */
double adv_stall_bound(uint64_t life_ns, const struct adv_stall *s);
/* Makes a scope whose active threads were stalled STALL_SHARE of their time or more a stalled
 * loop (verdict, why, levers); false, and the scope untouched, otherwise. */
bool adv_stall_verdict(const struct adv_ctx *x, struct adv_scope *sc, const struct metrics *m,
		       const size_t *idx, size_t n, const bool *idle);
/* Whether thread i's stall, seen in asyncio's callbacks, holds STALL_SHARE of its life: then
 * it is never idle, however little it computes (a loop stalled in time.sleep is not parked). */
bool adv_stalled_thread(const struct adv_ctx *x, size_t i);

/* A thread's life in ns without its wait for children (that time is theirs). */
uint64_t adv_life_of(const struct thread *t);
/* The category a thread idles in (CAT_*), or -1 when it is active; gil and child_wait in ns,
 * works: whether the workload works meanwhile (see advise_gather.c). */
int adv_idle_cat(const struct thread *t, uint64_t gil, uint64_t child_wait, bool works);
/* Sums the threads idx[0..n) (of x->p->threads) into scope sc and its metrics m: the active
 * ones into the split, the idle ones flagged in idle[0..n) and counted. */
void adv_gather(struct adv_ctx *x, struct adv_scope *sc, struct metrics *m, const size_t *idx,
		size_t n, bool *idle);

/* Each thread's wait for its children into x->child_wait_ns (see SUPERVISES_SHARE). */
void adv_child_waits(const struct adv_ctx *x);
/* The whole workload's rule when its work is in child processes that could run more at once
 * (see CHILD_WORK_SHARE): rewrites the verdict's sentence and rows; 1 when so, 0 when not,
 * -ENOMEM. */
int adv_children_rule(const struct adv_ctx *x, struct adv_scope *sc, const struct metrics *m);
/* Whether p->procs[i] is a child (its parent in the profile) alive under SHORT_PROC_NS, its
 * run-queue time left out. */
bool adv_short_child(const struct profile *p, size_t i);
/* A process's life in the window (ns): its start to its exit or the window's end. */
uint64_t adv_proc_life_ns(const struct profile *p, const struct proc *pr);
/* Short processes (SHORT_PROC_NS) summarised by executable into a->exes; 0 or -ENOMEM. */
int adv_short_summary(const struct adv_ctx *x, struct advice *a);

/* Sorts pointers to p's stacks two ways: by pid, category, frames; and by category, frames. */
void adv_sort_stacks(const struct profile *p, const struct stack **by_pid,
		     const struct stack **by_cat);
/* The futex words the scope's active threads waited on: the GIL's share, the heaviest other
 * lock. 0 or -ENOMEM. */
int adv_futex_evidence(const struct adv_ctx *x, struct adv_scope *sc, const bool *idle);
/* Each thread's measured wait for CPython's GIL into x->gil_ns (zeroed, one per thread). */
void adv_thread_gil(const struct adv_ctx *x);
/* A CPython scope's on-CPU samples of active threads: in the interpreter or in native code. */
void adv_interp_evidence(const struct adv_ctx *x, struct adv_scope *sc, const bool *idle);
/* The ADV_TOP_STACKS heaviest code paths of the scope's bottleneck category. */
void adv_stack_evidence(const struct adv_ctx *x, struct adv_scope *sc, const bool *idle);

/* Amdahl's law: the speedup of n workers when a share f of the work parallelizes. */
double adv_amdahl(double f, int n);
/* Formats into an ADV_TEXT field (a verdict's or a row's sentence), truncated to fit. */
void adv_format(char *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Sets lever l's effect and bound; returns the row, for its reason. */
struct adv_row *adv_set_row(struct adv_scope *sc, enum adv_lever l, enum adv_effect e,
			    double bound);
/* A share (0..1) as a percentage. */
double adv_percent(double share);
/* The classic table's rows for the scope (advise_table.c), from the same figures. */
void adv_fill_table(const struct adv_ctx *x, struct adv_scope *sc, const struct metrics *m);
/* The levers' rows for the verdict chosen. */
void adv_apply_rule(struct adv_scope *sc, const struct metrics *m);

#endif
