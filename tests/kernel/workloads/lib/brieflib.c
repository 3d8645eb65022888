// SPDX-License-Identifier: MIT
/*
 * libbrief.so: brief's work, in a shared library: mapped by the dynamic loader after the
 * exec, so that naming it needs a map read once the loader is done.
 */
#include <stdint.h>
#include <time.h>

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Computes ns of the calling thread's CPU time; the clock (a syscall) read every ~20 us. */
__attribute__((noinline)) void brief_lib_work(uint64_t ns)
{
	uint64_t end = thread_cpu_ns() + ns;
	volatile double x = 0;

	while (thread_cpu_ns() < end)
		for (int i = 0; i < 20000; i++)
			x += i * 0.5;
}
