// SPDX-License-Identifier: GPL-2.0
/* An empty program on sched_switch, attached the way concur's is: the floor of any tracer
 * of context switches on this kernel, for the overhead table. */
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("tp_btf/sched_switch")
int BPF_PROG(floor_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	return 0;
}
