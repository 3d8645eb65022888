/* SPDX-License-Identifier: MIT */
/*
 * job_runner [--jobs N] [--tasks T] [--task-ms M]
 *
 * A supervisor of short CPU-bound child processes, like a test runner or make: T tasks
 * (default 40), each a forked child (comm "job_task") hashing for about M ms (default 25, under
 * the advisor's 50 ms "short process" mark) and writing its result into its own pipe. The
 * runner keeps N children (default 1: one at a time) running, waits for their results in poll
 * on the pipes (not in wait4), reaps each after its result, and starts the next.
 * Prints "elapsed_ns N" (the whole run) and exits 0; bad arguments: usage on stderr, exit 2.
 *
 * Ground truth on 2 CPUs: by default one child computes at a time and the other CPU idles, so
 * --jobs 2 is about 2x faster (a little less: the runner's fork and reap between tasks); the
 * runner itself is a supervisor parked in poll, not an event loop waiting for events.
 */
#include "scenario.h"

#include <poll.h>

static const char *args = "[--jobs N] [--tasks T] [--task-ms M]";

/* A child's task: about ms of hashing. */
static NOINLINE uint64_t job_task(long k, long ms)
{
	return hash_rounds((uint64_t)k, (uint64_t)ms * HASH_ITERS_PER_MS);
}

struct job {
	pid_t pid;
	int fd; /* the result's pipe, -1 when the slot is free */
};

/* Starts task k in a child; its result comes back on the returned slot's pipe. */
static void start_job(struct job *j, long k, long ms)
{
	int fds[2];

	if (pipe(fds))
		die("pipe");
	fflush(NULL);
	j->pid = fork();
	if (j->pid < 0)
		die("fork");
	if (j->pid == 0) {
		uint64_t r;

		close(fds[0]);
		name_thread("job_task");
		r = job_task(k, ms);
		write_all(fds[1], &r, sizeof(r));
		_exit(0);
	}
	close(fds[1]);
	j->fd = fds[0];
}

/* The supervisor's wait: poll on the running children's pipes. */
static NOINLINE int wait_results(struct pollfd *pfd, int n)
{
	int r;

	do
		r = poll(pfd, (nfds_t)n, -1);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		die("poll");
	return r;
}

/* Reads a finished child's result and reaps it. */
static uint64_t finish_job(struct job *j)
{
	uint64_t r;
	int status;

	read_all(j->fd, &r, sizeof(r));
	close(j->fd);
	j->fd = -1;
	if (waitpid(j->pid, &status, 0) < 0)
		die("waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "job_runner: a task failed\n");
		exit(1);
	}
	return r;
}

int main(int argc, char **argv)
{
	long jobs = 1, tasks = 40, ms = 25, next = 0, done = 0;
	struct job slot[64];
	struct pollfd pfd[64];
	int map[64], n;
	uint64_t t0, acc = 0;

	for (int i = 1; i < argc; i++)
		if (!opt_long(argc, argv, &i, "--jobs", 1, 64, args, &jobs) &&
		    !opt_long(argc, argv, &i, "--tasks", 1, 10000, args, &tasks) &&
		    !opt_long(argc, argv, &i, "--task-ms", 1, 10000, args, &ms))
			usage(argv[0], args);
	for (int s = 0; s < 64; s++)
		slot[s].fd = -1;
	t0 = now_ns();
	while (done < tasks) {
		for (int s = 0; s < jobs && next < tasks; s++)
			if (slot[s].fd < 0)
				start_job(&slot[s], next++, ms);
		n = 0;
		for (int s = 0; s < jobs; s++)
			if (slot[s].fd >= 0) {
				pfd[n] = (struct pollfd){ .fd = slot[s].fd, .events = POLLIN };
				map[n++] = s;
			}
		wait_results(pfd, n);
		for (int i = 0; i < n; i++)
			if (pfd[i].revents) {
				acc += finish_job(&slot[map[i]]);
				done++;
			}
	}
	sink(acc);
	print_elapsed(t0, now_ns());
	return 0;
}
