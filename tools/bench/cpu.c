// SPDX-License-Identifier: MIT
/* cpu [ITERATIONS] — pure computation in one thread: the baseline any tracer should not touch. */
#include "common.h"

static volatile uint64_t sink;

int main(int argc, char **argv)
{
	long n = bench_iters(argc, argv, 300000000), i;
	uint64_t t0, x = 1;

	bench_wait_go();
	t0 = bench_now();
	for (i = 0; i < n; i++)
		x = x * 6364136223846793005ull + 1442695040888963407ull;
	sink = x;
	bench_report(t0);
	return 0;
}
