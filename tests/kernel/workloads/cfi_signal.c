// SPDX-License-Identifier: MIT
/*
 * cfi_signal SECS — built without frame pointers (see the Makefile). After 300 ms of computing
 * (the profiler's tables get built meanwhile), main computes in cfi_sig_interrupted until a
 * SIGALRM, sent by a helper thread, runs cfi_sig_handler on main's stack: the handler blocks
 * in read(2) on a pipe for SECS, until the helper writes. main's blocked stack therefore goes
 *   main -> cfi_sig_interrupted -> [signal frame: __restore_rt] -> cfi_sig_handler ->
 *   cfi_sig_block -> read
 * and only an unwinder that reads the signal frame's saved registers gets past __restore_rt.
 */
#include "common.h"
#include <signal.h>

static int pipefd[2];
static volatile int handled;
static volatile uint64_t sink;
static uint64_t secs;

__attribute__((noinline)) static void cfi_sig_block(void)
{
	char c;

	if (read(pipefd[0], &c, 1) != 1)
		die("read");
	sink++;
}

static void cfi_sig_handler(int sig)
{
	(void)sig;
	cfi_sig_block();
	handled = 1;
}

/* Spins until the handler has run: the signal interrupts it anywhere in the loop. */
__attribute__((noinline)) static void cfi_sig_interrupted(void)
{
	uint64_t a = sink, b = 7;

	while (!handled) {
		a = a * 31 + b;
		b ^= a >> 7;
	}
	sink = a + b;
}

static void *cfi_sig_helper(void *arg)
{
	pthread_t main_thread = *(pthread_t *)arg;

	name_thread("cfisighelper");
	sleep_ns(20 * NSEC_PER_MSEC);
	pthread_kill(main_thread, SIGALRM);
	sleep_ns(secs);
	if (write(pipefd[1], "x", 1) != 1)
		die("write");
	return NULL;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = cfi_sig_handler };
	pthread_t self = pthread_self(), helper;
	int err;

	if (argc != 2)
		usage(argv[0], "SECS");
	secs = parse_secs(argv[1], argv[0], "SECS");
	busy_for_ns(300 * NSEC_PER_MSEC);
	if (pipe(pipefd) || sigaction(SIGALRM, &sa, NULL))
		die("pipe/sigaction");
	err = pthread_create(&helper, NULL, cfi_sig_helper, &self);
	if (err)
		die_err("pthread_create", err);
	cfi_sig_interrupted();
	pthread_join(helper, NULL);
	return 0;
}
