// SPDX-License-Identifier: MIT
/* The JSON summary; its schema is documented in README.md. */
#include <stdlib.h>
#include "advise/advise.h"
#include "profile/futex.h"
#include "profile/gil_waits.h"
#include "json.h"
#include "output.h"
#include "profile/stack_marks.h"
#include "profile/unnamed.h"
#include "profile/stack_merge.h"
#include "syscalls.h"

#define SCHEMA_VERSION 1

static void cat_obj(struct json *j, const char *key, const uint64_t v[CAT_MAX])
{
	int c;

	json_obj_begin(j, key);
	for (c = 0; c < CAT_MAX; c++)
		json_u64(j, cat_names[c], v[c]);
	json_obj_end(j);
}

/* The counters of one kind, in their order (include/model.h), under their keys. */
static void write_stats(struct json *j, const struct profile *p, enum concur_stat_kind kind)
{
	int i;

	for (i = 0; i < STAT_MAX; i++)
		if (stat_kinds[i] == kind)
			json_u64(j, stat_keys[i], p->stats[i]);
}

static void write_events(struct json *j, const struct profile *p)
{
	json_obj_begin(j, "events");
	write_stats(j, p, STAT_KIND_EVENT);
	json_u64(j, "lost", profile__lost(p));
	write_stats(j, p, STAT_KIND_LOST);
	json_u64(j, "anomalies", p->anomalies);
	json_obj_end(j);
}

/* Locks shown per process: the futex words waited on longest. */
#define JSON_TOP_FUTEXES 5

/* A futex word's waits summed (key: NULL inside an array); with_pid for the advice's lock. */
static void write_futex_sum(struct json *j, const char *key, const struct futex_sum *fs,
			    bool with_pid)
{
	char addr[24];

	json_obj_begin(j, key);
	if (with_pid)
		json_u64(j, "pid", fs->pid);
	snprintf(addr, sizeof(addr), "0x%llx", (unsigned long long)fs->addr);
	json_str(j, "addr", addr);
	if (fs->symbol) {
		json_str(j, "symbol", fs->symbol);
		json_str(j, "module", fs->module);
		json_u64(j, "offset", fs->offset);
	}
	json_u64(j, "ns", fs->ns);
	json_u64(j, "count", fs->count);
	json_u64(j, "threads", fs->threads);
	json_obj_end(j);
}

static void write_futexes(struct json *j, const struct profile *p, uint32_t pid)
{
	size_t n;
	const struct futex_wait *fw = profile__futexes_of(p, pid, &n);
	struct futex_sum *sums;
	long i, k = futex_sums(fw, n, NULL, NULL, &sums);

	json_arr_begin(j, "futexes");
	for (i = 0; i < k && i < JSON_TOP_FUTEXES; i++)
		write_futex_sum(j, NULL, &sums[i], false);
	json_arr_end(j);
	free(sums);
}

static void write_proc(struct json *j, const struct profile *p, const struct proc *pr)
{
	char buf[32];
	size_t i;

	json_obj_begin(j, NULL);
	json_u64(j, "pid", pr->pid);
	json_u64(j, "ppid", pr->ppid);
	json_u64(j, "start_ns", pr->start_ns);
	json_u64(j, "end_ns", pr->end_ns);
	json_strn(j, "comm", pr->comm, CONCUR_COMM_LEN);
	json_strn(j, "runtime", pr->runtime, sizeof(pr->runtime));
	json_u64(j, "cpus", pr->cpus);
	json_u64(j, "peak_running", pr->peak_running);
	json_u64(j, "rss_kb", pr->rss_kb);
	if (pr->throttled_ns) { /* only then: the schema adds no field to unthrottled reports */
		json_u64(j, "throttled_ns", pr->throttled_ns);
		json_u64(j, "nr_throttled", pr->nr_throttled);
	}
	json_bool(j, "exited", pr->exited);
	json_u64(j, "threads", pr->nthreads);
	json_u64(j, "thread_ns", cat_sum(pr->ns));
	cat_obj(j, "ns", pr->ns);
	json_arr_begin(j, "other_syscalls");
	for (i = 0; i < pr->nother; i++) {
		json_obj_begin(j, NULL);
		json_str(j, "syscall", syscall_name(pr->other[i].nr, buf, sizeof(buf)));
		json_u64(j, "ns", pr->other[i].ns);
		json_u64(j, "count", pr->other[i].cnt);
		json_obj_end(j);
	}
	json_arr_end(j);
	write_futexes(j, p, pr->pid);
	json_obj_end(j);
}

