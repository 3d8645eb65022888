// SPDX-License-Identifier: MIT
/* Stack weights and stack traces in kernel maps → symbolized stacks in the profile. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <glib.h>
#include "collect.h"
#include "unwind.h"
#include "py_collect.h"
#include "profile/py_merge.h"
#include "profile/stack_marks.h"
#include "profile/symbolize.h"

struct weight {
	struct stack_key key;
	struct interval_sum val;
};

static void add_weight(GArray *ws, const struct stack_key *k, __u64 ns, __u64 cnt)
{
	struct weight w = { *k, { ns, cnt } };

	g_array_append_val(ws, w);
}

static int cmp_weight(const void *a, const void *b)
{
	return memcmp(&((const struct weight *)a)->key, &((const struct weight *)b)->key,
		      sizeof(struct stack_key));
}

/* Sums entries with equal keys: the map's, and the window-end intervals added to them. */
static void merge_weights(GArray *ws)
{
	struct weight *w = (struct weight *)ws->data;
	size_t i, out = 0;

	if (!ws->len)
		return;
	qsort(w, ws->len, sizeof(*w), cmp_weight);
	for (i = 0; i < ws->len; i++) {
		if (out && !cmp_weight(&w[out - 1], &w[i])) {
			w[out - 1].val.ns += w[i].val.ns;
			w[out - 1].val.cnt += w[i].val.cnt;
		} else {
			w[out++] = w[i];
		}
	}
	g_array_set_size(ws, out);
}

static int add_map_weight(const void *key, void *value, void *ctx)
{
	const struct interval_sum *v = value;

	add_weight(ctx, key, v->ns, v->cnt);
	return 0;
}

static int read_weights(int fd, GArray *ws)
{
	struct interval_sum v;

	return map_walk(fd, sizeof(struct stack_key), &v, add_map_weight, ws);
}

