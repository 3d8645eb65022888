// SPDX-License-Identifier: MIT
/* Stack weights and stack traces in kernel maps → symbolized stacks in the profile. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "collect.h"
#include "profile/symbolize.h"

struct weight {
	struct stack_key key;
	struct interval_sum val;
};

struct weights {
	struct weight *w;
	size_t n, cap;
};

static int add_weight(struct weights *ws, const struct stack_key *k, __u64 ns, __u64 cnt)
{
	struct weight *tmp;

	if (ws->n == ws->cap) {
		ws->cap = ws->cap ? ws->cap * 2 : 1024;
		tmp = realloc(ws->w, ws->cap * sizeof(*tmp));
		if (!tmp)
			return -ENOMEM;
		ws->w = tmp;
	}
	ws->w[ws->n++] = (struct weight){ *k, { ns, cnt } };
	return 0;
}

static int cmp_weight(const void *a, const void *b)
{
	return memcmp(&((const struct weight *)a)->key, &((const struct weight *)b)->key,
		      sizeof(struct stack_key));
}

/* Sums entries with equal keys: the map's, and the window-end intervals added to them. */
static void merge_weights(struct weights *ws)
{
	size_t i, out = 0;

	if (!ws->n)
		return;
	qsort(ws->w, ws->n, sizeof(*ws->w), cmp_weight);
	for (i = 0; i < ws->n; i++) {
		if (out && !cmp_weight(&ws->w[out - 1], &ws->w[i])) {
			ws->w[out - 1].val.ns += ws->w[i].val.ns;
			ws->w[out - 1].val.cnt += ws->w[i].val.cnt;
		} else {
			ws->w[out++] = ws->w[i];
		}
	}
	ws->n = out;
}

static int add_map_weight(const void *key, void *value, void *ctx)
{
	const struct interval_sum *v = value;

	return add_weight(ctx, key, v->ns, v->cnt);
}

static int read_weights(int fd, struct weights *ws)
{
	struct interval_sum v;

	return map_walk(fd, sizeof(struct stack_key), &v, add_map_weight, ws);
}

/* A thread still off-CPU when the window closed: its last interval goes to its stack too. */
static int add_open_intervals(const struct collect_pending *pending, struct weights *ws)
{
	size_t i;
	int err;

	for (i = 0; i < pending->nopen; i++) {
		err = add_weight(ws, &pending->open[i].key, pending->open[i].ns, 1);
		if (err)
			return err;
	}
	return 0;
}

/* Frames of concur's own probe (the tracepoint's BPF trampoline), not of the target. */
static bool is_probe_frame(const char *name)
{
	static const char *const prefixes[] = { "bpf_prog_", "bpf_trace_run", "__traceiter_",
						"__bpf_trace_" };
	size_t i;

	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(name, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

/* Reads one stack trace, leaf first; returns the number of frames. */
static int read_trace(int fd, __s32 id, __u64 ips[CONCUR_STACK_DEPTH])
{
	int n = 0;

	if (id < 0 || bpf_map_lookup_elem(fd, &id, ips))
		return 0;
	while (n < CONCUR_STACK_DEPTH && ips[n])
		n++;
	return n;
}

static void set_frame(struct profile *p, struct frame *f, uint64_t ip, const struct sym_result *r,
		      bool kernel)
{
	f->ip = ip;
	f->name = profile__intern(p, r->name);
	f->module = profile__intern(p, r->module);
	f->kernel = kernel;
}

/*
 * Frames root first. Return addresses point after the call: callers are looked up at
 * ip - 1 so that a call ending a function is not credited to the next one.
 */
static int build_stack(struct profile *p, struct symbolizer *sym, int stacks_fd,
		       const struct weight *w, struct stack *st)
{
	static __u64 uips[CONCUR_STACK_DEPTH], kips[CONCUR_STACK_DEPTH];
	int nu = read_trace(stacks_fd, w->key.ustack, uips);
	int nk = read_trace(stacks_fd, w->key.kstack, kips);
	struct sym_result r = { "[no stack]", "[unknown]" };
	int i, j = 0, n, skip = 0;

	/* Stacks taken in the switch probe start inside it: the target's begin at schedule(). */
	while (skip < nk) {
		symbolizer__kernel(sym, kips[skip] - (skip > 0), &r);
		if (!is_probe_frame(r.name))
			break;
		skip++;
	}
	n = nu + nk - skip;

	*st = (struct stack){ .pid = w->key.pid, .tid = w->key.tid, .cat = w->key.cat,
			      .ns = w->val.ns, .count = w->val.cnt };
	st->frames = calloc(n ? n : 1, sizeof(*st->frames));
	if (!st->frames)
		return -ENOMEM;
	for (i = nu - 1; i >= 0; i--, j++) {
		symbolizer__user(sym, st->pid, uips[i] - (i > 0), &r);
		set_frame(p, &st->frames[j], uips[i], &r, false);
	}
	for (i = nk - 1; i >= skip; i--, j++) {
		symbolizer__kernel(sym, kips[i] - (i > skip), &r);
		set_frame(p, &st->frames[j], kips[i], &r, true);
	}
	if (!n) {
		r = (struct sym_result){ "[no stack]", "[unknown]" };
		set_frame(p, &st->frames[j++], 0, &r, false);
	}
	st->nframes = j;
	if (!st->frames[0].name || !st->frames[0].module)
		return -ENOMEM;
	return 0;
}

int collect_stacks(struct profile *p, const struct collect_fds *fds, struct symbolizer *sym,
		   const struct collect_pending *pending)
{
	struct weights ws = {};
	struct stack st;
	size_t i;
	int err;

	err = read_weights(fds->stack_weights, &ws);
	if (!err)
		err = add_open_intervals(pending, &ws);
	if (!err)
		merge_weights(&ws);
	for (i = 0; !err && i < ws.n; i++) {
		err = build_stack(p, sym, fds->stacks, &ws.w[i], &st);
		if (!err)
			err = profile__add_stack(p, &st);
		if (err)
			free(st.frames);
	}
	free(ws.w);
	return err;
}
