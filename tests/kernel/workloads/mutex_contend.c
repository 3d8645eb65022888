/* SPDX-License-Identifier: MIT */
/*
 * mutex_contend THREADS SECS — THREADS threads (comm "contend") loop for SECS seconds: lock one
 * global mutex, spin 2 ms while holding it, unlock, a few µs of work outside.
 * Ground truth: only one of them can make progress at a time, so the others spend most of
 * their time blocked in futex: lock is by far their largest off-CPU category.
 */
#include "common.h"

static pthread_mutex_t big_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t deadline;

static void *contend(void *arg)
{
	volatile uint64_t outside = 0;

	(void)arg;
	name_thread("contend");
	while (now_ns() < deadline) {
		pthread_mutex_lock(&big_lock);
		busy_for_ns(2 * NSEC_PER_MSEC);
		pthread_mutex_unlock(&big_lock);
		for (int i = 0; i < 1000; i++)
			outside += (uint64_t)i;
	}
	schedstat_dump();
	return NULL;
}

int main(int argc, char **argv)
{
	const char *args = "THREADS SECS";
	pthread_t th[64];
	long n;
	int err;

	if (argc != 3)
		usage(argv[0], args);
	n = parse_long(argv[1], 1, 64, argv[0], args);
	deadline = now_ns() + parse_secs(argv[2], argv[0], args);
	for (long i = 0; i < n; i++)
		if ((err = pthread_create(&th[i], NULL, contend, NULL)))
			die_err("pthread_create", err);
	for (long i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	schedstat_dump();
	return 0;
}
