// SPDX-License-Identifier: MIT
/*
 * brief RUNS: starts itself RUNS times in a row (fork, exec: a new image, its libraries mapped
 * by the dynamic loader each time), each run computing 3 ms of CPU time in brief_work() and
 * exiting; the parent waits for each before the next.
 */
#include "common.h"
#include <sys/wait.h>

#define WORK_NS (3 * NSEC_PER_MSEC)

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

__attribute__((noinline)) void brief_work(void)
{
	uint64_t end = thread_cpu_ns() + WORK_NS;
	volatile double x = 0;

	/* The clock is a syscall: read every ~20 us, so samples land in this function. */
	while (thread_cpu_ns() < end)
		for (int i = 0; i < 20000; i++)
			x += i * 0.5;
}

int main(int argc, char **argv)
{
	long runs, i;
	int status;
	pid_t pid;

	if (argc == 2 && !strcmp(argv[1], "--run")) {
		brief_work();
		return 0;
	}
	if (argc != 2)
		usage(argv[0], "RUNS");
	runs = parse_long(argv[1], 1, 100000, argv[0], "RUNS");
	for (i = 0; i < runs; i++) {
		pid = fork();
		if (pid < 0)
			die("fork");
		if (!pid) {
			execl("/proc/self/exe", argv[0], "--run", (char *)NULL);
			die("exec");
		}
		if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
			die("child");
	}
	return 0;
}
