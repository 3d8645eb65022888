/* SPDX-License-Identifier: MIT */
/*
 * spin SECS — the main thread (comm "spin") spins on the CPU for SECS seconds of wall time.
 * Ground truth: its time is all cpu (plus runqueue if the machine is busy), nothing blocked.
 */
#include "common.h"

int main(int argc, char **argv)
{
	uint64_t secs;

	if (argc != 2)
		usage(argv[0], "SECS");
	secs = parse_secs(argv[1], argv[0], "SECS");
	name_thread("spin");
	busy_for_ns(secs);
	schedstat_dump();
	return 0;
}