static void write_thread(struct json *j, const struct thread *t)
{
	json_obj_begin(j, NULL);
	json_u64(j, "tid", t->tid);
	json_u64(j, "pid", t->pid);
	json_strn(j, "comm", t->comm, CONCUR_COMM_LEN);
	json_u64(j, "start_ns", t->start_ns);
	json_u64(j, "end_ns", t->end_ns);
	json_u64(j, "lifetime_ns", thread_lifetime_ns(t));
	json_bool(j, "exited", t->exited);
	cat_obj(j, "ns", t->ns);
	cat_obj(j, "count", t->cnt);
	json_u64(j, "switches", t->cnt[CAT_CPU]);
	json_u64(j, "preemptions", t->preemptions);
	json_u64(j, "wakeups", t->wakeups);
	if (t->steal_ns) /* only then, as throttled_ns */
		json_u64(j, "steal_ns", t->steal_ns);
	if (t->cpu_stalls) { /* only then: an event loop's callbacks computing long */
		json_obj_begin(j, "cpu_stalls");
		json_u64(j, "count", t->cpu_stalls);
		json_u64(j, "ns", t->cpu_stall_ns);
		json_u64(j, "longest_ns", t->cpu_stall_max_ns);
		json_obj_end(j);
	}
	json_obj_end(j);
}

#define TOP_STACKS 5

static void write_frames(struct json *j, const struct stack *st)
{
	uint32_t i;

	json_arr_begin(j, "frames");
	for (i = 0; i < st->nframes; i++) {
		json_obj_begin(j, NULL);
		json_str(j, "name", st->frames[i].name);
		json_str(j, "module", st->frames[i].module);
		json_bool(j, "kernel", st->frames[i].kernel);
		if (st->frames[i].file) {
			json_str(j, "file", st->frames[i].file);
			json_u64(j, "line", st->frames[i].line);
		}
		json_obj_end(j);
	}
	json_arr_end(j);
}

static int cmp_merged_ns(const void *a, const void *b)
{
	const struct merged_stack *x = a, *y = b;

	if (x->st->cat != y->st->cat)
		return x->st->cat < y->st->cat ? -1 : 1;
	return x->ns > y->ns ? -1 : x->ns < y->ns;
}

/* The heaviest code paths of each category, threads merged. */
static int write_top_stacks(struct json *j, const struct profile *p)
{
	struct merged_stack *m;
	size_t i, n, shown = 0;
	int err = stacks_merge(p, &m, &n), c = -1;

	if (err)
		return err;
	qsort(m, n, sizeof(*m), cmp_merged_ns);
	json_obj_begin(j, "top");
	for (i = 0; i < n; i++) {
		if ((int)m[i].st->cat != c) {
			if (c >= 0)
				json_arr_end(j);
			c = m[i].st->cat;
			json_arr_begin(j, cat_names[c < CAT_MAX ? c : CAT_OTHER]);
			shown = 0;
		}
		if (shown++ >= TOP_STACKS)
			continue;
		json_obj_begin(j, NULL);
		json_u64(j, "ns", m[i].ns);
		json_u64(j, "count", m[i].count);
		write_frames(j, m[i].st);
		json_obj_end(j);
	}
	if (c >= 0)
		json_arr_end(j);
	json_obj_end(j);
	free(m);
	return 0;
}

/* The keys of the stacks concur cut, by mark; each only when some stack has that mark. */
static const char *const mark_keys[MARK_MAX] = {
	[MARK_TRUNCATED] = "truncated",
	[MARK_UNWIND_STOPPED] = "unwind_stopped",
	[MARK_NO_TABLE] = "no_table_yet",
};

