/* SPDX-License-Identifier: MIT */
/*
 * stop_writer SECS [STOP_AT STOP_FOR] — thread "writer" writes 4 KiB blocks into a pipe that
 * thread "drain" empties by 4 KiB every 10 ms, for SECS seconds: the writer is blocked in
 * write() on a full pipe nearly all the time (io.pipe). With STOP_AT and STOP_FOR (seconds), a
 * child process "stopper" sends the process SIGSTOP at STOP_AT and SIGCONT STOP_FOR later.
 * Ground truth: from the stop to the continue every thread is stopped (job control), whatever
 * syscall it was in; the writer's write() is restarted after it.
 */
#include "common.h"
#include <signal.h>
#include <sys/prctl.h>

static int fds[2];
static uint64_t deadline;

static void *writer(void *arg)
{
	static char block[4096];

	(void)arg;
	name_thread("writer");
	while (now_ns() < deadline)
		if (write(fds[1], block, sizeof(block)) < 0 && errno != EINTR)
			die("write");
	return NULL;
}

static void *drain(void *arg)
{
	static char block[4096];

	(void)arg;
	name_thread("drain");
	while (now_ns() < deadline + 50 * NSEC_PER_MSEC) {
		sleep_ns(10 * NSEC_PER_MSEC);
		if (read(fds[0], block, sizeof(block)) < 0 && errno != EINTR)
			die("read");
	}
	return NULL;
}

/* The stopper: a child, so that the stop covers every thread of the parent and none of its own. */
static void stopper(pid_t parent, uint64_t start, uint64_t at, uint64_t stop_for)
{
	if (prctl(PR_SET_NAME, "stopper") < 0)
		die("prctl");
	sleep_until_ns(start + at);
	if (kill(parent, SIGSTOP) < 0)
		die("kill STOP");
	sleep_ns(stop_for);
	if (kill(parent, SIGCONT) < 0)
		die("kill CONT");
	_exit(0);
}

int main(int argc, char **argv)
{
	const char *args = "SECS [STOP_AT STOP_FOR]";
	uint64_t start = now_ns(), secs;
	pthread_t w, d;
	pid_t child = -1;
	int err;

	if (argc != 2 && argc != 4)
		usage(argv[0], args);
	secs = parse_secs(argv[1], argv[0], args);
	if (pipe(fds) < 0)
		die("pipe");
	deadline = start + secs;
	if (argc == 4) {
		uint64_t at = parse_secs(argv[2], argv[0], args), stop_for = parse_secs(argv[3], argv[0], args);

		child = fork();
		if (child < 0)
			die("fork");
		if (child == 0)
			stopper(getppid(), start, at, stop_for);
		/* The stop delays the end: the writer still writes for SECS of its own. */
		deadline += stop_for;
	}
	err = pthread_create(&w, NULL, writer, NULL);
	if (!err)
		err = pthread_create(&d, NULL, drain, NULL);
	if (err)
		die_err("pthread_create", err);
	pthread_join(w, NULL);
	pthread_join(d, NULL);
	return 0;
}
