/* SPDX-License-Identifier: MIT */
/*
 * fsync_loop DIR SECS — thread "fsyncer" writes 4 KiB to a file in DIR and fsync()s it, in a
 * loop for SECS seconds, then deletes the file. DIR must be on a disk file system (ext4),
 * not tmpfs, for fsync to wait for the device.
 * Ground truth: the fsyncer's blocked time is waiting for the disk: io.disk is its largest
 * off-CPU category.
 */
#include "common.h"

#include <sys/stat.h>

static char path[4096];
static uint64_t deadline;

static void *fsyncer(void *arg)
{
	static char block[4096];
	unsigned i = 0;
	int fd;

	(void)arg;
	name_thread("fsyncer");
	memset(block, 'f', sizeof(block));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		die(path);
	while (now_ns() < deadline) {
		/* Cycle over the first 1 MiB so the file stays small. */
		off_t off = (off_t)(i++ % 256) * (off_t)sizeof(block);

		if (pwrite(fd, block, sizeof(block), off) != (ssize_t)sizeof(block))
			die("pwrite");
		if (fsync(fd))
			die("fsync");
	}
	close(fd);
	if (unlink(path))
		die("unlink");
	schedstat_dump();
	return NULL;
}

int main(int argc, char **argv)
{
	const char *args = "DIR SECS";
	pthread_t th;
	int err;

	if (argc != 3)
		usage(argv[0], args);
	deadline = now_ns() + parse_secs(argv[2], argv[0], args);
	if ((size_t)snprintf(path, sizeof(path), "%s/fsync_loop.%d.tmp", argv[1], (int)getpid()) >=
	    sizeof(path))
		usage(argv[0], args);
	if ((err = pthread_create(&th, NULL, fsyncer, NULL)))
		die_err("pthread_create", err);
	pthread_join(th, NULL);
	schedstat_dump();
	return 0;
}
