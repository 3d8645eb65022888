/* SPDX-License-Identifier: MIT */
/*
 * busy_sleep SECS — the main thread (comm "busy_sleep") alternates 10 ms on the CPU and 10 ms
 * in clock_nanosleep for SECS seconds.
 * Ground truth: cpu ≈ 50 % and sleep ≈ 50 % of its lifetime. The phases follow a fixed
 * schedule of absolute deadlines, so a late wake-up shortens the next busy phase instead
 * of drifting the ratio.
 */
#include "common.h"

#define PHASE_NS (10 * NSEC_PER_MSEC)

int main(int argc, char **argv)
{
	uint64_t secs, t, end;

	if (argc != 2)
		usage(argv[0], "SECS");
	secs = parse_secs(argv[1], argv[0], "SECS");
	name_thread("busy_sleep");
	t = now_ns();
	end = t + secs;
	while (t < end) {
		t += PHASE_NS;
		busy_until_ns(t);
		t += PHASE_NS;
		sleep_until_ns(t);
	}
	schedstat_dump();
	return 0;
}
