// SPDX-License-Identifier: MIT
/*
 * cfi_plt SECS — built without frame pointers (see the Makefile). After 300 ms of computing
 * (the profiler's tables get built meanwhile), cfi_plt_loop calls libc's rand_r through the
 * PLT in a tight loop for SECS: rand_r is a few instructions, so a good share of the samples
 * land in the PLT stub itself, whose CFI is the PLT expression (or rsp + 8 in .plt.sec).
 */
#include "common.h"

static volatile uint64_t sink;

__attribute__((noinline)) static void cfi_plt_loop(uint64_t until)
{
	unsigned int seed = 1;
	uint64_t x = 0;
	int i;

	while (now_ns() < until) {
		for (i = 0; i < 100000; i++)
			x += (unsigned int)rand_r(&seed);
		sink = x;
	}
}

int main(int argc, char **argv)
{
	uint64_t secs;

	if (argc != 2)
		usage(argv[0], "SECS");
	secs = parse_secs(argv[1], argv[0], "SECS");
	busy_for_ns(300 * NSEC_PER_MSEC);
	cfi_plt_loop(now_ns() + secs);
	sink++;
	return 0;
}
