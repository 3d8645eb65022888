// SPDX-License-Identifier: MIT
/* Kernel maps → profile. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
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

/* Keys are at most this long (struct stack_key). */
#define MAX_KEY 32

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

struct add_ctx {
	struct profile *p;
	uint64_t end_mono;
};

static int add_live_thread(const void *key, void *value, void *ctx)
{
	struct add_ctx *c = ctx;

	(void)key;
	settle_unseen_switch_in(value, c->end_mono);
	return profile__add_thread(c->p, value, c->end_mono);
}

static int add_dead_thread(const void *key, void *value, void *ctx)
{
	struct add_ctx *c = ctx;

	(void)key;
	return profile__add_thread(c->p, value, c->end_mono);
}

/* Live processes (keyed by pid) and exited ones (keyed by the order they exited) alike. */
static int add_proc(const void *key, void *value, void *ctx)
{
	struct proc_info *info = value;
	struct profile *p = ctx;
	int err;

	(void)key;
	info->comm[CONCUR_COMM_LEN - 1] = '\0';
	err = profile__add_proc_span(p, info->pid, info->ppid, info->comm,
				     info->flags & PROC_EXITED, info->start_ns, info->end_ns);
	if (!err)
		p->procs[p->nprocs - 1].peak_running = info->peak_running;
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

int collect_profile(struct profile *p, const struct collect_fds *fds, uint64_t end_mono)
{
	struct add_ctx c = { p, end_mono };
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
		err = map_walk(fds->threads, sizeof(__u32), &a, add_live_thread, &c);
	if (!err)
		err = map_walk(fds->dead_threads, sizeof(__u64), &a, add_dead_thread, &c);
	if (!err)
		err = map_walk(fds->other, sizeof(struct other_key), &v, add_other, p);
	if (!err)
		profile__finish(p);
	return err;
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
	struct futex_wait fw = { .pid = k->pid, .tid = k->tid, .addr = k->addr, .ns = v->ns,
				 .count = v->cnt };
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
	int err = map_walk(fd, sizeof(struct futex_wait_key), &v, add_futex, &c);

	if (!err)
		profile__sort_futexes(p);
	return err;
}
