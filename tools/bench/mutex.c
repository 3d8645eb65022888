// SPDX-License-Identifier: MIT
/*
 * mutex [ITERATIONS] — four threads on two CPUs take and release one pthread mutex in a
 * loop, with ~2 µs of work inside: the lock is nearly always held, so most acquisitions
 * wait in futex and most releases wake a waiter. Futex bound.
 */
#include "common.h"

#define THREADS 4

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static volatile uint64_t shared;
static long iters;

static void *worker(void *arg)
{
	long i;
	int k;

	(void)arg;
	for (i = 0; i < iters; i++) {
		pthread_mutex_lock(&lock);
		for (k = 0; k < 1000; k++)
			shared = shared * 31 + k;
		pthread_mutex_unlock(&lock);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t[THREADS];
	uint64_t t0;
	int i;

	iters = bench_iters(argc, argv, 60000);
	bench_wait_go();
	t0 = bench_now();
	for (i = 0; i < THREADS; i++)
		if (pthread_create(&t[i], NULL, worker, NULL))
			bench_die("pthread_create");
	for (i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	bench_report(t0);
	return 0;
}
