// SPDX-License-Identifier: MIT
/*
 * leader_exits SECONDS: three threads compute in chew() for SECONDS while the thread-group
 * leader leaves with pthread_exit() at once: /proc/PID/maps then reads empty, the process lives
 * on in the three. Prints its pid first.
 */
#include "common.h"

static uint64_t run_ns;

static void __attribute__((noinline)) chew(void)
{
	busy_for_ns(run_ns);
}

static void *worker(void *arg)
{
	(void)arg;
	name_thread("chewer");
	chew();
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t;
	int i, err;

	if (argc != 2)
		usage(argv[0], "SECONDS");
	run_ns = parse_secs(argv[1], argv[0], "SECONDS");
	printf("%d\n", getpid());
	fflush(stdout);
	for (i = 0; i < 3; i++) {
		err = pthread_create(&t, NULL, worker, NULL);
		if (err)
			die_err("pthread_create", err);
	}
	pthread_exit(NULL);
}
