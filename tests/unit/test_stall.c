// SPDX-License-Identifier: MIT
/* Event-loop stalls (user/advise/advise_stall.c) on synthetic profiles with stacks. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include "account.h"
#include "advise/advise.h"
#include "advise/advise_internal.h"
#include "fixture.h"

#define MS	   1000000ull
#define T0	   (1000 * MS)
#define SPLIT(...) ((const uint64_t[CAT_MAX]){ __VA_ARGS__ })

static char *command[] = { "/usr/bin/python3", "client.py", NULL };
static struct advice a;
static struct profile *prof;

static struct profile *new_profile(uint64_t window_ms, int cpus)
{
	struct profile *p = profile__new(MODE_RUN, command);

	cr_assert_not_null(p);
	p->window_start_ns = T0;
	p->window_ns = window_ms * MS;
	p->cpus = cpus;
	return p;
}

/* A thread whose categories hold exactly split[] (ms), each category's time in reps equal
 * intervals (reps waits in poll: what makes a loop by the rule). */
static void add_thread_reps(struct profile *p, __u32 pid, __u32 tid, unsigned reps,
			    const uint64_t split_ms[CAT_MAX])
{
	struct acct_delta queue;
	struct thread_acct acct;
	__u64 t = T0, blocks = 0, split[CAT_MAX], used = 0;
	unsigned r;
	int c;

	for (c = 0; c < CAT_MAX; c++)
		split[c] = split_ms[c] * MS;
	for (c = CAT_CPU + 1; c < CAT_MAX; c++)
		blocks += split[c] != 0;
	memset(&acct, 0, sizeof(acct));
	acct_init(&acct, pid, tid, t, TS_RUNNING, CAT_OTHER, CONCUR_NO_SYSCALL);
	snprintf(acct.comm, sizeof(acct.comm), "t%u", tid);
	for (r = 0; r < reps; r++)
		for (c = CAT_CPU + 1; c < CAT_MAX; c++) {
			if (!split[c])
				continue;
			t += split[CAT_CPU] / blocks / reps;
			used += split[CAT_CPU] / blocks / reps;
			acct_switch_out(&acct, t, c == CAT_RUNQUEUE, c, c == CAT_OTHER ? 16 : 0,
					(struct acct_kclock){ 0, 0 });
			t += split[c] / reps;
			acct_switch_in(&acct, t, 0, &queue);
		}
	t += split[CAT_CPU] - used;
	cr_assert_eq(fixture_add_thread(p, &acct, t), 0);
}

/* A frame spec: "name@module", a Python frame "qualname (file.py:line)|/path/file.py", or a
 * kernel frame "name@[kernel]". */
static struct frame frame_of(struct profile *p, const char *spec)
{
	struct frame f = { 0 };
	char buf[256];
	char *at, *bar;

	snprintf(buf, sizeof(buf), "%s", spec);
	bar = strchr(buf, '|');
	if (bar) {
		*bar = '\0';
		f.name = profile__intern(p, buf);
		f.module = profile__intern(p, "python3.11");
		f.file = profile__intern(p, bar + 1);
		f.line = 1;
		return f;
	}
	at = strchr(buf, '@');
	cr_assert_not_null(at);
	*at = '\0';
	f.name = profile__intern(p, buf);
	f.module = profile__intern(p, at + 1);
	f.kernel = !strcmp(at + 1, "[kernel]");
	return f;
}

static void add_stack(struct profile *p, __u32 tid, __u32 cat, uint64_t ms, uint64_t count,
		      uint32_t gil, const char *const *frames)
{
	struct stack st = { .pid = 10, .tid = tid, .cat = cat, .ns = ms * MS, .count = count };
	uint32_t n = 0;

	while (frames[n])
		n++;
	st.nframes = n;
	st.gil = gil;
	st.frames = calloc(n, sizeof(*st.frames));
	cr_assert_not_null(st.frames);
	for (n = 0; frames[n]; n++)
		st.frames[n] = frame_of(p, frames[n]);
	cr_assert_eq(profile__add_stack(p, &st), 0);
}

