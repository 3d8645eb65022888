// SPDX-License-Identifier: MIT
/*
 * pingpong [ROUNDS [WORK_NS]] — two threads pinned to one CPU pass a byte back and forth
 * through two pipes: every round trip is two blocking reads, two wake-ups and two context
 * switches. Context-switch bound: the tracer's cost per switch is what it measures. WORK_NS
 * of computing before each hand-off sets a lower switch rate (2000: ~210 000 switches/s).
 */
#include "common.h"

static int ab[2], ba[2];
static long rounds;
static uint64_t work_ns;

/* Computes (reads the clock) for work_ns. */
static void work(void)
{
	uint64_t t0;

	if (!work_ns)
		return;
	t0 = bench_now();
	while (bench_now() - t0 < work_ns)
		;
}

static void *pong(void *arg)
{
	char c;
	long i;

	(void)arg;
	for (i = 0; i < rounds; i++) {
		if (read(ab[0], &c, 1) != 1)
			bench_die("pong");
		work();
		if (write(ba[1], &c, 1) != 1)
			bench_die("pong");
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t;
	uint64_t t0;
	char c = 'x';
	long i;

	rounds = bench_iters(argc, argv, 100000);
	if (argc > 2)
		work_ns = strtoull(argv[2], NULL, 10);
	if (pipe(ab) || pipe(ba))
		bench_die("pipe");
	bench_pin(0);	/* both threads inherit it: every hand-off is a switch */
	bench_wait_go();
	t0 = bench_now();
	if (pthread_create(&t, NULL, pong, NULL))
		bench_die("pthread_create");
	for (i = 0; i < rounds; i++) {
		work();
		if (write(ab[1], &c, 1) != 1 || read(ba[0], &c, 1) != 1)
			bench_die("ping");
	}
	pthread_join(t, NULL);
	bench_report(t0);
	return 0;
}
