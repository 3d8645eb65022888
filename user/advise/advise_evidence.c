// SPDX-License-Identifier: MIT
/*
 * The advice's evidence for a scope: the heaviest code paths of its bottleneck and the futex
 * words its active threads waited on. Idle threads are left out of both: their stacks and
 * waits are the absence of work, not what bounds it.
 */
#include <stdlib.h>
#include <string.h>
#include "advise_internal.h"
#include "profile/runtime.h"
#include "profile/stack_merge.h"

/* Evidence: the heaviest code paths of the bottleneck, active threads only. */

static int cmp_cat_frames(const void *a, const void *b)
{
	const struct stack *x = *(const struct stack *const *)a,
			   *y = *(const struct stack *const *)b;

	if (x->cat != y->cat)
		return x->cat < y->cat ? -1 : 1;
	return stack_cmp_frames(x, y);
}

static int cmp_pid_cat_frames(const void *a, const void *b)
{
	const struct stack *x = *(const struct stack *const *)a,
			   *y = *(const struct stack *const *)b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return cmp_cat_frames(a, b);
}

size_t adv_thread_index(const struct profile *p, uint32_t pid, uint32_t tid)
{
	const struct thread *t = p->threads;
	size_t lo = 0, hi = p->nthreads, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (t[mid].pid < pid || (t[mid].pid == pid && t[mid].tid < tid))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < p->nthreads && t[lo].pid == pid && t[lo].tid == tid ? lo : p->nthreads;
}

/* Whether a thread is idle in the scope (an unknown thread is not). */
static bool thread_idle(const struct adv_ctx *x, uint32_t pid, uint32_t tid, const bool *idle)
{
	size_t i = adv_thread_index(x->p, pid, tid);

	return i < x->p->nthreads && idle[i];
}

void adv_thread_gil(const struct adv_ctx *x)
{
	const struct profile *p = x->p;
	size_t i, t;

	memset(x->gil_ns, 0, p->nthreads * sizeof(*x->gil_ns));
	for (i = 0; i < p->nfutexes; i++) {
		const struct futex_wait *fw = &p->futexes[i];

		if (!fw->symbol || strcmp(fw->symbol, FUTEX_GIL_SYMBOL))
			continue;
		t = adv_thread_index(p, fw->pid, fw->tid);
		if (t < p->nthreads)
			x->gil_ns[t] += fw->ns;
	}
}

static bool stack_idle(const struct adv_ctx *x, const struct stack *st, const bool *idle)
{
	return thread_idle(x, st->pid, st->tid, idle);
}

/* Evidence: which futex words the active threads waited on. */

struct futex_filter {
	const struct adv_ctx *x;
	const bool *idle;
};

/* An idle thread's wait (a pool worker parked on its condition variable) is no contention. */
static bool active_wait(const struct futex_wait *fw, void *arg)
{
	const struct futex_filter *f = arg;

	return !thread_idle(f->x, fw->pid, fw->tid, f->idle);
}

int adv_futex_evidence(const struct adv_ctx *x, struct adv_scope *sc, const bool *idle)
{
	struct futex_filter f = { x, idle };
	const struct futex_wait *fw = x->p->futexes;
	size_t n = x->p->nfutexes;
	struct futex_sum *sums;
	long i, k;

	if (!sc->whole)
		fw = profile__futexes_of(x->p, sc->pid, &n);
	sc->futexes_known = n > 0;
	k = futex_sums(fw, n, active_wait, &f, &sums);
	if (k < 0)
		return (int)k;
	for (i = 0; i < k; i++) {
		if (futex_is_gil(&sums[i]))
			sc->gil_ns += sums[i].ns;
		else if (!sc->lock.ns)
			sc->lock = sums[i];
	}
	free(sums);
	return 0;
}

static void top_insert(struct adv_scope *sc, const struct stack *st, uint64_t ns, uint64_t cnt)
{
	size_t i;

	if (!ns)
		return;
	for (i = sc->ntop; i > 0 && sc->top[i - 1].ns < ns; i--)
		if (i < ADV_TOP_STACKS)
			sc->top[i] = sc->top[i - 1];
	if (i >= ADV_TOP_STACKS)
		return;
	sc->top[i] = (struct adv_stack){ st, ns, cnt };
	if (sc->ntop < ADV_TOP_STACKS)
		sc->ntop++;
}

/* v[lo, hi) holds one scope's stacks of the category, sorted by frames: merge runs. */
static void top_stacks(const struct adv_ctx *x, struct adv_scope *sc, const struct stack **v,
		       size_t lo, size_t hi, const bool *idle)
{
	size_t i, j;

	for (i = lo; i < hi; i = j) {
		uint64_t ns = 0, cnt = 0;

		for (j = i; j < hi && !stack_cmp_frames(v[i], v[j]); j++) {
			if (stack_idle(x, v[j], idle))
				continue;
			ns += v[j]->ns;
			cnt += v[j]->count;
		}
		top_insert(sc, v[i], ns, cnt);
	}
}

