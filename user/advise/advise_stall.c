// SPDX-License-Identifier: MIT
/*
 * Event-loop stalls: a thread that runs an event loop and blocks in anything but its poll.
 *
 * An event loop overlaps its tasks' waits only while every wait goes through its poll; a
 * synchronous call inside a callback (time.sleep, a blocking socket round trip, a file read,
 * a lock) holds the loop's only thread, and every other task waits its turn. The loop is
 * recognised two ways:
 *  - CPython's asyncio, by its Python frames: a blocked stack that runs through
 *    BaseEventLoop._run_once (asyncio/base_events.py) and then Handle._run (asyncio/events.py)
 *    was blocked inside a callback, i.e. in a coroutine's step. This works when the loop never
 *    blocks in its poll at all (every task blocks synchronously, so epoll_wait always finds
 *    events ready and returns at once, and the poll category stays empty).
 *  - Any runtime, by the rule: a thread that polls (STALL_MIN_POLLS waits or more in poll,
 *    select, epoll) and also blocks outside its poll.
 *  - A CPU stall, by the thread's own loop iterations (include/account.h): woken from its poll,
 *    it computed LOOP_STALL_NS or more before it polled again (a callback that computes).
 * Blocked "outside its poll": network, pipe and disk I/O, sleep, a lock other than CPython's
 * GIL (the GIL has its own verdict), other syscalls. Waiting for children is a supervisor's
 * wait (its children's time), never a stall.
 */
#include <string.h>
#include "advise_internal.h"
#include "concur.h" /* LOOP_STALL_NS */

/* A thread with fewer poll waits than this is not known to run a loop by the rule (one poll
 * at start-up, e.g. a connect with a timeout, does not make an event loop). */
#define STALL_MIN_POLLS 10

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = s ? strlen(s) : 0, k = strlen(suffix);

	return n >= k && !strcmp(s + n - k, suffix);
}

/* Frame f is the Python function qualname (file ending in file_suffix). Python frames are
 * named "qualname (file.py:line)", with file set (profile.h). */
static bool py_frame_is(const struct frame *f, const char *qualname, const char *file_suffix)
{
	size_t k = strlen(qualname);

	return f->file && f->name && !strncmp(f->name, qualname, k) && f->name[k] == ' ' &&
	       ends_with(f->file, file_suffix);
}

/* The index of the first frame after asyncio's _run_once → Handle._run (a callback's body:
 * the coroutine's step), or -1 when the stack does not run in an asyncio callback. */
static int asyncio_callback(const struct stack *st)
{
	uint32_t i;
	bool loop = false;

	for (i = 0; i < st->nframes; i++) {
		const struct frame *f = &st->frames[i];

		if (py_frame_is(f, "BaseEventLoop._run_once", "asyncio/base_events.py"))
			loop = true;
		else if (loop && py_frame_is(f, "Handle._run", "asyncio/events.py"))
			return (int)i + 1;
	}
	return -1;
}

/* A library's Python file (the standard library, site- or dist-packages): the call site the
 * user wrote is further out. */
static bool library_file(const char *file)
{
	return strstr(file, "/lib/python") || strstr(file, "-packages/");
}

/* Libraries every blocking call goes through: the call is named in the caller's terms. */
static bool shared_module(const char *m)
{
	return !m || *m == '[' || !strncmp(m, "libc.so", 7) || !strncmp(m, "libpthread.so", 13) ||
	       !strncmp(m, "ld-linux", 8);
}

/*
 * Names the code that blocks in st, from frame `from` on: for Python, the innermost Python
 * frame outside the libraries (the user's call site, e.g. "request (client.py:16)"), else the
 * innermost Python frame; for native code, the innermost user frame outside the C library.
 * The call is the innermost user frame (the C library's wrapper: "clock_nanosleep", "recv").
 */