/* A thread still off-CPU when the window closed: its last interval goes to its stack too. */
static void add_open_intervals(const struct collect_pending *pending, GArray *ws)
{
	size_t i;

	for (i = 0; i < pending->nopen; i++)
		add_weight(ws, &pending->open[i].key, pending->open[i].ns, 1);
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

_Static_assert(UNWIND_MAX_FRAMES == CONCUR_STACK_DEPTH, "one depth for both unwinders");
_Static_assert(CONCUR_MAX_STACKS <= UNWIND_USTACK_ID, "stack ids and CFI stack ids meet");

/* The CFI unwinder's stacks (ustacks), by id. */
static int add_ustack(const void *key, void *value, void *ctx)
{
	const struct unwind_ustack *u = value;

	(void)key;
	if (u->n <= UNWIND_MAX_FRAMES && u->id < UNWIND_USTACK_ID)
		g_hash_table_insert(ctx, GUINT_TO_POINTER(u->id), g_memdup2(u, sizeof(*u)));
	return 0;
}

/* NULL when the CFI unwinder was off (fd -1). */
static GHashTable *read_ustacks(int fd)
{
	GHashTable *t;
	struct unwind_ustack u;

	if (fd < 0)
		return NULL;
	t = g_hash_table_new_full(NULL, NULL, NULL, g_free);
	map_walk(fd, sizeof(__u64), &u, add_ustack, t);
	return t;
}

/* Reads one stack trace, leaf first; returns the number of frames. CFI-walked user stacks
 * come from cfi (read_ustacks), the others from the kernel's stack-trace map. */
static int read_trace(int fd, GHashTable *cfi, __s32 id, uint64_t ips[CONCUR_STACK_DEPTH])
{
	const struct unwind_ustack *u;
	int n = 0;

	if (id >= UNWIND_USTACK_ID) {
		u = cfi ? g_hash_table_lookup(cfi, GUINT_TO_POINTER(id & ~UNWIND_USTACK_ID)) : NULL;
		if (!u)
			return 0;
		memcpy(ips, u->pc, u->n * sizeof(*ips));
		return (int)u->n;
	}
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
	f->file = NULL;
	f->line = 0;
	f->kernel = kernel;
}

struct code_check {
	struct symbolizer *sym;
	uint32_t pid, gen;
};

static bool code_at(uint64_t ip, void *ctx)
{
	const struct code_check *c = ctx;

	return symbolizer__code_at(c->sym, c->pid, c->gen, ip) > 0;
}

/*
 * How many user frames to keep, leaf side, and the mark for the root. Without the map of the
 * process's image (it was never read) nothing can be checked: all are kept.
 */
static int check_user(struct symbolizer *sym, const struct stack_key *k, const uint64_t *uips,
		      int nu, enum stack_mark *mark)
{
	struct code_check c = { sym, k->pid, k->gen };

	*mark = MARK_NONE;
	if (nu > 1 && symbolizer__code_at(sym, k->pid, k->gen, uips[0]) == -ENOENT)
		return nu;
	return (int)stack_check_user(uips, nu, CONCUR_STACK_DEPTH, code_at, &c, mark);
}

/* The user part of a stack, leaf first: a native frame (its ip) or a Python one (its code
 * object's address, its source file and line). */
struct user_frame {
	uint64_t ip;
	struct sym_result r;
	const char *file;
	uint32_t line;
	bool python; /* a Python frame (file NULL when unnamed) */
};

/*
 * The user frames, leaf first, into uf (room for CONCUR_STACK_DEPTH + CONCUR_PY_MAX_FRAMES):
 * native frames named, then the thread's Python frames merged in (py_merge.h). *mark may be
 * changed: Python frames put at the root stand for the root the native walk did not reach.
 * Return addresses point after the call: callers are looked up at ip - 1 so that a call
 * ending a function is not credited to the next one; not the CFI walk's exact pcs (exact[k]:
 * the leaf, an interrupted instruction, a signal trampoline; UNWIND_PC_EXACT).
 */
static int user_frames(struct symbolizer *sym, struct pyframes *py, const struct weight *w,
		       const uint64_t *uips, const bool *exact, int nu, struct user_frame *uf,
		       enum stack_mark *mark)
{
	static struct pyframe_name pyf[CONCUR_PY_MAX_FRAMES];
	static struct py_native nat[CONCUR_STACK_DEPTH];
	static int32_t order[CONCUR_STACK_DEPTH + CONCUR_PY_MAX_FRAMES];
	static bool entry[CONCUR_PY_MAX_FRAMES];
	size_t np = 0, n, i;
	bool truncated = false;
	int k;

	for (k = 0; k < nu; k++) {
		symbolizer__user(sym, w->key.pid, w->key.gen, uips[k] - (k > 0 && !exact[k]),
				 &uf[k].r);
		uf[k].ip = uips[k];
		uf[k].file = NULL;
		uf[k].line = 0;
		uf[k].python = false;
	}
	if (py)
		np = pyframes__frames(py, w->key.pid, w->key.pystack, pyf, &truncated);
	if (!np)
		return nu;
	for (k = 0; k < nu; k++)
		nat[k] = (struct py_native){ uf[k].r.name, uf[k].r.module, false };
	for (i = 0; i < np; i++)
		entry[i] = pyf[i].entry;
	switch (py_merge(nat, nu, *mark != MARK_NONE, entry, np, order, &n)) {
	case PY_MERGE_ROOTED:
		pyframes__counts(py)->rooted++;
		*mark = MARK_NONE;
		break;
	case PY_MERGE_MISMATCH:
		pyframes__counts(py)->mismatched++;
		*mark = MARK_NONE;
		break;
	default:
		pyframes__counts(py)->spliced++;
	}
	if (truncated)
		*mark = MARK_TRUNCATED;
	{
		static struct user_frame merged[CONCUR_STACK_DEPTH + CONCUR_PY_MAX_FRAMES];

		for (i = 0; i < n; i++) {
			if (order[i] >= 0) {
				merged[i] = uf[order[i]];
			} else {
				const struct pyframe_name *f = &pyf[-1 - order[i]];

				merged[i] = (struct user_frame){
					f->code, { f->name, f->module }, f->file, f->line, true
				};
			}
		}
		memcpy(uf, merged, n * sizeof(*uf));
	}
	return (int)n;
}

/*
 * A GIL wait (the key's gil): its "[GIL] take_gil" frame into the user frames (py_gil_slot),
 * and the holder into st. Returns the new number of user frames.
 */
static int mark_gil(struct profile *p, struct pyframes *py, const struct weight *w,
		    struct user_frame *uf, int nu, struct stack *st)
{
	static struct py_native nat[CONCUR_STACK_DEPTH + CONCUR_PY_MAX_FRAMES];
	static struct pyframe_name holder[CONCUR_PY_MAX_FRAMES];
	bool switching = w->key.gil & PY_GIL_SWITCH, truncated;
	const char *name = switching ? PY_GIL_DROP_FRAME : PY_GIL_TAKE_FRAME;
	size_t at, drop;
	int k;

	if (!(w->key.gil & PY_GIL_WAIT) || w->key.cat != CAT_LOCK)
		return nu;
	st->gil = switching ? STACK_GIL_DROP : STACK_GIL_TAKE;
	st->gil_holder = w->key.gil & PY_GIL_TID;
	if (st->gil_holder && py &&
	    pyframes__frames(py, w->key.pid, w->key.gil_pystack, holder, &truncated))
		st->gil_holder_frame = profile__intern(p, holder[0].name);
	for (k = 0; k < nu; k++)
		nat[k] = (struct py_native){ uf[k].r.name, uf[k].r.module, uf[k].python };
	at = py_gil_slot(nat, nu, name + strlen("[GIL] "), &drop);
	if (drop < (size_t)nu) {
		/* The interpreter's own take_gil frame: the mark stands for it. */
		memmove(&uf[drop], &uf[drop + 1], (nu - drop - 1) * sizeof(*uf));
		nu--;
		at -= at > drop;
	}
	memmove(&uf[at + 1], &uf[at], (nu - at) * sizeof(*uf));
	uf[at] = (struct user_frame){ 0, { name, MARK_MODULE }, NULL, 0, false };
	nu++;
	return nu;
}

/*
 * Frames root first: a marker when the user stack was cut, the user frames (Python's merged
 * in), then the kernel's. Return addresses point after the call: callers are looked up at
 * ip - 1 so that a call ending a function is not credited to the next one.
 */
static int build_stack(struct profile *p, struct symbolizer *sym, struct pyframes *py,
		       int stacks_fd, GHashTable *cfi, const struct weight *w, struct stack *st)
{
	/* With the CFI unwinder on, a user stack of the kernel's map was taken without an index;
	 * one of the unwinder's, through code its index lacks (UNWIND_PC_NO_TABLE). */
	bool no_index = cfi && w->key.ustack >= 0 && w->key.ustack < (__s32)UNWIND_USTACK_ID;
	static uint64_t uips[CONCUR_STACK_DEPTH], kips[CONCUR_STACK_DEPTH];
	static struct user_frame uf[CONCUR_STACK_DEPTH + CONCUR_PY_MAX_FRAMES + 1];
	static bool exact[CONCUR_STACK_DEPTH];
	int nu = read_trace(stacks_fd, cfi, w->key.ustack, uips);
	int nk = read_trace(stacks_fd, cfi, w->key.kstack, kips);
	struct sym_result r = { "[no stack]", "[unknown]" };
	int i, j = 0, n, skip = 0;
	enum stack_mark mark;

	/* Stacks taken in the switch probe start inside it: the target's begin at schedule(). */
	while (skip < nk) {
		symbolizer__kernel(sym, kips[skip] - (skip > 0), &r);
		if (!is_probe_frame(r.name))
			break;
		skip++;
	}
	for (i = 0; i < nu; i++) {
		exact[i] = uips[i] & UNWIND_PC_EXACT;
		if (uips[i] & UNWIND_PC_NO_TABLE) {
			no_index = true;
			nu = i + 1; /* its callers came by frame pointers through it */
		}
		uips[i] &= ~(UNWIND_PC_EXACT | UNWIND_PC_NO_TABLE);
	}
	nu = check_user(sym, &w->key, uips, nu, &mark);
	if (no_index && nu && mark == MARK_NONE)
		mark = MARK_NO_TABLE;
	nu = user_frames(sym, py, w, uips, exact, nu, uf, &mark);
	*st = (struct stack){ .pid = w->key.pid,
			      .tid = w->key.tid,
			      .cat = w->key.cat,
			      .ns = w->val.ns,
			      .count = w->val.cnt };
	nu = mark_gil(p, py, w, uf, nu, st);
	n = nu + nk - skip + (mark != MARK_NONE);

	st->frames = calloc(n ? n : 1, sizeof(*st->frames));
	if (!st->frames)
		return -ENOMEM;
	if (mark != MARK_NONE) {
		r = (struct sym_result){ stack_mark_name(mark), MARK_MODULE };
		set_frame(p, &st->frames[j++], 0, &r, false);
	}
	for (i = nu - 1; i >= 0; i--, j++) {
		set_frame(p, &st->frames[j], uf[i].ip, &uf[i].r, false);
		if (uf[i].file) {
			st->frames[j].file = profile__intern(p, uf[i].file);
			st->frames[j].line = uf[i].line;
		}
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
		   struct pyframes *py, const struct collect_pending *pending)
{
	GArray *ws = g_array_new(FALSE, FALSE, sizeof(struct weight));
	GHashTable *cfi = read_ustacks(fds->ustacks);
	struct stack st;
	size_t i;
	int err;

	err = read_weights(fds->stack_weights, ws);
	add_open_intervals(pending, ws);
	merge_weights(ws);
	for (i = 0; !err && i < ws->len; i++) {
		err = build_stack(p, sym, py, fds->stacks, cfi,
				  &g_array_index(ws, struct weight, i), &st);
		if (!err)
			err = profile__add_stack(p, &st);
		if (err)
			free(st.frames);
	}
	g_array_free(ws, TRUE);
	if (cfi)
		g_hash_table_destroy(cfi);
	return err;
}
