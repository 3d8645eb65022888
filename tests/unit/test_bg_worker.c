// SPDX-License-Identifier: MIT
/* The background worker that builds unwind tables: order, hand-back, priority, stopping. */
#include <criterion/criterion.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <glib.h>
#include "collect/bg_worker.h"

struct job {
	atomic_int *gate; /* run() waits for it to be non-zero, then looks at its priority */
	int in, out;
	bool blocks_term; /* SIGTERM was blocked in the worker */
	pid_t tid;
	int policy, nice;
	unsigned sleep_us;
	unsigned spin_ms; /* CPU time to use (the thread's clock) */
};

static atomic_int runs, drops, started;

static void run(void *p)
{
	struct job *j = p;

	atomic_fetch_add(&started, 1);
	while (j->gate && !atomic_load(j->gate))
		g_usleep(1000);
	if (j->sleep_us)
		g_usleep(j->sleep_us);
	if (j->spin_ms) {
		struct timespec ts, t0;

		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
		do
			clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
		while ((ts.tv_sec - t0.tv_sec) * 1000 + (ts.tv_nsec - t0.tv_nsec) / 1000000 <
		       (long)j->spin_ms);
	}
	j->out = j->in * 2;
	j->tid = gettid();
	j->policy = sched_getscheduler(0);
	{
		sigset_t now;

		pthread_sigmask(SIG_BLOCK, NULL, &now);
		j->blocks_term = sigismember(&now, SIGTERM) == 1;
	}
	errno = 0;
	j->nice = getpriority(PRIO_PROCESS, gettid());
	atomic_fetch_add(&runs, 1);
}

static void drop(void *p)
{
	atomic_fetch_add(&drops, 1);
	free(p);
}

static struct job *new_job(int in, unsigned sleep_us)
{
	struct job *j = calloc(1, sizeof(*j));

	cr_assert_not_null(j);
	j->in = in;
	j->sleep_us = sleep_us;
	return j;
}

static void reset(void)
{
	atomic_store(&runs, 0);
	atomic_store(&drops, 0);
	atomic_store(&started, 0);
}

/* Takes n jobs, waiting on the eventfd as the owner's loop does (5 s at most in all). */
static void take_all(struct bg_worker *w, struct job **out, int n)
{
	struct pollfd pfd = { .fd = bg_worker__fd(w), .events = POLLIN };
	int got = 0, waits = 0;
	struct job *j;

	while (got < n) {
		while (got < n && (j = bg_worker__take(w)))
			out[got++] = j;
		if (got < n) {
			cr_assert(waits++ < 50, "only %d of %d jobs came back", got, n);
			poll(&pfd, 1, 100);
		}
	}
}

Test(bg_worker, jobs_come_back_in_order_through_the_eventfd)
{
	struct pollfd pfd;
	struct bg_worker *w;
	struct job *back[50];
	int i;

	reset();
	w = bg_worker__new(run, drop);
	cr_assert_not_null(w);
	for (i = 0; i < 50; i++)
		bg_worker__submit(w, new_job(i, 0));
	cr_expect_eq(bg_worker__pending(w), 50);
	take_all(w, back, 50);
	for (i = 0; i < 50; i++) {
		cr_expect_eq(back[i]->in, i, "job %d came back as %d", i, back[i]->in);
		cr_expect_eq(back[i]->out, 2 * i);
		cr_expect_neq(back[i]->tid, gettid(), "run on the worker thread");
		cr_expect(back[i]->blocks_term, "stop signals are left to the owner's thread");
		free(back[i]);
	}
	cr_expect_eq(bg_worker__pending(w), 0);
	cr_expect_null(bg_worker__take(w));
	pfd = (struct pollfd){ .fd = bg_worker__fd(w), .events = POLLIN };
	cr_expect_eq(poll(&pfd, 1, 0), 0, "the eventfd is quiet once all is taken");
	bg_worker__free(w);
	cr_expect_eq(atomic_load(&drops), 0);
}

