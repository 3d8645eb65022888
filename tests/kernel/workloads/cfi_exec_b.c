// SPDX-License-Identifier: MIT
/* cfi_exec_b SECS — the image cfi_exec execs (see cfi_exec.c): computes for SECS in
 * cfi_exec_b_outer -> cfi_exec_b_inner, without frame pointers. */
#include "common.h"

static volatile uint64_t sink;

/* Uses every register it can, rbp included: a frame-pointer walk cannot get past it. */
__attribute__((noinline)) static void cfi_exec_b_inner(uint64_t until)
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

__attribute__((noinline)) static void cfi_exec_b_outer(uint64_t until)
{
	cfi_exec_b_inner(until);
	sink++;
}

int main(int argc, char **argv)
{
	if (argc != 2)
		usage(argv[0], "SECS");
	cfi_exec_b_outer(now_ns() + parse_secs(argv[1], argv[0], "SECS"));
	return 0;
}
