/* SPDX-License-Identifier: MIT */
/*
 * spin2 SECS — two threads (comm "spin2"), unpinned, spin until a common deadline SECS seconds
 * away; the main thread waits for them.
 * Ground truth: on an idle machine of 2 CPUs, both on a CPU all the time — unless a CPU quota
 * caps them (tests/kernel/test_resources.py: 0.5 CPU, so each runs a quarter of the time and
 * waits, throttled, the rest).
 */
#include "common.h"

static uint64_t deadline;

static void *spinner(void *arg)
{
	(void)arg;
	name_thread("spin2");
	busy_until_ns(deadline);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th[2];
	int i, err;

	if (argc != 2)
		usage(argv[0], "SECS");
	deadline = now_ns() + parse_secs(argv[1], argv[0], "SECS");
	name_thread("spin2");
	for (i = 0; i < 2; i++) {
		err = pthread_create(&th[i], NULL, spinner, NULL);
		if (err)
			die_err("pthread_create", err);
	}
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	return 0;
}
