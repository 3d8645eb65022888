/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a thread leaving the CPU waits for, read from its task at the switch: the syscall it
 * blocks in and, for fd syscalls, the kind of file; io_uring's and the kernel's I/O workers by
 * the job they run. The decision itself is classify_wait() (include/classify.h, plain C with
 * unit tests); this reads its inputs. Included by concur.bpf.c only.
 */
#ifndef CONCUR_WAIT_BPF_H
#define CONCUR_WAIT_BPF_H

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "classify.h"
#include "arch.bpf.h"
#include "helpers.bpf.h"

extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;

/*
 * Kind of the file behind fd in task's file table. Direct (BTF) loads rather than
 * bpf_probe_read calls: this runs at every blocking switch and each helper call costs.
 */
static __u32 fd_kind(struct task_struct *task, long fd)
{
	struct fdtable *fdt = task->files->fdt;
	struct file *filep = NULL, *file;

	if (!fdt || fd < 0 || (unsigned long)fd >= fdt->max_fds)
		return FD_NONE;
	/* An array of pointers has no BTF type to walk: read untyped, as a fault-safe load. */
	filep = ((struct file **)bpf_rdonly_cast(fdt->fd, 0))[fd];
	if (!filep)
		return FD_NONE;
	file = bpf_rdonly_cast(filep, bpf_core_type_id_kernel(struct file));
	return fdkind_from_mode(file->f_inode->i_mode);
}

/*
 * Whether `task` waits in io_schedule() (task_struct.in_iowait, a bitfield: kernel/sched/core.c
 * io_schedule_prepare()). Resolved by libbpf at load; 0 where the field is gone.
 */
static __always_inline int task_in_iowait(struct task_struct *task)
{
	if (!bpf_core_field_exists(struct task_struct, in_iowait))
		return 0;
	return BPF_CORE_READ_BITFIELD(task, in_iowait);
}

/*
 * What the io_uring worker `task` is doing as it blocks (enum io_worker_job): an io-wq
 * worker's request (io_worker.cur_work, set while it runs one: io_assign_current_work() in
 * io_uring/io-wq.c), with its operation in *op and its file's kind in *kind; the SQPOLL thread
 * has no io_worker (worker_private NULL). A request's file is NULL for an operation without
 * one (io_init_req() clears it; each operation's command keeps its own file pointer first, in
 * io_kiocb.file). Untyped loads, as fault-safe reads: a worker's private struct is no BTF
 * field type. IOW_UNKNOWN without io_uring's types in the kernel's BTF.
 */
static __always_inline __u32 io_worker_job(struct task_struct *task, __u32 *op, __u32 *kind)
{
	struct io_worker *w;
	struct io_kiocb *req;
	struct file *file;
	__u64 work;

	if (!bpf_core_type_exists(struct io_worker) || !bpf_core_type_exists(struct io_kiocb))
		return IOW_UNKNOWN;
	w = bpf_rdonly_cast(task->worker_private, bpf_core_type_id_kernel(struct io_worker));
	if (!w)
		return IOW_UNKNOWN;
	work = (__u64)w->cur_work;
	if (!work)
		return IOW_IDLE;
	req = bpf_rdonly_cast((void *)(work - bpf_core_field_offset(struct io_kiocb, work)),
			      bpf_core_type_id_kernel(struct io_kiocb));
	*op = req->opcode;
	file = req->file;
	if (file)
		*kind = fdkind_from_mode(file->f_inode->i_mode);
	return IOW_REQUEST;
}

/*
 * Why the io_uring worker `task` is blocking in `state`, into *w. Out of line (a struct is no
 * BPF return value): only io_uring workers come here, and on_switch stays smaller for every
 * other thread.
 */
static __noinline void classify_io_worker_task(struct task_struct *task, __u32 state,
					       struct wait_class *w)
{
	__u32 op = 0, kind = FD_NONE, job = io_worker_job(task, &op, &kind);

	*w = classify_io_worker(state, task_in_iowait(task), job, op, kind);
}

/*
 * Why `task` is blocking in `state` (sched_switch's prev_state). An io_uring worker's own
 * wait decides for it (its registers are its creator's). A stop decides before the
 * registers are read (classify_wait()). Else the syscall from its saved user registers: inside
 * a syscall, the return value holds -ENOSYS until the syscall returns (the entry code puts it
 * there); after a fault from user mode, the syscall nr holds the error code instead, and only
 * then is in_iowait asked.
 */
static struct wait_class classify_task(struct task_struct *task, __u32 state, __u64 *futex)
{
	struct pt_regs *regs;
	long nr = CONCUR_NO_SYSCALL;
	__u32 kind = FD_NONE;
	int iowait = 0;

	if (task->flags & CONCUR_PF_IO_WORKER) {
		struct wait_class w;

		classify_io_worker_task(task, state, &w);
		return w;
	}
	if (stop_reason(state))
		return classify_wait(state, 0, nr, kind);
	regs = (struct pt_regs *)bpf_task_pt_regs(task);
	if (regs) {
		nr = arch_syscall_nr(regs);
		if (nr < 0 || arch_syscall_ret(regs) != -ENOSYS)
			nr = CONCUR_NO_SYSCALL;
	}
	if (nr < 0) {
		iowait = task_in_iowait(task);
	} else {
		if (nr == __NR_futex)
			*futex = arch_syscall_arg1(regs);
		if (syscall_takes_fd(nr))
			kind = fd_kind(task, arch_syscall_arg1(regs));
	}
	return classify_wait(state, iowait, nr, kind);
}

#endif
