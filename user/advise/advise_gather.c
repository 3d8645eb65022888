// SPDX-License-Identifier: MIT
/*
 * A scope's threads summed into its split: each thread's time without its wait for children,
 * idle threads (parked, a loop that mostly polls) told from active ones, event loops found.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include "advise_internal.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * A thread's time without its wait for children: that time is the children's, measured in
 * their own threads, so it is left out of every split (a parent waiting on `make -j` is not
 * the bottleneck; the compilers are).
 */
uint64_t adv_life_of(const struct thread *t)
{
	uint64_t life = thread_lifetime_ns(t);

	return life > t->ns[CAT_WAIT] ? life - t->ns[CAT_WAIT] : 0;
}

/* A thread's time parked in c: its lock wait is without the GIL's (gil ns). */
static uint64_t parked_ns(const struct thread *t, int c, uint64_t gil)
{
	if (c != CAT_LOCK)
		return t->ns[c];
	return t->ns[CAT_LOCK] > gil ? t->ns[CAT_LOCK] - gil : 0;
}

/*
 * The parking category of an idle thread, or -1 for an active one (gil: its measured wait for
 * the GIL, which is work waiting to run, never parking; child_wait: its wait for children,
 * a supervisor's pipes and poll included). Idle is:
 *  - a parent: it waits for children IDLE_PARKED_SHARE of its life, idle while they work;
 *  - an idle worker: under IDLE_CPU_SHARE CPU and parked IDLE_PARKED_SHARE of the rest in
 *    poll, lock or sleep. Its lock time then is a condition variable with no work behind it,
 *    not contention: an idle pool beside one busy producer must not read as a lock problem;
 *  - a helper, while the workload works (see PARKED_SHARE): it runs little and stays parked
 *    in waits for others, socket and pipe included.
 * The cost: under extreme contention (every thread under 2 % CPU) waiters look idle; when all
 * the threads look so, the scope is judged on all of them (see adv_gather()). And a thread blocked
 * on an outside server while other threads compute reads as a helper: its waits overlap the
 * work that bounds the run.
 */
int adv_idle_cat(const struct thread *t, uint64_t gil, uint64_t child_wait, bool works)
{
	static const int parked[] = { CAT_POLL, CAT_LOCK, CAT_SLEEP };
	static const int helper[] = { CAT_IO_NET, CAT_IO_PIPE, CAT_POLL,
				      CAT_LOCK,	  CAT_SLEEP,   CAT_WAIT };
	uint64_t full = thread_lifetime_ns(t), life = adv_life_of(t), ns, sum = 0, most = 0;
	int c = -1;
	size_t i;

	if (full && child_wait > IDLE_PARKED_SHARE * full)
		return CAT_WAIT;
	if (!life)
		return -1;
	for (i = 0; t->ns[CAT_CPU] < IDLE_CPU_SHARE * life && i < ARRAY_SIZE(parked); i++)
		if (parked_ns(t, parked[i], gil) > IDLE_PARKED_SHARE * life)
			return parked[i];
	/* A helper's wake-ups delayed by other load on the CPUs are still a helper's: its shares
	 * are of the time it was not waiting for a CPU. */
	full = full > t->ns[CAT_RUNQUEUE] ? full - t->ns[CAT_RUNQUEUE] : 0;
	if (!works || !full || t->ns[CAT_CPU] >= PARKED_CPU_SHARE * full)
		return -1;
	for (i = 0; i < ARRAY_SIZE(helper); i++) {
		ns = parked_ns(t, helper[i], gil);
		sum += ns;
		if (ns > most)
			most = ns, c = helper[i];
	}
	return sum >= PARKED_SHARE * full ? c : -1;
}

/*
 * A busy event loop: a thread that wants a CPU (on one, or runnable) BUSY_CPU_SHARE of its life
 * (life: without its wait for children) and polls, and either has no idle time left (cpu +
 * runqueue LOOP_BUSY_SHARE) or waits mostly in its poll (LOOP_POLL_SHARE of its blocked time):
 * it already overlaps its waits with async, and computing the events is its bound, not waiting
 * for them. Its time runnable counts: behind other load (a load generator on the same CPUs) a
 * loop waits for a CPU as much as it runs (measured: redis-server under two redis-benchmark
 * processes and other builds, 28% on a CPU, 33% runnable, 39% in epoll_wait; by its CPU share
 * alone it was "CPU work: threads help", async "no effect"). A thread alive under
 * SHORT_PROC_NS is no loop in a steady state: a test process that polls its runner once or
 * twice in its 20 ms is a task.
 */
