// SPDX-License-Identifier: MIT
/*
 * churn [THREADS] — creates and joins short threads one after another: thread creation,
 * wake-up of a new task and exit, thousands of times (per-thread state set up and torn down).
 */
#include "common.h"

static volatile uint64_t sink;

static void *short_job(void *arg)
{
	int k;

	for (k = 0; k < 1000; k++)
		sink += k;
	return arg;
}

int main(int argc, char **argv)
{
	long n = bench_iters(argc, argv, 5000), i;
	pthread_t t;
	uint64_t t0;

	bench_wait_go();
	t0 = bench_now();
	for (i = 0; i < n; i++) {
		if (pthread_create(&t, NULL, short_job, NULL))
			bench_die("pthread_create");
		pthread_join(t, NULL);
	}
	bench_report(t0);
	return 0;
}
