/* SPDX-License-Identifier: MIT */
/*
 * hold_lock — for `concur attach`: thread "holder" takes a mutex and sleeps forever; thread
 * "waiter", started once the holder has it, blocks in pthread_mutex_lock. When the waiter is
 * seen blocked in futex (state S, syscall 202 in /proc), the main thread prints "ready" and
 * pause()s. Runs until killed.
 * Ground truth: during any later window the waiter is all lock and the holder all sleep.
 */
#include "common.h"

#include <semaphore.h>
#include <stdatomic.h>
#include <sys/syscall.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static sem_t held;
static _Atomic pid_t waiter_tid;

static void *holder(void *arg)
{
	(void)arg;
	name_thread("holder");
	pthread_mutex_lock(&lock);
	sem_post(&held);
	for (;;)
		pause();
	return NULL;
}

static void *waiter(void *arg)
{
	(void)arg;
	name_thread("waiter");
	atomic_store(&waiter_tid, gettid());
	pthread_mutex_lock(&lock);
	return NULL;
}

/* Read a small /proc file into buf (NUL-terminated); "" on error. */
static void read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, size - 1);

	buf[n > 0 ? n : 0] = '\0';
	if (fd >= 0)
		close(fd);
}

/* Is the thread asleep (S) inside futex? */
static int blocked_in_futex(pid_t tid)
{
	char path[64], stat[512], sc[256], nr[16];
	const char *p;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	read_small(path, stat, sizeof(stat));
	p = strrchr(stat, ')');	/* comm may contain anything; the state follows its ')' */
	if (!p || p[1] != ' ' || p[2] != 'S')
		return 0;
	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", (int)tid);
	read_small(path, sc, sizeof(sc));
	snprintf(nr, sizeof(nr), "%d ", SYS_futex);
	return strncmp(sc, nr, strlen(nr)) == 0;
}

int main(int argc, char **argv)
{
	pthread_t h, w;
	pid_t tid;
	int err;

	if (argc != 1)
		usage(argv[0], "");
	if (sem_init(&held, 0, 0))
		die("sem_init");
	if ((err = pthread_create(&h, NULL, holder, NULL)))
		die_err("pthread_create", err);
	while (sem_wait(&held))
		if (errno != EINTR)
			die("sem_wait");
	if ((err = pthread_create(&w, NULL, waiter, NULL)))
		die_err("pthread_create", err);
	while (!(tid = atomic_load(&waiter_tid)) || !blocked_in_futex(tid))
		sleep_ns(NSEC_PER_MSEC);
	printf("ready\n");
	fflush(stdout);
	for (;;)
		pause();
}
