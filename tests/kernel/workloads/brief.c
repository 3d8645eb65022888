// SPDX-License-Identifier: MIT
/*
 * brief RUNS: starts itself RUNS times in a row (fork, exec: a new image, its libraries mapped
 * by the dynamic loader each time), each run computing 3 ms of CPU time in brief_lib_work()
 * of libbrief.so, which the loader maps, and exiting; the parent waits for each in turn.
 */
#include "common.h"
#include <sys/wait.h>

#define WORK_NS (3 * NSEC_PER_MSEC)

void brief_lib_work(uint64_t ns); /* lib/brieflib.c */

int main(int argc, char **argv)
{
	long runs, i;
	int status;
	pid_t pid;

	if (argc == 2 && !strcmp(argv[1], "--run")) {
		brief_lib_work(WORK_NS);
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
