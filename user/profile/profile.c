// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "account.h"
#include "profile.h"
#include "strtab.h"

const char *const cat_names[CAT_MAX] = {
	[CAT_CPU] = "cpu",	   [CAT_RUNQUEUE] = "runqueue", [CAT_LOCK] = "lock",
	[CAT_IO_DISK] = "io.disk", [CAT_IO_NET] = "io.net",	[CAT_IO_PIPE] = "io.pipe",
	[CAT_POLL] = "poll",	   [CAT_SLEEP] = "sleep",	[CAT_WAIT] = "wait",
	[CAT_OTHER] = "other",
};

const char *const cat_short_names[CAT_MAX] = {
	"cpu", "runq", "lock", "disk", "net", "pipe", "poll", "slp", "wait", "othr",
};

struct profile *profile__new(enum profile_mode mode, char **command)
{
	struct profile *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->mode = mode;
	p->command = command;
	p->exit_status = -1;
	p->strings = strtab__new();
	if (!p->strings) {
		free(p);
		return NULL;
	}
	return p;
}

void profile__free(struct profile *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->nprocs; i++)
		free(p->procs[i].other);
	free(p->procs);
	free(p->threads);
	for (i = 0; i < p->nstacks; i++)
		free(p->stacks[i].frames);
	free(p->stacks);
	free(p->unwind);
	free(p->futexes);
	free(p->owned_command);
	strtab__free(p->strings);
	free(p);
}

/* Makes room in *arr, holding n elements of size sz, for one more: capacity doubles from 16. */
static int grow(void **arr, size_t n, size_t sz)
{
	size_t cap = n ? n * 2 : 16;
	void *tmp;

	if (n && (n < 16 || (n & (n - 1))))
		return 0;
	tmp = realloc(*arr, cap * sz);
	if (!tmp)
		return -ENOMEM;
	*arr = tmp;
	return 0;
}

static uint64_t rel(const struct profile *p, uint64_t mono)
{
	return mono > p->window_start_ns ? mono - p->window_start_ns : 0;
}

int profile__add_thread(struct profile *p, const struct thread_acct *a, uint64_t end_mono)
{
	struct thread *t;
	int err;

	err = grow((void **)&p->threads, p->nthreads, sizeof(*p->threads));
	if (err)
		return err;
	t = &p->threads[p->nthreads++];
	memset(t, 0, sizeof(*t));
	t->acct = *a;
	t->acct.comm[CONCUR_COMM_LEN - 1] = '\0';
	t->exited = a->state == TS_DEAD;
	if (!t->exited) {
		struct acct_delta d = acct_finish(&t->acct, end_mono);

		t->last_cat = d.cat;
		t->last_ns = d.ns;
	}
	t->start_ns = rel(p, a->start_ns);
	t->end_ns = rel(p, t->exited ? a->end_ns : end_mono);
	p->anomalies += a->anomalies;
	return 0;
}

static int cmp_futex(const void *a, const void *b)
{
	const struct futex_wait *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return x->tid < y->tid ? -1 : x->tid > y->tid;
}

void profile__sort_futexes(struct profile *p)
{
	if (p->nfutexes)
		qsort(p->futexes, p->nfutexes, sizeof(*p->futexes), cmp_futex);
}

int profile__add_futex(struct profile *p, const struct futex_wait *fw)
{
	int err = grow((void **)&p->futexes, p->nfutexes, sizeof(*p->futexes));

	if (err)
		return err;
	p->futexes[p->nfutexes++] = *fw;
	return 0;
}

