// SPDX-License-Identifier: MIT
/*
 * The classic threads / processes / async table, filled with one scope's measured figures.
 *
 * The generic table every Python developer learns compares the three designs on CPU
 * parallelism, I/O-bound work, the GIL, communication, start-up overhead, memory and
 * context-switch cost. Here each aspect gets the scope's own figure and, per design, a mark:
 * "helps" (this aspect, as measured, favours the design), "hurts" (it counts against it),
 * "already used" (the program already works that way), "no effect" (the aspect does not
 * matter at the measured level), "n/a" (the aspect does not exist here, e.g. the GIL in a
 * native program). The marks are the why of the verdict, aspect by aspect; the levers' rows
 * (advise_rules.c) stay the verdict.
 */
#include <stdio.h>
#include <string.h>
#include "advise_internal.h"

const char *const adv_aspect_keys[ADV_ASPECT_MAX] = {
	"cpu", "io", "gil", "communication", "startup", "memory", "switches",
};

const char *const adv_aspect_names[ADV_ASPECT_MAX] = {
	"CPU in parallel", "I/O wait",	       "GIL", "communication", "start-up cost",
	"memory",	   "context switches",
};

/* Below this share of the active time, CPU work or I/O wait does not decide a design. */
#define TABLE_MIN_SHARE 0.20
/* Pipe wait above this share between several processes: their communication is a cost. */
#define TABLE_PIPE_SHARE 0.10
/* Poll wait above this share: the scope already multiplexes waits in an event loop. */
#define TABLE_POLL_SHARE 0.10
/* This many processes started per second (at least TABLE_PROC_CHURN_MIN): fork/exec and
 * start-up are a cost of their own (an interpreter's start-up alone takes tens of ms). */
#define TABLE_PROC_CHURN_PER_S 20.0
#define TABLE_PROC_CHURN_MIN   10
/* Resident memory per process above this: a few more processes cost gigabytes. */
#define TABLE_RSS_HEAVY_KB (512ull * 1024)
/* Context switches per second per usable CPU above this: at a few microseconds each (kernel
 * entry, scheduler, cache refill) they take several % of a CPU, which an event loop's task
 * switches in user space do not. */
#define TABLE_SWITCHES_HEAVY 10000.0

static void mark(struct adv_aspect_row *r, enum adv_effect threads, enum adv_effect procs,
		 enum adv_effect async)
{
	r->mark[ADV_THREADS] = threads;
	r->mark[ADV_PROCESSES] = procs;
	r->mark[ADV_ASYNC] = async;
}

/* A CPython process, or for the whole workload any of them. */
static bool is_cpython(const struct adv_ctx *x, const struct adv_scope *sc)
{
	size_t i;

	for (i = 0; sc->whole && x->p && i < x->p->nprocs; i++)
		if (!strncmp(x->p->procs[i].runtime, "CPython", 7))
			return true;
	return !strncmp(sc->runtime, "CPython", 7);
}

/* The GIL's share: measured on the runtime's futexes, else CPython's lock wait. */
static double gil_share(bool cpython, const struct adv_scope *sc, const struct metrics *m)
{
	if (sc->futexes_known)
		return m->gil_share;
	return cpython ? m->share[CAT_LOCK] : 0;
}

static void row_cpu(struct adv_aspect_row *r, const struct adv_scope *sc, const struct metrics *m,
		    bool cpython)
{
	double c = m->share[CAT_CPU], spare = sc->cpus - sc->parallelism;
	bool gil = gil_share(cpython, sc, m) >= GIL_LOCK_SHARE;

	if (spare < 0)
		spare = 0;
	adv_format(r->measured, "%.0f%% on a CPU; %.2f of %d CPU%s busy, %.2f idle", adv_percent(c),
		   sc->parallelism, sc->cpus, sc->cpus == 1 ? "" : "s", spare);
	if (c < TABLE_MIN_SHARE)
		mark(r, ADV_NO_EFFECT, ADV_NO_EFFECT, ADV_NO_EFFECT);
	else if (spare < CPU_SPARE)
		mark(r, !gil && sc->active >= (uint32_t)sc->cpus ? ADV_ALREADY_USED : ADV_NO_EFFECT,
		     ADV_NO_EFFECT, ADV_NO_EFFECT);
	else
		mark(r, gil ? ADV_NO_EFFECT : ADV_HELPS, ADV_HELPS, ADV_NO_EFFECT);
}

static void row_io(struct adv_aspect_row *r, const struct adv_scope *sc, const struct metrics *m)
{
	double disk = m->share[CAT_IO_DISK], net = m->share[CAT_IO_NET];
	double pipe = m->share[CAT_IO_PIPE], poll = m->share[CAT_POLL];
	double io = disk + net + pipe;
	enum adv_effect t = ADV_NO_EFFECT, p = ADV_NO_EFFECT, a = ADV_NO_EFFECT;

	adv_format(r->measured,
		   "%.0f%% blocked in I/O (disk %.0f%%, network %.0f%%, pipes %.0f%%), "
		   "%.0f%% in poll",
		   adv_percent(io), adv_percent(disk), adv_percent(net), adv_percent(pipe),
		   adv_percent(poll));
	if (io >= TABLE_MIN_SHARE) {
		t = sc->active >= IO_MANY_THREADS ? ADV_ALREADY_USED : ADV_HELPS;
		p = ADV_HELPS;
		/* Files have no readiness events: async runtimes hand disk reads to threads. */
		a = net + pipe >= disk ? ADV_HELPS : ADV_NO_EFFECT;
	}
	if (poll >= TABLE_POLL_SHARE)
		a = ADV_ALREADY_USED;
	mark(r, t, p, a);
}

