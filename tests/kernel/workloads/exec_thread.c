// SPDX-License-Identifier: MIT
/*
 * exec_thread CPU_SECONDS NEXT ARGS...: a second thread, "execer", computes CPU_SECONDS of CPU
 * time in execer_work(), then execs NEXT ARGS... while the main thread waits in pthread_join:
 * the kernel makes the exec'ing thread the leader (its tid becomes the pid), the main thread
 * is reaped. Prints its pid first.
 */
#include "common.h"

static uint64_t work_ns;
static char **next;

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

__attribute__((noinline)) void execer_work(void)
{
	uint64_t end = thread_cpu_ns() + work_ns;
	volatile double x = 0;

	while (thread_cpu_ns() < end)
		for (int i = 0; i < 20000; i++)
			x += i * 0.5;
}

static void *execer(void *arg)
{
	(void)arg;
	name_thread("execer");
	execer_work();
	execv(next[0], next);
	die(next[0]);
	return NULL;
}

int main(int argc, char **argv)
{
	const char *args = "CPU_SECONDS NEXT [ARGS...]";
	pthread_t t;
	int err;

	if (argc < 3)
		usage(argv[0], args);
	work_ns = parse_secs(argv[1], argv[0], args);
	next = argv + 2;
	printf("%d\n", getpid());
	fflush(stdout);
	err = pthread_create(&t, NULL, execer, NULL);
	if (err)
		die_err("pthread_create", err);
	pthread_join(t, NULL);
	return 1; /* never: the exec replaces the process first */
}
