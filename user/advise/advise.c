// SPDX-License-Identifier: MIT
/*
 * The advisor's rules (see advise.h for the design). Every threshold is a named constant with
 * the reason it has that value; every verdict has one rule function filling the three rows.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "advise_internal.h"

const char *const adv_verdict_keys[ADV_VERDICT_MAX] = {
	"too_short",	"no_threads", "idle",	"cpu",	   "cpu_saturated",
	"lock",		"io_disk",    "io_net", "io_pipe", "loop_saturated",
	"loop_waiting", "sleep",      "wait",	"other",   "loop_stalled",
};

const char *const adv_verdict_names[ADV_VERDICT_MAX] = {
	"too short to advise",
	"nothing measured",
	"idle",
	"CPU work",
	"CPU saturation",
	"lock contention",
	"blocking disk I/O",
	"blocking network I/O",
	"blocking pipe I/O",
	"saturated event loop",
	"event loop waiting for events",
	"deliberate sleeps",
	"waiting for children",
	"other blocking",
	"stalled event loop",
};

const char *const adv_effect_names[ADV_EFFECT_MAX] = {
	"n/a", "helps", "no effect", "hurts", "already used",
};

const char *const adv_lever_names[ADV_LEVER_MAX] = { "threads", "processes", "async" };

static bool quota_bound(const struct adv_scope *sc);

/*
 * Whether the scope's run-queue wait is other processes' doing (see RUNQ_SATURATED): its threads
 * wait for a CPU RUNQ_SATURATED of their time while the workload (par_seen: the larger of the
 * scope's and the whole workload's CPUs busy) leaves CPU_SPARE of the CPUs the scope may use
 * to others, and no CPU quota throttled it (a throttled group waits with CPUs idle).
 */
static bool shared_machine(const struct adv_scope *sc, const struct metrics *m, double par_seen)
{
	return m->share[CAT_RUNQUEUE] >= RUNQ_SATURATED && par_seen < m->cpus - CPU_SPARE &&
	       !quota_bound(sc);
}

/*
 * The verdict. Order matters:
 *  - too short a window or no thread time: no advice (a 5 ms window says nothing about a
 *    steady state);
 *  - all threads idle: what they were parked in (sleep and wait have their own verdicts);
 *  - CPU wanted (cpu + runqueue) dominating: saturation when the run queue holds
 *    RUNQ_SATURATED of the time and the workload's own threads fill the CPUs (else the run
 *    queue is other load's: see shared_machine()), a saturated loop when the busy thread polls, lock contention
 *    when the threads also wait LOCK_SERIALIZES for a lock with CPUs idle, else CPU work;
 *  - otherwise the largest category among the active threads.
 */
static void choose(struct adv_scope *sc, struct metrics *m, double par_seen)
{
	static const enum adv_verdict by_cat[CAT_MAX] = {
		[CAT_CPU] = ADV_CPU,	       [CAT_RUNQUEUE] = ADV_CPU_SATURATED,
		[CAT_LOCK] = ADV_LOCK,	       [CAT_IO_DISK] = ADV_IO_DISK,
		[CAT_IO_NET] = ADV_IO_NET,     [CAT_IO_PIPE] = ADV_IO_PIPE,
		[CAT_POLL] = ADV_LOOP_WAITING, [CAT_SLEEP] = ADV_SLEEP,
		[CAT_WAIT] = ADV_WAIT,	       [CAT_OTHER] = ADV_OTHER,
	};
	double want = m->share[CAT_CPU] + m->share[CAT_RUNQUEUE], best = 0;
	int c, d = -1;

	if (m->window_ns < ADV_MIN_WINDOW_NS || m->short_ns) {
		sc->verdict = ADV_TOO_SHORT;
		return;
	}
	if (!sc->active_ns) {
		sc->verdict = ADV_NO_THREADS;
		return;
	}
	if (m->waiting) {
		sc->cat = CAT_WAIT;
		sc->verdict = ADV_WAIT;
		return;
	}
	if (!sc->active) {
		sc->cat = sc->idle_cat;
		sc->verdict = sc->cat == CAT_SLEEP ? ADV_SLEEP :
			      sc->cat == CAT_WAIT  ? ADV_WAIT :
						     ADV_IDLE;
		return;
	}
	for (c = CAT_LOCK; c < CAT_MAX; c++)
		if (m->share[c] > best)
			best = m->share[c], d = c;
	if (shared_machine(sc, m, par_seen))
		m->runq_other = m->share[CAT_RUNQUEUE];
	if (want >= best) {
		if (m->share[CAT_RUNQUEUE] >= RUNQ_SATURATED && !m->runq_other)
			d = CAT_RUNQUEUE;
		else
			d = CAT_CPU;
	}
	/* Threads that compute in turn around a lock, CPUs idle meanwhile: the lock is the bound. */
	if (d == CAT_CPU && m->lockers > 1 && m->share[CAT_LOCK] >= LOCK_SERIALIZES &&
	    sc->parallelism < m->cpus - CPU_SPARE)
		d = CAT_LOCK;
	sc->cat = d;
	sc->verdict = by_cat[d];
	if (d == CAT_CPU && m->loop_busy)
		sc->verdict = ADV_LOOP_SATURATED;
}

