/* SPDX-License-Identifier: MIT */
/*
 * One profiling session's state, shared by the files of the tracer: tracer.c (the skeleton's
 * lifecycle and the main loop), tracer_maps.c (memory maps, unwind indexes, symbols) and
 * tracer_child.c (run's workload). Internal to collect/.
 */
#ifndef CONCUR_SESSION_H
#define CONCUR_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "cgroup_watch.h"
#include "launch.h"
#include "loader_probe.h"
#include "mapwatch.h"
#include "status.h"
#include "tracer.h"
#include "unwind_loader.h"
#include "unwind_maps.h"

struct concur_bpf;
struct ring_buffer;
struct bpf_link;
struct symbolizer;
struct pyframes;
struct profile;

struct session {
	const struct tracer_opts *o;
	struct concur_bpf *skel;
	struct launch child;
	int *pidfds;  /* attach: one per target, -1 once it exited */
	int child_fd; /* run: pidfd of the workload */
	int child_status;
	bool child_reaped;
	/* run: a stop signal came before the workload could exec: it never ran. */
	bool not_started;
	long child_maxrss_kb;	  /* run: the workload's peak resident memory, from wait4 */
	uint64_t window_start_ns; /* CLOCK_MONOTONIC */
	struct status status;
	struct symbolizer *sym;
	struct pyframes *py;	     /* CPython processes' frames; NULL without stacks */
	struct ring_buffer *maps_rb; /* maps_events, and py_events with stacks */
	struct mapwatch maps_due;
	struct unwind_loader *unwind; /* --unwind=cfi: the tables in the kernel */
	struct unwind_store ustore;   /* ... mapped */
	bool tables_done;	      /* the window is over: no more tables built */
	struct cgroup_watch cgroups;  /* each process's cgroups, noted when it is tracked or seen */
	struct bpf_link **sample_links; /* one per CPU */
	int nsample_links;
	struct loader_probe loader; /* the dynamic loader hooked (loader.path "": none) */
	struct bpf_link *loader_link;
	uint64_t started_ns;	 /* concur's own start, for the attach latency */
	uint64_t started_cpu_ns; /* the main thread's CPU time then */
	uint64_t first_index_ns; /* when the first unwind index was written (0: none) */
};

/* CLOCK_MONOTONIC, in ns. */
static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* Ring buffer callbacks (ctx: the session): a memory-map request (struct maps_event), a new
 * Python frame list (struct py_event). 0. */
int session__on_maps_event(void *ctx, void *data, size_t size);
int session__on_py_event(void *ctx, void *data, size_t size);
/* Reads pid's memory map now (unwind index, symbols, cgroup, CPython). 0 or -errno. */
int session__read_maps(uint32_t pid, void *ctx);
/* Serves memory-map requests and tables built in the background; returns when the next read
 * or check is due (CLOCK_MONOTONIC ns; 0: none). */
uint64_t session__serve_maps(struct session *s);
/* At the window's end: the requests still queued, then a fresh read of the live processes
 * whose stacks or lock waits need names. */
void session__refresh_maps(struct session *s, const struct profile *p);
/* Tells the symbolizer which image each process forked in the window copied. */
void session__note_forks(struct session *s);

/* run: the workload's exit status and peak resident memory, once it exited (blocks). */
void session__reap_child(struct session *s);
/* run, interrupted by sig: the workload stopped too, given CHILD_GRACE_MS to exit. */
void session__stop_child(struct session *s, int sig);

#endif