static void name_blocker(const struct stack *st, uint32_t from, struct adv_stall *s)
{
	const char *py_any = NULL, *py_user = NULL, *native = NULL, *call = NULL;
	uint32_t i;

	for (i = from; i < st->nframes; i++) {
		const struct frame *f = &st->frames[i];

		if (f->kernel)
			break;
		if (f->file) {
			py_any = f->name;
			if (!library_file(f->file))
				py_user = f->name;
			continue;
		}
		call = f->name;
		if (!shared_module(f->module))
			native = f->name;
	}
	s->function = py_user ? py_user : py_any ? py_any : native;
	s->call = call;
}

/* Categories a loop's thread blocks in outside its poll. */
static bool stalling_cat(uint32_t c)
{
	return c == CAT_IO_DISK || c == CAT_IO_NET || c == CAT_IO_PIPE || c == CAT_SLEEP ||
	       c == CAT_LOCK || c == CAT_OTHER;
}

/*
 * By the rule alone (no asyncio frames), a disk wait is no stall: a loop's disk waits are
 * often inside its own completion wait (io_uring_enter runs a read inline, or waits for one,
 * in the syscall that is its poll: tests/kernel/workloads/uring_reader.c's loop read as
 * "stalled" 73 % in io.disk) or in the page faults of a mapped file, and a loop that must read
 * files has no readiness to wait on. In asyncio's callbacks, a file read is a stall.
 */
static bool native_stall(uint32_t c)
{
	return c != CAT_IO_DISK;
}

/* Adds stack st (blocked outside the poll; python: seen in an asyncio callback, from: its
 * first frame there) to its thread's stall. */
static void add_stall(struct adv_stall *s, const struct stack *st, bool python, uint32_t from)
{
	uint64_t avg = st->count ? st->ns / st->count : st->ns;

	if (python && !s->python) { /* the frames are the stronger evidence: start over */
		*s = (struct adv_stall){ .tid = s->tid, .python = true, .cat = -1 };
	} else if (!python && s->python) {
		return;
	}
	s->ns += st->ns;
	s->count += st->count;
	if (avg > s->longest_ns)
		s->longest_ns = avg;
	if (s->cat < 0 || st->ns > s->worst_ns) {
		s->worst_ns = st->ns;
		s->cat = (int)st->cat;
		name_blocker(st, from, s);
	}
}

/* Functions a CPU stall's on-CPU samples are weighed over, per thread; the rest are not named. */
#define CPU_FN_MAX 64

struct fn_weight {
	const char *name; /* interned: equal names, equal pointers */
	uint64_t ns;
};

/* The function an on-CPU stack is charged to: in an asyncio callback, the innermost Python
 * frame outside the libraries (else the innermost Python frame); otherwise the leaf user
 * frame. *python: it ran in an asyncio callback. */
static const char *cpu_function(const struct stack *st, bool *python)
{
	struct adv_stall tmp = { .cat = -1 };
	int from = asyncio_callback(st);
	const char *leaf = NULL;
	uint32_t i;

	*python = from >= 0;
	if (*python) {
		name_blocker(st, (uint32_t)from, &tmp);
		return tmp.function;
	}
	for (i = 0; i < st->nframes && !st->frames[i].kernel; i++)
		leaf = st->frames[i].name;
	return leaf;
}

/* Names thread t's CPU stall by its heaviest on-CPU function (asyncio callbacks' first). */
static void name_cpu_stall(const struct profile *p, const struct thread *t, struct adv_stall *s)
{
	struct fn_weight w[CPU_FN_MAX];
	size_t n = 0, i, k;
	uint64_t best = 0;
	bool py, best_py = false;

	for (i = 0; i < p->nstacks; i++) {
		const struct stack *st = &p->stacks[i];
		const char *fn;

		if (st->cat != CAT_CPU || st->pid != t->pid || st->tid != t->tid)
			continue;
		fn = cpu_function(st, &py);
		if (!fn || (best_py && !py))
			continue;
		if (py && !best_py) /* asyncio's callbacks are the stronger evidence: start over */
			n = 0, best = 0, best_py = true;
		for (k = 0; k < n && w[k].name != fn; k++)
			;
		if (k == n) {
			if (n == CPU_FN_MAX)
				continue;
			w[n++] = (struct fn_weight){ fn, 0 };
		}
		w[k].ns += st->ns;
		if (w[k].ns > best)
			best = w[k].ns, s->function = fn;
	}
	s->python = best_py;
}

