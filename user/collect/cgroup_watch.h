/* SPDX-License-Identifier: MIT */
/*
 * What the cgroups say of the workload's processes while they live: the CPUs each may use
 * (read again at the end for the living; the exited keep what was last seen), and the time a
 * CFS quota held them off the CPUs over the window: each process's cpu cgroup and its
 * ancestors, their cpu.stat counters when first seen and again at the end.
 */
#ifndef CONCUR_CGROUP_WATCH_H
#define CONCUR_CGROUP_WATCH_H

#include <stdint.h>
#include <glib.h>
#include "resources.h"

/* Zero-initialized: empty. */
struct cgroup_watch {
	GHashTable
		*nodes; /* cgroup directory → struct throttle_node, its counters at first sight */
	GHashTable *procs; /* pid → what it was last seen with: its CPUs, its node */
};

/*
 * Notes the cpu cgroup pid is in now: the first time a cgroup is seen, its counters and its
 * ancestors' are read, the start of its window. Called when a process is tracked, and again
 * whenever it is seen later (a workload may move itself into its cgroup after its launch).
 */
void cgroup_watch_note(struct cgroup_watch *w, uint32_t pid);
/* The CPUs pid could use when last seen (resources_cpus()); 0 when never seen. */
uint32_t cgroup_watch_cpus(const struct cgroup_watch *w, uint32_t pid);
/*
 * pid's throttling since its cgroup was first seen, read now: the most held level of its path
 * (a quota throttles the whole subtree under it; the levels' times overlap, so they are not
 * added up). dir: that level's directory, for summing a workload without counting a cgroup
 * twice ("" when none). 0, or -ENOENT when pid was never seen in a cgroup with counters.
 */
int cgroup_watch_end(const struct cgroup_watch *w, uint32_t pid, struct cg_throttle *t, char *dir,
		     size_t size);
void cgroup_watch_free(struct cgroup_watch *w);

#endif