Test(bg_worker, runs_at_the_lowest_priority_and_leaves_the_owner_alone)
{
	int my_policy = sched_getscheduler(0), my_nice = getpriority(PRIO_PROCESS, gettid());
	struct bg_worker *w;
	struct job *j;

	reset();
	w = bg_worker__new(run, drop);
	cr_assert_not_null(w);
	bg_worker__submit(w, new_job(1, 0));
	take_all(w, &j, 1);
	switch (bg_worker__priority(w)) {
	case BG_PRIO_IDLE:
		cr_expect_eq(j->policy, SCHED_IDLE);
		break;
	case BG_PRIO_NICE:
		cr_expect_eq(j->policy, SCHED_OTHER);
		cr_expect_eq(j->nice, 19);
		break;
	default:
		cr_expect_fail("the worker could not lower its priority (%d)",
			       bg_worker__priority(w));
	}
	cr_expect_eq(sched_getscheduler(0), my_policy, "the owner's policy unchanged");
	cr_expect_eq(getpriority(PRIO_PROCESS, gettid()), my_nice, "the owner's nice unchanged");
	free(j);
	bg_worker__free(w);
}

/* Stopping drops what has not run and what was not taken, each exactly once (the leak check
 * of `make asan` sees the rest), after the job in progress has finished. */
Test(bg_worker, stopping_drops_unrun_and_untaken_jobs)
{
	struct bg_worker *w;
	int i, waits = 0;

	reset();
	w = bg_worker__new(run, drop);
	cr_assert_not_null(w);
	bg_worker__submit(w, new_job(0, 50000));
	while (!atomic_load(&started)) {
		cr_assert(waits++ < 5000, "the worker never started");
		g_usleep(1000);
	}
	for (i = 1; i <= 10; i++)
		bg_worker__submit(w, new_job(i, 0));
	bg_worker__free(w);
	cr_expect_eq(atomic_load(&runs), 1, "only the job in progress ran");
	cr_expect_eq(atomic_load(&drops), 11, "the 10 unrun and the 1 untaken dropped");
}

/* Hurried, the worker runs at the owner's priority until its queue is empty, then lowers
 * itself again. Raising a thread out of SCHED_IDLE or nice 19 takes root (CAP_SYS_NICE). */
Test(bg_worker, hurried_until_the_queue_is_empty)
{
	struct bg_worker *w;
	atomic_int gate = 0;
	struct job *a, *b;
	int waits = 0;

	if (geteuid() != 0)
		cr_skip_test("raising a thread's priority takes CAP_SYS_NICE");
	reset();
	w = bg_worker__new(run, drop);
	cr_assert_not_null(w);
	a = new_job(1, 0);
	a->gate = &gate;
	bg_worker__submit(w, a);
	while (!atomic_load(&started)) {
		cr_assert(waits++ < 5000, "the worker never started");
		g_usleep(1000);
	}
	cr_assert_eq(bg_worker__priority(w), BG_PRIO_IDLE);
	bg_worker__hurry(w);
	cr_expect(bg_worker__hurried(w));
	atomic_store(&gate, 1);
	take_all(w, &a, 1);
	cr_expect_eq(a->policy, SCHED_OTHER, "the job in progress raised");
	cr_expect_not(bg_worker__hurried(w), "down again once the queue is empty");
	bg_worker__submit(w, new_job(2, 0));
	take_all(w, &b, 1);
	cr_expect_eq(b->policy, SCHED_IDLE, "the next job at the lowest priority again");
	free(a);
	free(b);
	bg_worker__free(w);
}

Test(bg_worker, free_of_nothing)
{
	struct bg_worker *w;

	reset();
	bg_worker__free(NULL);
	w = bg_worker__new(run, drop);
	cr_assert_not_null(w);
	bg_worker__free(w);
	cr_expect_eq(atomic_load(&runs) + atomic_load(&drops), 0);
}

/* The worker's CPU time, which tells a long job that runs (the owner does not hurry it) from a
 * starved one: a job using 30 ms of CPU shows, a job sleeping 50 ms barely does. */
Test(bg_worker, cpu_time_counts_work_not_sleep)
{
	struct bg_worker *w;
	struct job *j, *out[1];
	uint64_t before, after;

	reset();
	w = bg_worker__new(run, drop);
	cr_assert_not_null(w);
	j = new_job(1, 50000);
	bg_worker__submit(w, j);
	take_all(w, out, 1);
	free(out[0]);
	before = bg_worker__cpu_ns(w);
	cr_expect_gt(before, 0, "the clock is readable once the worker ran");
	cr_expect_lt(before, 20 * 1000000ull, "sleeping used %llu ns", (unsigned long long)before);
	j = new_job(2, 0);
	j->spin_ms = 30;
	bg_worker__submit(w, j);
	take_all(w, out, 1);
	free(out[0]);
	after = bg_worker__cpu_ns(w);
	cr_expect_geq(after - before, 30 * 1000000ull, "spinning 30 ms added %llu ns",
		      (unsigned long long)(after - before));
	bg_worker__free(w);
}