static uint64_t life_ns(const struct thread *t);

/*
 * Replaces thread i's stall with its CPU stall when that is the larger. Not for a loop that
 * wants a CPU LOOP_BUSY_SHARE of its life or more: one that always finds events ready never
 * blocks in its poll, so all its callbacks, short or long, make one long "iteration"; it is
 * saturated (rule_loop_saturated), not stalled by one callback (busy_loop.py: on a CPU or
 * runnable 99 %, 2 "iterations" of 270 and 340 ms).
 */
static void cpu_stall(const struct adv_ctx *x, size_t i)
{
	const struct thread *t = &x->p->threads[i];
	struct adv_stall *s = &x->stalls[i];
	uint64_t life = life_ns(t);

	if (!t->cpu_stalls || t->cpu_stall_ns <= s->ns)
		return;
	if (life && t->ns[CAT_CPU] + t->ns[CAT_RUNQUEUE] >= LOOP_BUSY_SHARE * life)
		return;
	*s = (struct adv_stall){ .tid = t->tid, .cpu = true, .cat = CAT_CPU };
	s->ns = t->cpu_stall_ns;
	s->count = t->cpu_stalls;
	s->longest_ns = t->cpu_stall_max_ns;
	s->worst_ns = t->cpu_stall_ns;
	name_cpu_stall(x->p, t, s);
}

void adv_loop_stalls(const struct adv_ctx *x)
{
	const struct profile *p = x->p;
	size_t i, t;
	int from;

	for (i = 0; i < p->nthreads; i++)
		x->stalls[i] = (struct adv_stall){ .tid = p->threads[i].tid, .cat = -1 };
	for (i = 0; i < p->nstacks; i++) {
		const struct stack *st = &p->stacks[i];

		if (!stalling_cat(st->cat) || st->gil != STACK_GIL_NONE)
			continue;
		t = adv_thread_index(p, st->pid, st->tid);
		if (t >= p->nthreads)
			continue;
		from = asyncio_callback(st);
		if (from >= 0)
			add_stall(&x->stalls[t], st, true, (uint32_t)from);
		else if (p->threads[t].cnt[CAT_POLL] >= STALL_MIN_POLLS && native_stall(st->cat))
			add_stall(&x->stalls[t], st, false, 0);
	}
	/* A loop by the rule, but no stacks (--no-stacks, or none captured): its split says how
	 * long it blocked outside its poll, without a name. The GIL's wait is no stall. */
	for (i = 0; i < p->nthreads; i++) {
		const struct thread *th = &p->threads[i];
		struct adv_stall *s = &x->stalls[i];
		uint64_t ns = 0, cnt = 0;
		int c;

		if (s->ns || th->cnt[CAT_POLL] < STALL_MIN_POLLS)
			continue;
		for (c = 0; c < CAT_MAX; c++) {
			if (!stalling_cat((uint32_t)c) || !native_stall((uint32_t)c))
				continue;
			ns += c == CAT_LOCK ?
				      (th->ns[c] > x->gil_ns[i] ? th->ns[c] - x->gil_ns[i] : 0) :
				      th->ns[c];
			cnt += th->cnt[c];
			if (th->ns[c] > s->worst_ns)
				s->worst_ns = th->ns[c], s->cat = c;
		}
		s->ns = ns;
		s->count = cnt;
		s->longest_ns = cnt ? ns / cnt : 0;
	}
	for (i = 0; i < p->nthreads; i++)
		cpu_stall(x, i);
}

