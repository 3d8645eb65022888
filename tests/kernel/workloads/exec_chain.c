// SPDX-License-Identifier: MIT
/*
 * exec_chain CPU_SECONDS [NEXT CPU_SECONDS [NEXT ...]]: computes CPU_SECONDS of its own CPU
 * time in a function named after its image, then execs NEXT with the rest of the arguments:
 * one pid, several images. Built three times (exec_chain, exec_chain2, exec_chain3) with
 * STAGE 1, 2, 3: the function is chain_stage<STAGE>_work. Each image also has
 * chain_stage<STAGE>_idle, which never runs, laid out before the work function in even
 * stages and after it in odd ones: a stack named with another image's map (ASLR off: every
 * image at one base) lands in a function that never ran, or in another stage's work.
 */
#include "common.h"

#ifndef STAGE
#define STAGE 1
#endif
#define CAT_(a, b, c) a##b##c
#define CAT(a, b, c)  CAT_(a, b, c)
#define WORK	      CAT(chain_stage, STAGE, _work)
#define IDLE	      CAT(chain_stage, STAGE, _idle)

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* The same loop as WORK's: equal sizes, so the two swap places between stages. */
#define SPIN_BODY(ns)                                                      \
	do {                                                               \
		uint64_t end = thread_cpu_ns() + (ns);                     \
		volatile double x = 0;                                     \
		while (thread_cpu_ns() < end)                              \
			for (int i = 0; i < 20000; i++) /* ~20 us a check */ \
				x += i * 0.5;                              \
	} while (0)

#if STAGE % 2 == 0
__attribute__((noinline, used)) void IDLE(uint64_t ns)
{
	SPIN_BODY(ns);
}
#endif

__attribute__((noinline)) void WORK(uint64_t ns)
{
	SPIN_BODY(ns);
}

#if STAGE % 2 == 1
__attribute__((noinline, used)) void IDLE(uint64_t ns)
{
	SPIN_BODY(ns);
}
#endif

int main(int argc, char **argv)
{
	const char *args = "CPU_SECONDS [NEXT CPU_SECONDS ...]";

	if (argc < 2 || argc % 2)
		usage(argv[0], args);
	WORK(parse_secs(argv[1], argv[0], args));
	if (argc > 2) {
		execv(argv[2], argv + 2);
		die(argv[2]);
	}
	return 0;
}
