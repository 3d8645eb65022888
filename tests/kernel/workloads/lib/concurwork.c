// SPDX-License-Identifier: MIT
/* libconcurwork.so: a function in a shared library, for the symbolization test. */
#include <stdint.h>
#include <time.h>

static uint64_t now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

__attribute__((noinline)) uint64_t lib_burn(uint64_t ns)
{
	uint64_t end = now() + ns, x = 1;
	int i;

	while (now() < end)
		for (i = 0; i < 200000; i++)
			x = x * 6364136223846793005ull + 1442695040888963407ull;
	return x;
}
