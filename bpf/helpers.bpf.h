/* SPDX-License-Identifier: GPL-2.0 */
/* Counters, memory-map requests and interval sums: shared by the scheduler probes and sampler. */
#ifndef CONCUR_HELPERS_BPF_H
#define CONCUR_HELPERS_BPF_H

/* vmlinux.h has the kernel's types but no macros. E2BIG and EFAULT are in errno-base.h, the
 * same on every architecture. */
#include <asm-generic/errno-base.h>
#include "maps.bpf.h"

/*
 * A global (non-static) BPF function is verified once, on its own, with its arguments as
 * their types say, where a static one is verified anew at each call site with the caller's
 * state (kernel/bpf/verifier.c, do_check_subprogs()): the stack walkers are global for that.
 * Weak, as each .bpf.c that includes their header defines them: the linker keeps one. A
 * global function's argument is a scalar or a pointer to a sized type (it may be NULL: each
 * is checked), and the program's context only when tagged so (BPF_ARG_CTX: the kernel reads
 * "arg:ctx" from the BTF since 6.8; `void *` is accepted for every program type).
 */
#define BPF_GLOBAL  __attribute__((weak)) __attribute__((noinline))
#define BPF_ARG_CTX __attribute__((btf_decl_tag("arg:ctx")))

static __always_inline void stat_add(__u32 idx, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);

	if (v)
		*v += n;
}

/* Asks userspace to read the process's memory map now (a full ring buffer is counted). */
static __always_inline void send_maps_event(__u32 pid, __u32 gen)
{
	struct maps_event *e = bpf_ringbuf_reserve(&maps_events, sizeof(*e), 0);

	if (!e) {
		stat_add(STAT_MAPS_LOST, 1);
		return;
	}
	e->pid = pid;
	e->gen = gen;
	bpf_ringbuf_submit(e, 0);
}

/*
 * Asks userspace, once per process image, to read the process's memory map while it still
 * exists: a short-lived process would otherwise be gone, and its stacks unsymbolizable.
 */
static __always_inline void want_maps(__u32 pid)
{
	struct proc_info *info = bpf_map_lookup_elem(&procs, &pid);

	if (!info || (info->flags & PROC_MAPS_SENT))
		return;
	info->flags |= PROC_MAPS_SENT;
	send_maps_event(pid, info->gen);
}

/*
 * Adds one interval of ns to the struct interval_sum under key in map, creating the entry
 * when it is new (a full map is counted in stat full). Returns 1 when it created the entry,
 * 0 when it added to one, -1 when the interval could not be kept.
 */
static __always_inline int add_interval(void *map, const void *key, __u64 ns, __u32 full)
{
	struct interval_sum *v, zero = {};
	int created = 0;

	v = bpf_map_lookup_elem(map, key);
	if (!v) {
		if (bpf_map_update_elem(map, key, &zero, BPF_NOEXIST) == -E2BIG)
			stat_add(full, 1);
		v = bpf_map_lookup_elem(map, key);
		if (!v)
			return -1;
		created = 1;
	}
	__sync_fetch_and_add(&v->ns, ns);
	__sync_fetch_and_add(&v->cnt, 1);
	return created;
}

#endif