/*
 * The speedup bound of overlapping a loop's stalls. The thread was stalled S in waits that
 * belong to concurrent tasks. Overlapped at best (all at once), they still take at least the
 * longest single wait: the stalled part shrinks by at most S / longest, and the whole run,
 * whose rest does not shrink, by less (T / (T - S + longest) <= S / longest when S >=
 * longest). The profile has per code path a sum and a count, not each wait: the largest
 * per-path average is at most the longest wait, which keeps S / longest an upper bound.
 * Why not the tighter T / (T - S + longest): the rest (start-up, imports) is measured under
 * the profiler, which inflates it (tests/kernel/scenarios/stalled_loop.py: 104 ms on a CPU
 * profiled, while the whole untraced async variant took about 110 ms), so that estimate fell
 * below the measured speedup (6.25x against 9.2x). Waits that depend on each other (one
 * task's calls in sequence) overlap less; the cap (IO_BOUND_CAP) stands for the other end
 * (the server, the device), which the profile does not measure. life_ns is unused but for
 * the no-stall case: a thread with no life has no bound.
 */
double adv_stall_bound(uint64_t life_ns, const struct adv_stall *s)
{
	double b;

	if (!life_ns || !s->ns)
		return 1.0;
	b = s->longest_ns ? (double)s->ns / s->longest_ns : IO_BOUND_CAP;
	return b > IO_BOUND_CAP ? IO_BOUND_CAP : b < 1.0 ? 1.0 : b;
}

/* A thread's life without its wait for children (that time is its children's). */
static uint64_t life_ns(const struct thread *t)
{
	uint64_t life = thread_lifetime_ns(t);

	return life > t->ns[CAT_WAIT] ? life - t->ns[CAT_WAIT] : 0;
}

bool adv_stalled_thread(const struct adv_ctx *x, size_t i)
{
	const struct adv_stall *s = &x->stalls[i];

	return (s->python || s->cpu) && s->ns && s->ns >= STALL_SHARE * life_ns(&x->p->threads[i]);
}

/* Verdicts a stall can explain: waits outside the CPU. CPU work and saturation stay theirs (a
 * loop busy computing is the busy-loop rule's), and so do children and the GIL; but a loop
 * whose computing comes in long iterations (a CPU stall) is stalled, whatever it does else. */
static bool stall_may_decide(const struct adv_scope *sc, const struct metrics *m, bool cpu)
{
	if (cpu)
		return sc->verdict != ADV_TOO_SHORT && sc->verdict != ADV_NO_THREADS &&
		       sc->verdict != ADV_WAIT;
	switch (sc->verdict) {
	case ADV_IDLE:
	case ADV_IO_DISK:
	case ADV_IO_NET:
	case ADV_IO_PIPE:
	case ADV_LOOP_WAITING:
	case ADV_SLEEP:
	case ADV_OTHER:
		return true;
	case ADV_LOCK:
		return m->gil_share < GIL_LOCK_SHARE;
	default:
		return false;
	}
}

/* What to do about the blocking call, in the loop's terms. */
static void stall_fix(char *buf, const struct adv_stall *s)
{
	const char *fn = s->function ? s->function : "the loop's callbacks";

	if (!s->python)
		adv_format(buf,
			   "Make the call in %s non-blocking and let the loop wait for it (or "
			   "hand it to a worker thread): the loop's other events stop waiting "
			   "behind it.",
			   fn);
	else if (s->cat == CAT_SLEEP)
		adv_format(buf,
			   "Await asyncio.sleep() instead of time.sleep() in %s: the tasks' "
			   "waits then overlap.",
			   fn);
	else if (s->cat == CAT_IO_NET)
		adv_format(buf,
			   "Await the async version of the socket call in %s (asyncio streams, "
			   "an async client): the tasks' waits then overlap.",
			   fn);
	else
		adv_format(buf,
			   "Await the blocking call in %s through asyncio.to_thread() or "
			   "loop.run_in_executor(): the loop keeps serving meanwhile.",
			   fn);
}

