/* SPDX-License-Identifier: GPL-2.0 */
/*
 * x86-64: a task's saved user registers (bpf_task_pt_regs), as the probes read them. A port
 * to another architecture writes these five accessors and ENOSYS in bpf/arch/<arch>.bpf.h.
 */
#ifndef CONCUR_ARCH_X86_BPF_H
#define CONCUR_ARCH_X86_BPF_H

/* ENOSYS is asm-generic's on x86 (not on every architecture: MIPS and SPARC differ). */
#include <asm-generic/errno.h>

/* The syscall nr at entry; after a fault from user mode, the error code (often not < 0). */
static __always_inline long arch_syscall_nr(const struct pt_regs *regs)
{
	return regs->orig_ax;
}

/* The syscall's return value: the entry code stores -ENOSYS here until the syscall returns. */
static __always_inline long arch_syscall_ret(const struct pt_regs *regs)
{
	return regs->ax;
}

static __always_inline __u64 arch_syscall_arg1(const struct pt_regs *regs)
{
	return regs->di;
}

/* The user instruction and stack pointers the task entered the kernel with. */
static __always_inline __u64 arch_user_ip(const struct pt_regs *regs)
{
	return regs->ip;
}

static __always_inline __u64 arch_user_sp(const struct pt_regs *regs)
{
	return regs->sp;
}

#endif
