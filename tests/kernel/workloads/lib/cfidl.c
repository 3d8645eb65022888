// SPDX-License-Identifier: MIT
/* libcfidl.so: cfi_dlopen's library, built without frame pointers (see cfi_dlopen.c). */
#include "../common.h"

static volatile uint64_t sink;

/* Uses every register it can, rbp included: a frame-pointer walk cannot get past it. */
__attribute__((noinline)) static void cfi_dl_inner(uint64_t until)
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

__attribute__((noinline)) void cfi_dl_outer(uint64_t until)
{
	cfi_dl_inner(until);
	sink++;
}