#define FRAMES(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define LOOP                                                                                  \
	"<module> (client.py:29)|/srv/client.py", "run (runners.py:190)|" PYLIB "runners.py", \
		"BaseEventLoop.run_forever (base_events.py:607)|" PYLIB "base_events.py",     \
		"BaseEventLoop._run_once (base_events.py:1922)|" PYLIB "base_events.py",      \
		"Handle._run (events.py:80)|" PYLIB "events.py"
#define PYLIB "/usr/lib/python3.11/asyncio/"

static const struct adv_scope *run(struct profile *p, bool cpython)
{
	profile__finish(p);
	if (cpython)
		snprintf(profile__find_proc(p, 10)->runtime, 16, "CPython 3.11");
	prof = p;
	cr_assert_eq(advise(p, &a), 0);
	cr_assert_eq(a.nprocs, 1);
	return &a.procs[0];
}

static void done(void)
{
	advice_free(&a);
	profile__free(prof);
	prof = NULL;
}

TestSuite(stall, .fini = done);

/* Case 18's sleep variant: 90 tasks each call time.sleep(0.02) in a coroutine. The loop never
 * blocks in its poll (every select finds a task ready), so only the frames tell the loop. */
Test(stall, asyncio_loop_stalled_by_time_sleep_without_any_poll)
{
	struct profile *p = new_profile(2000, 2);
	const struct adv_scope *sc;

	add_thread_reps(p, 10, 10, 1, SPLIT([CAT_CPU] = 100, [CAT_SLEEP] = 1800));
	add_stack(p, 10, CAT_SLEEP, 1800, 90, STACK_GIL_NONE,
		  FRAMES(LOOP, "request (client.py:16)|/srv/client.py", "clock_nanosleep@libc.so.6",
			 "do_nanosleep@[kernel]", "schedule@[kernel]"));
	sc = run(p, true);
	cr_expect_eq(sc->verdict, ADV_LOOP_STALLED, "got %s", adv_verdict_keys[sc->verdict]);
	cr_expect_eq(sc->cat, CAT_SLEEP);
	cr_expect(sc->stall.python);
	cr_expect_str_eq(sc->stall.function, "request (client.py:16)");
	cr_expect_str_eq(sc->stall.call, "clock_nanosleep");
	cr_expect_eq(sc->stall.longest_ns, 20 * MS);
	/* 1800 ms stalled in waits of 20 ms: 90x overlapped, capped at 10. */
	cr_expect_eq(sc->rows[ADV_ASYNC].effect, ADV_HELPS);
	cr_expect_float_eq(sc->rows[ADV_ASYNC].bound, IO_BOUND_CAP, 1e-9);
	cr_expect_eq(sc->best, ADV_ASYNC, "the same bound: async is the cheapest");
	cr_expect_neq(strstr(sc->why, "request (client.py:16)"), NULL, "%s", sc->why);
	cr_expect_neq(strstr(sc->rows[ADV_ASYNC].reason, "asyncio.sleep()"), NULL);
	cr_expect_neq(strstr(sc->rows[ADV_THREADS].reason, "asyncio.to_thread()"), NULL);
	cr_expect_eq(sc->ntop, 1, "the stalling stack is the evidence");
	cr_expect_eq(a.whole.verdict, ADV_LOOP_STALLED);
}

