// SPDX-License-Identifier: MIT
/*
 * The PLT reader's subject (tests/unit/test_plt.c): calls into libc through PLT stubs, and
 * takes a libc function's address too (a GLOB_DAT slot: the call to it goes through .plt.got
 * or, with a lazy .plt, the slot both share). Built lazy, -z now, with IBT's .plt.sec, and
 * with -fno-plt (no stubs for the calls).
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int (*volatile pid_of)(void) = getpid;

int main(int argc, char **argv)
{
	(void)argv;
	puts("plt");
	usleep(1);
	printf("%d %d\n", getpid(), pid_of());
	return abs(argc) > 100;
}
