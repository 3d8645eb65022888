// SPDX-License-Identifier: MIT
/* Kernel maps → profile: each probe record converted once, here. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <glib.h>
#include "account.h"
#include "collect.h"
#include "procfs.h"
#include "profile/symbolize.h"

/*
 * A thread last seen preempted may have got its CPU back unseen (see account.h): if the
 * kernel says it has run since, it is running now, and its wait was only the part it did
 * not run.
 */
static void settle_unseen_switch_in(struct thread_acct *a, uint64_t end_mono)
{
	struct acct_kclock k;

	if (a->state != TS_RUNNABLE || procfs_read_kclock(a->pid, a->tid, &k) ||
	    !(a->flags & ACCT_EXEC_KNOWN) || k.exec_ns <= a->exec_ns)
		return;
	a->anomalies++;
	acct_split_missed_switch_in(a, end_mono, k);
	a->state = TS_RUNNING;
}

static uint64_t rel(uint64_t window_start, uint64_t mono)
{
	return mono > window_start ? mono - window_start : 0;
}

void collect_convert_thread(const struct thread_acct *a, uint64_t window_start, uint64_t end_mono,
			    struct thread *t, struct open_interval *open)
{
	struct thread_acct closed = *a;
	struct acct_delta d = { 0, CAT_CPU, CONCUR_NO_SYSCALL };
	uint64_t life;

	memset(t, 0, sizeof(*t));
	t->exited = a->state == TS_DEAD;
	if (!t->exited)
		d = acct_finish(&closed, end_mono);
	t->pid = a->pid;
	t->tid = a->tid;
	memcpy(t->comm, a->comm, CONCUR_COMM_LEN);
	t->comm[CONCUR_COMM_LEN - 1] = '\0';
	t->start_ns = rel(window_start, a->start_ns);
	t->end_ns = rel(window_start, t->exited ? a->end_ns : end_mono);
	memcpy(t->ns, closed.ns, sizeof(t->ns));
	memcpy(t->cnt, closed.cnt, sizeof(t->cnt));
	t->preemptions = a->preemptions;
	t->wakeups = a->wakeups;
	/* Part of cpu, never more: a base read on another CPU's clocks could make it so. */
	t->steal_ns = a->steal_ns < closed.ns[CAT_CPU] ? a->steal_ns : closed.ns[CAT_CPU];
	/* Bounded by the thread's life: the sum of its iterations cannot be longer. */
	t->cpu_stalls = a->cpu_stalls;
	life = t->end_ns > t->start_ns ? t->end_ns - t->start_ns : 0;
	t->cpu_stall_ns = a->cpu_stall_ns < life ? a->cpu_stall_ns : life;
	t->cpu_stall_max_ns = a->cpu_stall_max_ns < t->cpu_stall_ns ? a->cpu_stall_max_ns :
								      t->cpu_stall_ns;
	/* The key is compared whole (padding too) with the map's, which BPF zeroes. */
	memset(open, 0, sizeof(*open));
	open->key.pid = a->pid;
	open->key.tid = a->tid;
	open->key.cat = d.cat;
	open->key.ustack = a->ustack;
	open->key.kstack = a->kstack;
	open->key.gen = a->gen;
	open->key.pystack = a->pystack;
	if (d.cat == CAT_LOCK && a->gil) {
		open->key.gil = a->gil;
		open->key.gil_pystack = a->gil_pystack;
	}
	open->ns = d.cat == CAT_CPU ? 0 : d.ns;
}

/* Keys are at most this long: the longest is struct stack_key's. */
#define MAX_KEY 64
_Static_assert(sizeof(struct stack_key) <= MAX_KEY, "map_walk's key buffer is too short");

/*
 * Calls fn on every entry of a hash map with keys of key_size bytes, the value read into
 * value; entries deleted meanwhile are skipped. Stops at fn's first error.
 */
int map_walk(int fd, size_t key_size, void *value,
	     int (*fn)(const void *key, void *value, void *ctx), void *ctx)
{
	unsigned char key[MAX_KEY], next[MAX_KEY];
	void *prev = NULL;
	int err;

	if (key_size > MAX_KEY)
		return -EINVAL;
	while (!bpf_map_get_next_key(fd, prev, next)) {
		memcpy(key, next, key_size);
		prev = key;
		if (bpf_map_lookup_elem(fd, key, value))
			continue;
		err = fn(key, value, ctx);
		if (err)
			return err;
	}
	return 0;
}

struct thread_ctx {
	struct profile *p;
	uint64_t end_mono;
	GArray *open;
	bool live;
};

static int add_thread(const void *key, void *value, void *ctx)
{
	struct thread_ctx *c = ctx;
	struct thread_acct *a = value;
	struct open_interval open;
	struct thread t;

	(void)key;
	if (c->live)
		settle_unseen_switch_in(a, c->end_mono);
	collect_convert_thread(a, c->p->window_start_ns, c->end_mono, &t, &open);
	c->p->anomalies += a->anomalies;
	if (open.ns)
		g_array_append_val(c->open, open);
	return profile__add_thread(c->p, &t);
}

