// SPDX-License-Identifier: MIT
#include <limits.h>
#include <unistd.h>
#include <glib.h>
#include "enrich.h"
#include "log.h"
#include "procfs.h"
#include "resources.h"
#include "cgroup_watch.h"
#include "profile/runtime.h"
#include "profile/symbolize.h"

static void enrich_proc(struct proc *pr, struct symbolizer *sym, const struct enrich_child *child,
			const struct cgroup_watch *cw)
{
	if (!pr->exited) {
		pr->cpus = resources_cpus(pr->pid);
		pr->rss_kb = resources_peak_rss_kb(pr->pid);
	} else {
		pr->cpus = cgroup_watch_cpus(cw, pr->pid);
	}
	if (pr->exited && child->reaped && pr->pid == (uint32_t)child->pid) {
		/* The largest of it and the children it reaped (a shell: its command). */
		pr->rss_kb = child->maxrss_kb > 0 ? child->maxrss_kb : 0;
	}
	/* With stacks, the maps were read just now for the living, while they lived for the
	 * exited; without, /proc still has the living. Unknown ("") otherwise. */
	if ((!sym || symbolizer__runtime(sym, pr->pid, pr->runtime)) && !pr->exited)
		runtime_detect(pr->pid, pr->runtime);
	pr_debug("process %u: runtime '%s', %u CPUs usable, %llu kB peak", pr->pid, pr->runtime,
		 pr->cpus, (unsigned long long)pr->rss_kb);
}

/* Each process is charged with its cgroup's throttling; the workload with each cgroup once. */
static void enrich_throttling(struct profile *p, const struct cgroup_watch *cw)
{
	GHashTable *counted = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	char dir[PATH_MAX];
	struct cg_throttle t;
	size_t i;

	for (i = 0; i < p->nprocs; i++) {
		struct proc *pr = &p->procs[i];

		if (cgroup_watch_end(cw, pr->pid, &t, dir, sizeof(dir)) || !t.throttled_ns)
			continue;
		pr->throttled_ns = t.throttled_ns;
		pr->nr_throttled = t.nr_throttled;
		pr_debug("process %u: throttled %.3f s in %llu periods (%s)", pr->pid,
			 t.throttled_ns / 1e9, (unsigned long long)t.nr_throttled, dir);
		if (g_hash_table_contains(counted, dir))
			continue;
		g_hash_table_add(counted, g_strdup(dir));
		p->throttled_ns += t.throttled_ns;
		p->nr_throttled += t.nr_throttled;
	}
	g_hash_table_destroy(counted);
}

void enrich_profile(struct profile *p, enum profile_mode mode, struct symbolizer *sym,
		    const struct enrich_child *child, const struct cgroup_watch *cw)
{
	size_t i;

	/* run: the workload was started with concur's own affinity and cgroup. */
	p->cpus = mode == MODE_RUN ? (int)resources_cpus(getpid()) : 0;
	if (!p->cpus)
		p->cpus = sysconf(_SC_NPROCESSORS_ONLN);
	for (i = 0; i < p->nprocs; i++)
		enrich_proc(&p->procs[i], sym, child, cw);
	enrich_throttling(p, cw);
	for (i = 0; i < p->nthreads; i++)
		if (!p->threads[i].exited)
			procfs_read_comm(p->threads[i].pid, p->threads[i].tid, p->threads[i].comm);
}
