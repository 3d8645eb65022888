// SPDX-License-Identifier: MIT
/*
 * The HTML report: one self-contained file. The page, its style and its script live in
 * user/render/html_page/ and are compiled in (build/html_page.h); this file writes the page with
 * the style and script inline and the profile as JSON in <script type="application/json">.
 *
 * Names from the target reach the page only inside that JSON, with every '<', '>' and '&'
 * escaped, so no "</script" or "<!--" can end or bend the data block; the script shows them
 * only through textContent and canvas text.
 *
 * For 100 000 stacks the data is compact: frames are indices into a table of functions
 * ("funcs": name, module, kernel as a flat array), sorted by name, and the stacks are one
 * flat array of integers, sorted by category then by their frames' function order, so the
 * script merges them into a tree in one pass, in depth-first order, without a hash map.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include "advise/advise.h"
#include "json.h"
#include "out_html.h"
#include "html_page.h"
#include "profile/gil_waits.h"
#include "syscalls.h"

#define DATA_VERSION 1
/* Processes with an advice block on the page (the heaviest by thread-time); the JSON summary
 * has them all. */
#define ADVICE_PROCS 20
/* GIL-wait rows on the page (most time first) and holders per row: the JSON summary has them
 * all; beyond these the page says how many were left out. */
#define GIL_ROWS_PAGE	 100
#define GIL_HOLDERS_PAGE 5

/* A function, as the flame graph merges frames: same name, module and side. */
struct func {
	const char *name;
	const char *module; /* NULL in a table of plain strings */
	bool kernel;
	uint32_t rank; /* place in (name, module, kernel) order, shared by equals */
};

/* Indexes of functions as last found, by their hash, in front of the hash table: a page of
 * 100 000 stacks adds 3 million frames of a few thousand functions, and the table's lookups
 * (a call to hash, one to compare) were a tenth of the page's time. */
#define FUNC_CACHE 8192 /* a power of 2 */
struct func_seen {
	const char *name, *module;
	bool kernel;
	uint32_t idx; /* index + 1; 0: empty */
};

/* A set of functions (or strings), by pointer: the profile interns its strings. */
struct funcset {
	GArray *v;		/* struct func, in the order they came: a function's index */
	GHashTable *index;	/* struct func key (in a copy of its own) → index + 1 */
	struct func_seen *seen; /* FUNC_CACHE entries */
};

static guint func_hash(gconstpointer key)
{
	const struct func *f = key;

	return g_direct_hash(f->name) ^ g_direct_hash(f->module) * 31 ^ f->kernel;
}

static gboolean func_equal(gconstpointer a, gconstpointer b)
{
	const struct func *x = a, *y = b;

	return x->name == y->name && x->module == y->module && x->kernel == y->kernel;
}

static void funcset_init(struct funcset *s)
{
	s->v = g_array_new(FALSE, FALSE, sizeof(struct func));
	s->index = g_hash_table_new_full(func_hash, func_equal, g_free, NULL);
	s->seen = g_new0(struct func_seen, FUNC_CACHE);
}

static void funcset_free(struct funcset *s)
{
	if (s->v)
		g_array_free(s->v, TRUE);
	if (s->index)
		g_hash_table_destroy(s->index);
	g_free(s->seen);
}

static struct func *funcset_at(const struct funcset *s, size_t i)
{
	return &g_array_index(s->v, struct func, i);
}

/* The index of the function, added when new; index + 1. */
static uint32_t funcset_find(struct funcset *s, const struct func *f)
{
	gpointer idx = g_hash_table_lookup(s->index, f);

	if (idx)
		return GPOINTER_TO_UINT(idx);
	g_array_append_val(s->v, *f);
	/* The key is a copy: the array's elements move as it grows. */
	g_hash_table_insert(s->index, g_memdup2(f, sizeof(*f)), GUINT_TO_POINTER(s->v->len));
	return s->v->len;
}