/* The bound below the cap: the stalled time over the longest wait. */
Test(stall, bound_is_stalled_time_over_longest_wait)
{
	struct profile *p = new_profile(1000, 2);
	const struct adv_scope *sc;

	add_thread_reps(p, 10, 10, 1, SPLIT([CAT_CPU] = 400, [CAT_IO_NET] = 500, [CAT_POLL] = 100));
	add_stack(p, 10, CAT_IO_NET, 300, 10, STACK_GIL_NONE,
		  FRAMES(LOOP, "fetch (app.py:31)|/srv/app.py", "recv@libc.so.6",
			 "tcp_recvmsg@[kernel]"));
	add_stack(p, 10, CAT_IO_NET, 200, 2, STACK_GIL_NONE,
		  FRAMES(LOOP, "login (app.py:12)|/srv/app.py", "recv@libc.so.6",
			 "tcp_recvmsg@[kernel]"));
	sc = run(p, true);
	cr_assert_eq(sc->verdict, ADV_LOOP_STALLED, "got %s", adv_verdict_keys[sc->verdict]);
	cr_expect_eq(sc->stall.ns, 500 * MS);
	cr_expect_eq(sc->stall.longest_ns, 100 * MS, "login's 2 waits average 100 ms");
	cr_expect_str_eq(sc->stall.function, "fetch (app.py:31)", "the heaviest path is named");
	cr_expect_float_eq(sc->rows[ADV_ASYNC].bound, 500.0 / 100, 1e-6);
	cr_expect_neq(strstr(sc->rows[ADV_ASYNC].reason, "socket call in fetch (app.py:31)"), NULL,
		      "%s", sc->rows[ADV_ASYNC].reason);
}

/* The user's call site is named, not the standard library's socket.create_connection. */
Test(stall, library_frames_name_the_callers_function)
{
	struct profile *p = new_profile(1000, 2);
	const struct adv_scope *sc;

	add_thread_reps(p, 10, 10, 1, SPLIT([CAT_CPU] = 100, [CAT_IO_NET] = 900));
	add_stack(p, 10, CAT_IO_NET, 900, 30, STACK_GIL_NONE,
		  FRAMES(LOOP, "request (client.py:12)|/srv/client.py",
			 "create_connection (socket.py:836)|/usr/lib/python3.11/socket.py",
			 "connect@libc.so.6", "inet_wait_for_connect@[kernel]"));
	sc = run(p, true);
	cr_assert_eq(sc->verdict, ADV_LOOP_STALLED);
	cr_expect_str_eq(sc->stall.function, "request (client.py:12)");
	cr_expect_str_eq(sc->stall.call, "connect");
}

/* A stalled loop that hardly computes is still not idle: it was not parked, its tasks were
 * held up (the idle rule alone would call a thread 99% asleep with 1% CPU idle). */
Test(stall, stalled_loop_with_little_cpu_is_not_idle)
{
	struct profile *p = new_profile(1000, 2);
	const struct adv_scope *sc;

	add_thread_reps(p, 10, 10, 1, SPLIT([CAT_CPU] = 10, [CAT_SLEEP] = 990));
	add_stack(p, 10, CAT_SLEEP, 990, 10, STACK_GIL_NONE,
		  FRAMES(LOOP, "tick (app.py:5)|/srv/app.py", "clock_nanosleep@libc.so.6"));
	sc = run(p, true);
	cr_expect_eq(sc->idle, 0);
	cr_expect_eq(sc->verdict, ADV_LOOP_STALLED, "got %s", adv_verdict_keys[sc->verdict]);
}

/* A sleep outside the loop's callbacks (before asyncio.run) is a plain sleep. */
Test(stall, sleep_outside_a_callback_is_a_deliberate_sleep)
{
	struct profile *p = new_profile(1000, 2);
	const struct adv_scope *sc;

	add_thread_reps(p, 10, 10, 1, SPLIT([CAT_CPU] = 100, [CAT_SLEEP] = 900));
	add_stack(p, 10, CAT_SLEEP, 900, 9, STACK_GIL_NONE,
		  FRAMES("<module> (app.py:3)|/srv/app.py", "clock_nanosleep@libc.so.6"));
	sc = run(p, true);
	cr_expect_eq(sc->verdict, ADV_SLEEP, "got %s", adv_verdict_keys[sc->verdict]);
	cr_expect_eq(sc->stall.ns, 0);
}

