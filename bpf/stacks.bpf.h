/* SPDX-License-Identifier: GPL-2.0 */
/* Stack capture and weighting, shared by the scheduler probes and the sampler. */
#ifndef CONCUR_STACKS_BPF_H
#define CONCUR_STACKS_BPF_H

#include "helpers.bpf.h"
#include "unwind.bpf.h"
#include "pystacks.bpf.h"

/*
 * With bench_timing, what the call between t1 and now took, and what the clock itself took (t1
 * - t0: two reads back to back), under the counters ns_stat and STAT_TIMER_NS; calls_stat
 * counts it.
 */
static __always_inline void bench_time_add(__u64 t0, __u64 t1, __u32 calls_stat, __u32 ns_stat)
{
	__u64 t2 = bpf_ktime_get_ns();

	stat_add(calls_stat, 1);
	stat_add(ns_stat, t2 - t1);
	stat_add(STAT_TIMER_NS, t1 - t0);
}

/*
 * The current task's stacks; ctx is the program's own context. The user stack by the CFI
 * tables with --unwind=cfi (unwind.bpf.h), else by the kernel's frame-pointer walk. user:
 * whether the task has a user stack of its own (not an io_uring worker: see
 * classify_io_worker()); without, *ustack is CONCUR_NO_STACK.
 */
static __always_inline void capture_stacks(void *ctx, __s32 *ustack, __s32 *kstack, bool user)
{
	__u64 t0 = 0, t1 = 0;

	*kstack = bpf_get_stackid(ctx, &stacks, 0);
	if (bench_timing) {
		t0 = bpf_ktime_get_ns();
		t1 = bpf_ktime_get_ns();
	}
	if (!user)
		*ustack = -EFAULT;
	else
		*ustack = unwind_cfi ? unwind_user_stack(ctx) :
				       bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
	if (bench_timing && user)
		bench_time_add(t0, t1, STAT_USTACK_CALLS, STAT_USTACK_NS);
	/* A kernel thread or a task outside user mode has no user stack: that is no error. */
	if (*kstack < 0 && *kstack != -EFAULT)
		stat_add(STAT_STACK_ERRORS, 1);
	if (*ustack < 0 && *ustack != -EFAULT)
		stat_add(STAT_STACK_ERRORS, 1);
	if (*kstack < 0)
		*kstack = CONCUR_NO_STACK;
	if (*ustack < 0)
		*ustack = CONCUR_NO_STACK;
}

/* capture_pystack() (pystacks.bpf.h), timed with bench_timing: only the calls that got a
 * Python stack count, so the figure is the cost per captured Python stack. pp: the process's
 * py_proc_of(), not NULL. */
static __always_inline __u64 capture_pystack_timed(const struct py_proc *pp, __u32 pid, __u32 tid,
						   __u64 futex, __u32 *gil, __u64 *holder)
{
	__u64 t0, t1, h, id = (__u64)pid << 32 | tid;

	if (!bench_timing)
		return capture_pystack(pp, id, futex, gil, holder);
	t0 = bpf_ktime_get_ns();
	t1 = bpf_ktime_get_ns();
	h = capture_pystack(pp, id, futex, gil, holder);
	if (h != CONCUR_NO_PYSTACK)
		bench_time_add(t0, t1, STAT_PYSTACK_CALLS, STAT_PYSTACK_NS);
	return h;
}

/*
 * Whether task's saved user registers describe its own user stack: not an io_uring worker's
 * (its creator's copy, see classify_io_worker()), nor a task inside execve (in_execve, set by
 * bprm_execve(), fs/exec.c), whose registers are the old image's while its memory may already
 * be the new one's: a walk there reads the new image with the old stack pointer (two
 * [unknown] frames in a CI run's sample taken in begin_new_exec()).
 */
static __always_inline bool has_own_user_stack(struct task_struct *task)
{
	if (task->flags & CONCUR_PF_IO_WORKER)
		return false;
	if (bpf_core_field_exists(task->in_execve) &&
	    BPF_CORE_READ_BITFIELD_PROBED(task, in_execve))
		return false;
	return true;
}

/* gen: the image of the process the stacks were captured in (struct stack_key); gil, with
 * gil_pystack: a wait for CPython's GIL and its holder's frames (pyframes.h), else 0. */
static __always_inline void weigh_stack(__u32 pid, __u32 tid, __u32 gen, __u32 cat, __s32 ustack,
					__s32 kstack, __u64 pystack, __u32 gil, __u64 gil_pystack,
					__u64 ns)
{
	struct stack_key key;

	/* A hash key: its padding must be zero too. */
	__builtin_memset(&key, 0, sizeof(key));
	key.pid = pid;
	key.tid = tid;
	key.cat = cat;
	key.ustack = ustack;
	key.kstack = kstack;
	key.gen = gen;
	key.pystack = pystack;
	if (gil) {
		key.gil = gil;
		key.gil_pystack = gil_pystack;
	}

	add_interval(&stack_weights, &key, ns, STAT_STACK_KEYS_FULL);
}

#endif
