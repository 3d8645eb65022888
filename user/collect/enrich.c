// SPDX-License-Identifier: MIT
#include <unistd.h>
#include "enrich.h"
#include "log.h"
#include "procfs.h"
#include "resources.h"
#include "profile/runtime.h"
#include "profile/symbolize.h"

static void enrich_proc(struct proc *pr, struct symbolizer *sym, const struct enrich_child *child)
{
	if (!pr->exited) {
		pr->cpus = resources_cpus(pr->pid);
		pr->rss_kb = resources_peak_rss_kb(pr->pid);
	} else if (child->reaped && pr->pid == (uint32_t)child->pid) {
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

void enrich_profile(struct profile *p, enum profile_mode mode, struct symbolizer *sym,
		    const struct enrich_child *child)
{
	size_t i;

	/* run: the workload was started with concur's own affinity and cgroup. */
	p->cpus = mode == MODE_RUN ? (int)resources_cpus(getpid()) : 0;
	if (!p->cpus)
		p->cpus = sysconf(_SC_NPROCESSORS_ONLN);
	for (i = 0; i < p->nprocs; i++)
		enrich_proc(&p->procs[i], sym, child);
	for (i = 0; i < p->nthreads; i++)
		if (!p->threads[i].exited)
			procfs_read_comm(p->threads[i].pid, p->threads[i].tid, p->threads[i].comm);
}
