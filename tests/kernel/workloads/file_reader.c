/* SPDX-License-Identifier: MIT */
/*
 * file_reader mmap|pread FILE — drops FILE's pages from the page cache, then reads it once from
 * start to end, a page at a time: through mmap (one byte of each page touched: each is a fault
 * that waits for the disk) or with pread() of a page. Readahead is off for both (MADV_RANDOM,
 * POSIX_FADV_RANDOM): with it, a fast virtual disk keeps ahead of the reader, which then copies
 * as much as it waits; without, each page is one synchronous read, the same for both ways.
 * Thread "mmap_reader" / "pread_reader". Ground truth: either way the reader waits for the
 * disk most of its life (io.disk). Only FILE's pages are dropped (POSIX_FADV_DONTNEED on a
 * clean file), not the whole machine's cache: the machine is shared.
 */
#include "common.h"
#include <sys/mman.h>
#include <sys/stat.h>


int main(int argc, char **argv)
{
	const char *args = "mmap|pread FILE";
	volatile unsigned char sink = 0;
	static char buf[65536];
	int use_mmap, fd, err;
	struct stat st;
	long page = sysconf(_SC_PAGESIZE);
	off_t off;

	if (argc != 3 || (strcmp(argv[1], "mmap") && strcmp(argv[1], "pread")))
		usage(argv[0], args);
	use_mmap = !strcmp(argv[1], "mmap");
	name_thread(use_mmap ? "mmap_reader" : "pread_reader");
	fd = open(argv[2], O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		die(argv[2]);
	/* Written back by the test (fsync) before: every page is clean, and all of them go. */
	err = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	if (!err)
		err = posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM);
	if (err)
		die_err("posix_fadvise", err);
	if (use_mmap) {
		unsigned char *p = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);

		if (p == MAP_FAILED)
			die("mmap");
		if (madvise(p, st.st_size, MADV_RANDOM) < 0)
			die("madvise");
		for (off = 0; off < st.st_size; off += page)
			sink += p[off];
		munmap(p, st.st_size);
	} else {
		for (off = 0; off < st.st_size; off += page)
			if (pread(fd, buf, page, off) < 0)
				die("pread");
	}
	(void)sink;
	close(fd);
	return 0;
}
