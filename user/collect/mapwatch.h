/* SPDX-License-Identifier: MIT */
/*
 * When to read a process's memory map again. The first read comes as soon as the probes
 * see the process's first stack, often while the dynamic loader is still mapping its
 * libraries; reads follow at growing intervals (and every second while it lives), so that
 * a short-lived process is read once it is complete and a long-lived one after dlopen().
 */
#ifndef CONCUR_MAPWATCH_H
#define CONCUR_MAPWATCH_H

#include <stdint.h>
#include <glib.h>

struct mapwatch_entry {
	uint32_t pid;
	uint32_t reads;
	uint64_t due_ns;
};

/* Zero-initialized: empty. */
struct mapwatch {
	GArray *e; /* struct mapwatch_entry; NULL until the first add */
};

/* A process seen (again): due now. */
void mapwatch_add(struct mapwatch *w, uint32_t pid, uint64_t now);
/* Calls read(pid) for every due process, reschedules it; returns the next due time (or 0). */
uint64_t mapwatch_run(struct mapwatch *w, uint64_t now, int (*read)(uint32_t pid, void *ctx),
		      void *ctx);
void mapwatch_free(struct mapwatch *w);

#endif
