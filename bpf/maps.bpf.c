// SPDX-License-Identifier: GPL-2.0
/* The one definition of each map and option maps.bpf.h declares (see there). */
#include <bpf/bpf_helpers.h>
#include "concur.h"
#include "maps.bpf.h"

const volatile bool stacks_enabled = false;
const volatile __u64 sample_period_ns = 0;
const volatile __u32 nr_cpus = 1;
const volatile bool follow_children = false;
const volatile bool unwind_cfi = false;
const volatile bool bench_timing = false;
const volatile __u32 ustacks_max = CONCUR_MAX_STACKS;
__u64 ustack_next_id = 0;
__u64 py_hash_blind = 0;
__u32 py_procs_any = 0;

__u32 running_pid[CONCUR_MAX_CPUS];
struct clock_sync clock_sync[CONCUR_MAX_CPUS];
__u64 dead_seq = 0;

struct thread_store_map thread_store SEC(".maps");
struct threads_map threads SEC(".maps");
struct threads_map seeds SEC(".maps");
struct dead_threads_map dead_threads SEC(".maps");
struct dead_procs_map dead_procs SEC(".maps");
struct procs_map procs SEC(".maps");
struct other_map other SEC(".maps");
struct futexes_map futexes SEC(".maps");
struct stats_map stats SEC(".maps");
struct scratch_map scratch SEC(".maps");
struct stacks_map stacks SEC(".maps");
struct stack_weights_map stack_weights SEC(".maps");
struct stack_cache_map stack_cache SEC(".maps");
struct maps_events_map maps_events SEC(".maps");
struct unwind_rows_map unwind_rows SEC(".maps");
struct unwind_rules_map unwind_rules SEC(".maps");
struct unwind_procs_map unwind_procs SEC(".maps");
struct unwind_stats_map unwind_stats SEC(".maps");
struct unwind_asks_map unwind_asks SEC(".maps");
struct ustacks_map ustacks SEC(".maps");
struct unwind_scratch_map unwind_scratch SEC(".maps");
struct py_procs_map py_procs SEC(".maps");
struct pystacks_map pystacks SEC(".maps");
struct py_scratch_map py_scratch SEC(".maps");
struct py_stats_map py_stats SEC(".maps");
struct py_events_map py_events SEC(".maps");
