/* SPDX-License-Identifier: MIT */
/*
 * pool_helpers [--workers W] [--threads N] [--tasks T] [--task-ms X]
 *
 * A process pool with the helpers real pools have (multiprocessing.Pool, job servers), all of
 * them parked most of the time while the workers compute. The parent forks W worker processes
 * (default 2, comm "worker") that take task numbers from a shared task pipe and send results
 * back through a result pipe; T tasks (default 300) of X ms of CPU each (default 6). Beside them:
 *   - a "tracker" process, forked first, that blocks reading a pipe until the parent closes it
 *     at the end (like multiprocessing's resource tracker);
 *   - in the parent, a "feeder" thread that keeps at most 2 W tasks in flight: it blocks reading
 *     a credit pipe for each further task; a "results" thread that blocks reading the result
 *     pipe and returns a credit per result; a "watchdog" thread that polls a socket with a 20 ms
 *     timeout until told to stop; the main thread joins them (a supervisor).
 * --threads N runs N compute threads in each worker process instead of one; the elapsed time
 * runs from the first fork to the last result.
 * Prints "elapsed_ns N" and exits 0; bad arguments: usage on stderr, exit 2.
 *
 * Ground truth on 2 CPUs: the W = 2 workers keep both CPUs busy; every other thread and the
 * tracker run well under 1% of their life. More workers (--workers 4) or more threads per
 * worker (--threads 2) take as long as the baseline: the CPUs are the limit; nothing is to be
 * gained from overlapping the helpers' pipe waits.
 */
#include "scenario.h"

#include <poll.h>
#include <sys/socket.h>

static const char *args = "[--workers W] [--threads N] [--tasks T] [--task-ms X]";

static long workers = 2, threads = 1, tasks = 300, task_ms = 6;
/* task pipe (parent -> workers), result pipe (workers -> parent), credits (results -> feeder) */
static int task_fd[2], result_fd[2], credit_fd[2], watch_fd[2];

struct result {
	long task;
	uint64_t value;
};

/* A worker thread: tasks until the task pipe's end of file. */
static NOINLINE void *compute(void *arg)
{
	struct result r;
	long task;
	ssize_t n;

	(void)arg;
	for (;;) {
		n = read(task_fd[0], &task, sizeof(task));
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			return NULL;
		if (n != sizeof(task))
			die("read task");
		r.task = task;
		r.value = hash_rounds((uint64_t)task, (uint64_t)task_ms * HASH_ITERS_PER_MS);
		write_all(result_fd[1], &r, sizeof(r));
	}
}

static NOINLINE void worker_main(void)
{
	pthread_t th[256];
	int err;

	name_thread("worker");
	close(task_fd[1]);
	close(result_fd[0]);
	close(credit_fd[0]);
	close(credit_fd[1]);
	close(watch_fd[0]);
	close(watch_fd[1]);
	for (long t = 1; t < threads; t++)
		if ((err = pthread_create(&th[t], NULL, compute, NULL)))
			die_err("pthread_create", err);
	compute(NULL);
	for (long t = 1; t < threads; t++)
		if ((err = pthread_join(th[t], NULL)))
			die_err("pthread_join", err);
	_exit(0);
}

/* The tracker: one long read, until the parent's end of the pipe closes. */
static NOINLINE void tracker_main(int fd)
{
	int pool_fds[] = { task_fd[0],	 task_fd[1],   result_fd[0], result_fd[1],
			   credit_fd[0], credit_fd[1], watch_fd[0],  watch_fd[1] };
	ssize_t n;
	char c;

	name_thread("tracker");
	/* Without the pool's ends, the workers see their end of file when the feeder is done. */
	for (size_t i = 0; i < sizeof(pool_fds) / sizeof(pool_fds[0]); i++)
		close(pool_fds[i]);
	do
		n = read(fd, &c, 1);
	while (n < 0 && errno == EINTR);
	_exit(n == 0 ? 0 : 1);
}

static NOINLINE void *feeder(void *arg)
{
	char credit;

	(void)arg;
	name_thread("feeder");
	for (long t = 0; t < tasks; t++) {
		if (t >= 2 * workers * threads)
			read_all(credit_fd[0], &credit, 1);
		write_all(task_fd[1], &t, sizeof(t));
	}
	close(task_fd[1]); /* the workers' end of file */
	return NULL;
}

static NOINLINE void *results(void *arg)
{
	uint64_t *sum = arg;
	struct result r;

	name_thread("results");
	for (long t = 0; t < tasks; t++) {
		read_all(result_fd[0], &r, sizeof(r));
		*sum += r.value;
		write_all(credit_fd[1], "c", 1);
	}
	return NULL;
}

static NOINLINE void *watchdog(void *arg)
{
	struct pollfd pfd = { .fd = watch_fd[0], .events = POLLIN };

	(void)arg;
	name_thread("watchdog");
	for (;;) {
		int n = poll(&pfd, 1, 20);

		if (n > 0)
			return NULL;
		if (n < 0 && errno != EINTR)
			die("poll");
	}
}

int main(int argc, char **argv)
{
	pthread_t feed_th, result_th, watch_th;
	int tracker_fd[2], err, status;
	pid_t tracker, pids[256];
	uint64_t t0, t1, sum = 0;

	for (int i = 1; i < argc; i++)
		if (!opt_long(argc, argv, &i, "--workers", 1, 256, args, &workers) &&
		    !opt_long(argc, argv, &i, "--threads", 1, 256, args, &threads) &&
		    !opt_long(argc, argv, &i, "--tasks", 1, 10000000, args, &tasks) &&
		    !opt_long(argc, argv, &i, "--task-ms", 1, 100000, args, &task_ms))
			usage(argv[0], args);
	if (pipe(tracker_fd) || pipe(task_fd) || pipe(result_fd) || pipe(credit_fd) ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, watch_fd))
		die("pipe");
	fflush(NULL);
	if ((tracker = fork()) < 0)
		die("fork");
	if (tracker == 0) {
		close(tracker_fd[1]);
		tracker_main(tracker_fd[0]);
	}
	close(tracker_fd[0]);

	t0 = now_ns();
	/* (the workers inherit tracker_fd[1]; they are gone before the parent closes it) */
	for (long w = 0; w < workers; w++) {
		if ((pids[w] = fork()) < 0)
			die("fork");
		if (pids[w] == 0)
			worker_main();
	}
	close(task_fd[0]);
	close(result_fd[1]);
	if ((err = pthread_create(&watch_th, NULL, watchdog, NULL)) ||
	    (err = pthread_create(&result_th, NULL, results, &sum)) ||
	    (err = pthread_create(&feed_th, NULL, feeder, NULL)))
		die_err("pthread_create", err);
	if ((err = pthread_join(feed_th, NULL)) || (err = pthread_join(result_th, NULL)))
		die_err("pthread_join", err);
	t1 = now_ns();
	write_all(watch_fd[1], "s", 1);
	if ((err = pthread_join(watch_th, NULL)))
		die_err("pthread_join", err);
	for (long w = 0; w < workers; w++) {
		while (waitpid(pids[w], &status, 0) < 0)
			if (errno != EINTR)
				die("waitpid");
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			fprintf(stderr, "worker %d failed\n", (int)pids[w]);
			return 1;
		}
	}
	close(tracker_fd[1]);
	while (waitpid(tracker, &status, 0) < 0)
		if (errno != EINTR)
			die("waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "tracker %d failed\n", (int)tracker);
		return 1;
	}
	sink(sum);
	print_elapsed(t0, t1);
	return 0;
}