/*
 * Whether the scope's wait for a CPU is its CFS quota's doing: its cgroup was throttled for at
 * least a tenth of that wait. A throttled group's threads are runnable on no CPU until the
 * next period refills the quota (Documentation/scheduler/sched-bwc.rst), however idle the
 * machine: the wait is the quota's, not other load's.
 */
static bool quota_bound(const struct adv_scope *sc)
{
	return sc->throttled_ns && sc->throttled_ns * 10 >= sc->ns[CAT_RUNQUEUE];
}

/* The verdict's sentence, with the bound for what no lever gives (more CPUs, no lock). */
static void explain(struct adv_scope *sc, const struct metrics *m)
{
	double s = sc->cat >= 0 ? m->share[sc->cat] : 0, par = sc->parallelism, b;

	switch (sc->verdict) {
	case ADV_TOO_SHORT:
		if (m->short_ns && m->window_ns >= ADV_MIN_WINDOW_NS)
			adv_format(sc->why,
				   "Alive %.1f ms: a child too short to advise on its own; its "
				   "parent's workload (the whole) is its advice.",
				   m->short_ns / 1e6);
		else
			adv_format(sc->why, "The window (%.1f ms) is too short to advise.",
				   m->window_ns / 1e6);
		break;
	case ADV_NO_THREADS:
		adv_format(sc->why, "No thread time was measured.");
		break;
	case ADV_IDLE:
		adv_format(sc->why,
			   "Idle: %s parked (mostly in %s), on a CPU %.0f%% of the time: waiting "
			   "for work%s.",
			   sc->threads == 1 ? "its thread was" : "all its threads were",
			   sc->cat >= 0 ? cat_names[sc->cat] : "?", adv_percent(m->share[CAT_CPU]),
			   m->works ? " that other threads of the workload do" : "");
		break;
	case ADV_CPU:
		adv_format(sc->why,
			   "CPU work: %.0f%% of the active threads' time is on a CPU "
			   "(%.1f of %d CPUs busy on average).",
			   adv_percent(s), par, m->cpus);
		break;
	case ADV_CPU_SATURATED:
		b = m->share[CAT_CPU] > 0 ?
			    (m->share[CAT_CPU] + m->share[CAT_RUNQUEUE]) / m->share[CAT_CPU] :
			    1;
		if (quota_bound(sc))
			adv_format(sc->why,
				   "CPU saturation: runnable but waiting for a CPU %.0f%% of the "
				   "time, %.1f of %d CPUs busy; throttled by its CPU quota for "
				   "%.2f s (%llu periods): the quota limits it, not the machine; "
				   "only a larger quota helps (≤ %.1f×).",
				   adv_percent(s), par, m->cpus, sc->throttled_ns / 1e9,
				   (unsigned long long)sc->nr_throttled, b);
		else
			adv_format(sc->why,
				   "CPU saturation: runnable but waiting for a CPU %.0f%% of the "
				   "time, %.1f of %d CPUs busy %s; only more CPUs help (≤ %.1f×).",
				   adv_percent(s), par, m->cpus,
				   par >= 0.8 * m->cpus ? "with this work" :
							  "with it (the rest is other load)",
				   b);
		break;
	case ADV_LOCK:
		b = s < 1.0 ? 1.0 / (1.0 - s) : IO_BOUND_CAP;
		b = b > m->cpus / (par > 0 ? par : 1) ? m->cpus / (par > 0 ? par : 1) : b;
		b = b < 1.0 ? 1.0 : b;
		if (sc->lock.ns && sc->lock.symbol)
			adv_format(sc->why,
				   "Lock contention: %.0f%% of the time waiting for a lock, most "
				   "on %s (%s, %u thread%s); less sharing (finer locks, per-thread "
				   "data) is worth ≤ %.1f×.",
				   adv_percent(s), sc->lock.symbol, sc->lock.module,
				   sc->lock.threads, sc->lock.threads == 1 ? "" : "s", b);
		else
			adv_format(sc->why,
				   "Lock contention: %.0f%% of the time waiting for a lock; less "
				   "sharing (finer locks, per-thread data) is worth ≤ %.1f×.",
				   adv_percent(s), b);
		break;
	case ADV_IO_DISK:
	case ADV_IO_NET:
	case ADV_IO_PIPE:
		adv_format(sc->why, "Blocking I/O: %.0f%% of the time blocked in %s.",
			   adv_percent(s), cat_names[sc->cat]);
		break;
	case ADV_LOOP_SATURATED:
		if (m->loop_want >= LOOP_BUSY_SHARE)
			adv_format(
				sc->why,
				"A saturated event loop: it polls, yet is on a CPU %.0f%% of its "
				"time.",
				adv_percent(m->loop_cpu));
		else
			adv_format(
				sc->why,
				"A busy event loop: on a CPU %.0f%% of its time, its waits mostly "
				"in its poll: computing the events bounds it, not waiting for "
				"them.",
				adv_percent(m->loop_cpu));
		break;
	case ADV_LOOP_WAITING:
		adv_format(sc->why, "An event loop waiting for events %.0f%% of the time.",
			   adv_percent(s));
		break;
	case ADV_SLEEP:
		adv_format(sc->why,
			   "Deliberate sleeps: %.0f%% of the time in nanosleep and friends.",
			   adv_percent(s));
		break;
	case ADV_WAIT:
		adv_format(sc->why, "Waiting for children %.0f%% of the time%s: see their advice.",
			   adv_percent(m->waiting ? m->wait_share : s),
			   m->supervises ? " (wait4, and their pipes, sockets or poll)" : "");
		break;
	case ADV_OTHER:
	default:
		adv_format(sc->why, "Blocked in other syscalls or page faults %.0f%% of the time.",
			   adv_percent(s));
		break;
	}
}

