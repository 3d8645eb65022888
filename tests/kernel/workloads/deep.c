/* SPDX-License-Identifier: MIT */
/*
 * deep DEPTH SECS — recurses DEPTH calls deep in descend() (real calls, not a loop), then
 * computes in bottom_burn() for SECS seconds. Deeper than the kernel's 127 frames, its stacks
 * lose main and the outer calls: concur must mark them [truncated]; shallower, they reach main.
 */
#include "common.h"

static volatile uint64_t sink;

/* Arithmetic, the clock read now and then: the samples land here, not in the vDSO. */
__attribute__((noinline)) static void bottom_burn(uint64_t until)
{
	uint64_t a = sink;
	int i;

	while (now_ns() < until) {
		for (i = 0; i < 200000; i++)
			a = a * 31 + (uint64_t)i;
		sink = a;
	}
}

/* Work after the call keeps it a call: no tail call, no loop. */
__attribute__((noinline)) static uint64_t descend(long depth, uint64_t until)
{
	if (depth <= 1)
		bottom_burn(until);
	else
		descend(depth - 1, until);
	return sink++;
}

int main(int argc, char **argv)
{
	long depth;
	uint64_t secs;

	if (argc != 3)
		usage(argv[0], "DEPTH SECS");
	depth = parse_long(argv[1], 1, 100000, argv[0], "DEPTH SECS");
	secs = parse_secs(argv[2], argv[0], "DEPTH SECS");
	name_thread("deep");
	descend(depth, now_ns() + secs);
	return 0;
}
