// SPDX-License-Identifier: MIT
/*
 * Workloads of child processes: supervisors waiting for their children (wait4, or pipes,
 * sockets and poll), children run one at a time or a few at once, and children too short to
 * advise on their own. The profile's processes have their parent (ppid) and their start and
 * end in the window; everything here follows from those and the threads' splits.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "advise_internal.h"

struct span {
	uint64_t start, end;
};

/* A process's start and end in the window (end_ns 0 while alive: the window's end). */
static struct span proc_span(const struct profile *p, const struct proc *pr)
{
	struct span s = { pr->start_ns, pr->end_ns ? pr->end_ns : p->window_ns };

	if (s.end < s.start)
		s.end = s.start;
	return s;
}

/* The index of p->procs[i]'s parent in the profile, or -1: the process of pid ppid alive when
 * it started (procs are sorted by pid, then start; a reused pid is a later entry). */
static long parent_of(const struct profile *p, size_t i)
{
	uint32_t ppid = p->procs[i].ppid;
	size_t lo = 0, hi = p->nprocs, mid;
	long best = -1;

	if (!ppid || ppid == p->procs[i].pid)
		return -1;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (p->procs[mid].pid < ppid)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < p->nprocs && p->procs[lo].pid == ppid; lo++)
		if (p->procs[lo].start_ns <= p->procs[i].start_ns)
			best = (long)lo;
	return best;
}

bool adv_short_child(const struct profile *p, size_t i)
{
	struct span s = proc_span(p, &p->procs[i]);
	uint64_t life = s.end - s.start, runq = p->procs[i].ns[CAT_RUNQUEUE];

	/* Its own length: time runnable behind other load stretches it, but does not make
	 * its work longer (a 25 ms task measured 60 ms long beside a load of 3 on 2 CPUs). */
	life = life > runq ? life - runq : 0;
	return parent_of(p, i) >= 0 && life < SHORT_PROC_NS;
}

uint64_t adv_proc_life_ns(const struct profile *p, const struct proc *pr)
{
	struct span s = proc_span(p, pr);

	return s.end - s.start;
}