/* A wait for the GIL inside a callback is the GIL's (its own verdict), not a stall. */
Test(stall, gil_wait_in_a_callback_is_no_stall)
{
	struct profile *p = new_profile(1000, 2);
	const struct adv_scope *sc;

	add_thread_reps(p, 10, 10, 1, SPLIT([CAT_CPU] = 300, [CAT_LOCK] = 700));
	add_stack(p, 10, CAT_LOCK, 700, 70, STACK_GIL_TAKE,
		  FRAMES(LOOP, "work (app.py:9)|/srv/app.py", "[GIL] take_gil@python3.11",
			 "futex_wait@[kernel]"));
	sc = run(p, true);
	cr_expect_neq(sc->verdict, ADV_LOOP_STALLED);
	cr_expect_eq(sc->stall.ns, 0);
}

/* A healthy loop: it waits in its poll, its callbacks never block. */
Test(stall, healthy_loop_waiting_in_its_poll_is_not_stalled)
{
	struct profile *p = new_profile(1000, 2);
	const struct adv_scope *sc;

	add_thread_reps(p, 10, 10, 20, SPLIT([CAT_CPU] = 200, [CAT_POLL] = 780, [CAT_SLEEP] = 20));
	add_stack(p, 10, CAT_SLEEP, 20, 1, STACK_GIL_NONE,
		  FRAMES(LOOP, "warm_up (app.py:7)|/srv/app.py", "clock_nanosleep@libc.so.6"));
	sc = run(p, true);
	cr_expect_eq(sc->verdict, ADV_LOOP_WAITING, "got %s", adv_verdict_keys[sc->verdict]);
	cr_expect_eq(sc->rows[ADV_ASYNC].effect, ADV_ALREADY_USED);
}

/* Any runtime, by the rule: a native thread that polls (20 waits) and blocks in recv. */
Test(stall, native_thread_that_polls_and_blocks_elsewhere_is_stalled)
{
	struct profile *p = new_profile(1000, 2);
	const struct adv_scope *sc;

	add_thread_reps(p, 10, 10, 20,
			SPLIT([CAT_CPU] = 100, [CAT_POLL] = 300, [CAT_IO_NET] = 600));
	add_stack(p, 10, CAT_IO_NET, 600, 20, STACK_GIL_NONE,
		  FRAMES("main@server", "serve@server", "handle_client@server", "recv@libc.so.6",
			 "tcp_recvmsg@[kernel]"));
	sc = run(p, false);
	cr_assert_eq(sc->verdict, ADV_LOOP_STALLED, "got %s", adv_verdict_keys[sc->verdict]);
	cr_expect_not(sc->stall.python);
	cr_expect_str_eq(sc->stall.function, "handle_client");
	cr_expect_str_eq(sc->stall.call, "recv");
	/* 600 ms stalled in 20 waits of 30 ms: 20x overlapped, capped at 10. */
	cr_expect_float_eq(sc->rows[ADV_ASYNC].bound, IO_BOUND_CAP, 1e-9);
	cr_expect_neq(strstr(sc->rows[ADV_ASYNC].reason, "non-blocking"), NULL);
}

/* Without stacks, the rule still applies to the split, without a name. */
Test(stall, native_loop_without_stacks_is_judged_on_its_split)
{
	struct profile *p = new_profile(1000, 2);
	const struct adv_scope *sc;

	add_thread_reps(p, 10, 10, 20,
			SPLIT([CAT_CPU] = 100, [CAT_POLL] = 300, [CAT_IO_PIPE] = 600));
	sc = run(p, false);
	cr_assert_eq(sc->verdict, ADV_LOOP_STALLED, "got %s", adv_verdict_keys[sc->verdict]);
	cr_expect_eq(sc->stall.function, NULL);
	cr_expect_eq(sc->stall.cat, CAT_IO_PIPE);
	cr_expect_eq(sc->stall.count, 20);
}

/* By the rule alone, disk waits are no stall: an io_uring loop reads inline in the syscall
 * that is its poll (io_uring_enter), and that is disk-bound work, not a stalled loop. */
Test(stall, native_loop_disk_waits_are_disk_io)
{
	struct profile *p = new_profile(1000, 2);
	const struct adv_scope *sc;

	add_thread_reps(p, 10, 10, 20,
			SPLIT([CAT_CPU] = 100, [CAT_POLL] = 300, [CAT_IO_DISK] = 600));
	sc = run(p, false);
	cr_expect_eq(sc->verdict, ADV_IO_DISK, "got %s", adv_verdict_keys[sc->verdict]);
}

