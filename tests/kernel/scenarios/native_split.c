/* SPDX-License-Identifier: MIT */
/*
 * native_split [--threads N | --procs N | --async] [--units U]
 *
 * Native CPU-bound work that splits: U units (default 700) of about 1 ms of integer hashing
 * each, every unit independent of the others. By default the main thread does them all.
 * --threads N splits the units N ways across N threads (the main thread and N - 1 more, comm
 * "split"), --procs N across N processes (the main one and N - 1 forked, results back through a
 * pipe), --async runs each unit as a task of a single-threaded event loop (a run queue of tasks,
 * one epoll_wait with a zero timeout between tasks).
 * Prints "elapsed_ns N" (the work only) and exits 0; bad arguments: usage on stderr, exit 2.
 *
 * Ground truth on 2 CPUs: the baseline keeps one thread on a CPU all the time and the other CPU
 * idle, so --threads 2 and --procs 2 are about 2x faster; --async is no faster than the
 * baseline (one thread does the same work, the loop only adds a little overhead).
 */
#include "scenario.h"

#include <sys/epoll.h>

static const char *args = "[--threads N | --procs N | --async] [--units U]";
static long units = 700;

/* One unit of work: about 1 ms of CPU. */
static NOINLINE uint64_t hash_unit(long u)
{
	return hash_rounds((uint64_t)u, HASH_ITERS_PER_MS);
}

/* Share k of n: hash its units in order. */
static NOINLINE uint64_t hash_share(long k, void *arg)
{
	long n = *(long *)arg, first, count;
	uint64_t acc = 0;

	share_range(units, n, k, &first, &count);
	for (long u = first; u < first + count; u++)
		acc += hash_unit(u);
	return acc;
}

/* --async: the event loop's tasks, a FIFO run queue of units. */
struct task {
	long unit;
	struct task *next;
};

static struct task *runq_head, **runq_tail = &runq_head;

static void runq_push(struct task *t)
{
	t->next = NULL;
	*runq_tail = t;
	runq_tail = &t->next;
}

static struct task *runq_pop(void)
{
	struct task *t = runq_head;

	if (t && !(runq_head = t->next))
		runq_tail = &runq_head;
	return t;
}

/* The loop's I/O poll between tasks: nothing is ever ready, it never blocks. */
static NOINLINE int poll_events(int epfd)
{
	struct epoll_event ev[8];
	int n = epoll_wait(epfd, ev, 8, 0);

	if (n < 0 && errno != EINTR)
		die("epoll_wait");
	return n;
}

static NOINLINE uint64_t run_task(struct task *t)
{
	return hash_unit(t->unit);
}

static NOINLINE uint64_t event_loop(void)
{
	struct task *tasks = calloc((size_t)units, sizeof(*tasks));
	uint64_t acc = 0;
	struct task *t;
	int epfd = epoll_create1(EPOLL_CLOEXEC);

	if (!tasks)
		die("calloc");
	if (epfd < 0)
		die("epoll_create1");
	for (long u = 0; u < units; u++) {
		tasks[u].unit = u;
		runq_push(&tasks[u]);
	}
	while ((t = runq_pop())) {
		poll_events(epfd);
		acc += run_task(t);
	}
	close(epfd);
	free(tasks);
	return acc;
}

int main(int argc, char **argv)
{
	long threads = 0, procs = 0, one = 1;
	int async = 0, modes = 0;
	uint64_t t0, t1;

	for (int i = 1; i < argc; i++) {
		if (opt_mode(argc, argv, &i, args, &threads, &procs, &modes))
			continue;
		if (!strcmp(argv[i], "--async")) {
			/* a third mode, which excludes the other two just as they exclude each other */
			async = 1;
			if (++modes > 1)
				usage(argv[0], args);
		} else if (!opt_long(argc, argv, &i, "--units", 1, 10000000, args, &units)) {
			usage(argv[0], args);
		}
	}

	t0 = now_ns();
	if (threads)
		sink(run_threads(threads, "split", hash_share, &threads));
	else if (procs)
		sink(run_procs(procs, hash_share, &procs));
	else if (async)
		sink(event_loop());
	else
		sink(hash_share(0, &one));
	t1 = now_ns();
	print_elapsed(t0, t1);
	return 0;
}
