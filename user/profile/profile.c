// SPDX-License-Identifier: MIT
/*
 * The profile's builders and its one finishing step. While building, every array lives in a
 * GArray (the profile's fields follow it as it grows); profile__finish() orders them, so a
 * profile read from a recording and one just collected are the same data in the same order.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include "profile.h"
#include "stack_merge.h"
#include "strtab.h"

#define CAT_NAME(id, name, short_name)	     [id] = name,
#define CAT_SHORT_NAME(id, name, short_name) [id] = short_name,
#define STAT_KEY(id, key, kind)		     [id] = key,
#define STAT_KIND(id, key, kind)	     [id] = kind,

const char *const cat_names[CAT_MAX] = { CONCUR_CATEGORIES(CAT_NAME) };
const char *const cat_short_names[CAT_MAX] = { CONCUR_CATEGORIES(CAT_SHORT_NAME) };
const char *const stat_keys[STAT_MAX] = { CONCUR_STATS(STAT_KEY) };
const enum concur_stat_kind stat_kinds[STAT_MAX] = { CONCUR_STATS(STAT_KIND) };
#define PY_COUNT_KEY(id, key) [id] = key,
const char *const py_count_keys[PYC_MAX] = { PY_COUNTS(PY_COUNT_KEY) };

/* A process's `other` time by syscall, kept by pid until profile__finish() hands it out. */
struct other_entry {
	uint32_t pid;
	struct other_sys o;
};

/* What the builders append to; the profile's array fields point into it. */
struct profile_arrays {
	GArray *threads, *procs, *stacks, *futexes, *others;
	struct other_sys *other; /* every process's, one run per process after finish */
};

struct profile *profile__new(enum profile_mode mode, char **command)
{
	struct profile *p = calloc(1, sizeof(*p));
	struct profile_arrays *a = calloc(1, sizeof(*a));

	if (!p || !a)
		goto fail;
	p->mode = mode;
	p->command = command;
	p->exit_status = -1;
	p->strings = strtab__new();
	if (!p->strings)
		goto fail;
	a->threads = g_array_new(FALSE, FALSE, sizeof(struct thread));
	a->procs = g_array_new(FALSE, FALSE, sizeof(struct proc));
	a->stacks = g_array_new(FALSE, FALSE, sizeof(struct stack));
	a->futexes = g_array_new(FALSE, FALSE, sizeof(struct futex_wait));
	a->others = g_array_new(FALSE, FALSE, sizeof(struct other_entry));
	p->arrays = a;
	return p;
fail:
	free(a);
	free(p);
	return NULL;
}

void profile__free(struct profile *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->nstacks; i++)
		free(p->stacks[i].frames);
	g_array_free(p->arrays->threads, TRUE);
	g_array_free(p->arrays->procs, TRUE);
	g_array_free(p->arrays->stacks, TRUE);
	g_array_free(p->arrays->futexes, TRUE);
	g_array_free(p->arrays->others, TRUE);
	free(p->arrays->other);
	free(p->arrays);
	g_free(p->unwind);
	g_free(p->ustops);
	free(p->owned_command);
	strtab__free(p->strings);
	free(p);
}

/* Appends elem to arr; *data and *n then describe the whole array. */
static int append(GArray *arr, const void *elem, void *data, size_t *n)
{
	g_array_append_vals(arr, elem, 1);
	*(void **)data = arr->data;
	*n = arr->len;
	return 0;
}

int profile__add_thread(struct profile *p, const struct thread *t)
{
	return append(p->arrays->threads, t, &p->threads, &p->nthreads);
}

int profile__add_stack(struct profile *p, const struct stack *st)
{
	return append(p->arrays->stacks, st, &p->stacks, &p->nstacks);
}

int profile__add_futex(struct profile *p, const struct futex_wait *fw)
{
	return append(p->arrays->futexes, fw, &p->futexes, &p->nfutexes);
}

int profile__add_proc(struct profile *p, const struct proc *pr)
{
	struct proc copy = *pr;
	size_t i;

	for (i = 0; i < p->nprocs; i++)
		if (p->procs[i].pid == pr->pid && p->procs[i].start_ns == pr->start_ns)
			return -EEXIST;
	copy.comm[CONCUR_COMM_LEN - 1] = '\0';
	copy.runtime[sizeof(copy.runtime) - 1] = '\0';
	copy.nthreads = 0;
	memset(copy.ns, 0, sizeof(copy.ns));
	copy.other = NULL;
	copy.nother = 0;
	return append(p->arrays->procs, &copy, &p->procs, &p->nprocs);
}

/* The instance of pid alive at `at` (relative ns): the latest one started by then, else the
 * earliest. procs[0, n) sorted by pid, start. */
static struct proc *find_proc_at(struct proc *procs, size_t n, uint32_t pid, uint64_t at)
{
	size_t lo = 0, hi = n, mid, k;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (procs[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo >= n || procs[lo].pid != pid)
		return NULL;
	for (k = lo; k + 1 < n && procs[k + 1].pid == pid && procs[k + 1].start_ns <= at; k++)
		;
	return &procs[k];
}

struct proc *profile__find_proc(struct profile *p, uint32_t pid)
{
	struct proc *best = NULL;
	size_t i;

