/* SPDX-License-Identifier: MIT */
/*
 * runq3 SECS — three threads (comm "runq"), all pinned to CPU 0, spin until a common deadline
 * SECS seconds away; the main thread just waits for them.
 * Ground truth: three runnable threads share one CPU, so each is on it a third of the time
 * and waits in the run queue the other two thirds.
 */
#include "common.h"

#include <sched.h>

#define NTHREADS 3

static uint64_t deadline;

static void *spinner(void *arg)
{
	(void)arg;
	name_thread("runq");
	busy_until_ns(deadline);
	schedstat_dump();
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th[NTHREADS];
	pthread_attr_t attr;
	cpu_set_t cpus;
	int err;

	if (argc != 2)
		usage(argv[0], "SECS");
	deadline = now_ns() + parse_secs(argv[1], argv[0], "SECS");
	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	/* Pinned from birth: glibc applies the attribute's affinity before the thread runs. */
	if ((err = pthread_attr_init(&attr)) ||
	    (err = pthread_attr_setaffinity_np(&attr, sizeof(cpus), &cpus)))
		die_err("pthread_attr_setaffinity_np", err);
	for (int i = 0; i < NTHREADS; i++)
		if ((err = pthread_create(&th[i], &attr, spinner, NULL)))
			die_err("pthread_create (is CPU 0 allowed?)", err);
	pthread_attr_destroy(&attr);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	schedstat_dump();
	return 0;
}
