// SPDX-License-Identifier: MIT
/*
 * pingpong [ROUNDS] — two threads pinned to one CPU pass a byte back and forth through two
 * pipes: every round trip is two blocking reads, two wake-ups and two context switches.
 * Context-switch bound: the tracer's cost per switch is what it measures.
 */
#include "common.h"

static int ab[2], ba[2];
static long rounds;

static void *pong(void *arg)
{
	char c;
	long i;

	(void)arg;
	for (i = 0; i < rounds; i++)
		if (read(ab[0], &c, 1) != 1 || write(ba[1], &c, 1) != 1)
			bench_die("pong");
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t;
	uint64_t t0;
	char c = 'x';
	long i;

	rounds = bench_iters(argc, argv, 100000);
	if (pipe(ab) || pipe(ba))
		bench_die("pipe");
	bench_pin(0);	/* both threads inherit it: every hand-off is a switch */
	bench_wait_go();
	t0 = bench_now();
	if (pthread_create(&t, NULL, pong, NULL))
		bench_die("pthread_create");
	for (i = 0; i < rounds; i++)
		if (write(ab[1], &c, 1) != 1 || read(ba[0], &c, 1) != 1)
			bench_die("ping");
	pthread_join(t, NULL);
	bench_report(t0);
	return 0;
}
