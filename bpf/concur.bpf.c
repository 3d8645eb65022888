// SPDX-License-Identifier: GPL-2.0
/* Scheduler and process probes: one state machine per target thread, totals in maps. */
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "concur.h"
#include "account.h"
#include "classify.h"

#define TASK_RUNNING 0
#define PF_KTHREAD 0x00200000
#define ENOSYS 38
#define E2BIG 7
#define EFAULT 14

#include "stacks.bpf.h"

char LICENSE[] SEC("license") = "GPL";

static void record_other(__u32 pid, struct acct_delta d)
{
	struct other_key key = { .pid = pid, .nr = d.nr };
	struct other_val *v, zero = {};

	v = bpf_map_lookup_elem(&other, &key);
	if (!v) {
		if (bpf_map_update_elem(&other, &key, &zero, BPF_NOEXIST) == -E2BIG)
			stat_add(STAT_OTHER_FULL, 1);
		v = bpf_map_lookup_elem(&other, &key);
		if (!v)
			return;
	}
	__sync_fetch_and_add(&v->ns, d.ns);
	__sync_fetch_and_add(&v->cnt, 1);
}

/*
 * Where a closed interval's time goes beyond the thread's totals: 'other' by syscall, and
 * off-CPU time onto the stack the thread left the CPU with (on-CPU stacks come from samples).
 */
static __always_inline void record(const struct thread_acct *a, struct acct_delta d)
{
	if (!d.ns || d.cat == CAT_CPU)
		return;
	if (d.cat == CAT_OTHER)
		record_other(a->pid, d);
	if (collect_stacks)
		weigh_stack(a->pid, a->tid, d.cat, a->ustack, a->kstack, d.ns);
}

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
	/* An array of pointers has no BTF type to walk: one read for the slot. */
	if (bpf_probe_read_kernel(&filep, sizeof(filep), &fdt->fd[fd]) || !filep)
		return FD_NONE;
	file = bpf_rdonly_cast(filep, bpf_core_type_id_kernel(struct file));
	return fdkind_from_mode(file->f_inode->i_mode);
}

/*
 * Why `task` is blocking: the syscall from its saved user registers. Inside a syscall,
 * pt_regs->ax holds -ENOSYS until the syscall returns (the entry code puts it there);
 * after a fault from user mode, orig_ax holds the error code instead of a syscall nr.
 */
static __u32 classify_task(struct task_struct *task, __s32 *nr_out)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	long nr;

	*nr_out = CONCUR_NO_SYSCALL;
	if (!regs)
		return CAT_OTHER;
	nr = regs->orig_ax;
	if (nr < 0 || (long)regs->ax != -ENOSYS)
		return CAT_OTHER;
	*nr_out = nr;
	return classify_block(nr, syscall_takes_fd(nr) ? fd_kind(task, regs->di) : FD_NONE);
}

static __always_inline struct acct_kclock kclock(struct task_struct *task)
{
	return (struct acct_kclock){ task->se.sum_exec_runtime, task->sched_info.run_delay };
}

static struct thread_acct *new_thread(struct task_struct *task, __u64 now, __u32 state)
{
	__u32 zero = 0, tid = task->pid;
	struct thread_acct *a = bpf_map_lookup_elem(&scratch, &zero);

	if (!a)
		return NULL;
	__builtin_memset(a, 0, sizeof(*a));
	acct_init(a, task->tgid, tid, now, state, CAT_OTHER, CONCUR_NO_SYSCALL);
	acct_set_kclock(a, kclock(task));
	BPF_CORE_READ_STR_INTO(&a->comm, task, comm);
	if (bpf_map_update_elem(&threads, &tid, a, BPF_NOEXIST) == -E2BIG) {
		stat_add(STAT_THREADS_FULL, 1);
		return NULL;
	}
	return bpf_map_lookup_elem(&threads, &tid);
}

/*
 * The thread's entry; created on the fly for a thread of a target process that has none
 * (born between `attach` reading /proc and the probes going live), in the state the
 * event proves it was in, from the moment it was first seen.
 */
static struct thread_acct *get_thread(struct task_struct *task, __u64 now, __u32 state)
{
	__u32 tid = task->pid, tgid;
	struct thread_acct *a = bpf_map_lookup_elem(&threads, &tid);

