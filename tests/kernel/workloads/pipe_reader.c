/* SPDX-License-Identifier: MIT */
/*
 * pipe_reader SECS — thread "feeder" writes one byte into a pipe every 20 ms for SECS seconds,
 * then closes it; thread "reader" does blocking 1-byte read()s until end of file.
 * Ground truth: the reader is blocked in read() on a pipe almost all the time: io.pipe.
 * (The feeder mostly sleeps.)
 */
#include "common.h"

static int fds[2];
static uint64_t deadline;

static void *feeder(void *arg)
{
	uint64_t t = now_ns();

	(void)arg;
	name_thread("feeder");
	while (t < deadline) {
		t += 20 * NSEC_PER_MSEC;
		sleep_until_ns(t);
		if (write(fds[1], "x", 1) != 1)
			die("write");
	}
	close(fds[1]);
	schedstat_dump();
	return NULL;
}

static void *reader(void *arg)
{
	char c;
	ssize_t n;

	(void)arg;
	name_thread("reader");
	while ((n = read(fds[0], &c, 1)) != 0)
		if (n < 0 && errno != EINTR)
			die("read");
	schedstat_dump();
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t r, f;
	int err;

	if (argc != 2)
		usage(argv[0], "SECS");
	deadline = now_ns() + parse_secs(argv[1], argv[0], "SECS");
	if (pipe(fds))
		die("pipe");
	if ((err = pthread_create(&r, NULL, reader, NULL)) ||
	    (err = pthread_create(&f, NULL, feeder, NULL)))
		die_err("pthread_create", err);
	pthread_join(f, NULL);
	pthread_join(r, NULL);
	schedstat_dump();
	return 0;
}
