/* SPDX-License-Identifier: MIT */
/*
 * One background thread that runs jobs at the lowest scheduling priority and hands each back
 * to the owner's loop: the unwinder's table building (unwind_loader.c) runs there, so that it
 * takes no CPU the workload wants. Plain C and GLib, no kernel; jobs are opaque.
 *
 * Threads: run() is called on the worker thread only and may touch nothing but its job (no
 * shared state without a lock of its own); drop() may be called on either thread. Everything
 * else is the owner's, from one thread.
 */
#ifndef CONCUR_BG_WORKER_H
#define CONCUR_BG_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bg_worker;

/* How low the worker runs: SCHED_IDLE (sched(7): below any nice value), else nice 19. */
enum bg_priority {
	BG_PRIO_UNKNOWN = 0, /* the thread has not set it yet */
	BG_PRIO_IDLE,	     /* SCHED_IDLE */
	BG_PRIO_NICE,	     /* SCHED_OTHER at nice 19 */
	BG_PRIO_NORMAL,	     /* neither could be set: the owner's own priority */
};

/*
 * A worker calling run(job) for each job submitted, in order, and drop(job) for jobs never
 * handed back (stopped before they ran, or finished and not taken when the worker is freed).
 * NULL with errno on failure (thread or eventfd creation).
 */
struct bg_worker *bg_worker__new(void (*run)(void *job), void (*drop)(void *job));

/* Queues job (not NULL) for the worker; it is the worker's until bg_worker__take() returns it. */
void bg_worker__submit(struct bg_worker *w, void *job);

/*
 * An eventfd, readable while finished jobs wait to be taken: the owner polls it (POLLIN) and
 * calls bg_worker__take() until it returns NULL.
 */
int bg_worker__fd(const struct bg_worker *w);

/* A finished job (run() has returned on it), oldest first; NULL when none is waiting. */
void *bg_worker__take(struct bg_worker *w);

/* Jobs submitted and not yet taken (queued, running or finished). */
size_t bg_worker__pending(const struct bg_worker *w);

/* The priority the worker thread runs at. */
enum bg_priority bg_worker__priority(const struct bg_worker *w);

/*
 * Raises the worker to the owner's priority until it finds its queue empty after a job (it
 * then lowers itself again): for jobs starved too long by busier threads (SCHED_IDLE gets no
 * CPU while every CPU has other work). Refused without CAP_SYS_NICE: nothing changes.
 */
void bg_worker__hurry(struct bg_worker *w);

/* The worker thread's CPU time so far (ns, its pthread CPU-time clock); 0 before it runs or
 * when the clock cannot be read. What tells a long job that runs from one starved. */
uint64_t bg_worker__cpu_ns(const struct bg_worker *w);

/* Whether the worker is hurried (bg_worker__hurry()) and has not lowered itself yet. */
bool bg_worker__hurried(const struct bg_worker *w);

/*
 * Stops and joins the worker: jobs not yet started are dropped unrun, the one running (if
 * any) finishes first, at the owner's priority again when the worker may be raised (root:
 * lowering a nice value takes CAP_SYS_NICE) so that stopping does not wait behind the
 * workload; then finished jobs not taken are dropped. NULL-safe.
 */
void bg_worker__free(struct bg_worker *w);

#endif
