/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Maps and options shared by the BPF programs, declared extern: each is defined once, in
 * maps.bpf.c, and `bpftool gen object` resolves every object's extern to that definition
 * (refusing to link when a declaration here and its definition disagree, e.g. in max_entries).
 * Each map's type is named so that the declaration and the definition share it.
 */
#ifndef CONCUR_MAPS_BPF_H
#define CONCUR_MAPS_BPF_H

#include "concur.h"
#include "unwind.h"
#include "pyframes.h"

/* Capture stacks: off-CPU at every switch-out, on-CPU by sampling. */
extern const volatile bool stacks_enabled;
/* Always 0, never written: a writable global, so its value is unknown to the verifier. The
 * Python frame-list hash starts from it (pystacks.bpf.h), else a run of shim frames would
 * step the hash from one known constant to the next and bpf_loop's callback would not
 * converge (on_switch's verification took 0.6-0.7 s instead of 0.06 s). */
extern __u64 py_hash_blind;
/* Set (never cleared) by userspace once it has put a process in py_procs: until then no switch
 * and no sample looks the map up (py_proc_of(), pystacks.bpf.h). */
extern __u32 py_procs_any;
/* User stacks by the CFI tables (bpf/unwind.bpf.h) rather than the kernel's frame-pointer walk. */
extern const volatile bool unwind_cfi;
/* Time the stack captures (concur's hidden --bench-timing, for tools/bench/probe_cost.py):
 * three clock reads each, ~200 ns, so never on otherwise. */
extern const volatile bool bench_timing;
/* The size userspace gave ustacks: ids at or above it are not handed out. */
extern const volatile __u32 ustacks_max;
/* The next id a new CFI-walked user stack gets (see unwind_intern()). */
extern __u64 ustack_next_id;

/* Nanoseconds of CPU time each on-CPU sample stands for. */
extern const volatile __u64 sample_period_ns;
/* CPUs online (at most CONCUR_MAX_CPUS are looked at). */
extern const volatile __u32 nr_cpus;
/* Follow processes the targets fork (always for `run`, with --children for `attach`). */
extern const volatile bool follow_children;

/* The process of the target thread on each CPU, 0 for another task (stacks only): the
 * sampler counts a process's threads running at once from it. */
extern __u32 running_pid[CONCUR_MAX_CPUS];

/* Per CPU: its run queue's clock against ktime (see switch_now()). */
extern struct clock_sync clock_sync[CONCUR_MAX_CPUS];

/* The order threads and processes die in: the key of dead_threads and dead_procs. */
extern __u64 dead_seq;

/*
 * Each target thread's account, on the task itself: looking it up at a switch costs a third
 * of a hash lookup keyed by tid, and a new thread that gets a dead one's tid is a new task.
 */
struct thread_store_map {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct thread_acct);
};
extern struct thread_store_map thread_store SEC(".maps");

/*
 * Live threads' accounts by tid, as userspace reads them: copied from thread_store by the
 * snapshot_threads iterator when userspace asks (userspace empties it first). Also the type
 * of seeds (threads already alive at attach, by tid, as userspace read them from /proc:
 * moved onto their tasks by the adopt_threads iterator).
 */
struct threads_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	/* Written by userspace and the iterators only, never at a switch: no need to have its
	 * 65536 entries allocated up front, which took 8 ms of start-up per map. */
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, CONCUR_MAX_THREADS);
	__type(key, __u32);
	__type(value, struct thread_acct);
};
extern struct threads_map threads SEC(".maps");
extern struct threads_map seeds SEC(".maps");

/* Threads that exited, keyed by the order they did (see retire()). */
struct dead_threads_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	/* Written once per thread exit, not per switch: allocated as threads die (the kernel's
	 * per-CPU element caches, kernel/bpf/memalloc.c) rather than 65536 entries up front,
	 * 8 ms of start-up. */
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, CONCUR_MAX_THREADS);
	__type(key, __u64);
	__type(value, struct thread_acct);
};
extern struct dead_threads_map dead_threads SEC(".maps");

/* Processes whose threads have all exited, keyed like dead_threads: a reused pid is new. */
struct dead_procs_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CONCUR_MAX_PROCS);
	__type(key, __u64);
	__type(value, struct proc_info);
};
extern struct dead_procs_map dead_procs SEC(".maps");

/* The target processes, by pid. */
struct procs_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CONCUR_MAX_PROCS);
	__type(key, __u32);
	__type(value, struct proc_info);
};
extern struct procs_map procs SEC(".maps");

/* 'other' time by process and syscall. */
struct other_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CONCUR_MAX_OTHER);
	__type(key, struct other_key);
	__type(value, struct interval_sum);
};
extern struct other_map other SEC(".maps");

/* Lock time by futex word. */
struct futexes_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CONCUR_MAX_FUTEXES);
	__type(key, struct futex_wait_key);
	__type(value, struct interval_sum);
};
extern struct futexes_map futexes SEC(".maps");

/* The probes' own counters (enum stat_idx). */
struct stats_map {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
};
extern struct stats_map stats SEC(".maps");