/* The range of v (sorted by cmp) equal to key under cmp. */
static void equal_range(const struct stack **v, size_t n, const struct stack *key,
			int (*cmp)(const struct stack *, const struct stack *), size_t *lo,
			size_t *hi)
{
	size_t a = 0, b = n, mid;

	while (a < b) {
		mid = (a + b) / 2;
		if (cmp(v[mid], key) < 0)
			a = mid + 1;
		else
			b = mid;
	}
	*lo = a;
	for (b = a; b < n && !cmp(v[b], key); b++)
		;
	*hi = b;
}

static int key_cat(const struct stack *a, const struct stack *b)
{
	return a->cat < b->cat ? -1 : a->cat > b->cat;
}

static int key_pid_cat(const struct stack *a, const struct stack *b)
{
	if (a->pid != b->pid)
		return a->pid < b->pid ? -1 : 1;
	return key_cat(a, b);
}

void adv_stack_evidence(const struct adv_ctx *x, struct adv_scope *sc, const bool *idle)
{
	struct stack key = { .pid = sc->pid };
	size_t lo, hi;

	if (sc->cat < 0 || !x->p->nstacks)
		return;
	key.cat = sc->cat;
	if (sc->whole) {
		equal_range(x->by_cat, x->p->nstacks, &key, key_cat, &lo, &hi);
		top_stacks(x, sc, x->by_cat, lo, hi, idle);
	} else {
		equal_range(x->by_pid, x->p->nstacks, &key, key_pid_cat, &lo, &hi);
		top_stacks(x, sc, x->by_pid, lo, hi, idle);
	}
}

/* Where a CPython thread's on-CPU sample ran. */
enum interp_where { IN_UNKNOWN, IN_INTERP, IN_NATIVE };

/* Libraries both the interpreter and extensions call (malloc, memcpy, the vDSO's clock): a
 * sample there belongs to its caller. */
static bool shared_library(const char *module)
{
	static const char *const libs[] = { "libc.so", "libm.so", "ld-linux", "libpthread.so",
					    "[vdso]" };
	size_t i;

	for (i = 0; i < sizeof(libs) / sizeof(libs[0]); i++)
		if (!strncmp(module, libs[i], strlen(libs[i])))
			return true;
	return false;
}

/*
 * The innermost user frame outside the shared libraries decides: in CPython's own object
 * (python3.X, libpython3.X) the thread holds the GIL; in any other object (an extension, the
 * library it wraps) it may have released it. A stack cut before such a frame (libc without
 * frame pointers), or a frame in no known object, is unknown.
 */
static enum interp_where interp_where(const struct stack *st)
{
	char rt[RUNTIME_LEN];
	uint32_t i;

	for (i = st->nframes; i-- > 0;) {
		const struct frame *f = &st->frames[i];

		if (f->kernel)
			continue;
		if (f->module && shared_library(f->module))
			continue;
		if (!f->module || *f->module == '[') /* [unknown], [concur]'s marks */
			return IN_UNKNOWN;
		return runtime_of_module(f->module, rt) && !strncmp(rt, "CPython", 7) ? IN_INTERP :
											IN_NATIVE;
	}
	return IN_UNKNOWN;
}

void adv_interp_evidence(const struct adv_ctx *x, struct adv_scope *sc, const bool *idle)
{
	struct stack key = { .pid = sc->pid, .cat = CAT_CPU };
	uint64_t samples = 0;
	size_t lo, hi, i;

	if (sc->whole || strncmp(sc->runtime, "CPython", 7) || !x->p->nstacks)
		return;
	equal_range(x->by_pid, x->p->nstacks, &key, key_pid_cat, &lo, &hi);
	for (i = lo; i < hi; i++) {
		const struct stack *st = x->by_pid[i];

		if (stack_idle(x, st, idle))
			continue;
		switch (interp_where(st)) {
		case IN_INTERP:
			sc->interp_ns += st->ns;
			samples += st->count;
			break;
		case IN_NATIVE:
			sc->native_ns += st->ns;
			samples += st->count;
			break;
		default:
			break;
		}
	}
	sc->interp_known = samples >= INTERP_MIN_SAMPLES;
}

void adv_sort_stacks(const struct profile *p, const struct stack **by_pid,
		     const struct stack **by_cat)
{
	size_t i;

	for (i = 0; i < p->nstacks; i++)
		by_pid[i] = by_cat[i] = &p->stacks[i];
	qsort(by_pid, p->nstacks, sizeof(*by_pid), cmp_pid_cat_frames);
	qsort(by_cat, p->nstacks, sizeof(*by_cat), cmp_cat_frames);
}