/* A count of stacks, their on-CPU samples and their time, into the object open in j. */
static void put_totals(struct json *j, const struct mark_total *t)
{
	json_u64(j, "stacks", t->stacks);
	json_u64(j, "samples", t->samples);
	json_u64(j, "ns", t->ns);
}

static void write_marked(struct json *j, const struct profile *p)
{
	struct mark_total t[MARK_MAX];
	int m;

	profile__mark_totals(p, t);
	for (m = MARK_NONE + 1; m < MARK_MAX; m++) {
		if (!t[m].stacks)
			continue;
		json_obj_begin(j, mark_keys[m]);
		json_str(j, "frame", stack_mark_name(m));
		put_totals(j, &t[m]);
		json_obj_end(j);
	}
}

static const char *const ustop_keys[UNWIND_STOP_MAX] = {
#define UNWIND_STOP_KEY(id, key) [id] = key,
	UNWIND_STOPS(UNWIND_STOP_KEY)
#undef UNWIND_STOP_KEY
};

/* The Python frame walker's counts, when it walked any (or found threads without a state). */
static void write_py_counts(struct json *j, const struct profile *p)
{
	int k;

	if (!p->py[PYC_LISTS] && !p->py[PYC_NO_TSTATE])
		return;
	json_obj_begin(j, "python");
	for (k = 0; k < PYC_MAX; k++)
		json_u64(j, py_count_keys[k], p->py[k]);
	json_obj_end(j);
}

/* --unwind=cfi only: how the walks ended, by object. */
static void write_ustops(struct json *j, const struct profile *p)
{
	size_t i;
	int k;

	if (!p->nustops)
		return;
	json_arr_begin(j, "unwind_stops");
	for (i = 0; i < p->nustops; i++) {
		json_obj_begin(j, NULL);
		json_str(j, "module", p->ustops[i].module);
		for (k = 0; k < UNWIND_STOP_MAX; k++)
			json_u64(j, ustop_keys[k], p->ustops[i].stop[k]);
		json_u64(j, "fp_frames", p->ustops[i].fp_frames);
		json_obj_end(j);
	}
	json_arr_end(j);
}

static void write_total(struct json *j, const char *key, const struct mark_total *t)
{
	json_obj_begin(j, key);
	put_totals(j, t);
	json_obj_end(j);
}

/* Stacks with user frames concur could not name, by why; only when there are some. */
static void write_unnamed(struct json *j, const struct profile *p)
{
	struct mark_total t[UNNAMED_MAX], all;

	profile__unnamed_totals(p, t);
	if (!t[UNNAMED_NO_MAP].stacks && !t[UNNAMED_OUTSIDE].stacks)
		return;
	all = (struct mark_total){ t[UNNAMED_NO_MAP].stacks + t[UNNAMED_OUTSIDE].stacks,
				   t[UNNAMED_NO_MAP].samples + t[UNNAMED_OUTSIDE].samples,
				   t[UNNAMED_NO_MAP].ns + t[UNNAMED_OUTSIDE].ns };
	json_obj_begin(j, "unnamed");
	json_str(j, "frame", "[unknown]");
	put_totals(j, &all);
	write_total(j, "no_map", &t[UNNAMED_NO_MAP]);
	write_total(j, "outside", &t[UNNAMED_OUTSIDE]);
	json_obj_end(j);
}

/* --unwind=cfi only: what the table loader did. */
static void write_utables(struct json *j, const struct profile *p)
{
	const struct unwind_tables *t = &p->utables;

	if (!t->max_rows)
		return;
	json_obj_begin(j, "unwind_tables");
	json_u64(j, "objects", t->objects);
	json_u64(j, "tables", t->tables);
	json_u64(j, "no_cfi", t->no_cfi);
	json_u64(j, "full", t->full);
	json_u64(j, "rows", t->rows);
	json_u64(j, "max_rows", t->max_rows);
	json_u64(j, "rules", t->rules);
	json_u64(j, "max_rules", t->max_rules);
	json_obj_end(j);
}

