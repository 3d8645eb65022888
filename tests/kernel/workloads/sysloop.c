/* SPDX-License-Identifier: MIT */
/*
 * sysloop SECS — thread "sysloop" makes cheap syscalls that never block (getppid(), a one-byte
 * write() to /dev/null) for SECS seconds. Alone it is all cpu. Ground truth under a tracer that
 * stops it at every syscall (strace -f): the time it is neither on a CPU nor waiting for one is
 * ptrace stops, not the write's I/O.
 */
#include "common.h"

int main(int argc, char **argv)
{
	uint64_t deadline;
	int fd;

	if (argc != 2)
		usage(argv[0], "SECS");
	deadline = now_ns() + parse_secs(argv[1], argv[0], "SECS");
	name_thread("sysloop");
	fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		die("/dev/null");
	while (now_ns() < deadline) {
		if (getppid() < 0 || write(fd, "x", 1) != 1)
			die("write");
	}
	return 0;
}
