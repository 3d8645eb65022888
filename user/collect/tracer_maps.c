// SPDX-License-Identifier: MIT
/*
 * The session's memory maps: requests from the probes (a process seen, the loader done), read
 * at once and again at growing intervals; each read writes the process's unwind index and
 * snapshots its symbols, withdrawn when an exec began meanwhile.
 */
#include <errno.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <glib.h>
#include "account.h"
#include "concur.skel.h"
#include "log.h"
#include "profile/profile.h"
#include "profile/symbolize.h"
#include "py_collect.h"
#include "session.h"

int session__on_maps_event(void *ctx, void *data, size_t size)
{
	struct session *s = ctx;
	const struct maps_event *e = data;

	if (size >= sizeof(*e))
		mapwatch_add(&s->maps_due, e->pid, now_ns());
	return 0;
}

/* A Python frame list seen for the first time: its code objects are read while they live. */
int session__on_py_event(void *ctx, void *data, size_t size)
{
	struct session *s = ctx;
	const struct py_event *e = data;

	if (size >= sizeof(*e))
		pyframes__resolve(s->py, e->pid, e->pystack);
	return 0;
}

/* The image generation the probes last saw pid begin (struct proc_info); -ENOENT: not followed. */
static int proc_gen(uint32_t pid, void *ctx)
{
	struct session *s = ctx;
	struct proc_info info;

	if (bpf_map_lookup_elem(bpf_map__fd(s->skel->maps.procs), &pid, &info))
		return -ENOENT;
	return (int)(info.gen & INT32_MAX);
}

/*
 * pid's unwind index from its map read now; withdrawn if an exec began meanwhile (it would walk
 * the new image with the old tables). after: what else the caller reads of the process in the
 * same span (the symbolizer's snapshot), or NULL.
 */
static int sync_unwind(struct session *s, uint32_t pid,
		       int (*after)(struct session *s, uint32_t pid))
{
	int gen = proc_gen(pid, s), err = 0;

	if (s->unwind && !s->tables_done) {
		err = unwind_loader__sync(s->unwind, pid);
		if (!err && !s->first_index_ns)
			s->first_index_ns = now_ns();
		if (!err)
			pr_debug("unwind index of process %u written %.1f ms after start", pid,
				 (now_ns() - s->started_ns) / 1e6);
	}
	err = after ? after(s, pid) : 0;
	if (s->unwind && !s->tables_done && proc_gen(pid, s) != gen)
		unwind_loader__forget(s->unwind, pid);
	return err;
}

static int snapshot_symbols(struct session *s, uint32_t pid)
{
	return symbolizer__snapshot(s->sym, pid, proc_gen, s);
}

/* Tables built in the background that pid's index waited for: the index is written now. */
static void unwind_ready(uint32_t pid, void *ctx)
{
	sync_unwind(ctx, pid, NULL);
}

/*
 * A process seen running again: its maps, the cgroup it may have moved into since, and
 * whether it runs a CPython whose frames the probes can read. An exec that begins meanwhile
 * asks for its own read: what was read for the old image is dropped (the symbolizer's) or
 * withdrawn (the unwinder's index, which would walk the new image with the old tables).
 */
int session__read_maps(uint32_t pid, void *ctx)
{
	struct session *s = ctx;
	int err;

	pr_debug("reading the memory map of process %u", pid);
	cgroup_watch_note(&s->cgroups, pid);
	err = sync_unwind(s, pid, snapshot_symbols);
	if (err == -EAGAIN)
		return 0;
	if (!err && s->py)
		pyframes__note_proc(s->py, s->sym, pid);
	return err;
}

/* Serves memory-map requests and tables built in the background; returns when the next read
 * or check is due (0: none). */
uint64_t session__serve_maps(struct session *s)
{
	uint64_t tables = s->unwind ? unwind_loader__serve(s->unwind, now_ns(), unwind_ready, s) :
				      0,
		 maps;

	if (!s->maps_rb)
		return tables;
	ring_buffer__consume(s->maps_rb);
	maps = mapwatch_run(&s->maps_due, now_ns(), session__read_maps, s);
	return maps && (!tables || maps < tables) ? maps : tables;
}

/*
 * By pid, 1 + the latest start of a thread that waited for a lock (0: none did): a live
 * process, the latest instance of its pid, has lock waits to name when that start is at or
 * after its own.
 */
static GHashTable *lock_waiters(const struct profile *p)
{
	GHashTable *latest = g_hash_table_new(NULL, NULL);
	size_t i;

	for (i = 0; i < p->nthreads; i++) {
		const struct thread *t = &p->threads[i];
		gpointer key = GUINT_TO_POINTER(t->pid);

		if (t->ns[CAT_LOCK] &&
		    t->start_ns + 1 > GPOINTER_TO_SIZE(g_hash_table_lookup(latest, key)))
			g_hash_table_insert(latest, key, GSIZE_TO_POINTER(t->start_ns + 1));
	}
	return latest;
}

/*
 * Memory maps: the requests still queued, then a fresh read of every live process that has
 * stacks or lock waits to name (libraries loaded since its first sample). The exited keep
 * the map read while they lived.
 */
void session__refresh_maps(struct session *s, const struct profile *p)
{
	GHashTable *waiters = s->o->stacks ? NULL : lock_waiters(p);
	size_t i;

	session__serve_maps(s);
	for (i = 0; i < p->nprocs; i++) {
		const struct proc *pr = &p->procs[i];
		gpointer latest;

		if (pr->exited)
			continue;
		latest = waiters ? g_hash_table_lookup(waiters, GUINT_TO_POINTER(pr->pid)) : NULL;
		if (s->o->stacks || GPOINTER_TO_SIZE(latest) > pr->start_ns)
			symbolizer__snapshot(s->sym, pr->pid, proc_gen, s);
	}
	if (waiters)
		g_hash_table_destroy(waiters);
}

static int note_fork(const void *key, void *value, void *ctx)
{
	const struct proc_info *info = value;

	(void)key;
	/* Forked in the window: its first image is its parent's until it execs. */
	if (info->start_ns && info->ppid)
		symbolizer__inherit(ctx, info->pid, info->ppid, info->parent_gen);
	return 0;
}

/* Tells the symbolizer which image each process forked in the window copied. */
void session__note_forks(struct session *s)
{
	struct proc_info info;

	map_walk(bpf_map__fd(s->skel->maps.procs), sizeof(__u32), &info, note_fork, s->sym);
	map_walk(bpf_map__fd(s->skel->maps.dead_procs), sizeof(__u64), &info, note_fork, s->sym);
}
