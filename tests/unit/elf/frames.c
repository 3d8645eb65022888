// SPDX-License-Identifier: MIT
/*
 * Known frame shapes for the unwind table's tests (test_unwind_table.c), built several ways by
 * the Makefile: without frame pointers, with them, and with .debug_frame instead of .eh_frame.
 */
#include <alloca.h>
#include <stdio.h>
#include <string.h>

/* A leaf: the CFA stays rsp + 8 throughout. */
__attribute__((noinline)) int frames_leaf(int x)
{
	return x * 3 + 1;
}

/* A big frame: `sub $N, %rsp` in the prologue, then the CFA is rsp + N + what was pushed. */
__attribute__((noinline)) int frames_big(int n)
{
	volatile char buf[40000];
	int i, sum = 0;

	memset((char *)buf, n, sizeof(buf));
	for (i = 0; i < n && i < (int)sizeof(buf); i++)
		sum += buf[i] + frames_leaf(i);
	return sum;
}

/* alloca: GCC keeps an rbp frame even with -fomit-frame-pointer (CFA rbp + 16). */
__attribute__((noinline)) int frames_alloca(int n)
{
	/* alloca is the point: a frame whose size is not known at compile time. */
	// cppcheck-suppress allocaCalled
	char *p = alloca((size_t)n + 1);

	memset(p, 1, (size_t)n + 1);
	return frames_big(p[n] + n);
}

int main(int argc, char **argv)
{
	(void)argv;
	printf("%d\n", frames_alloca(argc * 10));
	return 0;
}