/* The index of the function, added when new. */
static uint32_t funcset_add(struct funcset *s, const char *name, const char *module, bool kernel)
{
	struct func f = { .name = name, .module = module, .kernel = kernel };
	uint64_t h = ((uintptr_t)name ^ (uintptr_t)module * 31 ^ kernel) * 0x9e3779b97f4a7c15ull;
	struct func_seen *seen = &s->seen[h >> 32 & (FUNC_CACHE - 1)];

	if (!seen->idx || seen->name != name || seen->module != module || seen->kernel != kernel)
		*seen = (struct func_seen){
			.name = name, .module = module, .kernel = kernel, .idx = funcset_find(s, &f)
		};
	return seen->idx - 1;
}

static int strcmp_null(const char *a, const char *b)
{
	return a == b ? 0 : !a ? -1 : !b ? 1 : strcmp(a, b);
}

static int func_cmp(const struct func *a, const struct func *b)
{
	int d = strcmp_null(a->name, b->name);

	if (!d)
		d = strcmp_null(a->module, b->module);
	return d ? d : (int)a->kernel - (int)b->kernel;
}

static int by_func(const void *a, const void *b, void *arg)
{
	const struct func *v = arg;

	return func_cmp(&v[*(const uint32_t *)a], &v[*(const uint32_t *)b]);
}

/* Gives every function its rank; returns how many distinct ones there are, or -ENOMEM. */
static long funcset_rank(struct funcset *s)
{
	size_t n = s->v->len, i;
	uint32_t *order = malloc((n + 1) * sizeof(*order));
	uint32_t rank = 0;

	if (!order)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		order[i] = i;
	qsort_r(order, n, sizeof(*order), by_func, s->v->data);
	for (i = 0; i < n; i++) {
		if (i && func_cmp(funcset_at(s, order[i - 1]), funcset_at(s, order[i])))
			rank++;
		funcset_at(s, order[i])->rank = rank;
	}
	free(order);
	return n ? rank + 1 : 0;
}

/* Every stack's frames as function ranks, in one array; stack i's start at off[i]. */
struct ranked {
	const struct profile *p;
	uint32_t *rank;
	size_t *off;
	uint32_t *order; /* stack indices in the order they are written */
	struct funcset funcs;
	long nfuncs;
};

static void ranked_free(struct ranked *r)
{
	free(r->rank);
	free(r->off);
	free(r->order);
	funcset_free(&r->funcs);
}

static int by_stack(const void *a, const void *b, void *arg)
{
	const struct ranked *r = arg;
	uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b, k, n;
	const struct stack *x = &r->p->stacks[i], *y = &r->p->stacks[j];
	const uint32_t *rx = r->rank + r->off[i], *ry = r->rank + r->off[j];

	if (x->cat != y->cat)
		return x->cat < y->cat ? -1 : 1;
	n = x->nframes < y->nframes ? x->nframes : y->nframes;
	for (k = 0; k < n; k++)
		if (rx[k] != ry[k])
			return rx[k] < ry[k] ? -1 : 1;
	if (x->nframes != y->nframes)
		return x->nframes < y->nframes ? -1 : 1;
	return i < j ? -1 : i > j;
}

/* Ranks every frame and sorts the stacks: what makes the script's one-pass merge work. */
static int rank_stacks(struct ranked *r, const struct profile *p)
{
	size_t i, j, total = 0;

	memset(r, 0, sizeof(*r));
	r->p = p;
	funcset_init(&r->funcs);
	r->off = malloc((p->nstacks + 1) * sizeof(*r->off));
	r->order = malloc((p->nstacks + 1) * sizeof(*r->order));
	if (!r->off || !r->order)
		return -ENOMEM;
	for (i = 0; i < p->nstacks; i++) {
		r->off[i] = total;
		total += p->stacks[i].nframes;
		r->order[i] = i;
	}
	r->rank = malloc((total + 1) * sizeof(*r->rank));
	if (!r->rank)
		return -ENOMEM;
	/* First the function's index in the set; its rank once all are known. */
	for (i = 0; i < p->nstacks; i++) {
		for (j = 0; j < p->stacks[i].nframes; j++) {
			const struct frame *fr = &p->stacks[i].frames[j];

			r->rank[r->off[i] + j] =
				funcset_add(&r->funcs, fr->name, fr->module, fr->kernel);
		}
	}
	r->nfuncs = funcset_rank(&r->funcs);
	if (r->nfuncs < 0)
		return r->nfuncs;
	for (i = 0; i < total; i++)
		r->rank[i] = funcset_at(&r->funcs, r->rank[i])->rank;
	qsort_r(r->order, p->nstacks, sizeof(*r->order), by_stack, r);
	return 0;
}