	for (i = 0; i < p->nprocs; i++)
		if (p->procs[i].pid == pid && (!best || p->procs[i].start_ns > best->start_ns))
			best = &p->procs[i];
	return best;
}

int profile__add_other(struct profile *p, uint32_t pid, int32_t nr, uint64_t ns, uint64_t cnt)
{
	struct other_entry e = { pid, { .nr = nr, .ns = ns, .cnt = cnt } };

	if (!profile__find_proc(p, pid))
		return -ENOENT;
	g_array_append_val(p->arrays->others, e);
	return 0;
}

const char *profile__intern(struct profile *p, const char *s)
{
	return strtab__intern(p->strings, s);
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

uint64_t thread_lifetime_ns(const struct thread *t)
{
	return t->end_ns > t->start_ns ? t->end_ns - t->start_ns : 0;
}

uint64_t cat_sum(const uint64_t ns[CAT_MAX])
{
	uint64_t sum = 0;
	int c;

	for (c = 0; c < CAT_MAX; c++)
		sum += ns[c];
	return sum;
}

uint64_t profile__thread_ns(const struct profile *p, uint64_t ns[CAT_MAX])
{
	size_t i;
	int c;

	memset(ns, 0, sizeof(uint64_t) * CAT_MAX);
	for (i = 0; i < p->nprocs; i++)
		for (c = 0; c < CAT_MAX; c++)
			ns[c] += p->procs[i].ns[c];
	return cat_sum(ns);
}

uint64_t profile__steal_ns(const struct profile *p)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < p->nthreads; i++)
		sum += p->threads[i].steal_ns;
	return sum;
}

uint64_t profile__lost(const struct profile *p)
{
	uint64_t sum = 0;
	int i;

	for (i = 0; i < STAT_MAX; i++)
		if (stat_kinds[i] == STAT_KIND_LOST)
			sum += p->stats[i];
	return sum;
}

/* The sort orders: g_array_sort() is stable, so equal keys keep the order they were added. */

static gint cmp_thread(gconstpointer a, gconstpointer b)
{
	const struct thread *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	return x->start_ns < y->start_ns ? -1 : x->start_ns > y->start_ns;
}

static gint cmp_proc(gconstpointer a, gconstpointer b)
{
	const struct proc *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->start_ns < y->start_ns ? -1 : x->start_ns > y->start_ns;
}

static gint cmp_futex(gconstpointer a, gconstpointer b)
{
	const struct futex_wait *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return x->tid < y->tid ? -1 : x->tid > y->tid;
}

static void sort_procs(struct profile *p)
{
	g_array_sort(p->arrays->procs, cmp_proc);
	p->procs = (struct proc *)p->arrays->procs->data;
}

/* Every thread's process; a thread whose process was never seen gets one, named after it. */
static void own_threads(struct profile *p)
{
	size_t i, known = p->nprocs;
	struct proc orphan, *pr;
	bool added = false;

	/* Threads are sorted by pid: one stand-in per missing pid, named after its first thread;
	 * the procs are sorted once, after. */
	for (i = 0; i < p->nthreads; i++) {
		if (find_proc_at(p->procs, known, p->threads[i].pid, p->threads[i].start_ns) ||
		    (added && p->procs[p->nprocs - 1].pid == p->threads[i].pid))
			continue;
		memset(&orphan, 0, sizeof(orphan));
		orphan.pid = p->threads[i].pid;
		memcpy(orphan.comm, p->threads[i].comm, CONCUR_COMM_LEN);
		added |= !profile__add_proc(p, &orphan);
	}
	if (added)
		sort_procs(p);
	for (i = 0; i < p->nthreads; i++) {
		struct thread *t = &p->threads[i];
		int c;

		pr = find_proc_at(p->procs, p->nprocs, t->pid, t->start_ns);
		t->proc = pr - p->procs;
		pr->nthreads++;
		for (c = 0; c < CAT_MAX; c++)
			pr->ns[c] += t->ns[c];
	}
}

static gint cmp_other(gconstpointer a, gconstpointer b)
{
	const struct other_entry *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->o.ns > y->o.ns ? -1 : x->o.ns < y->o.ns;
}

/* The `other` time, heaviest first, handed to the latest instance of each pid. */
static void hand_out_others(struct profile *p)
{
	GArray *e = p->arrays->others;
	struct other_sys *all;
	size_t i, j;

	if (!e->len)
		return;
	g_array_sort(e, cmp_other);
	all = g_new(struct other_sys, e->len);
	p->arrays->other = all;
	for (i = 0; i < e->len; i = j) {
		uint32_t pid = g_array_index(e, struct other_entry, i).pid;
		struct proc *pr = find_proc_at(p->procs, p->nprocs, pid, UINT64_MAX);

		for (j = i; j < e->len && g_array_index(e, struct other_entry, j).pid == pid; j++)
			all[j] = g_array_index(e, struct other_entry, j).o;
		pr->other = &all[i];
		pr->nother = j - i;
	}
}

void profile__finish(struct profile *p)
{
	g_array_sort(p->arrays->threads, cmp_thread);
	g_array_sort(p->arrays->futexes, cmp_futex);
	p->threads = (struct thread *)p->arrays->threads->data;
	p->futexes = (struct futex_wait *)p->arrays->futexes->data;
	sort_procs(p);
	own_threads(p);
	hand_out_others(p);
	/* Out of memory: the ranks stay 0 and every comparison walks the frames, as before. */
	(void)stacks_rank_frames(p);
}
