/* SPDX-License-Identifier: MIT */
/* What /proc and the symbolizer add to a collected profile, before it is finished. */
#ifndef CONCUR_ENRICH_H
#define CONCUR_ENRICH_H

#include <stdbool.h>
#include <sys/types.h>
#include "profile/profile.h"

struct symbolizer;
struct cgroup_watch;

/* The workload `run` launched, as its parent saw it end (pid -1: none). */
struct enrich_child {
	pid_t pid;
	bool reaped;
	long maxrss_kb; /* from wait4's rusage: it and the children it reaped */
};

/*
 * Fills, for the processes of p (built, not yet finished): the CPUs the run may use, and per
 * process the CPUs it may use and its peak memory (the living, from /proc; the reaped
 * workload, from its rusage), its runtime (from the maps the symbolizer read, else /proc for
 * the living; sym may be NULL), and the name each live thread has now (threads rename
 * themselves after they start), and the throttling of their cgroups since cw first saw them.
 */
void enrich_profile(struct profile *p, enum profile_mode mode, struct symbolizer *sym,
		    const struct enrich_child *child, const struct cgroup_watch *cw);

#endif