static void cat_array(struct json *j, const char *key, const uint64_t v[CAT_MAX])
{
	int c;

	json_arr_begin(j, key);
	for (c = 0; c < CAT_MAX; c++)
		json_u64(j, NULL, v[c]);
	json_arr_end(j);
}

static void write_header(struct json *j, const struct profile *p)
{
	size_t i;
	int c;

	json_u64(j, "version", DATA_VERSION);
	json_str(j, "concur_version", CONCUR_VERSION);
	json_str(j, "mode", p->mode == MODE_RUN ? "run" : "attach");
	json_arr_begin(j, "command");
	for (i = 0; p->command && p->command[i]; i++)
		json_str(j, NULL, p->command[i]);
	json_arr_end(j);
	json_i64(j, "exit_status", p->mode == MODE_RUN ? p->exit_status : -1);
	json_bool(j, "interrupted", p->interrupted);
	json_u64(j, "window_ns", p->window_ns);
	json_u64(j, "cpus", p->cpus);
	json_u64(j, "sample_hz", p->sample_hz);
	json_u64(j, stat_keys[STAT_SWITCHES], p->stats[STAT_SWITCHES]);
	json_u64(j, stat_keys[STAT_WAKEUPS], p->stats[STAT_WAKEUPS]);
	json_u64(j, "lost", profile__lost(p));
	json_arr_begin(j, "categories");
	for (c = 0; c < CAT_MAX; c++)
		json_str(j, NULL, cat_names[c]);
	json_arr_end(j);
}

static void write_totals(struct json *j, const struct profile *p)
{
	uint64_t ns[CAT_MAX];

	json_u64(j, "thread_ns", profile__thread_ns(p, ns));
	cat_array(j, "cat_ns", ns);
}

/* Processes: [pid, ppid, comm, exited, threads, thread_ns, [ns per category], other]. */
static void write_procs(struct json *j, const struct profile *p)
{
	char buf[32];
	size_t i, k;

	json_arr_begin(j, "processes");
	for (i = 0; i < p->nprocs; i++) {
		const struct proc *pr = &p->procs[i];

		json_obj_begin(j, NULL);
		json_u64(j, "pid", pr->pid);
		json_u64(j, "ppid", pr->ppid);
		json_strn(j, "comm", pr->comm, CONCUR_COMM_LEN);
		json_bool(j, "exited", pr->exited);
		json_u64(j, "threads", pr->nthreads);
		json_u64(j, "thread_ns", cat_sum(pr->ns));
		cat_array(j, "ns", pr->ns);
		json_arr_begin(j, "other");
		for (k = 0; k < pr->nother; k++) {
			json_arr_begin(j, NULL);
			json_str(j, NULL, syscall_name(pr->other[k].nr, buf, sizeof(buf)));
			json_u64(j, NULL, pr->other[k].ns);
			json_u64(j, NULL, pr->other[k].cnt);
			json_arr_end(j);
		}
		json_arr_end(j);
		json_obj_end(j);
	}
	json_arr_end(j);
}

static void write_threads(struct json *j, const struct profile *p)
{
	size_t i;

	json_arr_begin(j, "threads");
	for (i = 0; i < p->nthreads; i++) {
		const struct thread *t = &p->threads[i];

		json_obj_begin(j, NULL);
		json_u64(j, "tid", t->tid);
		json_u64(j, "pid", t->pid);
		json_strn(j, "comm", t->comm, CONCUR_COMM_LEN);
		json_bool(j, "exited", t->exited);
		json_u64(j, "lifetime_ns", thread_lifetime_ns(t));
		cat_array(j, "ns", t->ns);
		json_obj_end(j);
	}
	json_arr_end(j);
}

