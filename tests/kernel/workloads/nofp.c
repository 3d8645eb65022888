// SPDX-License-Identifier: MIT
/*
 * nofp SECS — CPU work three calls deep, built WITHOUT frame pointers (see the Makefile):
 * the kernel's frame-pointer unwinder loses the callers, and concur must say so, naming
 * this binary.
 */
#include "common.h"

static volatile uint64_t sink;

/* Uses every register it can, rbp included, as code built without frame pointers does. */
__attribute__((noinline)) static void leaf_work(uint64_t until)
{
	uint64_t a = sink, b = 3, c = 5, d = 7, e = 11, f = 13;
	int i;

	while (now_ns() < until) {
		for (i = 0; i < 100000; i++) {
			a = a * 31 + b;
			b = b * 17 + c;
			c = c * 13 + d;
			d = d * 11 + e;
			e = e * 7 + f;
			f = f * 5 + a;
		}
		sink = a ^ b ^ c ^ d ^ e ^ f;
	}
}

__attribute__((noinline)) static void middle(uint64_t until)
{
	leaf_work(until);
	sink++;
}

__attribute__((noinline)) static void outer(uint64_t until)
{
	middle(until);
	sink++;
}

int main(int argc, char **argv)
{
	if (argc != 2)
		usage(argv[0], "SECS");
	outer(now_ns() + parse_secs(argv[1], argv[0], "SECS"));
	return 0;
}
