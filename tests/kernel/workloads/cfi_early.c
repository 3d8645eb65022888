// SPDX-License-Identifier: MIT
/*
 * cfi_early SECS — built without frame pointers: main's very first act is a sleep of SECS in
 * cfi_early_sleep (through libc's nanosleep, no frame pointers either), then 200 ms of work.
 * The sleep begins microseconds after the dynamic loader is done, before the profiler can have
 * written the process's unwind index: the stack taken then is the frame-pointer walk's.
 */
#include "common.h"

static volatile uint64_t sink;

__attribute__((noinline)) static void cfi_early_sleep(uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull) };

	nanosleep(&ts, NULL);
	sink++;
}

__attribute__((noinline)) static void cfi_early_work(uint64_t until)
{
	uint64_t a = sink;

	while (now_ns() < until)
		a = a * 31 + 7;
	sink = a;
}

int main(int argc, char **argv)
{
	uint64_t ns;

	if (argc != 2)
		usage(argv[0], "SECS");
	ns = parse_secs(argv[1], argv[0], "SECS");
	cfi_early_sleep(ns);
	cfi_early_work(now_ns() + 200000000ull);
	return 0;
}