/*
 * The probes' own figures, each object only when its counters are not all zero (recordings
 * of an earlier concur lack them): the stack cache's use at switch-outs, the CFI walks and
 * their frames, and --bench-timing's sums.
 */
static void write_capture_figures(struct json *j, const struct profile *p)
{
	static const struct {
		const char *key;
		enum concur_stat first, last;
	} groups[] = {
		{ "cache", STAT_CACHE_HITS, STAT_CACHE_MISSES },
		{ "cfi", STAT_CFI_WALKS, STAT_CFI_FRAMES },
		{ "timing", STAT_USTACK_CALLS, STAT_TIMER_NS },
	};
	size_t g;
	int i;

	for (g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
		uint64_t any = 0;

		for (i = groups[g].first; i <= (int)groups[g].last; i++)
			any |= p->stats[i];
		if (!any)
			continue;
		json_obj_begin(j, groups[g].key);
		for (i = groups[g].first; i <= (int)groups[g].last; i++)
			json_u64(j, stat_keys[i], p->stats[i]);
		json_obj_end(j);
	}
}

static int write_stacks(struct json *j, const struct profile *p)
{
	size_t i;
	int err;

	json_obj_begin(j, "stacks");
	json_u64(j, "sample_hz", p->sample_hz);
	json_u64(j, "distinct", p->nstacks);
	json_u64(j, stat_keys[STAT_SAMPLES], p->stats[STAT_SAMPLES]);
	json_u64(j, stat_keys[STAT_STACK_ERRORS], p->stats[STAT_STACK_ERRORS]);
	json_u64(j, stat_keys[STAT_STACK_KEYS_FULL], p->stats[STAT_STACK_KEYS_FULL]);
	json_u64(j, stat_keys[STAT_MAPS_LOST], p->stats[STAT_MAPS_LOST]);
	write_capture_figures(j, p);
	json_arr_begin(j, "unwind_warnings");
	for (i = 0; i < p->nunwind; i++) {
		json_obj_begin(j, NULL);
		json_str(j, "module", p->unwind[i].module);
		json_u64(j, "shallow_ns", p->unwind[i].shallow_ns);
		json_u64(j, "total_ns", p->unwind[i].total_ns);
		json_u64(j, "shallow_stacks", p->unwind[i].shallow_stacks);
		json_u64(j, "stacks", p->unwind[i].stacks);
		json_obj_end(j);
	}
	json_arr_end(j);
	write_ustops(j, p);
	write_utables(j, p);
	write_marked(j, p);
	write_unnamed(j, p);
	write_py_counts(j, p);
	err = write_top_stacks(j, p);
	json_obj_end(j);
	return err;
}

/* Who waited for the GIL in which Python function, and who held it (gil_waits.h); only when
 * some stack waited for it. */
static int write_gil(struct json *j, const struct profile *p)
{
	struct gil_wait_row *rows;
	long n = gil_waits(p, &rows);
	size_t i, k;

	if (n <= 0)
		return n < 0 ? (int)n : 0;
	json_arr_begin(j, "gil_waits");
	for (i = 0; i < (size_t)n; i++) {
		json_obj_begin(j, NULL);
		json_u64(j, "pid", rows[i].pid);
		json_u64(j, "tid", rows[i].tid);
		json_str(j, "thread", rows[i].thread);
		json_str(j, "function", rows[i].function);
		json_u64(j, "ns", rows[i].ns);
		json_u64(j, "count", rows[i].count);
		json_arr_begin(j, "holders");
		for (k = 0; k < rows[i].nholders; k++) {
			const struct gil_holder_share *h = &rows[i].holders[k];

			json_obj_begin(j, NULL);
			json_u64(j, "tid", h->tid);
			if (h->thread)
				json_str(j, "thread", h->thread);
			if (h->function)
				json_str(j, "function", h->function);
			json_u64(j, "ns", h->ns);
			json_obj_end(j);
		}
		json_arr_end(j);
		json_obj_end(j);
	}
	json_arr_end(j);
	gil_waits_free(rows, n);
	return 0;
}