static bool busy_loop(const struct thread *t, uint64_t life)
{
	uint64_t want = t->ns[CAT_CPU] + t->ns[CAT_RUNQUEUE];
	uint64_t blocked = life > want ? life - want : 0;

	if (!t->ns[CAT_POLL] || want < BUSY_CPU_SHARE * life || life < SHORT_PROC_NS)
		return false;
	return want >= LOOP_BUSY_SHARE * life || t->ns[CAT_POLL] >= LOOP_POLL_SHARE * blocked;
}

/* Sums the threads idx[0..n) (of p->threads) into the scope: active ones into the split, idle
 * ones counted. */
void adv_gather(struct adv_ctx *x, struct adv_scope *sc, struct metrics *m, const size_t *idx,
		size_t n, bool *idle)
{
	uint32_t parked[CAT_MAX] = { 0 }, best = 0;
	uint64_t cpu_all = 0, wait_all = 0, full_all = 0, sup_all = 0, loop_cpu = 0;
	size_t i;
	int c, ic;

	sc->idle_cat = -1;
	for (i = 0; i < n; i++) {
		const struct thread *t = &x->p->threads[idx[i]];
		uint64_t life = adv_life_of(t);

		sc->threads++;
		cpu_all += t->ns[CAT_CPU];
		uint64_t cw = x->child_wait_ns[idx[i]];

		wait_all += cw;
		sup_all += cw - t->ns[CAT_WAIT];
		full_all += thread_lifetime_ns(t);
		/* A loop stalled in its callbacks is not parked, however little it computes. */
		ic = adv_stalled_thread(x, idx[i]) ?
			     -1 :
			     adv_idle_cat(t, x->gil_ns[idx[i]], cw, x->works);
		/* The whole workload has the children in it: a supervisor waiting for them
		 * most of its life is their time, however much it ran besides. */
		if (ic < 0 && sc->whole && cw > t->ns[CAT_WAIT] &&
		    cw >= WAIT_DOMINATES * thread_lifetime_ns(t))
			ic = CAT_WAIT;
		idle[idx[i]] = ic >= 0;
		if (ic >= 0) {
			sc->idle++;
			parked[ic]++;
			continue;
		}
		if (!life)
			continue;
		sc->active++;
		sc->active_ns += life;
		m->born += t->start_ns > 0;
		m->lockers += t->ns[CAT_LOCK] >= LOCKER_SHARE * life;
		for (c = 0; c < CAT_MAX; c++) {
			if (c == CAT_WAIT)
				continue;
			sc->ns[c] += t->ns[c];
			m->cnt[c] += t->cnt[c];
		}
		if (t->ns[CAT_CPU] + t->ns[CAT_RUNQUEUE] >= BUSY_CPU_SHARE * life)
			m->busy++;
		if (busy_loop(t, life)) {
			loop_cpu += t->ns[CAT_CPU];
			if ((double)t->ns[CAT_CPU] / life > m->loop_cpu)
				m->loop_cpu = (double)t->ns[CAT_CPU] / life;
			if ((double)(t->ns[CAT_CPU] + t->ns[CAT_RUNQUEUE]) / life > m->loop_want)
				m->loop_want =
					(double)(t->ns[CAT_CPU] + t->ns[CAT_RUNQUEUE]) / life;
		}
	}
	/* Busy loops that do a minority of the work do not make the scope a loop: a test
	 * process polling its runner's socket among a suite's hundreds is one of them. */
	m->loop_busy = loop_cpu && loop_cpu >= LOOP_WORK_SHARE * sc->ns[CAT_CPU];
	for (c = 0; c < CAT_MAX; c++)
		if (parked[c] > best)
			best = parked[c], sc->idle_cat = c;
	sc->parallelism = x->p->window_ns ? (double)cpu_all / x->p->window_ns : 0;
	/* Nobody active, or a process mostly waiting for its children (the whole workload has
	 * the children in it: there, the wait stays out): the whole split of all the threads,
	 * wait included, is the evidence. */
	m->waiting = !sc->whole && wait_all && wait_all >= WAIT_DOMINATES * full_all;
	m->wait_share = full_all ? (double)wait_all / full_all : 0;
	m->supervises = sup_all > 0;
	if (!sc->active || m->waiting) {
		sc->active_ns = 0;
		memset(sc->ns, 0, sizeof(sc->ns));
		for (i = 0; i < n; i++) {
			sc->active_ns += thread_lifetime_ns((&x->p->threads[idx[i]]));
			for (c = 0; c < CAT_MAX; c++)
				sc->ns[c] += x->p->threads[idx[i]].ns[c];
		}
	}
	for (c = 0; c < CAT_MAX; c++)
		m->share[c] = sc->active_ns ? (double)sc->ns[c] / sc->active_ns : 0;
}
