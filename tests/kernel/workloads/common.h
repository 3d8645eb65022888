/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the real-kernel test workloads: clocks, busy-waiting, sleeping,
 * argument parsing, thread naming and the schedstat dump the tests compare concur with.
 */
#ifndef CONCUR_TEST_COMMON_H
#define CONCUR_TEST_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NSEC_PER_SEC 1000000000ull
#define NSEC_PER_MSEC 1000000ull

/* Print "what: strerror(errno)" and exit 1. */
static inline void die(const char *what)
{
	perror(what);
	exit(1);
}

/* Same, for the pthread_* functions, which return the error instead of setting errno. */
static inline void die_err(const char *what, int err)
{
	fprintf(stderr, "%s: %s\n", what, strerror(err));
	exit(1);
}

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* Spin on the CPU (clock_gettime is a vDSO call: no syscall) until CLOCK_MONOTONIC reaches t. */
static inline void busy_until_ns(uint64_t t)
{
	while (now_ns() < t)
		;
}

static inline void busy_for_ns(uint64_t ns)
{
	busy_until_ns(now_ns() + ns);
}

/* Block in clock_nanosleep until CLOCK_MONOTONIC reaches t (returns at once if it has). */
static inline void sleep_until_ns(uint64_t t)
{
	struct timespec ts = { .tv_sec = t / NSEC_PER_SEC, .tv_nsec = t % NSEC_PER_SEC };
	int err;

	while ((err = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL)) == EINTR)
		;
	if (err)
		die_err("clock_nanosleep", err);
}

static inline void sleep_ns(uint64_t ns)
{
	sleep_until_ns(now_ns() + ns);
}

/* Print the usage line to stderr and exit 2. */
static inline void usage(const char *prog, const char *args)
{
	fprintf(stderr, "usage: %s %s\n", prog, args);
	exit(2);
}

/* A duration in seconds (a float, > 0, at most a day) as nanoseconds; usage() on anything else. */
static inline uint64_t parse_secs(const char *s, const char *prog, const char *args)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v > 0) || v > 86400)
		usage(prog, args);
	return (uint64_t)(v * NSEC_PER_SEC);
}

/* An integer in [min, max]; usage() on anything else. */
static inline long parse_long(const char *s, long min, long max, const char *prog, const char *args)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		usage(prog, args);
	return v;
}

/* Set the calling thread's comm (at most 15 characters), which the tests look threads up by. */
static inline void name_thread(const char *name)
{
	int err = pthread_setname_np(pthread_self(), name);

	if (err)
		die_err("pthread_setname_np", err);
}

/*
 * If $CONCUR_TEST_SCHEDSTAT names a directory, copy the calling thread's
 * /proc/self/task/<tid>/schedstat ("cpu-ns runqueue-wait-ns timeslices") into <dir>/<tid>.
 * Every thread calls it just before it ends, so that the tests can compare the kernel's
 * own per-thread figures with concur's.
 */
static inline void schedstat_dump(void)
{
	const char *dir = getenv("CONCUR_TEST_SCHEDSTAT");
	char path[4096], buf[256];
	pid_t tid = gettid();
	ssize_t n;
	int fd;

	if (!dir || !*dir)
		return;
	snprintf(path, sizeof(path), "/proc/self/task/%d/schedstat", (int)tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die(path);
	n = read(fd, buf, sizeof(buf));
	if (n <= 0)
		die(path);
	close(fd);

	snprintf(path, sizeof(path), "%s/%d", dir, (int)tid);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		die(path);
	if (write(fd, buf, (size_t)n) != n)
		die(path);
	if (close(fd))
		die(path);
}

#endif /* CONCUR_TEST_COMMON_H */