/* A stalled event loop's evidence: its thread, how it was recognised, what blocked it. */
static void write_stall(struct json *j, const struct adv_scope *sc)
{
	const struct adv_stall *s = &sc->stall;

	json_obj_begin(j, "stall");
	json_u64(j, "tid", s->tid);
	json_str(j, "recognised_by", s->python ? "asyncio_frames" : "poll");
	if (s->cpu) /* only then: outputs without CPU stalls unchanged */
		json_bool(j, "cpu", true);
	if (s->cat >= 0)
		json_str(j, "category", cat_names[s->cat]);
	if (s->function)
		json_str(j, "function", s->function);
	if (s->call)
		json_str(j, "call", s->call);
	json_u64(j, "ns", s->ns);
	json_u64(j, "count", s->count);
	json_u64(j, "longest_ns", s->longest_ns);
	json_u64(j, "life_ns", sc->stall_life_ns);
	json_obj_end(j);
}

/* The classic table: {aspect: {measured, threads, processes, async}} in adv_aspect order. */
static void write_design_table(struct json *j, const struct adv_scope *sc)
{
	int a, l;

	json_obj_begin(j, "table");
	for (a = 0; a < ADV_ASPECT_MAX; a++) {
		json_obj_begin(j, adv_aspect_keys[a]);
		json_str(j, "measured", sc->table[a].measured);
		for (l = 0; l < ADV_LEVER_MAX; l++)
			json_str(j, adv_lever_names[l], adv_effect_names[sc->table[a].mark[l]]);
		json_obj_end(j);
	}
	json_obj_end(j);
}