/*
 * A stalled event loop's evidence, only in a loop_stalled scope: its thread, whether asyncio's
 * frames told it (else its poll waits), the category, the code that blocked and the call ("":
 * unknown), its time blocked outside the poll (ns, waits), the longest code path's average wait
 * and the thread's life (ns), and the speedup bound of overlapping the stalls.
 */
static void write_page_stall(struct json *j, const struct adv_scope *sc)
{
	const struct adv_stall *s = &sc->stall;

	json_obj_begin(j, "stall");
	json_u64(j, "tid", s->tid);
	json_bool(j, "python", s->python);
	json_str(j, "category", s->cat >= 0 && s->cat < CAT_MAX ? cat_names[s->cat] : "");
	json_str(j, "function", s->function ? s->function : "");
	json_str(j, "call", s->call ? s->call : "");
	json_u64(j, "ns", s->ns);
	json_u64(j, "count", s->count);
	json_u64(j, "longest_ns", s->longest_ns);
	json_u64(j, "life_ns", sc->stall_life_ns);
	json_fixed(j, "bound", sc->stall_bound, 2);
	json_obj_end(j);
}

/*
 * An advice scope: verdict (name), why, levers as [lever, effect, bound (0: none), basis,
 * reason], the evidence (threads, active, idle, idle category or -1, parallelism in
 * thousandths, active_ns, ns per category) and the top stacks as [ns, [names, root first]].
 */
static void write_page_scope(struct json *j, const struct adv_scope *sc)
{
	size_t i;
	uint32_t k;
	int a, l;

	json_obj_begin(j, NULL);
	json_bool(j, "whole", sc->whole);
	json_u64(j, "pid", sc->pid);
	json_strn(j, "comm", sc->comm, CONCUR_COMM_LEN);
	json_str(j, "verdict", adv_verdict_names[sc->verdict]);
	json_str(j, "why", sc->why);
	json_arr_begin(j, "levers");
	for (l = 0; l < ADV_LEVER_MAX; l++) {
		json_arr_begin(j, NULL);
		json_str(j, NULL, adv_lever_names[l]);
		json_str(j, NULL, adv_effect_names[sc->rows[l].effect]);
		json_fixed(j, NULL, sc->rows[l].bound, 2);
		json_str(j, NULL, sc->rows[l].basis);
		json_str(j, NULL, sc->rows[l].reason);
		json_arr_end(j);
	}
	json_arr_end(j);
	json_u64(j, "threads", sc->threads);
	json_u64(j, "active", sc->active);
	json_u64(j, "idle", sc->idle);
	json_i64(j, "idle_cat", sc->idle_cat);
	json_u64(j, "active_ns", sc->active_ns);
	/* -1: not measured (no futex wait in the scope; too few classified CPU samples) */
	json_i64(j, "gil_ns", sc->futexes_known ? (int64_t)sc->gil_ns : -1);
	json_i64(j, "interp_ns", sc->interp_known ? (int64_t)sc->interp_ns : -1);
	json_i64(j, "native_ns", sc->interp_known ? (int64_t)sc->native_ns : -1);
	json_str(j, "best", sc->best >= 0 ? adv_lever_names[sc->best] : "");
	json_str(j, "costs", sc->costs);
	json_arr_begin(j, "table");
	for (a = 0; a < ADV_ASPECT_MAX; a++) {
		json_arr_begin(j, NULL);
		json_str(j, NULL, adv_aspect_names[a]);
		json_str(j, NULL, sc->table[a].measured);
		for (l = 0; l < ADV_LEVER_MAX; l++)
			json_str(j, NULL, adv_effect_names[sc->table[a].mark[l]]);
		json_arr_end(j);
	}
	json_arr_end(j);
	cat_array(j, "ns", sc->ns);
	if (sc->verdict == ADV_LOOP_STALLED)
		write_page_stall(j, sc);
	json_arr_begin(j, "top");
	for (i = 0; i < sc->ntop; i++) {
		json_arr_begin(j, NULL);
		json_u64(j, NULL, sc->top[i].ns);
		json_arr_begin(j, NULL);
		for (k = 0; k < sc->top[i].st->nframes; k++)
			json_str(j, NULL, sc->top[i].st->frames[k].name);
		json_arr_end(j);
		json_arr_end(j);
	}
	json_arr_end(j);
	json_obj_end(j);
}