/* Zeroed template for new map entries: too big for the BPF stack. */
struct scratch_map {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct thread_acct);
};
extern struct scratch_map scratch SEC(".maps");

struct stacks_map {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, CONCUR_MAX_STACKS);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, CONCUR_STACK_DEPTH * sizeof(__u64));
};
extern struct stacks_map stacks SEC(".maps");

/* Off-CPU time and on-CPU samples by thread, category and pair of stacks. */
struct stack_weights_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CONCUR_MAX_STACK_KEYS);
	__type(key, struct stack_key);
	__type(value, struct interval_sum);
};
extern struct stack_weights_map stack_weights SEC(".maps");

/* The last stacks a thread left a CPU with (see switch_out_stacks); BPF-side only. */
#define STACK_CACHE_WAYS 4

struct stack_cache_entry {
	__u64 ip, sp;
	__s32 nr;
	__u32 reuses;
	__s32 ustack, kstack;
};

struct stack_cache {
	struct stack_cache_entry e[STACK_CACHE_WAYS];
	__u32 next; /* the entry replaced next */
};

struct stack_cache_map {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct stack_cache);
};
extern struct stack_cache_map stack_cache SEC(".maps");

/* Pids whose memory map userspace should read now (see want_maps()). */
struct maps_events_map {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
};
extern struct maps_events_map maps_events SEC(".maps");

/*
 * The CFI unwinder's tables (include/unwind.h). With --unwind=fp userspace shrinks each to one
 * entry: they cost nothing then. Rows and rules are written by userspace through mmap.
 */
struct unwind_rows_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, UNWIND_GLOBAL_ROWS);
	__type(key, __u32);
	__type(value, struct unwind_row);
};
extern struct unwind_rows_map unwind_rows SEC(".maps");

struct unwind_rules_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, UNWIND_GLOBAL_RULES);
	__type(key, __u32);
	__type(value, struct unwind_rule_slot);
};
extern struct unwind_rules_map unwind_rules SEC(".maps");

/* Each process's executable mappings, by pid; memory only for the processes with stacks. */
struct unwind_procs_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, UNWIND_MAX_PROCS);
	__type(key, __u32);
	__type(value, struct unwind_proc);
};
extern struct unwind_procs_map unwind_procs SEC(".maps");

/* When each process's map was last asked for by the unwinder (ktime ns; unwind_ask_maps()). */
struct unwind_asks_map {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, UNWIND_MAX_PROCS);
	__type(key, __u32);
	__type(value, __u64);
};
extern struct unwind_asks_map unwind_asks SEC(".maps");

/* How CFI walks ended, per object slot (include/unwind.h). */
struct unwind_stats_map {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, UNWIND_MAX_OBJECTS);
	__type(key, __u32);
	__type(value, struct unwind_obj_stats);
};
extern struct unwind_stats_map unwind_stats SEC(".maps");

/* User stacks the CFI unwinder walked, by the hash of their frames: the user stacks of the
 * weights when --unwind=cfi (the kernel's own and fallback stacks stay in `stacks`). */
struct ustacks_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, CONCUR_MAX_STACKS);
	__type(key, __u64);
	__type(value, struct unwind_ustack);
};
extern struct ustacks_map ustacks SEC(".maps");

/* The walk in progress on a CPU: its registers and the stack it builds (too big for the BPF
 * stack). BPF-side only. */
struct unwind_walk {
	struct unwind_ustack st; /* laid out as ustacks' value: inserted as it is */
	__u64 pc, sp, bp;
	__u64 rdi; /* the leaf's (UNWIND_RA_IN_RDI) */
	__u64 hash;
	__u32 stop;   /* enum unwind_stop */
	__u32 obj;    /* slot of the object holding the last frame looked at */
	__u32 is_ra;  /* pc is a return address: look up pc - 1 */
	__u32 missed; /* a pc in no mapping of the index: walked by a frame-pointer step */
};

struct unwind_scratch_map {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct unwind_walk);
};
extern struct unwind_scratch_map unwind_scratch SEC(".maps");
/* CPython processes the walker reads frames of, by pid (written by userspace). */
struct py_procs_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CONCUR_MAX_PY_PROCS);
	__type(key, __u32);
	__type(value, struct py_proc);
};
extern struct py_procs_map py_procs SEC(".maps");

/* Python frame lists by their hash (the stack key's pystack); memory only for those seen. */
struct pystacks_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, CONCUR_MAX_PYSTACKS);
	__type(key, __u64);
	__type(value, struct py_stack);
};
extern struct pystacks_map pystacks SEC(".maps");

/* The walker's buffers: a frame list and the bytes of one frame and one code object. */
struct py_scratch {
	struct py_stack st;
	__u8 frame[PY_FRAME_WINDOW];
	__u8 code[PY_CODE_WINDOW];
};

struct py_scratch_map {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct py_scratch);
};
extern struct py_scratch_map py_scratch SEC(".maps");

/* The walker's counters (enum py_stat). */
struct py_stats_map {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PY_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
};
extern struct py_stats_map py_stats SEC(".maps");

/* Python frame lists seen for the first time (struct py_event): resolved while they live. */
struct py_events_map {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
};
extern struct py_events_map py_events SEC(".maps");

#endif