static void stall_rows(struct adv_scope *sc)
{
	const struct adv_stall *s = &sc->stall;
	const char *fn = s->function ? s->function : "the loop's callbacks";
	double b = sc->stall_bound;
	char basis[ADV_TEXT];
	struct adv_row *r;
	int l;

	adv_format(basis,
		   "the loop blocked %.0f%% of its %.2f s outside its poll (%llu waits, %.0f ms); "
		   "overlapped, they take at least %.1f ms, its longest code path's average%s",
		   adv_percent((double)s->ns / sc->stall_life_ns), sc->stall_life_ns / 1e9,
		   (unsigned long long)s->count, s->ns / 1e6, s->longest_ns / 1e6,
		   b >= IO_BOUND_CAP ? "; capped: beyond, the other end is the limit" : "");
	stall_fix(adv_set_row(sc, ADV_ASYNC, ADV_HELPS, b)->reason, s);
	r = adv_set_row(sc, ADV_THREADS, ADV_HELPS, b);
	if (s->python)
		adv_format(r->reason,
			   "asyncio.to_thread() or loop.run_in_executor() runs the blocking call "
			   "in %s on a worker thread while the loop serves the other tasks.",
			   fn);
	else
		adv_format(r->reason,
			   "A worker thread for the blocking call in %s keeps the loop serving.",
			   fn);
	adv_format(adv_set_row(sc, ADV_PROCESSES, ADV_HELPS, b)->reason,
		   "Several loops (processes) overlap their stalls too, at a process's memory "
		   "each: unblocking the call is cheaper.");
	for (l = 0; l < ADV_LEVER_MAX; l++)
		adv_format(sc->rows[l].basis, "%s", basis);
}

/*
 * A CPU stall's levers. Async cannot help: the loop is computing, with nothing to await. Moving
 * the computation off the loop (loop.run_in_executor with a ProcessPoolExecutor) frees the loop,
 * and the computation then runs on the idle CPUs: the run takes at least the rest of the
 * loop's time (life - S) and at least S spread over the idle CPUs, so the speedup is at most
 * life / max(life - S, S / idle); no idle CPU, no gain. A thread helps the same only where the
 * work releases CPython's GIL (a C extension's loop); pure Python holds it, and the loop then
 * waits for the GIL instead. For a native loop a worker thread is the same bound.
 */
static void cpu_stall_rows(struct adv_scope *sc, double idle_cpus, double bound)
{
	const struct adv_stall *s = &sc->stall;
	const char *fn = s->function ? s->function : "the loop's callbacks";
	char basis[ADV_TEXT];
	struct adv_row *r;
	int l;

	adv_format(basis,
		   "%llu loop iterations of %.0f ms or more computing, %.2f s of its %.2f s "
		   "(longest %.0f ms), %.1f idle CPUs to move them to",
		   (unsigned long long)s->count, LOOP_STALL_NS / 1e6, s->ns / 1e9,
		   sc->stall_life_ns / 1e9, s->longest_ns / 1e6, idle_cpus);
	adv_format(adv_set_row(sc, ADV_ASYNC, ADV_NO_EFFECT, 0)->reason,
		   "The loop is computing in %s, with nothing to await: more coroutines only "
		   "queue behind it.",
		   fn);
	r = adv_set_row(sc, ADV_PROCESSES, bound >= MIN_GAIN ? ADV_HELPS : ADV_NO_EFFECT,
			bound >= MIN_GAIN ? bound : 0);
	adv_format(r->reason,
		   "loop.run_in_executor() with a ProcessPoolExecutor runs %s on another CPU "
		   "while the loop serves the other tasks%s.",
		   fn, bound >= MIN_GAIN ? "" : ", but no CPU is idle to run it");
	if (s->python) {
		adv_format(adv_set_row(sc, ADV_THREADS, ADV_NO_EFFECT, 0)->reason,
			   "A worker thread (asyncio.to_thread) helps only where %s releases the "
			   "GIL (a C extension's work); pure Python holds it, and the loop waits "
			   "for the GIL instead.",
			   fn);
	} else {
		r = adv_set_row(sc, ADV_THREADS, bound >= MIN_GAIN ? ADV_HELPS : ADV_NO_EFFECT,
				bound >= MIN_GAIN ? bound : 0);
		adv_format(r->reason, "A worker thread for %s keeps the loop serving.", fn);
	}
	for (l = 0; l < ADV_LEVER_MAX; l++)
		adv_format(sc->rows[l].basis, "%s", basis);
}

