/* SPDX-License-Identifier: MIT */
/* What crosses the BPF/user boundary: categories, map keys and values, limits, counters. */
#ifndef CONCUR_H
#define CONCUR_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#include "model.h"

#ifndef CONCUR_MAX_THREADS
#define CONCUR_MAX_THREADS 65536
#endif
#ifndef CONCUR_MAX_PROCS
#define CONCUR_MAX_PROCS 16384
#endif
#ifndef CONCUR_MAX_OTHER
#define CONCUR_MAX_OTHER 8192
#endif
#ifndef CONCUR_MAX_FUTEXES
#define CONCUR_MAX_FUTEXES 16384
#endif
/* Distinct stacks kept (user and kernel stacks each take one) and their depth. */
#ifndef CONCUR_MAX_STACKS
#define CONCUR_MAX_STACKS 32768
#endif
#define CONCUR_STACK_DEPTH 127
/* (thread, category, stack) weights kept. */
#ifndef CONCUR_MAX_STACK_KEYS
#define CONCUR_MAX_STACK_KEYS 131072
#endif

/* CPUs the sampler looks across for a process's threads running at once. */
#define CONCUR_MAX_CPUS 1024

/*
 * A CPU's run-queue clock against bpf_ktime_get_ns(): the offset from the one to the other,
 * and the run-queue clock when it was last measured (clock_sync.h). BPF-side; in the skeleton.
 */
struct clock_sync {
	__s64 off;
	__u64 at;
};

/* A stack id for "no stack captured": seeded threads, or stacks off. */
#define CONCUR_NO_STACK (-1)

/* What a thread is doing since acct.since_ns. */
enum concur_tstate {
	TS_RUNNING,
	TS_RUNNABLE,
	TS_BLOCKED,
	/* Seeded from /proc as 'R': running or runnable, the next event tells which. */
	TS_R_UNKNOWN,
	TS_DEAD,
};

/* What the fd a thread blocked on refers to. */
enum concur_fdkind {
	FD_NONE,
	FD_FILE,
	FD_SOCKET,
	FD_PIPE,
	FD_CHAR,
	FD_OTHER,
};

/*
 * Reasons a thread blocked that are no syscall's, kept where a syscall number goes (thread_acct.nr,
 * the `other` map's key). Negative: never a real syscall number.
 */
/* Outside any syscall, not waiting for I/O (a minor page fault's lock, and the like). */
#define CONCUR_NO_SYSCALL (-1)
/* Stopped by a signal (SIGSTOP, SIGTSTP, Ctrl-Z) or frozen (a cgroup v1 freezer, suspend). */
#define CONCUR_STOPPED (-2)
/* Stopped by a tracer (ptrace: strace, gdb), wherever it was. */
#define CONCUR_TRACED (-3)
/* Outside any syscall, waiting for I/O: a major page fault reading its page (io.disk). */
#define CONCUR_FAULT_IO (-4)
/* An io_uring worker (io-wq's iou-wrk-*, the SQPOLL thread iou-sqp-*) waiting for work (poll). */
#define CONCUR_IO_WORKER_IDLE (-5)
/* An io_uring worker blocked in a request, or for its own kernel-side ends (see classify.h). */
#define CONCUR_IO_WORKER_REQ (-6)

/* A target thread's state machine plus totals: its task storage, and the value of the maps that
 * hand threads to and from userspace. */
struct thread_acct {
	/* What every event touches first, in one cache line. */
	__u64 since_ns;	    /* start of the interval in progress */
	__u32 state;	    /* enum concur_tstate */
	__u32 cat;	    /* category while TS_BLOCKED */
	__s32 nr;	    /* syscall blocked in, while TS_BLOCKED */
	__u32 flags;	    /* ACCT_* */
	__u64 exec_ns;	    /* the kernel's sum_exec_runtime at the last switch-out */
	__u64 run_delay_ns; /* and its sched_info.run_delay */
	__u64 futex;	    /* the futex word blocked on, while TS_BLOCKED in futex(2) */
	__s32 ustack;	    /* stack ids where the thread last left a CPU */
	__s32 kstack;
	__u32 pid;
	__u32 tid;
	__u64 pystack;	   /* and its Python frames (pyframes.h), CONCUR_NO_PYSTACK: none */
	__u64 wakeups;	   /* got a CPU back after blocking */
	__u64 preemptions; /* left a CPU still runnable */
	__u64 steal_base;  /* rq clock - rq clock_task at the switch-in, while ACCT_STEAL_BASE */
	__u64 steal_ns;	   /* of the cpu time, what the run queue's task clock did not count */
	/* Totals. */
	__u64 ns[CAT_MAX];
	__u64 cnt[CAT_MAX]; /* intervals closed per category */
	__u64 start_ns;	    /* first moment inside the window */
	__u64 end_ns;	    /* death, or 0 while alive */
	__u32 anomalies;    /* events that did not fit the state (a missed event) */
	__u32 gen;	    /* its process's image: execs seen in the window (see proc_info) */
	__u32 gil;	    /* a wait for CPython's GIL (PY_GIL_*, pyframes.h), else 0 */
	__u64 gil_pystack;  /* then the holder's Python frames, CONCUR_NO_PYSTACK: unknown */
	/* An event loop's iteration in progress (account.h, acct_loop_*), while ACCT_LOOP_ITER:
	 * when it woke from its poll, and its cpu + runqueue total then. */
	__u64 loop_wake_ns;
	__u64 loop_busy_base;
	/* Its iterations (wake from poll to the next block in poll) of LOOP_STALL_NS or more,
	 * >= LOOP_BUSY_PCT % on a CPU or runnable: CPU stalls. Count, total and longest, ns. */
	__u64 cpu_stalls;
	__u64 cpu_stall_ns;
	__u64 cpu_stall_max_ns;
	char comm[CONCUR_COMM_LEN];
};