static void write_scope(struct json *j, const struct adv_scope *sc)
{
	size_t i;
	int l;

	json_obj_begin(j, sc->whole ? "whole" : NULL);
	if (!sc->whole) {
		json_u64(j, "pid", sc->pid);
		json_strn(j, "comm", sc->comm, CONCUR_COMM_LEN);
	}
	json_str(j, "verdict", adv_verdict_keys[sc->verdict]);
	json_str(j, "verdict_text", adv_verdict_names[sc->verdict]);
	if (sc->cat >= 0)
		json_str(j, "category", cat_names[sc->cat]);
	json_str(j, "why", sc->why);
	json_obj_begin(j, "levers");
	for (l = 0; l < ADV_LEVER_MAX; l++) {
		const struct adv_row *r = &sc->rows[l];

		json_obj_begin(j, adv_lever_names[l]);
		json_str(j, "effect", adv_effect_names[r->effect]);
		if (r->bound > 0) {
			json_fixed(j, "bound", r->bound, 2);
			json_str(j, "basis", r->basis);
		}
		json_str(j, "reason", r->reason);
		json_obj_end(j);
	}
	json_obj_end(j);
	if (sc->best >= 0)
		json_str(j, "best", adv_lever_names[sc->best]);
	write_design_table(j, sc);
	json_obj_begin(j, "evidence");
	json_u64(j, "threads", sc->threads);
	json_u64(j, "active_threads", sc->active);
	json_u64(j, "idle_threads", sc->idle);
	if (sc->idle_cat >= 0)
		json_str(j, "idle_category", cat_names[sc->idle_cat]);
	json_fixed(j, "parallelism", sc->parallelism, 3);
	json_u64(j, "cpus", sc->cpus);
	json_u64(j, "peak_running", sc->peak_running);
	json_u64(j, "rss_kb", sc->rss_kb);
	if (sc->throttled_ns)
		json_u64(j, "throttled_ns", sc->throttled_ns);
	json_fixed(j, "switches_per_s", sc->switches_per_s, 1);
	json_str(j, "costs", sc->costs);
	json_u64(j, "active_ns", sc->active_ns);
	cat_obj(j, "ns", sc->ns);
	if (sc->futexes_known)
		json_u64(j, "gil_ns", sc->gil_ns);
	if (sc->interp_known) {
		json_u64(j, "interpreter_ns", sc->interp_ns);
		json_u64(j, "native_ns", sc->native_ns);
	}
	if (sc->lock.ns)
		write_futex_sum(j, "lock", &sc->lock, true);
	if (sc->verdict == ADV_LOOP_STALLED)
		write_stall(j, sc);
	json_arr_begin(j, "top");
	for (i = 0; i < sc->ntop; i++) {
		json_obj_begin(j, NULL);
		json_u64(j, "ns", sc->top[i].ns);
		json_u64(j, "count", sc->top[i].count);
		write_frames(j, sc->top[i].st);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_obj_end(j);
	json_obj_end(j);
}

/* What bounds each process and the workload, and what would help (user/advise/). */
static void write_advice(struct json *j, const struct advice *a)
{
	size_t i;

	json_obj_begin(j, "advice");
	json_u64(j, "cpus", a->cpus);
	json_fixed(j, "parallelism", a->parallelism, 3);
	write_scope(j, &a->whole);
	json_arr_begin(j, "processes");
	for (i = 0; i < a->nprocs; i++)
		write_scope(j, &a->procs[i]);
	json_arr_end(j);
	/* Children too short to advise alone, by executable (advise.h: struct adv_exe). */
	json_arr_begin(j, "short_processes");
	for (i = 0; i < a->nexes; i++) {
		json_obj_begin(j, NULL);
		json_strn(j, "comm", a->exes[i].comm, CONCUR_COMM_LEN);
		json_u64(j, "count", a->exes[i].count);
		json_u64(j, "life_ns", a->exes[i].life_ns);
		if (a->exes[i].cat >= 0)
			json_str(j, "category", cat_names[a->exes[i].cat]);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_obj_end(j);
}

static int write_doc(const struct profile *p, const struct advice *a, FILE *f)
{
	uint64_t total[CAT_MAX];
	uint64_t thread_ns, steal_ns;
	struct json j;
	size_t i;
	int c, err;

	json_init(&j, f);
	json_obj_begin(&j, NULL);
	json_u64(&j, "schema", SCHEMA_VERSION);
	json_str(&j, "concur_version", CONCUR_VERSION);
	json_str(&j, "mode", p->mode == MODE_RUN ? "run" : "attach");
	json_arr_begin(&j, "command");
	for (i = 0; p->command && p->command[i]; i++)
		json_str(&j, NULL, p->command[i]);
	json_arr_end(&j);
	if (p->mode == MODE_RUN)
		json_i64(&j, "exit_status", p->exit_status);
	json_bool(&j, "interrupted", p->interrupted);
	json_u64(&j, "window_ns", p->window_ns);
	json_u64(&j, "cpus", p->cpus);
	if (p->throttled_ns) {
		json_u64(&j, "throttled_ns", p->throttled_ns);
		json_u64(&j, "nr_throttled", p->nr_throttled);
	}
	json_arr_begin(&j, "categories");
	for (c = 0; c < CAT_MAX; c++)
		json_str(&j, NULL, cat_names[c]);
	json_arr_end(&j);
	write_events(&j, p);
	thread_ns = profile__thread_ns(p, total);
	json_obj_begin(&j, "total");
	json_u64(&j, "thread_ns", thread_ns);
	cat_obj(&j, "ns", total);
	steal_ns = profile__steal_ns(p);
	if (steal_ns)
		json_u64(&j, "steal_ns", steal_ns);
	json_obj_end(&j);
	json_arr_begin(&j, "processes");
	for (i = 0; i < p->nprocs; i++)
		write_proc(&j, p, &p->procs[i]);
	json_arr_end(&j);
	json_arr_begin(&j, "threads");
	for (i = 0; i < p->nthreads; i++)
		write_thread(&j, &p->threads[i]);
	json_arr_end(&j);
	err = write_stacks(&j, p);
	if (!err)
		err = write_gil(&j, p);
	if (!err)
		write_advice(&j, a);
	json_obj_end(&j);
	return err ? err : ferror(f) ? -EIO : 0;
}

int write_json(const struct profile *p, const struct advice *a, FILE *f)
{
	int err;

	flockfile(f); /* json.c writes unlocked */
	err = write_doc(p, a, f);
	funlockfile(f);
	return err;
}