/*
 * The CPUs the scope may use (a process's affinity and cgroup quota, when they were read),
 * its peak parallelism and memory, its switch rate: the context its advice depends on.
 */
static void scope_context(const struct adv_ctx *x, struct adv_scope *sc, const struct proc *pr,
			  const size_t *idx, size_t n)
{
	uint64_t switches = 0;
	size_t i;
	int len;

	sc->cpus = x->p->cpus > 0 ? x->p->cpus : 1;
	if (pr && pr->cpus && (int)pr->cpus < sc->cpus)
		sc->cpus = (int)pr->cpus;
	if (pr) {
		sc->peak_running = pr->peak_running;
		sc->rss_kb = pr->rss_kb;
		sc->throttled_ns = pr->throttled_ns;
		sc->nr_throttled = pr->nr_throttled;
	} else {
		sc->throttled_ns = x->p->throttled_ns;
		sc->nr_throttled = x->p->nr_throttled;
	}
	for (i = 0; !pr && i < x->p->nprocs; i++) {
		sc->rss_kb += x->p->procs[i].rss_kb;
		if (x->p->procs[i].peak_running > sc->peak_running)
			sc->peak_running = x->p->procs[i].peak_running;
	}
	for (i = 0; i < n; i++)
		switches += x->p->threads[idx[i]].cnt[CAT_CPU];
	sc->switches_per_s = x->p->window_ns ? switches * 1e9 / x->p->window_ns : 0;
	len = snprintf(sc->costs, sizeof(sc->costs), "%d CPUs usable, %.2f busy on average",
		       sc->cpus, sc->parallelism);
	if (sc->peak_running && len < (int)sizeof(sc->costs))
		len += snprintf(sc->costs + len, sizeof(sc->costs) - len, ", %u at peak",
				sc->peak_running);
	if (len < (int)sizeof(sc->costs))
		len += snprintf(sc->costs + len, sizeof(sc->costs) - len, "; %.0f switches/s",
				sc->switches_per_s);
	if (sc->rss_kb && len < (int)sizeof(sc->costs))
		snprintf(sc->costs + len, sizeof(sc->costs) - len, "; %.1f MB resident at peak%s",
			 sc->rss_kb / 1024.0,
			 pr ? " (each extra process costs about as much)" : "");
}