/* A thread that polled a few times (a connect with a timeout) and then blocks is no loop. */
Test(stall, few_polls_do_not_make_a_loop)
{
	struct profile *p = new_profile(1000, 2);
	const struct adv_scope *sc;

	add_thread_reps(p, 10, 10, 3, SPLIT([CAT_CPU] = 100, [CAT_POLL] = 30, [CAT_IO_NET] = 870));
	sc = run(p, false);
	cr_expect_eq(sc->verdict, ADV_IO_NET, "got %s", adv_verdict_keys[sc->verdict]);
}

/* A loop stalled under a quarter of its time keeps the verdict its split gives. */
Test(stall, short_stalls_keep_the_loops_verdict)
{
	struct profile *p = new_profile(1000, 2);
	const struct adv_scope *sc;

	add_thread_reps(p, 10, 10, 20, SPLIT([CAT_CPU] = 100, [CAT_POLL] = 700, [CAT_SLEEP] = 200));
	add_stack(p, 10, CAT_SLEEP, 200, 20, STACK_GIL_NONE,
		  FRAMES(LOOP, "tick (app.py:5)|/srv/app.py", "clock_nanosleep@libc.so.6"));
	sc = run(p, true);
	cr_expect_eq(sc->verdict, ADV_LOOP_WAITING, "got %s", adv_verdict_keys[sc->verdict]);
}

/* An event loop's thread through the real accounting (account.h): reps times, blocked in its
 * poll poll_ms, then computing cpu_ms before it polls again. */
static void add_loop_thread(struct profile *p, __u32 tid, unsigned reps, uint64_t poll_ms,
			    uint64_t cpu_ms)
{
	struct acct_delta queue;
	struct thread_acct acct;
	__u64 t = T0;
	unsigned r;

	memset(&acct, 0, sizeof(acct));
	acct_init(&acct, 10, tid, t, TS_RUNNING, CAT_OTHER, CONCUR_NO_SYSCALL);
	snprintf(acct.comm, sizeof(acct.comm), "t%u", tid);
	for (r = 0; r < reps; r++) {
		acct_switch_out(&acct, t, 0, CAT_POLL, 232, (struct acct_kclock){ 0, 0 });
		t += poll_ms * MS;
		acct_switch_in(&acct, t, 0, &queue);
		t += cpu_ms * MS;
	}
	cr_assert_eq(fixture_add_thread(p, &acct, t), 0);
}

/* An asyncio server whose callback computes 200 ms every 500 ms (the kernel test's scenario,
 * tests/kernel/scenarios/cpu_stalled_loop.py, in miniature). */
Test(stall, asyncio_loop_stalled_by_a_computing_callback)
{
	struct profile *p = new_profile(2000, 2);
	const struct adv_scope *sc;

	add_loop_thread(p, 10, 4, 300, 200);
	add_stack(p, 10, CAT_CPU, 700, 70, STACK_GIL_NONE,
		  FRAMES(LOOP, "handle (server.py:20)|/srv/server.py",
			 "crunch (server.py:12)|/srv/server.py"));
	add_stack(p, 10, CAT_CPU, 100, 10, STACK_GIL_NONE,
		  FRAMES(LOOP, "handle (server.py:20)|/srv/server.py"));
	sc = run(p, true);
	cr_expect_eq(sc->verdict, ADV_LOOP_STALLED, "got %s", adv_verdict_keys[sc->verdict]);
	cr_expect_eq(sc->cat, CAT_CPU);
	cr_expect(sc->stall.cpu);
	cr_expect(sc->stall.python);
	/* The fourth iteration is still open when the window closes: not counted. */
	cr_expect_eq(sc->stall.count, 3);
	cr_expect_eq(sc->stall.ns, 600 * MS);
	cr_expect_eq(sc->stall.longest_ns, 200 * MS);
	cr_assert_not_null(sc->stall.function);
	cr_expect_str_eq(sc->stall.function, "crunch (server.py:12)");
	cr_expect(strstr(sc->why, "crunch (server.py:12)"), "%s", sc->why);
	cr_expect(strstr(sc->why, "200 ms"), "%s", sc->why);
	cr_expect_eq(sc->rows[ADV_ASYNC].effect, ADV_NO_EFFECT);
	cr_expect_eq(sc->rows[ADV_THREADS].effect, ADV_NO_EFFECT);
	cr_expect_eq(sc->rows[ADV_PROCESSES].effect, ADV_HELPS);
	/* life 2 s, S 0.6 s, 2 CPUs at 0.4 busy: 1.6 idle; 2 / max(1.4, 0.375) = 1.43. */
	cr_expect_float_eq(sc->rows[ADV_PROCESSES].bound, 2.0 / 1.4, 1e-3);
	cr_expect(strstr(sc->rows[ADV_PROCESSES].reason, "ProcessPoolExecutor"), "%s",
		  sc->rows[ADV_PROCESSES].reason);
}