static int by_start(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* The time any of s[0..n) covers inside [lo, hi); sorts s by start. */
static uint64_t union_ns(struct span *s, size_t n, uint64_t lo, uint64_t hi)
{
	uint64_t sum = 0, a, b, cur_a = 0, cur_b = 0;
	bool open = false;
	size_t i;

	qsort(s, n, sizeof(*s), by_start);
	for (i = 0; i < n; i++) {
		a = s[i].start > lo ? s[i].start : lo;
		b = s[i].end < hi ? s[i].end : hi;
		if (a >= b)
			continue;
		if (open && a <= cur_b) {
			cur_b = b > cur_b ? b : cur_b;
			continue;
		}
		if (open)
			sum += cur_b - cur_a;
		cur_a = a, cur_b = b, open = true;
	}
	return open ? sum + cur_b - cur_a : sum;
}

/* A thread's waits that may carry its children's results: pipes, sockets, poll. */
static uint64_t relay_ns(const struct thread *t)
{
	return t->ns[CAT_POLL] + t->ns[CAT_IO_PIPE] + t->ns[CAT_IO_NET];
}

/* Whether t relays: it is parked in relay_ns() RELAY_SHARE of its life. */
static bool relays(const struct thread *t)
{
	uint64_t life = thread_lifetime_ns(t);

	return life && relay_ns(t) >= RELAY_SHARE * life;
}

/*
 * A supervisor's thread: its process's children ran SUPERVISES_SHARE of its life, and it
 * waited (wait4, pipes, sockets, poll) WAIT_DOMINATES of it. Its pipes and poll then carry
 * its children's results (a test runner reading their reports, a pool its workers' output, a
 * job server its tokens): that wait is the children's time, as wait4's is. Through a relay
 * (see RELAY_SHARE), its wait for a lock other than the GIL counts too.
 */
void adv_child_waits(const struct adv_ctx *x)
{
	const struct profile *p = x->p;
	struct span *kids = calloc(p->nprocs + 1, sizeof(*kids));
	long *parent = calloc(p->nprocs + 1, sizeof(*parent));
	uint32_t *relay = calloc(p->nprocs + 1, sizeof(*relay));
	uint64_t work, lock;
	size_t i, j, n;

	for (i = 0; i < p->nthreads; i++)
		x->child_wait_ns[i] = p->threads[i].ns[CAT_WAIT];
	if (!kids || !parent || !relay)
		goto out; /* out of memory: wait4 alone counts, as before supervisors */
	for (j = 0; j < p->nprocs; j++)
		parent[j] = parent_of(p, j);
	for (i = 0; i < p->nthreads; i++)
		relay[p->threads[i].proc] += relays(&p->threads[i]);
	for (i = 0; i < p->nthreads; i++) {
		const struct thread *t = &p->threads[i];
		uint64_t life = thread_lifetime_ns(t);
		uint64_t cw = t->ns[CAT_WAIT] + relay_ns(t);

		/* Another thread of its process relays: its lock wait may be for that relay. */
		if (relay[t->proc] > (uint32_t)relays(t)) {
			lock = t->ns[CAT_LOCK] > x->gil_ns[i] ? t->ns[CAT_LOCK] - x->gil_ns[i] : 0;
			cw += lock;
		}
		if (!life || cw == t->ns[CAT_WAIT] || cw < WAIT_DOMINATES * life)
			continue;
		work = 0;
		for (j = 0, n = 0; j < p->nprocs; j++)
			if (parent[j] == (long)t->proc) {
				kids[n++] = proc_span(p, &p->procs[j]);
				work += p->procs[j].ns[CAT_CPU] + p->procs[j].ns[CAT_RUNQUEUE];
			}
		if (n && union_ns(kids, n, t->start_ns, t->end_ns) >= SUPERVISES_SHARE * life &&
		    work >= SUPERVISED_WORK * cw)
			x->child_wait_ns[i] = cw;
	}
out:
	free(kids);
	free(parent);
	free(relay);
}

/* Whether p->procs[j] is a supervisor: its threads wait for children most of their lives. */
static bool proc_waits(const struct adv_ctx *x, size_t j)
{
	uint64_t cw = 0, life = 0;
	size_t i;

	for (i = 0; i < x->p->nthreads; i++)
		if (x->p->threads[i].proc == j) {
			cw += x->child_wait_ns[i];
			life += thread_lifetime_ns(&x->p->threads[i]);
		}
	return life && cw >= WAIT_DOMINATES * life;
}

/* Whether p->procs[j] feeds its children: of its wait for them, some is through pipes,
 * sockets, poll or a relay (see RELAY_SHARE), not only wait4: a pool or a runner handing out tasks,
 * whose job count is its own. */
static bool proc_feeds(const struct adv_ctx *x, size_t j)
{
	size_t i;

	for (i = 0; i < x->p->nthreads; i++)
		if (x->p->threads[i].proc == j &&
		    x->child_wait_ns[i] > x->p->threads[i].ns[CAT_WAIT])
			return true;
	return false;
}

/* The children's CPU time by executable. */
struct exe_cpu {
	const char *comm;
	uint64_t cpu;
	uint32_t count;
	size_t first; /* one of its processes (an index into p->procs) */
};

/* The children's figures the rule reads. */
struct children {
	size_t n;
	uint64_t cpu, cpu_all, lives, span;
	double overlap;	     /* lives / span: how many ran at once, on average, while any ran */
	const char *comm;    /* the executable with the most of their CPU time */
	const char *starter; /* the ancestor that started them: of its ancestors, the one
			      * with the most children (make, a test runner, a pool) */
	bool fed;	     /* one child, which its parent feeds (see proc_feeds()) */
};

/* Of p->procs[j]'s ancestors, the one with the most children: the one that decided how many
 * ran at once (make over a compiler driver; a test runner over the make that started it). */
static const char *starter_of(const struct profile *p, size_t j)
{
	const char *name = NULL;
	size_t most = 0, n, k, steps;
	long a = parent_of(p, j);

	for (steps = 0; a >= 0 && steps < p->nprocs; steps++, a = parent_of(p, (size_t)a)) {
		for (k = 0, n = 0; k < p->nprocs; k++)
			n += parent_of(p, k) == a;
		if (n > most)
			most = n, name = p->procs[a].comm;
	}
	return name;
}

static int children_figures(const struct adv_ctx *x, struct children *c)
{
	const struct profile *p = x->p;
	struct span *s = calloc(p->nprocs + 1, sizeof(*s));
	struct exe_cpu *e = calloc(p->nprocs + 1, sizeof(*e));
	size_t j, k, ne = 0, best = 0;
	long par;

	if (!s || !e) {
		free(s);
		free(e);
		return -ENOMEM;
	}
	memset(c, 0, sizeof(*c));
	for (j = 0; j < p->nprocs; j++) {
		const struct proc *pr = &p->procs[j];

		c->cpu_all += pr->ns[CAT_CPU];
		par = parent_of(p, j);
		if (par < 0)
			continue;
		if (proc_waits(x, j))
			continue;
		s[c->n] = proc_span(p, pr);
		c->lives += s[c->n].end - s[c->n].start;
		c->n++;
		c->cpu += pr->ns[CAT_CPU];
		for (k = 0; k < ne && strcmp(e[k].comm, pr->comm); k++)
			;
		if (k == ne) {
			e[ne].first = j;
			e[ne++].comm = pr->comm;
		}
		e[k].cpu += pr->ns[CAT_CPU];
		e[k].count++;
		if (e[k].cpu > e[best].cpu)
			best = k;
	}
	for (j = 0; c->n == 1 && j < p->nprocs; j++)
		if (parent_of(p, j) >= 0 && !proc_waits(x, j))
			c->fed = proc_feeds(x, (size_t)parent_of(p, j));
	c->span = union_ns(s, c->n, 0, p->window_ns);
	c->overlap = c->span ? (double)c->lives / c->span : 0;
	c->comm = ne ? e[best].comm : "?";
	c->starter = ne ? starter_of(p, e[best].first) : NULL;
	free(s);
	free(e);
	return 0;
}

/*
 * The workload's CPU work is in its children (CHILD_WORK_SHARE) and they ran fewer at once
 * (overlap c) than the CPUs it may use (k) allow: the lever is running more of them at once,
 * in the workload's terms (a job count), not threads in a program whose work is in other
 * executables. Bound: k / c, never above the CPUs over those busy now (k / parallelism). Not
 * Amdahl's 1 / ((1 - u) + u c / k) with u the share of the window any child ran: the gaps
 * between children (fork, exec, the parent choosing the next) overlap with running children
 * too once more run at once, and under the profiler they are longer than untraced (a process
 * start is a map read and its objects' unwind tables), so that figure fell under what was
 * measured (tests/kernel/test_advice.py's make -j1 of 24 files: 1.86x stated, -j2 measured
 * 1.86-2.11x untraced). A make -j1 of 40 compiles, c 1.0 on 2 CPUs: ≤ 2.0×. One child is
 * a job count of 1 only when its parent feeds it tasks (proc_feeds(): pytest -n 1's worker,
 * a pool of one), not when it only waits for its exit (a shell running one command).
 */
int adv_children_rule(const struct adv_ctx *x, struct adv_scope *sc, const struct metrics *m)
{
	struct children c;
	double u, b, par = sc->parallelism;
	int k = m->cpus, err, jobs;
	struct adv_row *r;
	char how[96];

	if (sc->verdict != ADV_CPU || k <= 1 || !x->p->window_ns)
		return 0;
	err = children_figures(x, &c);
	if (err)
		return err;
	if ((c.n < 2 && !c.fed) || c.cpu < CHILD_WORK_SHARE * c.cpu_all ||
	    c.overlap >= k - CPU_SPARE)
		return 0;
	u = (double)c.span / x->p->window_ns;
	u = u > 1 ? 1 : u;
	b = c.overlap > 0 ? k / c.overlap : k;
	if (par > 0 && k / par < b)
		b = k / par;
	if (b < MIN_GAIN)
		return 0;
	jobs = k;
	if (c.starter && (!strcmp(c.starter, "make") || !strcmp(c.starter, "gmake")))
		snprintf(how, sizeof(how), "e.g. `make -j%d`", jobs);
	else if (c.starter)
		snprintf(how, sizeof(how), "e.g. a job count of %d in %.15s", jobs, c.starter);
	else
		snprintf(how, sizeof(how), "e.g. a job count or pool of %d", jobs);
	if (c.overlap < SERIAL_OVERLAP)
		adv_format(sc->why,
			   "CPU work in %zu child processes (most in %s): its children ran one at "
			   "a time, %.1f of %d CPUs busy; running %d at once, %s, ≤ %.1f×.",
			   c.n, c.comm, par, k, jobs, how, b);
	else
		adv_format(sc->why,
			   "CPU work in %zu child processes (most in %s), %.1f at a time on "
			   "average, %.1f of %d CPUs busy; running %d at once, %s, ≤ %.1f×.",
			   c.n, c.comm, c.overlap, par, k, jobs, how, b);
	r = adv_set_row(sc, ADV_PROCESSES, ADV_HELPS, b);
	adv_format(r->basis, "%d CPUs, children %.1f at a time over %.0f%% of the window", k,
		   c.overlap, adv_percent(u));
	adv_format(r->reason, "Running %d children at once (%s) spreads them over the CPUs.", jobs,
		   how);
	adv_format(adv_set_row(sc, ADV_THREADS, ADV_NO_EFFECT, 0)->reason,
		   "The work is in child processes (most in %s): threads here do not run it; "
		   "run more of the children at once first.",
		   c.comm);
	adv_format(adv_set_row(sc, ADV_ASYNC, ADV_NO_EFFECT, 0)->reason,
		   "The children compute: async overlaps waiting only.");
	return 1;
}

static int by_life_desc(const void *a, const void *b)
{
	const struct adv_exe *x = a, *y = b;

	return x->life_ns > y->life_ns ? -1 : x->life_ns < y->life_ns;
}

int adv_short_summary(const struct adv_ctx *x, struct advice *a)
{
	const struct profile *p = x->p;
	size_t i, k;
	int c;

	a->exes = calloc(p->nprocs + 1, sizeof(*a->exes));
	if (!a->exes)
		return -ENOMEM;
	for (i = 0; i < p->nprocs; i++) {
		const struct proc *pr = &p->procs[i];
		struct adv_exe *e;

		if (!adv_short_child(p, i))
			continue;
		for (k = 0; k < a->nexes && strcmp(a->exes[k].comm, pr->comm); k++)
			;
		e = &a->exes[k];
		if (k == a->nexes) {
			memcpy(e->comm, pr->comm, sizeof(e->comm));
			a->nexes++;
		}
		e->count++;
		e->life_ns += adv_proc_life_ns(p, pr);
		for (c = 0; c < CAT_MAX; c++)
			if (c != CAT_WAIT)
				e->ns[c] += pr->ns[c];
	}
	for (k = 0; k < a->nexes; k++) {
		struct adv_exe *e = &a->exes[k];
		uint64_t most = 0;

		e->cat = -1;
		for (c = 0; c < CAT_MAX; c++)
			if (e->ns[c] > most)
				most = e->ns[c], e->cat = c;
	}
	qsort(a->exes, a->nexes, sizeof(*a->exes), by_life_desc);
	return 0;
}