const struct futex_wait *profile__futexes_of(const struct profile *p, uint32_t pid, size_t *n)
{
	size_t lo = 0, hi = p->nfutexes, end;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (p->futexes[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (end = lo; end < p->nfutexes && p->futexes[end].pid == pid; end++)
		;
	*n = end - lo;
	return *n ? &p->futexes[lo] : NULL;
}

/* The instance of pid alive at `at` (relative ns): the latest one started by then. */
static struct proc *find_proc_at(struct profile *p, uint32_t pid, uint64_t at)
{
	struct proc *best = NULL;
	size_t i;

	for (i = 0; i < p->nprocs; i++) {
		struct proc *pr = &p->procs[i];

		if (pr->pid != pid)
			continue;
		if (!best || (pr->start_ns <= at && (best->start_ns > at ||
						      pr->start_ns > best->start_ns)) ||
		    (best->start_ns > at && pr->start_ns < best->start_ns))
			best = pr;
	}
	return best;
}

struct proc *profile__find_proc(struct profile *p, uint32_t pid)
{
	return find_proc_at(p, pid, UINT64_MAX);
}

int profile__add_proc(struct profile *p, uint32_t pid, uint32_t ppid, const char *comm,
		      bool exited)
{
	return profile__add_proc_span(p, pid, ppid, comm, exited, 0, 0);
}

int profile__add_proc_span(struct profile *p, uint32_t pid, uint32_t ppid, const char *comm,
			   bool exited, uint64_t start_mono, uint64_t end_mono)
{
	uint64_t start = start_mono ? rel(p, start_mono) : 0;
	struct proc *pr;
	size_t i;
	int err;

	for (i = 0; i < p->nprocs; i++)
		if (p->procs[i].pid == pid && p->procs[i].start_ns == start)
			return -EEXIST;
	err = grow((void **)&p->procs, p->nprocs, sizeof(*p->procs));
	if (err)
		return err;
	pr = &p->procs[p->nprocs++];
	memset(pr, 0, sizeof(*pr));
	pr->pid = pid;
	pr->ppid = ppid;
	pr->exited = exited;
	pr->start_ns = start;
	pr->end_ns = end_mono ? rel(p, end_mono) : 0;
	memcpy(pr->comm, comm, strnlen(comm, CONCUR_COMM_LEN - 1));
	return 0;
}

int profile__add_other(struct profile *p, uint32_t pid, int32_t nr, uint64_t ns, uint64_t cnt)
{
	struct proc *pr = profile__find_proc(p, pid);
	int err;

	if (!pr)
		return -ENOENT;
	err = grow((void **)&pr->other, pr->nother, sizeof(*pr->other));
	if (err)
		return err;
	pr->other[pr->nother++] = (struct other_sys){ .nr = nr, .ns = ns, .cnt = cnt };
	return 0;
}

const char *profile__intern(struct profile *p, const char *s)
{
	return strtab__intern(p->strings, s);
}

int profile__add_stack(struct profile *p, const struct stack *st)
{
	int err = grow((void **)&p->stacks, p->nstacks, sizeof(*p->stacks));

	if (err)
		return err;
	p->stacks[p->nstacks++] = *st;
	return 0;
}

uint64_t thread_lifetime_ns(const struct thread *t)
{
	return t->end_ns > t->start_ns ? t->end_ns - t->start_ns : 0;
}

uint64_t proc_thread_ns(const struct proc *pr)
{
	uint64_t sum = 0;
	int c;

	for (c = 0; c < CAT_MAX; c++)
		sum += pr->ns[c];
	return sum;
}

uint64_t profile__thread_ns(const struct profile *p, __u64 ns[CAT_MAX])
{
	uint64_t sum = 0;
	size_t i;
	int c;

	memset(ns, 0, sizeof(uint64_t) * CAT_MAX);
	for (i = 0; i < p->nprocs; i++)
		for (c = 0; c < CAT_MAX; c++)
			ns[c] += p->procs[i].ns[c];
	for (c = 0; c < CAT_MAX; c++)
		sum += ns[c];
	return sum;
}

uint64_t profile__lost(const struct profile *p)
{
	return p->stats[STAT_THREADS_FULL] + p->stats[STAT_PROCS_FULL] +
	       p->stats[STAT_OTHER_FULL] + p->stats[STAT_DEAD_FULL];
}

static int cmp_thread(const void *a, const void *b)
{
	const struct thread *x = a, *y = b;

	if (x->acct.pid != y->acct.pid)
		return x->acct.pid < y->acct.pid ? -1 : 1;
	return x->acct.tid < y->acct.tid ? -1 : x->acct.tid > y->acct.tid;
}

static int cmp_proc(const void *a, const void *b)
{
	const struct proc *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->start_ns < y->start_ns ? -1 : x->start_ns > y->start_ns;
}

static int cmp_other(const void *a, const void *b)
{
	const struct other_sys *x = a, *y = b;

	return x->ns > y->ns ? -1 : x->ns < y->ns;
}

void profile__finish(struct profile *p)
{
	struct proc *pr;
	size_t i;
	int c;

	for (i = 0; i < p->nthreads; i++) {
		struct thread *t = &p->threads[i];

		pr = find_proc_at(p, t->acct.pid, t->start_ns);
		if (!pr && !profile__add_proc(p, t->acct.pid, 0, t->acct.comm, false))
			pr = profile__find_proc(p, t->acct.pid);
		if (!pr)
			continue;
		pr->nthreads++;
		for (c = 0; c < CAT_MAX; c++)
			pr->ns[c] += t->acct.ns[c];
	}
	/* qsort's array may not be NULL, even with nothing in it. */
	if (p->nthreads)
		qsort(p->threads, p->nthreads, sizeof(*p->threads), cmp_thread);
	if (p->nprocs)
		qsort(p->procs, p->nprocs, sizeof(*p->procs), cmp_proc);
	profile__sort_futexes(p);
	for (i = 0; i < p->nprocs; i++)
		if (p->procs[i].nother)
			qsort(p->procs[i].other, p->procs[i].nother, sizeof(*p->procs[i].other),
			      cmp_other);
}
