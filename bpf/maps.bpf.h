/* SPDX-License-Identifier: GPL-2.0 */
/* Maps and options shared by the BPF programs; each object that includes this header sees
 * the same maps once the objects are linked together. */
#ifndef CONCUR_MAPS_BPF_H
#define CONCUR_MAPS_BPF_H

/* Capture stacks: off-CPU at every switch-out, on-CPU by sampling. */
const volatile bool collect_stacks __weak = false;
/* Nanoseconds of CPU time each on-CPU sample stands for. */
const volatile __u64 sample_period_ns __weak = 0;

/* CPUs online (at most CONCUR_MAX_CPUS are looked at). */
const volatile __u32 nr_cpus __weak = 1;

/* The process of the target thread on each CPU, 0 for another task (stacks only): the
 * sampler counts a process's threads running at once from it. */
__u32 running_pid[CONCUR_MAX_CPUS] __weak;

/* Per CPU: its run queue's clock against ktime (see switch_now()). */
struct clock_sync clock_sync[CONCUR_MAX_CPUS] __weak;

/* Follow processes the targets fork (always for `run`, with --children for `attach`). */
const volatile bool follow_children __weak = false;

/*
 * Each target thread's account, on the task itself: looking it up at a switch costs a third
 * of a hash lookup keyed by tid, and a new thread that gets a dead one's tid is a new task.
 */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct thread_acct);
} thread_store SEC(".maps") __weak;

/*
 * Live threads' accounts by tid, as userspace reads them: copied from thread_store by the
 * snapshot_threads iterator when userspace asks (userspace empties it first).
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CONCUR_MAX_THREADS);
	__type(key, __u32);
	__type(value, struct thread_acct);
} threads SEC(".maps") __weak;

/*
 * Threads already alive at attach, by tid, as userspace read them from /proc: moved onto
 * their tasks by the adopt_threads iterator.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CONCUR_MAX_THREADS);
	__type(key, __u32);
	__type(value, struct thread_acct);
} seeds SEC(".maps") __weak;

/* Threads that exited, keyed by the order they did (see retire()). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CONCUR_MAX_THREADS);
	__type(key, __u64);
	__type(value, struct thread_acct);
} dead_threads SEC(".maps") __weak;

__u64 dead_seq __weak = 0;

/* Processes whose threads have all exited, keyed like dead_threads: a reused pid is new. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CONCUR_MAX_PROCS);
	__type(key, __u64);
	__type(value, struct proc_info);
} dead_procs SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CONCUR_MAX_PROCS);
	__type(key, __u32);
	__type(value, struct proc_info);
} procs SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CONCUR_MAX_OTHER);
	__type(key, struct other_key);
	__type(value, struct interval_sum);
} other SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CONCUR_MAX_FUTEXES);
	__type(key, struct futex_wait_key);
	__type(value, struct interval_sum);
} futexes SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps") __weak;

/* Zeroed template for new map entries: too big for the BPF stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct thread_acct);
} scratch SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, CONCUR_MAX_STACKS);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, CONCUR_STACK_DEPTH * sizeof(__u64));
} stacks SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CONCUR_MAX_STACK_KEYS);
	__type(key, struct stack_key);
	__type(value, struct interval_sum);
} stack_weights SEC(".maps") __weak;

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
	__u32 next;	/* the entry replaced next */
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct stack_cache);
} stack_cache SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} maps_events SEC(".maps") __weak;

#endif
