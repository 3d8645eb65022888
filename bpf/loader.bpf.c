// SPDX-License-Identifier: GPL-2.0
/*
 * The dynamic loader done: a uprobe on ld.so's _dl_debug_state(), the hook debuggers use
 * (glibc's <link.h>: the loader calls it before and after it changes its list of loaded
 * objects, with _r_debug.r_state saying which). Once a target's loader reports a consistent
 * list (RT_CONSISTENT: at start-up, when every library is mapped; after each dlopen and
 * dlclose), userspace is asked to read its memory map: a process living a few milliseconds
 * is then read complete, while it still runs its own code.
 */
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "concur.h"
#include "helpers.bpf.h"

/* The ELF addresses, in the loader userspace attached to, of _dl_debug_state and _r_debug;
 * r_debug_off 0: unknown, every call asks for a read. */
const volatile __u64 loader_debug_state_off = 0;
const volatile __u64 loader_r_debug_off = 0;

/* struct r_debug (<link.h>, LP64): int r_version; r_map; r_brk; enum r_state r_state. */
#define R_STATE_OFF   24
#define RT_CONSISTENT 0

SEC("uprobe")
int on_loader_state(struct pt_regs *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	struct proc_info *info;
	__u64 r_debug;
	int state = RT_CONSISTENT;

	if (!stacks_enabled)
		return 0;
	info = bpf_map_lookup_elem(&procs, &pid);
	if (!info)
		return 0;
	if (loader_r_debug_off) {
		/* The probe is at the function's entry: ip - its address is the loader's bias. */
		r_debug = PT_REGS_IP(ctx) - loader_debug_state_off + loader_r_debug_off;
		if (!bpf_probe_read_user(&state, sizeof(state), (void *)(r_debug + R_STATE_OFF)) &&
		    state != RT_CONSISTENT)
			return 0;
	}
	info->flags |= PROC_MAPS_SENT;
	send_maps_event(pid, info->gen);
	return 0;
}
