/* SPDX-License-Identifier: MIT */
/*
 * Shared by the benchmark workloads: each waits for a line on stdin before it starts (so
 * a tracer can attach to it first), then prints "elapsed_ns N" for the measured part only.
 */
#ifndef CONCUR_BENCH_COMMON_H
#define CONCUR_BENCH_COMMON_H

#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static inline uint64_t bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static inline void bench_die(const char *what)
{
	perror(what);
	exit(1);
}

/* The iteration count from argv[1], or the default. */
static inline long bench_iters(int argc, char **argv, long dflt)
{
	char *end;
	long v;

	if (argc < 2)
		return dflt;
	errno = 0;
	v = strtol(argv[1], &end, 10);
	if (errno || *end || v <= 0) {
		fprintf(stderr, "usage: %s [ITERATIONS]\n", argv[0]);
		exit(2);
	}
	return v;
}

/* Blocks until the harness says go (a line on stdin, or EOF). */
static inline void bench_wait_go(void)
{
	char line[16];

	if (!fgets(line, sizeof(line), stdin) && ferror(stdin))
		bench_die("stdin");
}

static inline void bench_report(uint64_t t0)
{
	printf("elapsed_ns %llu\n", (unsigned long long)(bench_now() - t0));
	fflush(stdout);
}

static inline void bench_pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		bench_die("sched_setaffinity");
}

#endif
