// SPDX-License-Identifier: MIT
/*
 * cfi_vfork SECS — built without frame pointers (see the Makefile). After 300 ms of computing
 * (the profiler's tables get built meanwhile), cfi_vfork_parent vforks a child that sleeps
 * 200 ms, then execs true(1); the parent is blocked in vfork meanwhile, its return address in
 * rdi (glibc pops it there around the syscall). Repeated for SECS.
 */
#include "common.h"
#include <sys/wait.h>

__attribute__((noinline)) static void cfi_vfork_parent(void)
{
	pid_t pid = vfork();

	if (pid == 0) {
		/* The child borrows the parent's memory: only syscalls until the exec. */
		struct timespec ts = { 0, 200 * 1000 * 1000 };

		nanosleep(&ts, NULL);
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
}

int main(int argc, char **argv)
{
	uint64_t until;

	if (argc != 2)
		usage(argv[0], "SECS");
	until = now_ns() + parse_secs(argv[1], argv[0], "SECS");
	busy_for_ns(300 * NSEC_PER_MSEC);
	while (now_ns() < until)
		cfi_vfork_parent();
	return 0;
}