/* exec_ns and run_delay_ns hold a real reading (a new thread's 0 is one; a failed /proc read is not). */
#define ACCT_EXEC_KNOWN 1u
/* steal_base holds the switch-in's reading: the thread is on a CPU and was seen getting it. */
#define ACCT_STEAL_BASE 2u
/* loop_wake_ns and loop_busy_base hold the start of an iteration: it woke from its poll. */
#define ACCT_LOOP_ITER 4u

/*
 * An event loop's iteration this long or longer is a stall when mostly computing: 100 ms,
 * asyncio's own default for a slow callback (BaseEventLoop.slow_callback_duration = 0.1 s,
 * Lib/asyncio/base_events.py; its debug mode logs callbacks that take longer).
 */
#define LOOP_STALL_NS 100000000ULL
/* ... and at least this share of it (percent) on a CPU or runnable: computing, not waiting. */
#define LOOP_BUSY_PCT 80

/* Key of the `other` map: time in CAT_OTHER per process and syscall. */
struct other_key {
	__u32 pid;
	__s32 nr;
};

/*
 * Key of the `stack_weights` map: where a thread's time in one category was spent. gen is the
 * image its process had when the stacks were captured: userspace names them with that image's
 * memory map, not a later one's.
 */
struct stack_key {
	__u32 pid;
	__u32 tid;
	__u32 cat;
	__s32 ustack;
	__s32 kstack;
	__u32 gen; /* the image of its process it was captured in (proc_info.gen) */
	__u32 gil; /* lock time waiting for CPython's GIL: PY_GIL_* and the holder (pyframes.h) */
	__u64 pystack;	   /* pystacks' key of its Python frames, CONCUR_NO_PYSTACK: none */
	__u64 gil_pystack; /* with gil: the holder's Python frames when the wait began */
};

/*
 * Value of the maps that add up intervals under a key (`stack_weights`, `other`, `futexes`):
 * their time, and how many there were.
 */
struct interval_sum {
	__u64 ns;
	__u64 cnt;
};

/*
 * Ring buffer message: a process whose memory map userspace should read now, while it lives
 * (its first stack in an image, or its dynamic loader done mapping libraries); gen: the image.
 */
struct maps_event {
	__u32 pid;
	__u32 gen;
};

/*
 * Key of the `futexes` map: time a thread blocked on one futex word (a lock, a condition
 * variable, CPython's GIL), by the word's address in its process. The time is the blocked
 * part of each wait: the runnable part after the wake-up is not in it.
 */
struct futex_wait_key {
	__u32 pid;
	__u32 tid;
	__u64 addr;
};

/* Value of the `procs` map, keyed by pid (tgid). */
struct proc_info {
	__u32 pid;
	__u32 ppid;
	__u32 flags;
	__u32 peak_running; /* most of its threads on a CPU at one on-CPU sample */
	/*
	 * Its image: the execs it began in the window (0: the image it had when first seen). Bumped
	 * at the exec's point of no return (sched_prepare_exec), before the old memory map goes:
	 * userspace, reading the map, reads gen before and after, and keeps the map only when
	 * both agree (no exec began meanwhile).
	 */
	__u32 gen;
	__u32 parent_gen; /* forked in the window: its parent's gen then, the image it copied */
	__u64 start_ns;	  /* fork, or 0: before the window */
	__u64 end_ns;	  /* exit of its last thread, or 0 */
	char comm[CONCUR_COMM_LEN];
};

#define PROC_EXITED    1u
#define PROC_MAPS_SENT 2u /* a maps_event went out since its last exec */

#endif /* CONCUR_H */