static void row_gil(struct adv_aspect_row *r, const struct adv_scope *sc, const struct metrics *m,
		    bool cpython)
{
	double g = gil_share(cpython, sc, m);

	if (!cpython) {
		adv_format(r->measured, "no GIL: %s",
			   *sc->runtime ? sc->runtime : "no CPython process");
		mark(r, ADV_NA, ADV_NA, ADV_NA);
		return;
	}
	adv_format(r->measured, "%.0f%% waiting for the GIL (%s)", adv_percent(g),
		   sc->futexes_known ? "measured on its futexes" : "its lock wait");
	if (g >= GIL_LOCK_SHARE)
		mark(r, ADV_HURTS, ADV_HELPS, ADV_NO_EFFECT);
	else
		mark(r, ADV_NO_EFFECT, ADV_NO_EFFECT, ADV_NO_EFFECT);
}

static void row_ipc(struct adv_aspect_row *r, const struct metrics *m, uint32_t nprocs)
{
	double pipe = m->share[CAT_IO_PIPE];

	adv_format(r->measured, "%.0f%% of the time in pipes; %u process%s", adv_percent(pipe),
		   nprocs, nprocs == 1 ? "" : "es");
	if (pipe >= TABLE_PIPE_SHARE && nprocs > 1)
		/* Threads share memory where processes copy through the kernel. */
		mark(r, ADV_HELPS, ADV_HURTS, ADV_NO_EFFECT);
	else
		mark(r, ADV_NO_EFFECT, ADV_NO_EFFECT, ADV_NO_EFFECT);
}

static void row_startup(struct adv_aspect_row *r, const struct metrics *m, uint32_t procs_born)
{
	double s = m->window_ns / 1e9;
	double tr = s > 0 ? m->born / s : 0, pr = s > 0 ? procs_born / s : 0;
	bool threads = tr >= GIL_CHURN_PER_S && m->born >= GIL_CHURN_MIN;
	bool procs = pr >= TABLE_PROC_CHURN_PER_S && procs_born >= TABLE_PROC_CHURN_MIN;

	adv_format(r->measured, "%u thread%s started (%.0f/s), %u process%s started (%.0f/s)",
		   m->born, m->born == 1 ? "" : "s", tr, procs_born, procs_born == 1 ? "" : "es",
		   pr);
	mark(r, threads ? ADV_HURTS : ADV_NO_EFFECT, procs ? ADV_HURTS : ADV_NO_EFFECT,
	     ADV_NO_EFFECT);
}

/* One more process costs about what one of them has resident: the largest, for a workload. */
static void row_memory(struct adv_aspect_row *r, const struct adv_ctx *x,
		       const struct adv_scope *sc)
{
	uint64_t per = sc->rss_kb;
	size_t i;

	for (i = 0; sc->whole && i < x->p->nprocs; i++)
		per = i ? (x->p->procs[i].rss_kb > per ? x->p->procs[i].rss_kb : per) :
			  x->p->procs[i].rss_kb;
	if (!per) {
		adv_format(r->measured, "resident memory unknown");
		mark(r, ADV_NA, ADV_NA, ADV_NA);
		return;
	}
	adv_format(r->measured, "%.1f MB resident at peak%s: one more process costs about that",
		   per / 1024.0, sc->whole ? " in the largest process" : "");
	mark(r, ADV_NO_EFFECT, per >= TABLE_RSS_HEAVY_KB ? ADV_HURTS : ADV_NO_EFFECT,
	     ADV_NO_EFFECT);
}

static void row_switches(struct adv_aspect_row *r, const struct adv_scope *sc,
			 const struct metrics *m)
{
	uint64_t q = m->cnt[CAT_RUNQUEUE];
	double wait_us = q ? sc->ns[CAT_RUNQUEUE] / 1e3 / q : 0;
	bool heavy = sc->switches_per_s >= TABLE_SWITCHES_HEAVY * sc->cpus;

	adv_format(r->measured, "%.0f switches/s, %.0f us in the run queue per wait for a CPU",
		   sc->switches_per_s, wait_us);
	if (!heavy)
		mark(r, ADV_NO_EFFECT, ADV_NO_EFFECT, ADV_NO_EFFECT);
	else
		mark(r, ADV_HURTS, ADV_HURTS,
		     m->share[CAT_POLL] >= TABLE_POLL_SHARE ? ADV_ALREADY_USED : ADV_HELPS);
}

void adv_fill_table(const struct adv_ctx *x, struct adv_scope *sc, const struct metrics *m)
{
	uint32_t nprocs = 1, procs_born = 0;
	bool cpython = is_cpython(x, sc);
	size_t i;

	if (sc->whole) {
		nprocs = (uint32_t)x->p->nprocs;
		for (i = 0; i < x->p->nprocs; i++)
			procs_born += x->p->procs[i].start_ns > 0;
	}
	row_cpu(&sc->table[ADV_ASPECT_CPU], sc, m, cpython);
	row_io(&sc->table[ADV_ASPECT_IO], sc, m);
	row_gil(&sc->table[ADV_ASPECT_GIL], sc, m, cpython);
	row_ipc(&sc->table[ADV_ASPECT_IPC], m, nprocs);
	row_startup(&sc->table[ADV_ASPECT_STARTUP], m, procs_born);
	row_memory(&sc->table[ADV_ASPECT_MEMORY], x, sc);
	row_switches(&sc->table[ADV_ASPECT_SWITCHES], sc, m);
}
