/* SPDX-License-Identifier: GPL-2.0 */
/* Stack capture and weighting, shared by the scheduler probes and the sampler. */
#ifndef CONCUR_STACKS_BPF_H
#define CONCUR_STACKS_BPF_H

#include "helpers.bpf.h"
#include "unwind.bpf.h"
#include "pystacks.bpf.h"

/*
 * The current task's stacks; ctx is the program's own context. The user stack by the CFI
 * tables with --unwind=cfi (unwind.bpf.h), else by the kernel's frame-pointer walk. user:
 * whether the task has a user stack of its own (not an io_uring worker: see
 * classify_io_worker()); without, *ustack is CONCUR_NO_STACK.
 */
static __always_inline void capture_stacks(void *ctx, __s32 *ustack, __s32 *kstack, bool user)
{
	*kstack = bpf_get_stackid(ctx, &stacks, 0);
	if (!user)
		*ustack = -EFAULT;
	else
		*ustack = unwind_cfi ? unwind_user_stack(ctx) :
				       bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
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