/* Live processes (keyed by pid) and exited ones (keyed by the order they exited) alike. */
static int add_proc(const void *key, void *value, void *ctx)
{
	const struct proc_info *info = value;
	struct profile *p = ctx;
	struct proc pr = {
		.pid = info->pid,
		.ppid = info->ppid,
		.exited = info->flags & PROC_EXITED,
		.start_ns = info->start_ns ? rel(p->window_start_ns, info->start_ns) : 0,
		.end_ns = info->end_ns ? rel(p->window_start_ns, info->end_ns) : 0,
		.peak_running = info->peak_running,
	};
	int err;

	(void)key;
	memcpy(pr.comm, info->comm, CONCUR_COMM_LEN);
	err = profile__add_proc(p, &pr);
	return err == -EEXIST ? 0 : err;
}

static int add_other(const void *key, void *value, void *ctx)
{
	const struct other_key *k = key;
	const struct interval_sum *v = value;
	int err = profile__add_other(ctx, k->pid, k->nr, v->ns, v->cnt);

	return err == -ENOENT ? 0 : err;
}

int collect_stats(uint64_t out[STAT_MAX], int fd)
{
	int ncpus = libbpf_num_possible_cpus();
	__u64 *vals;
	__u32 i;
	int c;

	if (ncpus < 0)
		return ncpus;
	vals = calloc(ncpus, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (i = 0; i < STAT_MAX; i++) {
		out[i] = 0;
		if (bpf_map_lookup_elem(fd, &i, vals))
			continue;
		for (c = 0; c < ncpus; c++)
			out[i] += vals[c];
	}
	free(vals);
	return 0;
}

int collect_profile(struct profile *p, const struct collect_fds *fds, uint64_t end_mono,
		    struct collect_pending *pending)
{
	struct thread_ctx c = { p, end_mono,
				g_array_new(FALSE, FALSE, sizeof(struct open_interval)), true };
	struct proc_info info;
	struct thread_acct a;
	struct interval_sum v;
	int err;

	p->window_ns = end_mono > p->window_start_ns ? end_mono - p->window_start_ns : 0;
	err = collect_stats(p->stats, fds->stats);
	if (!err)
		err = map_walk(fds->procs, sizeof(__u32), &info, add_proc, p);
	if (!err)
		err = map_walk(fds->dead_procs, sizeof(__u64), &info, add_proc, p);
	if (!err)
		err = map_walk(fds->threads, sizeof(__u32), &a, add_thread, &c);
	c.live = false;
	if (!err)
		err = map_walk(fds->dead_threads, sizeof(__u64), &a, add_thread, &c);
	if (!err)
		err = map_walk(fds->other, sizeof(struct other_key), &v, add_other, p);
	pending->nopen = c.open->len;
	pending->open = (struct open_interval *)g_array_free(c.open, FALSE);
	return err;
}

void collect_pending_free(struct collect_pending *pending)
{
	g_free(pending->open);
	pending->open = NULL;
	pending->nopen = 0;
}

struct futex_ctx {
	struct profile *p;
	struct symbolizer *sym;
};

static int add_futex(const void *key, void *value, void *ctx)
{
	const struct futex_wait_key *k = key;
	const struct interval_sum *v = value;
	struct futex_ctx *c = ctx;
	struct futex_wait fw = {
		.pid = k->pid, .tid = k->tid, .addr = k->addr, .ns = v->ns, .count = v->cnt
	};
	struct sym_result r;

	if (c->sym && !symbolizer__data(c->sym, k->pid, k->addr, &r, &fw.offset)) {
		fw.symbol = profile__intern(c->p, r.name);
		fw.module = profile__intern(c->p, r.module);
		if (!fw.symbol || !fw.module)
			return -ENOMEM;
	}
	return profile__add_futex(c->p, &fw);
}

int collect_futexes(struct profile *p, int fd, struct symbolizer *sym)
{
	struct futex_ctx c = { p, sym };
	struct interval_sum v;

	return map_walk(fd, sizeof(struct futex_wait_key), &v, add_futex, &c);
}

struct snapshot_ctx {
	struct collect_snapshot *snap;
	uint64_t now;
};

static int sum_thread(const void *key, void *value, void *ctx)
{
	struct snapshot_ctx *c = ctx;
	struct thread_acct *a = value;
	int i;

	(void)key;
	acct_finish(a, c->now);
	for (i = 0; i < CAT_MAX; i++) {
		c->snap->ns[i] += a->ns[i];
		c->snap->total += a->ns[i];
	}
	c->snap->threads++;
	/* A process is counted by its main thread: exact for all but exotic exits. */
	c->snap->procs += a->tid == a->pid;
	return 0;
}

void collect_snapshot(const int thread_fds[2], int stats_fd, uint64_t now,
		      struct collect_snapshot *snap)
{
	struct snapshot_ctx c = { snap, now };
	uint64_t stats[STAT_MAX];
	struct thread_acct a;
	int i;

	memset(snap, 0, sizeof(*snap));
	map_walk(thread_fds[0], sizeof(__u32), &a, sum_thread, &c);
	map_walk(thread_fds[1], sizeof(__u64), &a, sum_thread, &c);
	if (collect_stats(stats, stats_fd))
		return;
	for (i = 0; i < STAT_MAX; i++)
		if (stat_kinds[i] == STAT_KIND_EVENT)
			snap->events += stats[i];
}
