// SPDX-License-Identifier: MIT
/*
 * The demo workload: a little of everything for about two seconds, so that `make demo`
 * shows every kind of waiting. Threads: "cruncher" computes; two "cook"s fight over one
 * mutex; "waiter" reads a pipe that "bell" rings every 50 ms; "napper" sleeps; "scribe"
 * writes and fsyncs a file; the main thread waits for a child process that naps.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#define RUN_NS 2000000000ull

static pthread_mutex_t stove = PTHREAD_MUTEX_INITIALIZER;
static int bell[2];
static unsigned long long t_end;

static unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void spin_ns(unsigned long long ns)
{
	unsigned long long end = now_ns() + ns;

	while (now_ns() < end)
		;
}

static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void *cruncher(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "cruncher");
	spin_ns(t_end - now_ns());
	return NULL;
}

static void *cook(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "cook");
	while (now_ns() < t_end) {
		pthread_mutex_lock(&stove);
		spin_ns(3000000);
		pthread_mutex_unlock(&stove);
		nap_ms(1);
	}
	return NULL;
}

static void *ringer(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "bell");
	while (now_ns() < t_end) {
		nap_ms(50);
		if (write(bell[1], "!", 1) != 1)
			break;
	}
	close(bell[1]);
	return NULL;
}

static void *waiter(void *arg)
{
	char c;

	(void)arg;
	pthread_setname_np(pthread_self(), "waiter");
	while (read(bell[0], &c, 1) == 1)
		;
	return NULL;
}

static void *napper(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "napper");
	while (now_ns() < t_end)
		nap_ms(100);
	return NULL;
}

static void *scribe(void *arg)
{
	char block[4096] = { 'x' };
	char path[] = "./.concur-demo-XXXXXX";
	int fd = mkstemp(path);

	(void)arg;
	pthread_setname_np(pthread_self(), "scribe");
	if (fd < 0)
		return NULL;
	unlink(path);
	while (now_ns() < t_end)
		if (write(fd, block, sizeof(block)) < 0 || fsync(fd))
			break;
	close(fd);
	return NULL;
}

int main(void)
{
	void *(*const jobs[])(void *) = { cruncher, cook, cook, ringer, waiter, napper, scribe };
	pthread_t tids[sizeof(jobs) / sizeof(jobs[0])];
	size_t i;
	pid_t child;

	t_end = now_ns() + RUN_NS;
	if (pipe(bell))
		return 1;
	for (i = 0; i < sizeof(jobs) / sizeof(jobs[0]); i++)
		if (pthread_create(&tids[i], NULL, jobs[i], NULL))
			return 1;
	child = fork();
	if (child == 0) {
		nap_ms(RUN_NS / 1000000);
		_exit(0);
	}
	if (child > 0)
		waitpid(child, NULL, 0);
	for (i = 0; i < sizeof(jobs) / sizeof(jobs[0]); i++)
		pthread_join(tids[i], NULL);
	return 0;
}
