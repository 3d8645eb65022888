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

static int collect_threads(struct profile *p, int fd, uint64_t end_mono)
{
	struct thread_acct a;
	__u32 key, next;
	void *prev = NULL;
	int err;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &a))
			continue;	/* deleted meanwhile */
		settle_unseen_switch_in(&a, end_mono);
		err = profile__add_thread(p, &a, end_mono);
		if (err)
			return err;
	}
	return 0;
}

static int collect_dead_threads(struct profile *p, int fd, uint64_t end_mono)
{
	struct thread_acct a;
	__u64 key, next;
	void *prev = NULL;
	int err;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &a))
			continue;
		err = profile__add_thread(p, &a, end_mono);
		if (err)
			return err;
	}
	return 0;
}

/* Live processes (keyed by pid) or exited ones (keyed by the order they exited). */
static int collect_procs(struct profile *p, int fd)
{
	struct proc_info info;
	__u64 key = 0, next = 0;
	void *prev = NULL;
	int err;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &info))
			continue;
		info.comm[CONCUR_COMM_LEN - 1] = '\0';
		err = profile__add_proc_span(p, info.pid, info.ppid, info.comm,
					     info.flags & PROC_EXITED, info.start_ns, info.end_ns);
		if (err && err != -EEXIST)
			return err;
	}
	return 0;
}

static int collect_other(struct profile *p, int fd)
{
	struct other_key key, next;
	struct other_val v;
	void *prev = NULL;
	int err;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &v))
			continue;
		err = profile__add_other(p, key.pid, key.nr, v.ns, v.cnt);
		if (err && err != -ENOENT)
			return err;
	}
	return 0;
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
	int err;

	p->window_ns = end_mono > p->window_start_ns ? end_mono - p->window_start_ns : 0;
	err = collect_stats(p->stats, fds->stats);
	if (!err)
		err = collect_procs(p, fds->procs);
	if (!err)
		err = collect_procs(p, fds->dead_procs);
	if (!err)
		err = collect_threads(p, fds->threads, end_mono);
	if (!err)
		err = collect_dead_threads(p, fds->dead_threads, end_mono);
	if (!err)
		err = collect_other(p, fds->other);
	if (!err)
		profile__finish(p);
	return err;
}