/* "advice": cpus, parallelism, then the scopes: the whole workload first, then the
 * ADVICE_PROCS heaviest processes, and how many processes there are in all. */
static void write_page_advice(struct json *j, const struct advice *a)
{
	size_t i;

	json_obj_begin(j, "advice");
	json_u64(j, "cpus", a->cpus);
	json_fixed(j, "parallelism", a->parallelism, 3);
	json_u64(j, "nprocs", a->nprocs);
	json_arr_begin(j, "scopes");
	write_page_scope(j, &a->whole);
	for (i = 0; i < a->nprocs && i < ADVICE_PROCS; i++)
		write_page_scope(j, &a->procs[a->order[i]]);
	json_arr_end(j);
	json_obj_end(j);
}

/*
 * "gil_waits", only when some thread waited for CPython's GIL (gil_waits.h): "rows", the
 * GIL_ROWS_PAGE heaviest waits as [pid, tid, thread, function, ns, count, holders], each
 * holder [tid (0: unknown), thread, function ("": unknown), ns], at most GIL_HOLDERS_PAGE of
 * them, and "nrows", how many rows there are in all. 0 or -ENOMEM.
 */
static int write_page_gil(struct json *j, const struct profile *p)
{
	struct gil_wait_row *rows;
	long n = gil_waits(p, &rows);
	size_t i, k;

	if (n <= 0)
		return n < 0 ? (int)n : 0;
	json_obj_begin(j, "gil_waits");
	json_u64(j, "nrows", n);
	json_arr_begin(j, "rows");
	for (i = 0; i < (size_t)n && i < GIL_ROWS_PAGE; i++) {
		const struct gil_wait_row *r = &rows[i];

		json_arr_begin(j, NULL);
		json_u64(j, NULL, r->pid);
		json_u64(j, NULL, r->tid);
		json_str(j, NULL, r->thread);
		json_str(j, NULL, r->function);
		json_u64(j, NULL, r->ns);
		json_u64(j, NULL, r->count);
		json_arr_begin(j, NULL);
		for (k = 0; k < r->nholders && k < GIL_HOLDERS_PAGE; k++) {
			const struct gil_holder_share *h = &r->holders[k];

			json_arr_begin(j, NULL);
			json_u64(j, NULL, h->tid);
			json_str(j, NULL, h->thread ? h->thread : "");
			json_str(j, NULL, h->function ? h->function : "");
			json_u64(j, NULL, h->ns);
			json_arr_end(j);
		}
		json_arr_end(j);
		json_arr_end(j);
	}
	json_arr_end(j);
	json_obj_end(j);
	gil_waits_free(rows, n);
	return 0;
}

/*
 * "strings": names and modules; "funcs": name and module (string indices) and 1 for a kernel
 * function, flattened, in rank order: a frame's function index is its rank.
 */
