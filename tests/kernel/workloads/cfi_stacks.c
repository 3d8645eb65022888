// SPDX-License-Identifier: MIT
/*
 * cfi_stacks SECS — built WITHOUT frame pointers (-O2 -fomit-frame-pointer, see the Makefile),
 * against Debian's libc (also without them): only a CFI unwinder sees the callers. First
 * 300 ms of computing in main (cfi_warmup: the profiler's tables get built meanwhile), then
 * for SECS:
 *   main thread: main -> cfi_main_sleep -> clock_nanosleep, holding `lock` for SECS
 *   "cfilocker":  start_thread -> cfi_lock_worker -> cfi_lock_take -> pthread_mutex_lock,
 *                 blocked on `lock` until main lets go
 *   "cfispinner": start_thread -> cfi_spin_outer -> cfi_spin_inner, computing for SECS
 * Each function does work after its call, so none is a tail call the unwinder could not see.
 */
#include "common.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static volatile uint64_t sink;
static uint64_t until;

__attribute__((noinline)) static void cfi_lock_take(void)
{
	pthread_mutex_lock(&lock);
	sink++;
	pthread_mutex_unlock(&lock);
}

__attribute__((noinline)) static void *cfi_lock_worker(void *arg)
{
	(void)arg;
	name_thread("cfilocker");
	cfi_lock_take();
	sink++;
	return NULL;
}

/* Uses every register it can, rbp included, as code built without frame pointers does. */
__attribute__((noinline)) static void cfi_spin_inner(void)
{
	uint64_t a = sink, b = 3, c = 5, d = 7, e = 11, f = 13;
	int i;

	while (now_ns() < until) {
		for (i = 0; i < 100000; i++) {
			a = a * 31 + b;
			b = b * 17 + c;
			c = c * 13 + d;
			d = d * 11 + e;
			e = e * 7 + f;
			f = f * 5 + a;
		}
		sink = a ^ b ^ c ^ d ^ e ^ f;
	}
}

__attribute__((noinline)) static void cfi_spin_outer(void)
{
	cfi_spin_inner();
	sink++;
}

static void *cfi_spinner(void *arg)
{
	(void)arg;
	name_thread("cfispinner");
	cfi_spin_outer();
	sink++;
	return NULL;
}

__attribute__((noinline)) static void cfi_main_sleep(void)
{
	sleep_until_ns(until);
	sink++;
}

__attribute__((noinline)) static void cfi_warmup(void)
{
	busy_for_ns(300 * NSEC_PER_MSEC);
	sink++;
}

int main(int argc, char **argv)
{
	pthread_t locker, spinner;
	uint64_t secs;
	int err;

	if (argc != 2)
		usage(argv[0], "SECS");
	secs = parse_secs(argv[1], argv[0], "SECS");
	cfi_warmup();
	until = now_ns() + secs;
	pthread_mutex_lock(&lock);
	err = pthread_create(&locker, NULL, cfi_lock_worker, NULL);
	if (!err)
		err = pthread_create(&spinner, NULL, cfi_spinner, NULL);
	if (err)
		die_err("pthread_create", err);
	cfi_main_sleep();
	pthread_mutex_unlock(&lock);
	pthread_join(locker, NULL);
	pthread_join(spinner, NULL);
	return 0;
}
