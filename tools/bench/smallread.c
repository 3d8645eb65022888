// SPDX-License-Identifier: MIT
/*
 * smallread [ITERATIONS] — one thread reads 16 bytes at a time from /dev/zero: a syscall
 * that never blocks, a million times. A tracer that traces syscalls pays on every one;
 * concur should not pay at all.
 */
#include "common.h"
#include <fcntl.h>

int main(int argc, char **argv)
{
	long n = bench_iters(argc, argv, 1000000), i;
	char buf[16];
	uint64_t t0;
	int fd = open("/dev/zero", O_RDONLY);

	if (fd < 0)
		bench_die("/dev/zero");
	bench_wait_go();
	t0 = bench_now();
	for (i = 0; i < n; i++)
		if (read(fd, buf, sizeof(buf)) != sizeof(buf))
			bench_die("read");
	bench_report(t0);
	return 0;
}
