// SPDX-License-Identifier: MIT
/*
 * cfi_dlopen SECS — built without frame pointers (see the Makefile). After 300 ms of
 * computing (the profiler reads the map and builds the tables meanwhile), dlopen()s
 * libcfidl.so from its own directory and computes in it for SECS:
 *   main -> cfi_dl_call -> cfi_dl_outer -> cfi_dl_inner (the last two in the library)
 * The library is in no map read before the dlopen: its frames are walked by its own tables
 * only once the map is read again.
 */
#include "common.h"
#include <dlfcn.h>
#include <libgen.h>

static volatile uint64_t sink;

__attribute__((noinline)) static void cfi_dl_call(void (*outer)(uint64_t), uint64_t until)
{
	outer(until);
	sink++;
}

int main(int argc, char **argv)
{
	char path[4096], self[4096];
	void (*outer)(uint64_t);
	uint64_t secs;
	void *h;

	if (argc != 2)
		usage(argv[0], "SECS");
	secs = parse_secs(argv[1], argv[0], "SECS");
	busy_for_ns(300 * NSEC_PER_MSEC);
	snprintf(self, sizeof(self), "%s", argv[0]);
	snprintf(path, sizeof(path), "%s/libcfidl.so", dirname(self));
	h = dlopen(path, RTLD_NOW);
	if (!h) {
		fprintf(stderr, "%s\n", dlerror());
		return 1;
	}
	outer = (void (*)(uint64_t))dlsym(h, "cfi_dl_outer");
	if (!outer)
		die("dlsym");
	cfi_dl_call(outer, now_ns() + secs);
	return 0;
}
