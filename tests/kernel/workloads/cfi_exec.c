// SPDX-License-Identifier: MIT
/*
 * cfi_exec SECS — built without frame pointers (see the Makefile). Computes 300 ms in
 * cfi_exec_a_spin (the profiler's tables for this image get built meanwhile), then execs
 * cfi_exec_b (beside it), which computes for SECS in cfi_exec_b_outer -> cfi_exec_b_inner: the
 * same process, a new image, to be walked by the new image's tables.
 */
#include "common.h"
#include <libgen.h>

static volatile uint64_t sink;

__attribute__((noinline)) static void cfi_exec_a_spin(void)
{
	busy_for_ns(300 * NSEC_PER_MSEC);
	sink++;
}

int main(int argc, char **argv)
{
	char self[4096], path[4096];

	if (argc != 2)
		usage(argv[0], "SECS");
	parse_secs(argv[1], argv[0], "SECS");
	cfi_exec_a_spin();
	snprintf(self, sizeof(self), "%s", argv[0]);
	snprintf(path, sizeof(path), "%s/cfi_exec_b", dirname(self));
	execl(path, path, argv[1], (char *)NULL);
	die("execl");
	return 1;
}
