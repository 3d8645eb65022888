/* SPDX-License-Identifier: MIT */
/*
 * wait_child SECS — the main thread (comm "wait_child") forks a child (comm "child") that
 * sleeps SECS seconds and exits, and waits for it in waitpid().
 * Ground truth: the parent's main thread spends almost all its time in wait.
 */
#include "common.h"

#include <sys/prctl.h>
#include <sys/wait.h>

int main(int argc, char **argv)
{
	uint64_t secs;
	int status;
	pid_t pid;

	if (argc != 2)
		usage(argv[0], "SECS");
	secs = parse_secs(argv[1], argv[0], "SECS");
	name_thread("wait_child");
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		prctl(PR_SET_NAME, "child");
		sleep_ns(secs);
		schedstat_dump();
		_exit(0);
	}
	while (waitpid(pid, &status, 0) != pid)
		if (errno != EINTR)
			die("waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return 1;
	schedstat_dump();
	return 0;
}