static bool cpu_stall_verdict(struct adv_scope *sc, const struct adv_stall *s, uint64_t life)
{
	double idle_cpus = sc->cpus > sc->parallelism ? sc->cpus - sc->parallelism : 0;
	double rest, spread, bound = 1.0;

	if (!life || s->ns < STALL_SHARE * life)
		return false;
	rest = (double)(life - (s->ns < life ? s->ns : life));
	if (idle_cpus >= 1.0) {
		spread = s->ns / idle_cpus;
		bound = (double)life / (rest > spread ? rest : spread);
	}
	sc->stall = *s;
	sc->stall_life_ns = life;
	sc->stall_bound = bound;
	sc->verdict = ADV_LOOP_STALLED;
	sc->cat = CAT_CPU;
	adv_format(sc->why,
		   "A stalled event loop: thread %u%s computed in %llu iterations of %.0f ms or "
		   "more between its polls, %.0f%% of its time, most in %s: every other task "
		   "waited up to %.0f ms more (its longest iteration).",
		   s->tid, s->python ? " runs asyncio's loop, yet" : "",
		   (unsigned long long)s->count, LOOP_STALL_NS / 1e6,
		   adv_percent((double)s->ns / life), s->function ? s->function : "its callbacks",
		   s->longest_ns / 1e6);
	cpu_stall_rows(sc, idle_cpus, bound);
	return true;
}

bool adv_stall_verdict(const struct adv_ctx *x, struct adv_scope *sc, const struct metrics *m,
		       const size_t *idx, size_t n, const bool *idle)
{
	const struct adv_stall *worst = NULL;
	uint64_t total = 0, life = 0;
	size_t i;

	if (!x->stalls || !sc->active_ns)
		return false;
	for (i = 0; i < n; i++) {
		const struct adv_stall *s = &x->stalls[idx[i]];

		if (idle[idx[i]] || !s->ns)
			continue;
		total += s->ns;
		if (!worst || s->ns > worst->ns)
			worst = s, life = life_ns(&x->p->threads[idx[i]]);
	}
	if (!worst || !stall_may_decide(sc, m, worst->cpu))
		return false;
	if (worst->cpu)
		return cpu_stall_verdict(sc, worst, life);
	if (total < STALL_SHARE * sc->active_ns)
		return false;
	if (adv_stall_bound(life, worst) < MIN_GAIN)
		return false;
	sc->stall = *worst;
	sc->stall_life_ns = life;
	sc->stall_bound = adv_stall_bound(life, worst);
	sc->verdict = ADV_LOOP_STALLED;
	sc->cat = worst->cat;
	if (worst->python)
		adv_format(sc->why,
			   "A stalled event loop: thread %u runs asyncio's loop, yet was blocked "
			   "%.0f%% of its time outside its poll (%llu waits), most in %s under "
			   "%s%s%s: its tasks waited their turn.",
			   worst->tid, adv_percent((double)worst->ns / life),
			   (unsigned long long)worst->count, cat_names[worst->cat],
			   worst->function ? worst->function : "a callback",
			   worst->call ? " → " : "", worst->call ? worst->call : "");
	else
		adv_format(sc->why,
			   "A stalled event loop: thread %u polls, yet was blocked %.0f%% of its "
			   "time outside its poll (%llu waits), most in %s%s%s: its other events "
			   "waited behind it.",
			   worst->tid, adv_percent((double)worst->ns / life),
			   (unsigned long long)worst->count,
			   worst->cat >= 0 ? cat_names[worst->cat] : "?",
			   worst->function ? " under " : "",
			   worst->function ? worst->function : "");
	stall_rows(sc);
	return true;
}