static int write_funcs(struct json *j, const struct ranked *r)
{
	struct funcset strs = { 0 };
	uint32_t *str = malloc((r->nfuncs + 1) * 2 * sizeof(*str));
	signed char *kernel = malloc(r->nfuncs + 1); /* -1 until the rank is seen */
	int err = -ENOMEM;
	size_t i;
	long idx;

	if (!str || !kernel)
		goto out;
	funcset_init(&strs);
	memset(kernel, -1, r->nfuncs + 1);
	for (i = 0; i < r->funcs.v->len; i++) {
		const struct func *fn = funcset_at(&r->funcs, i);

		if (kernel[fn->rank] >= 0)
			continue;
		kernel[fn->rank] = fn->kernel;
		str[2 * fn->rank] = funcset_add(&strs, fn->name, NULL, false);
		str[2 * fn->rank + 1] = funcset_add(&strs, fn->module, NULL, false);
	}
	json_arr_begin(j, "strings");
	for (i = 0; i < strs.v->len; i++) {
		const char *name = funcset_at(&strs, i)->name;

		json_str(j, NULL, name ? name : "");
	}
	json_arr_end(j);
	json_arr_begin(j, "funcs");
	for (idx = 0; idx < r->nfuncs; idx++) {
		json_u64(j, NULL, str[2 * idx]);
		json_u64(j, NULL, str[2 * idx + 1]);
		json_u64(j, NULL, kernel[idx]);
	}
	json_arr_end(j);
	err = 0;
out:
	free(str);
	free(kernel);
	funcset_free(&strs);
	return err;
}

/* "stacks": pid, tid, category, ns, count, number of frames, then the frames, root first. */
static void write_stacks(struct json *j, const struct ranked *r)
{
	const struct profile *p = r->p;
	size_t i, k;

	json_arr_begin(j, "stacks");
	for (i = 0; i < p->nstacks; i++) {
		const struct stack *st = &p->stacks[r->order[i]];
		const uint32_t *rank = r->rank + r->off[r->order[i]];

		json_u64(j, NULL, st->pid);
		json_u64(j, NULL, st->tid);
		json_u64(j, NULL, st->cat);
		json_u64(j, NULL, st->ns);
		json_u64(j, NULL, st->count);
		json_u64(j, NULL, st->nframes);
		for (k = 0; k < st->nframes; k++)
			json_u64(j, NULL, rank[k]);
	}
	json_arr_end(j);
}

static int write_data(FILE *f, const struct profile *p, const struct advice *a)
{
	struct ranked r;
	struct json j;
	int err;

	err = rank_stacks(&r, p);
	if (err)
		goto out;
	json_init(&j, f);
	j.compact = true;
	j.html_safe = true;
	json_obj_begin(&j, NULL);
	write_header(&j, p);
	write_totals(&j, p);
	write_procs(&j, p);
	write_threads(&j, p);
	write_page_advice(&j, a);
	err = write_page_gil(&j, p);
	if (!err)
		err = write_funcs(&j, &r);
	if (err)
		goto out;
	write_stacks(&j, &r);
	json_obj_end(&j);
out:
	ranked_free(&r);
	return err;
}

/* Whether the marker from at ("@@NAME") to close (the "@@" after it) is name. */
static bool marker(const char *at, const char *close, const char *name)
{
	size_t n = strlen(name);

	return (size_t)(close - at) == n + 2 && !memcmp(at + 2, name, n);
}

/* Copies the page, replacing each @@NAME@@ marker with the style, the script or the data. */
static int write_page(FILE *f, const struct profile *p, const struct advice *a)
{
	const char *s = (const char *)page_html, *end = s + sizeof(page_html), *at, *close;
	int err = 0;

	while (!err && (at = memmem(s, end - s, "@@", 2))) {
		fwrite(s, 1, at - s, f);
		close = memmem(at + 2, end - at - 2, "@@", 2);
		if (!close)
			return -EINVAL;
		if (marker(at, close, "CSS"))
			fwrite(page_css, 1, sizeof(page_css), f);
		else if (marker(at, close, "JS"))
			fwrite(page_js, 1, sizeof(page_js), f);
		else if (marker(at, close, "JS_SHA256"))
			fputs(page_js_sha256, f);
		else if (marker(at, close, "DATA"))
			err = write_data(f, p, a);
		else
			return -EINVAL; /* a template bug: the unit tests render it */
		s = close + 2;
	}
	fwrite(s, 1, end - s, f);
	return err;
}

int write_html(const struct profile *p, const struct advice *a, FILE *f)
{
	int err;

	flockfile(f); /* json.c writes unlocked */
	err = write_page(f, p, a);
	funlockfile(f);
	return err ? err : ferror(f) ? -EIO : 0;
}