	if (a || !tid)
		return a;
	tgid = task->tgid;
	if (!bpf_map_lookup_elem(&procs, &tgid))
		return NULL;
	return new_thread(task, now, state);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(on_switch, bool preempt, struct task_struct *prev, struct task_struct *next,
	     unsigned int prev_state)
{
	__u64 now = bpf_ktime_get_ns();
	struct thread_acct *a;
	struct acct_delta d;
	__s32 nr = CONCUR_NO_SYSCALL;
	__u32 cat = CAT_OTHER;
	int runnable;

	a = get_thread(prev, now, TS_RUNNING);
	if (a) {
		stat_add(STAT_SWITCHES, 1);
		runnable = preempt || (prev_state & 0xff) == TASK_RUNNING;
		if (!runnable)
			cat = classify_task(prev, &nr);
		d = acct_switch_out(a, now, runnable, cat, nr, kclock(prev));
		record(a, d);
		/* prev is still the current task here: its stacks are where it stopped. */
		if (collect_stacks) {
			capture_stacks(ctx, &a->ustack, &a->kstack);
			want_maps(a->pid);
		}
	}
	a = get_thread(next, now, TS_RUNNABLE);
	if (a) {
		d = acct_switch_in(a, now);
		record(a, d);
	}
	return 0;
}

static int on_wake(struct task_struct *p)
{
	__u32 tid = p->pid, tgid = p->tgid;
	struct thread_acct *a = bpf_map_lookup_elem(&threads, &tid);
	__u64 now = bpf_ktime_get_ns();
	struct acct_delta d;
	__s32 nr;

	if (!a) {
		if (!tid || !bpf_map_lookup_elem(&procs, &tgid))
			return 0;
		/* First seen waking: it was blocked, in what its registers still say. */
		a = new_thread(p, now, TS_BLOCKED);
		if (!a)
			return 0;
		a->cat = classify_task(p, &nr);
		a->nr = nr;
	}
	stat_add(STAT_WAKEUPS, 1);
	d = acct_wakeup(a, now);
	record(a, d);
	return 0;
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(on_wakeup, struct task_struct *p)
{
	return on_wake(p);
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(on_wakeup_new, struct task_struct *p)
{
	return on_wake(p);
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = parent->tgid, ctgid = child->tgid;
	struct proc_info info = {};

	if (!bpf_map_lookup_elem(&procs, &ptgid))
		return 0;
	if (ctgid != ptgid) {
		if (!follow_children)
			return 0;
		info.ppid = ptgid;
		BPF_CORE_READ_STR_INTO(&info.comm, child, comm);
		if (bpf_map_update_elem(&procs, &ctgid, &info, BPF_NOEXIST) == -E2BIG) {
			stat_add(STAT_PROCS_FULL, 1);
			return 0;
		}
	}
	stat_add(STAT_FORKS, 1);
	/* Not runnable until wake_up_new_task(), microseconds later: count that as runqueue. */
	new_thread(child, bpf_ktime_get_ns(), TS_RUNNABLE);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p)
{
	__u32 tgid = p->tgid, tid = p->pid;
	struct proc_info *info = bpf_map_lookup_elem(&procs, &tgid);
	struct thread_acct *a;

	if (!info)
		return 0;
	BPF_CORE_READ_STR_INTO(&info->comm, p, comm);
	/* A new image: its memory map is another one. */
	info->flags &= ~PROC_MAPS_SENT;
	a = bpf_map_lookup_elem(&threads, &tid);
	if (a)
		BPF_CORE_READ_STR_INTO(&a->comm, p, comm);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *p)
{
	__u32 tid = p->pid, tgid = p->tgid;
	struct thread_acct *a = bpf_map_lookup_elem(&threads, &tid);
	struct proc_info *info;
	struct acct_delta d;

	if (!a)
		return 0;
	stat_add(STAT_EXITS, 1);
	/* Threads are often renamed after they start: keep the name they die with. */
	BPF_CORE_READ_STR_INTO(&a->comm, p, comm);
	d = acct_exit(a, bpf_ktime_get_ns(), kclock(p));
	record(a, d);
	if (tid == tgid) {
		info = bpf_map_lookup_elem(&procs, &tgid);
		if (info)
			info->flags |= PROC_EXITED;
	}
	return 0;
}