/*
 * The lever to try first: of those that help, the highest bound; on a tie the cheapest, in
 * the classic table's order of overhead: async (no thread per wait), threads, processes
 * (memory and IPC). A busy event loop is the exception: its state (connections, callbacks,
 * data) belongs to its one thread, so a second loop in a thread of the same process needs
 * that state made safe to share, while a second loop in a process of its own (another
 * instance, a prefork, SO_REUSEPORT) needs no change to the loop's code: processes first.
 * (Measured: redis-server beside its load generator on 2 CPUs, a second instance 1.2-1.4x;
 * the threads redis does offer, io-threads, 0.2-0.7x, their I/O threads spinning on CPUs the
 * generator needs.)
 */
static void choose_first_lever(struct adv_scope *sc)
{
	static const enum adv_lever by_cost[] = { ADV_ASYNC, ADV_THREADS, ADV_PROCESSES };
	static const enum adv_lever loop[] = { ADV_ASYNC, ADV_PROCESSES, ADV_THREADS };
	const enum adv_lever *order = sc->verdict == ADV_LOOP_SATURATED ? loop : by_cost;
	size_t i;

	sc->best = -1;
	for (i = 0; i < sizeof(by_cost) / sizeof(by_cost[0]); i++) {
		const struct adv_row *r = &sc->rows[order[i]];

		if (r->effect == ADV_HELPS &&
		    (sc->best < 0 || r->bound > sc->rows[sc->best].bound + 1e-9))
			sc->best = order[i];
	}
}

/* Appends the shared machine's context to the verdict's sentence (see RUNQ_SATURATED). */
static void note_shared(struct adv_scope *sc, const struct metrics *m)
{
	size_t len = strlen(sc->why);

	if (!m->runq_other || sc->verdict == ADV_TOO_SHORT || sc->verdict == ADV_NO_THREADS)
		return;
	snprintf(sc->why + len, sizeof(sc->why) - len,
		 " The machine is shared: %.0f%% of the time runnable behind other processes.",
		 adv_percent(m->runq_other));
}

static int advise_scope(struct adv_ctx *x, struct adv_scope *sc, const struct proc *pr,
			const size_t *idx, size_t n, bool *idle, uint64_t short_ns)
{
	struct metrics m = { .window_ns = x->p->window_ns,
			     .works = x->works,
			     .short_ns = short_ns };
	double par_seen;
	int err;

	sc->cat = -1;
	sc->summarised = short_ns && x->p->window_ns >= ADV_MIN_WINDOW_NS;
	adv_gather(x, sc, &m, idx, n, idle);
	scope_context(x, sc, pr, idx, n);
	m.cpus = sc->cpus;
	err = adv_futex_evidence(x, sc, idle);
	if (err)
		return err;
	adv_interp_evidence(x, sc, idle);
	m.gil_share = sc->active_ns ? (double)sc->gil_ns / sc->active_ns : 0;
	par_seen = sc->whole || sc->parallelism > x->whole_parallelism ? sc->parallelism :
									 x->whole_parallelism;
	choose(sc, &m, par_seen);
	if (!adv_stall_verdict(x, sc, &m, idx, n, idle)) {
		explain(sc, &m);
		adv_apply_rule(sc, &m);
		if (sc->whole) {
			err = adv_children_rule(x, sc, &m);
			if (err < 0)
				return err;
		}
	}
	note_shared(sc, &m);
	adv_fill_table(x, sc, &m);
	choose_first_lever(sc);
	if (sc->verdict != ADV_TOO_SHORT)
		adv_stack_evidence(x, sc, idle);
	return 0;
}

static int by_thread_ns_desc(const void *a, const void *b, void *arg)
{
	const struct proc *procs = arg;
	uint64_t x = cat_sum(procs[*(const size_t *)a].ns);
	uint64_t y = cat_sum(procs[*(const size_t *)b].ns);

	return x > y ? -1 : x < y;
}

void advice_free(struct advice *a)
{
	free(a->procs);
	free(a->order);
	free(a->exes);
	a->procs = NULL;
	a->order = NULL;
	a->exes = NULL;
	a->nprocs = 0;
	a->nexes = 0;
}

/* The processes, most thread-time first. */
static void rank_procs(const struct profile *p, size_t *order)
{
	size_t i;

	for (i = 0; i < p->nprocs; i++)
		order[i] = i;
	qsort_r(order, p->nprocs, sizeof(*order), by_thread_ns_desc, p->procs);
}

static int by_owner(const void *a, const void *b, void *arg)
{
	const struct thread *t = arg;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;

	if (t[i].proc != t[j].proc)
		return t[i].proc < t[j].proc ? -1 : 1;
	return i < j ? -1 : i > j;
}

