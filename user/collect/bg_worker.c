// SPDX-License-Identifier: MIT
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <glib.h>
#include "bg_worker.h"

#define LOW_NICE 19

struct bg_worker {
	void (*run)(void *job);
	void (*drop)(void *job);
	GAsyncQueue *todo, *done;
	GThread *thread;
	int efd;
	size_t pending;	     /* the owner's count */
	atomic_int tid;	     /* the worker thread's id, 0 until it runs */
	clockid_t cpu_clock; /* its CPU-time clock, once cpu_clock_ok */
	atomic_bool cpu_clock_ok;
	atomic_int prio;
	atomic_bool stopping;
	atomic_bool hurried; /* raised to the owner's priority until the queue is empty */
};

/* Pushed last by bg_worker__free(): the worker returns when it pops it. */
static char stop_token;

/*
 * The calling thread at the lowest priority there is: SCHED_IDLE (weight 3 against 1024 for a
 * nice-0 thread, kernel/sched/core.c) needs no privilege to enter; nice 19 (weight 15) if it
 * is refused. pthread_setschedparam and setpriority with a thread id act on this thread alone.
 */
static enum bg_priority lower_priority(void)
{
	struct sched_param sp = { 0 };

	if (!pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp))
		return BG_PRIO_IDLE;
	if (!setpriority(PRIO_PROCESS, gettid(), LOW_NICE))
		return BG_PRIO_NICE;
	return BG_PRIO_NORMAL;
}

static gpointer worker_main(gpointer p)
{
	struct bg_worker *w = p;
	const uint64_t one = 1;
	void *job;

	atomic_store(&w->tid, gettid());
	if (!pthread_getcpuclockid(pthread_self(), &w->cpu_clock))
		atomic_store(&w->cpu_clock_ok, true);
	atomic_store(&w->prio, lower_priority());
	for (;;) {
		job = g_async_queue_pop(w->todo);
		if (job == &stop_token)
			break;
		if (atomic_load(&w->stopping)) {
			w->drop(job);
			continue;
		}
		w->run(job);
		/* Hurried and nothing left to do: down again, for the next jobs. (A hurry racing
		 * this may leave the worker raised for its next jobs: they are late ones too.) */
		if (g_async_queue_length(w->todo) <= 0 && atomic_exchange(&w->hurried, false))
			atomic_store(&w->prio, lower_priority());
		g_async_queue_push(w->done, job);
		/* After the push: the owner reads the counter before it looks in the queue. */
		if (write(w->efd, &one, sizeof(one)) != sizeof(one))
			continue; /* the counter cannot overflow at 2^64 - 2 jobs */
	}
	return NULL;
}

struct bg_worker *bg_worker__new(void (*run)(void *job), void (*drop)(void *job))
{
	struct bg_worker *w = calloc(1, sizeof(*w));
	sigset_t all, old;

	if (!w)
		return NULL;
	w->run = run;
	w->drop = drop;
	w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->efd < 0) {
		free(w);
		return NULL;
	}
	w->todo = g_async_queue_new();
	w->done = g_async_queue_new();
	/* The worker takes no signals (it inherits this mask): a process-directed signal goes to a
	 * thread that does not block it, and the owner's loop must be the one whose poll() it
	 * interrupts (stop_signals.c). */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	w->thread = g_thread_try_new("concur-tables", worker_main, w, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!w->thread) {
		g_async_queue_unref(w->todo);
		g_async_queue_unref(w->done);
		close(w->efd);
		free(w);
		errno = EAGAIN;
		return NULL;
	}
	return w;
}

void bg_worker__submit(struct bg_worker *w, void *job)
{
	w->pending++;
	g_async_queue_push(w->todo, job);
}

int bg_worker__fd(const struct bg_worker *w)
{
	return w->efd;
}

void *bg_worker__take(struct bg_worker *w)
{
	void *job = g_async_queue_try_pop(w->done);
	uint64_t n;

	if (!job) {
		/* Clear the counter, then look again: a job pushed before the write just read is
		 * in the queue now; one pushed after writes the counter again. */
		if (read(w->efd, &n, sizeof(n)) != sizeof(n))
			return NULL;
		job = g_async_queue_try_pop(w->done);
	}
	if (job)
		w->pending--;
	return job;
}

size_t bg_worker__pending(const struct bg_worker *w)
{
	return w->pending;
}

enum bg_priority bg_worker__priority(const struct bg_worker *w)
{
	return atomic_load(&((struct bg_worker *)w)->prio);
}

/*
 * The worker back at the owner's priority, so that a job it is running finishes without
 * waiting behind the workload. Either the worker has set its priority and is raised here, or
 * it has not and will see `stopping` before it runs anything (both sides' atomics are
 * sequentially consistent). Refused without CAP_SYS_NICE: the job then finishes at its pace.
 */
static void raise_worker(struct bg_worker *w)
{
	struct sched_param sp = { 0 };
	enum bg_priority prio = atomic_load(&w->prio);
	pid_t tid = atomic_load(&w->tid);

	if (prio == BG_PRIO_IDLE)
		sched_setscheduler(tid, SCHED_OTHER, &sp);
	else if (prio == BG_PRIO_NICE)
		setpriority(PRIO_PROCESS, tid, getpriority(PRIO_PROCESS, gettid()));
}

uint64_t bg_worker__cpu_ns(const struct bg_worker *w)
{
	struct timespec ts;

	if (!atomic_load(&w->cpu_clock_ok) || clock_gettime(w->cpu_clock, &ts))
		return 0;
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

void bg_worker__hurry(struct bg_worker *w)
{
	if (!atomic_exchange(&w->hurried, true))
		raise_worker(w);
}

bool bg_worker__hurried(const struct bg_worker *w)
{
	return atomic_load(&((struct bg_worker *)w)->hurried);
}

void bg_worker__free(struct bg_worker *w)
{
	void *job;

	if (!w)
		return;
	atomic_store(&w->stopping, true);
	raise_worker(w);
	g_async_queue_push(w->todo, &stop_token);
	g_thread_join(w->thread);
	while ((job = g_async_queue_try_pop(w->todo)))
		w->drop(job);
	while ((job = g_async_queue_try_pop(w->done)))
		w->drop(job);
	g_async_queue_unref(w->todo);
	g_async_queue_unref(w->done);
	close(w->efd);
	free(w);
}
