// SPDX-License-Identifier: MIT
/*
 * Throttling over the window. The counters of cpu.stat are cumulative since the cgroup was
 * made (Documentation/scheduler/sched-bwc.rst, "Statistics"), so the window's share is their
 * difference; they are per cgroup, not per process, and a process is charged with its
 * cgroup's. A cgroup first seen after the window started is measured from then: the time it
 * was throttled before that is not counted.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cgroup_watch.h"

struct throttle_level {
	size_t len; /* the level's directory: the node's dir cut to len */
	bool have;
	struct cg_throttle start;
};

/* What a process was last seen with. */
struct seen {
	struct throttle_node *node;
	uint32_t cpus;
};

struct throttle_node {
	char *dir;
	int nlevels;
	struct throttle_level level[CGROUP_LEVELS];
};

/* Reads the counters of every level of dir, leaf first, up to its mount point (top). */
static struct throttle_node *node_new(const char *dir, size_t top)
{
	struct throttle_node *n = g_new0(struct throttle_node, 1);
	char *path = g_strdup(dir), *slash;
	size_t len = strlen(dir);

	n->dir = g_strdup(dir);
	while (n->nlevels < CGROUP_LEVELS) {
		struct throttle_level *l = &n->level[n->nlevels++];

		l->len = len;
		l->have = !resources_read_throttle(path, &l->start);
		slash = strrchr(path, '/');
		if (len <= top || !slash || (size_t)(slash - path) < top)
			break;
		*slash = '\0';
		len = (size_t)(slash - path);
	}
	g_free(path);
	return n;
}

static void node_free(gpointer data)
{
	struct throttle_node *n = data;

	g_free(n->dir);
	g_free(n);
}

void cgroup_watch_note(struct cgroup_watch *w, uint32_t pid)
{
	char dir[PATH_MAX];
	struct seen *seen;
	size_t top;
	bool v2;

	if (!w->nodes) {
		w->nodes = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, node_free);
		w->procs = g_hash_table_new_full(NULL, NULL, NULL, g_free);
	}
	seen = g_hash_table_lookup(w->procs, GUINT_TO_POINTER(pid));
	if (!seen) {
		seen = g_new0(struct seen, 1);
		g_hash_table_insert(w->procs, GUINT_TO_POINTER(pid), seen);
	}
	seen->cpus = resources_cpus(pid) ?: seen->cpus;
	if (resources_cgroup_dir(pid, "cpu", dir, sizeof(dir), &top, &v2))
		return;
	seen->node = g_hash_table_lookup(w->nodes, dir);
	if (!seen->node) {
		seen->node = node_new(dir, top);
		g_hash_table_insert(w->nodes, seen->node->dir, seen->node);
	}
}

uint32_t cgroup_watch_cpus(const struct cgroup_watch *w, uint32_t pid)
{
	const struct seen *seen = w->procs ? g_hash_table_lookup(w->procs, GUINT_TO_POINTER(pid)) :
					     NULL;

	return seen ? seen->cpus : 0;
}

int cgroup_watch_end(const struct cgroup_watch *w, uint32_t pid, struct cg_throttle *t, char *dir,
		     size_t size)
{
	const struct seen *seen = w->procs ? g_hash_table_lookup(w->procs, GUINT_TO_POINTER(pid)) :
					     NULL;
	const struct throttle_node *n = seen ? seen->node : NULL;
	struct cg_throttle now;
	char *path;
	int i, best = -1;

	*t = (struct cg_throttle){};
	dir[0] = '\0';
	if (!n)
		return -ENOENT;
	path = g_strdup(n->dir);
	for (i = 0; i < n->nlevels; i++) {
		const struct throttle_level *l = &n->level[i];

		path[l->len] = '\0';
		/* Lower than at the start: the cgroup was made anew under the same name. */
		if (!l->have || resources_read_throttle(path, &now) ||
		    now.throttled_ns < l->start.throttled_ns ||
		    now.nr_throttled < l->start.nr_throttled)
			continue;
		if (best < 0 || now.throttled_ns - l->start.throttled_ns > t->throttled_ns) {
			t->throttled_ns = now.throttled_ns - l->start.throttled_ns;
			t->nr_throttled = now.nr_throttled - l->start.nr_throttled;
			best = i;
		}
	}
	if (best >= 0)
		snprintf(dir, size, "%.*s", (int)n->level[best].len, n->dir);
	g_free(path);
	return best >= 0 ? 0 : -ENOENT;
}

void cgroup_watch_free(struct cgroup_watch *w)
{
	if (w->procs)
		g_hash_table_destroy(w->procs);
	if (w->nodes)
		g_hash_table_destroy(w->nodes);
	*w = (struct cgroup_watch){};
}