/* Each process's scope: its threads are a run of idx once sorted by process. */
static int advise_procs(struct adv_ctx *x, struct advice *out, size_t *idx)
{
	const struct profile *p = x->p;
	size_t i, lo, hi;
	int err;

	qsort_r(idx, p->nthreads, sizeof(*idx), by_owner, p->threads);
	for (i = 0, lo = 0; i < p->nprocs; i++, lo = hi) {
		struct adv_scope *sc = &out->procs[i];

		while (lo < p->nthreads && p->threads[idx[lo]].proc < i)
			lo++;
		for (hi = lo; hi < p->nthreads && p->threads[idx[hi]].proc == i; hi++)
			;
		sc->pid = p->procs[i].pid;
		memcpy(sc->comm, p->procs[i].comm, sizeof(sc->comm));
		memcpy(sc->runtime, p->procs[i].runtime, sizeof(sc->runtime));
		err = advise_scope(x, sc, &p->procs[i], idx + lo, hi - lo, x->idle_proc,
				   adv_short_child(p, i) ? adv_proc_life_ns(p, &p->procs[i]) : 0);
		if (err)
			return err;
	}
	return 0;
}

/*
 * Whether the workload works: its threads that want a CPU (on one, runnable, or waiting for
 * the GIL to run Python code) BUSY_CPU_SHARE of their life hold WORKLOAD_WORKS CPUs on average
 * over the window. Then a thread that runs little and stays parked waits for them (see
 * adv_idle_cat()). Run-queue time counts: on a machine shared with other load, a busy worker is
 * runnable as much as it runs; so does the GIL's wait: threads taking turns at it all work.
 */
static bool workload_works(const struct adv_ctx *x)
{
	const struct profile *p = x->p;
	uint64_t busy = 0, want;
	size_t i;

	for (i = 0; i < p->nthreads; i++) {
		want = p->threads[i].ns[CAT_CPU] + p->threads[i].ns[CAT_RUNQUEUE] + x->gil_ns[i];
		if (want >= BUSY_CPU_SHARE * adv_life_of(&p->threads[i]))
			busy += want;
	}
	return p->window_ns && busy >= WORKLOAD_WORKS * p->window_ns;
}

int advise(const struct profile *p, struct advice *out)
{
	struct adv_ctx x = { .p = p };
	size_t i, *idx = NULL;
	int err = -ENOMEM;

	memset(out, 0, sizeof(*out));
	out->cpus = p->cpus;
	out->window_ns = p->window_ns;
	out->nprocs = p->nprocs;
	x.idle_proc = calloc(p->nthreads + 1, sizeof(bool));
	x.idle_whole = calloc(p->nthreads + 1, sizeof(bool));
	x.by_pid = calloc(p->nstacks + 1, sizeof(*x.by_pid));
	x.by_cat = calloc(p->nstacks + 1, sizeof(*x.by_cat));
	x.gil_ns = calloc(p->nthreads + 1, sizeof(*x.gil_ns));
	x.stalls = calloc(p->nthreads + 1, sizeof(*x.stalls));
	x.child_wait_ns = calloc(p->nthreads + 1, sizeof(*x.child_wait_ns));
	idx = calloc(p->nthreads + 1, sizeof(*idx));
	out->procs = calloc(p->nprocs + 1, sizeof(*out->procs));
	out->order = calloc(p->nprocs + 1, sizeof(*out->order));
	if (!x.idle_proc || !x.idle_whole || !x.by_pid || !x.by_cat || !x.gil_ns || !x.stalls ||
	    !x.child_wait_ns || !idx || !out->procs || !out->order)
		goto out;
	adv_sort_stacks(p, x.by_pid, x.by_cat);
	adv_thread_gil(&x);
	adv_child_waits(&x);
	adv_loop_stalls(&x);
	x.works = workload_works(&x);
	for (i = 0; i < p->nthreads; i++)
		idx[i] = i;
	rank_procs(p, out->order);

	out->whole.whole = true;
	err = advise_scope(&x, &out->whole, NULL, idx, p->nthreads, x.idle_whole, 0);
	out->parallelism = out->whole.parallelism;
	x.whole_parallelism = out->whole.parallelism;
	if (!err)
		err = advise_procs(&x, out, idx);
	if (!err)
		err = adv_short_summary(&x, out);
out:
	free(x.idle_proc);
	free(x.idle_whole);
	free(x.by_pid);
	free(x.by_cat);
	free(x.gil_ns);
	free(x.stalls);
	free(x.child_wait_ns);
	free(idx);
	if (err)
		advice_free(out);
	return err;
}
