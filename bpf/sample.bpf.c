// SPDX-License-Identifier: GPL-2.0
/* On-CPU sampling: a cpu-clock perf event on every CPU; target threads' stacks weighed. */
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "concur.h"
#include "classify.h"
#include "helpers.bpf.h"
#include "stacks.bpf.h"

/*
 * The process's threads on a CPU right now, this one included, and the most seen: its peak
 * parallelism, at the samples' moments (average parallelism comes from its cpu time).
 */
static __always_inline void peak_running(__u32 pid)
{
	struct proc_info *info = bpf_map_lookup_elem(&procs, &pid);
	__u32 i, n = 0;

	if (!info)
		return;
	for (i = 0; i < CONCUR_MAX_CPUS && i < nr_cpus; i++)
		n += running_pid[i] == pid;
	if (n > info->peak_running)
		info->peak_running = n;
}

SEC("perf_event")
int on_sample(struct bpf_perf_event_data *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id, pid = id >> 32;
	struct task_struct *task = bpf_get_current_task_btf();
	const struct py_proc *pp;
	__u64 pystack = CONCUR_NO_PYSTACK, holder = CONCUR_NO_PYSTACK;
	struct thread_acct *a;
	__s32 ustack, kstack;
	__u32 gil = 0;
	bool user;

	if (!tid)
		return 0;
	a = bpf_task_storage_get(&thread_store, task, 0, 0);
	if (!a)
		return 0;
	stat_add(STAT_SAMPLES, 1);
	peak_running(pid);
	user = has_own_user_stack(task);
	capture_stacks(ctx, &ustack, &kstack, user);
	pp = py_proc_of(pid);
	if (pp && user)
		pystack = capture_pystack_timed(pp, pid, tid, 0, &gil, &holder);
	weigh_stack(pid, tid, a->gen, CAT_CPU, ustack, kstack, pystack, 0, CONCUR_NO_PYSTACK,
		    sample_period_ns);
	want_maps(pid);
	return 0;
}
