// SPDX-License-Identifier: MIT
/*
 * uselib SECS — a PIE executable whose CPU time is spent in a shared library:
 * on-CPU stacks end in lib_burn (libconcurwork.so), called from pie_caller (this binary).
 */
#include "common.h"

uint64_t lib_burn(uint64_t ns);

__attribute__((noinline)) uint64_t pie_caller(uint64_t ns)
{
	return lib_burn(ns) + 1;
}

int main(int argc, char **argv)
{
	if (argc != 2)
		usage(argv[0], "SECS");
	return pie_caller(parse_secs(argv[1], argv[0], "SECS")) == 0;
}