/* A loop that never waits in its poll: its callbacks run together as one long "iteration"
 * each time, but it is saturated, not stalled by one callback (busy_loop.py). */
Test(stall, saturated_loop_is_not_a_cpu_stall)
{
	struct profile *p = new_profile(2000, 2);
	const struct adv_scope *sc;

	add_loop_thread(p, 10, 3, 1, 600);
	add_stack(p, 10, CAT_CPU, 1800, 180, STACK_GIL_NONE,
		  FRAMES(LOOP, "handle (server.py:20)|/srv/server.py",
			 "request_work (server.py:59)|/srv/server.py"));
	sc = run(p, false);
	cr_expect_gt(p->threads[0].cpu_stalls, 0, "the iterations are counted");
	cr_expect_neq(sc->verdict, ADV_LOOP_STALLED, "%s", sc->why);
	cr_expect_not(sc->stall.cpu);
}

/* The same loop with 1 ms callbacks: no CPU stall, whatever else it is. */
Test(stall, healthy_loop_with_short_callbacks_has_no_cpu_stall)
{
	struct profile *p = new_profile(2000, 2);
	const struct adv_scope *sc;

	add_loop_thread(p, 10, 1000, 1, 1);
	add_stack(p, 10, CAT_CPU, 1000, 100, STACK_GIL_NONE,
		  FRAMES(LOOP, "handle (server.py:20)|/srv/server.py"));
	sc = run(p, true);
	cr_expect_eq(prof->threads[0].cpu_stalls, 0);
	cr_expect_neq(sc->verdict, ADV_LOOP_STALLED, "got %s", adv_verdict_keys[sc->verdict]);
	cr_expect_not(sc->stall.cpu);
}

/* A native loop computing 150 ms after each 160 ms in its poll: named by its heaviest on-CPU
 * leaf; no idle CPU to move the work to (1 CPU), so that helps nothing. */
Test(stall, native_loop_cpu_stall_named_by_its_leaf_and_bounded_by_idle_cpus)
{
	struct profile *p = new_profile(1600, 1);
	const struct adv_scope *sc;

	add_loop_thread(p, 10, 5, 160, 150);
	add_stack(p, 10, CAT_CPU, 600, 60, STACK_GIL_NONE,
		  FRAMES("main@server", "loop_run@server", "render_page@server"));
	add_stack(p, 10, CAT_CPU, 150, 15, STACK_GIL_NONE,
		  FRAMES("main@server", "loop_run@server", "memcpy@libc.so.6"));
	sc = run(p, false);
	cr_assert_eq(sc->verdict, ADV_LOOP_STALLED, "got %s", adv_verdict_keys[sc->verdict]);
	cr_expect(sc->stall.cpu);
	cr_expect_not(sc->stall.python);
	cr_expect_str_eq(sc->stall.function, "render_page");
	cr_expect_eq(sc->rows[ADV_PROCESSES].effect, ADV_NO_EFFECT);
	cr_expect_eq(sc->rows[ADV_THREADS].effect, ADV_NO_EFFECT);
}
