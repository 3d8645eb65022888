// SPDX-License-Identifier: MIT
/*
 * stacks SECS — known functions in known categories, for the stack tests.
 *
 * Ground truth, for SECS seconds:
 *   thread "burner":  burn_cpu() computes                        → cpu stacks end in burn_cpu
 *   thread "locker":  wait_on_lock() waits on a futex "holder" holds → lock stacks pass wait_on_lock
 *   thread "reader":  read_slow_pipe() reads a pipe fed every 20 ms → io.pipe stacks pass read_slow_pipe
 *   a child process, ~50 ms of child_burn(), then exits            → cpu stacks of an exited process
 *
 * Frame-pointer unwinding stops at the first function built without frame pointers, and
 * Debian's libc is one: the waits here make their syscalls inline, in the named function,
 * so that the stacks reach it. The binary is built with -fno-omit-frame-pointer.
 */
#include "common.h"
#include <linux/futex.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define NOINLINE __attribute__((noinline))

static uint64_t t_end;
static int lock_word;		/* 0 free, 1 taken */
static int feed[2];
static volatile uint64_t sink;
static volatile uint64_t wakeups;

static inline long raw_syscall4(long nr, long a, long b, long c, long d)
{
	register long r10 __asm__("r10") = d;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10)
			 : "rcx", "r11", "memory");
	return ret;
}

/* Pure arithmetic between clock reads: nearly every sample lands in this very function. */
static NOINLINE void burn(uint64_t until)
{
	uint64_t x = sink;
	int i;

	while (now_ns() < until) {
		for (i = 0; i < 200000; i++)
			x = x * 6364136223846793005ull + 1442695040888963407ull;
		sink = x;
	}
}

NOINLINE void burn_cpu(uint64_t until)
{
	burn(until);
}

NOINLINE void child_burn(uint64_t until)
{
	burn(until);
}

/*
 * GCC builds a function that calls nothing without a frame, whatever the flags: the
 * waits below count their wake-ups through a call so that they get one.
 */
NOINLINE void count_wakeup(void)
{
	wakeups++;
}

NOINLINE void wait_on_lock(void)
{
	while (__atomic_exchange_n(&lock_word, 1, __ATOMIC_ACQUIRE)) {
		raw_syscall4(SYS_futex, (long)&lock_word, FUTEX_WAIT_PRIVATE, 1, 0);
		count_wakeup();
	}
}

static void unlock(void)
{
	__atomic_store_n(&lock_word, 0, __ATOMIC_RELEASE);
	raw_syscall4(SYS_futex, (long)&lock_word, FUTEX_WAKE_PRIVATE, 1, 0);
}

NOINLINE long read_slow_pipe(char *c)
{
	long n = raw_syscall4(SYS_read, feed[0], (long)c, 1, 0);

	count_wakeup();
	return n;
}

static void *burner(void *arg)
{
	(void)arg;
	name_thread("burner");
	burn_cpu(t_end);
	return NULL;
}

/* Holds the lock 20 ms at a time, letting go for a moment in between. */
static void *holder(void *arg)
{
	(void)arg;
	name_thread("holder");
	while (now_ns() < t_end) {
		wait_on_lock();
		sleep_ns(20 * NSEC_PER_MSEC);
		unlock();
		sleep_ns(NSEC_PER_MSEC / 10);
	}
	return NULL;
}

static void *locker(void *arg)
{
	(void)arg;
	name_thread("locker");
	while (now_ns() < t_end) {
		wait_on_lock();
		unlock();
	}
	return NULL;
}

static void *reader(void *arg)
{
	char c;

	(void)arg;
	name_thread("reader");
	while (read_slow_pipe(&c) == 1)
		;
	return NULL;
}

static void run_child(void)
{
	pid_t pid = fork();

	if (pid < 0)
		die("fork");
	if (pid == 0) {
		child_burn(now_ns() + 50 * NSEC_PER_MSEC);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
}

int main(int argc, char **argv)
{
	void *(*const fns[])(void *) = { burner, holder, locker, reader };
	pthread_t tids[4];
	size_t i;

	if (argc != 2)
		usage(argv[0], "SECS");
	t_end = now_ns() + parse_secs(argv[1], argv[0], "SECS");
	if (pipe(feed))
		die("pipe");
	for (i = 0; i < 4; i++)
		if ((errno = pthread_create(&tids[i], NULL, fns[i], NULL)))
			die("pthread_create");
	run_child();
	while (now_ns() < t_end) {
		sleep_ns(20 * NSEC_PER_MSEC);
		if (write(feed[1], "x", 1) != 1)
			die("write");
	}
	close(feed[1]);
	for (i = 0; i < 4; i++)
		pthread_join(tids[i], NULL);
	return 0;
}
