// SPDX-License-Identifier: MIT
/*
 * churn THREADS — creates and joins THREADS short threads, a few at a time: more thread
 * ids than a small pid_max holds without reuse, and thread entries created and retired by
 * the thousand. Each thread spins ~0.2 ms so that it is really scheduled.
 */
#include "common.h"

#define BATCH 8

static void *short_job(void *arg)
{
	busy_for_ns(200000);
	return arg;
}

int main(int argc, char **argv)
{
	pthread_t t[BATCH];
	long n, i, k;

	if (argc != 2)
		usage(argv[0], "THREADS");
	n = parse_long(argv[1], 1, 10000000, argv[0], "THREADS");
	for (i = 0; i < n; i += BATCH) {
		for (k = 0; k < BATCH && i + k < n; k++)
			if ((errno = pthread_create(&t[k], NULL, short_job, NULL)))
				die("pthread_create");
		for (k = 0; k < BATCH && i + k < n; k++)
			pthread_join(t[k], NULL);
	}
	return 0;
}
