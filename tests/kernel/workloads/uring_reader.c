/* SPDX-License-Identifier: MIT */
/*
 * uring_reader SECS FILE IDLE [sqpoll] — reads FILE through io_uring for SECS seconds, QD reads
 * of BS bytes in flight, each flagged IOSQE_ASYNC: the kernel hands every one to its io-wq
 * workers (iou-wrk-PID), which block on the disk. The ring's workers are capped at WORKERS
 * (IORING_REGISTER_IOWQ_MAX_WORKERS) below QD, and the main thread refills the ring every
 * BATCH completions: each worker finds the next read queued when it finishes one, and never
 * waits for work while reading, even when the main thread waits milliseconds for a CPU. Then it stops submitting, collects the
 * reads in flight and keeps the ring open IDLE seconds, its workers idle (waiting for work),
 * and exits. With "sqpoll", a SQPOLL thread (iou-sqp-PID) takes the submissions.
 *
 * The file is read in a scattered order (block i * STRIDE mod blocks) with readahead off
 * (POSIX_FADV_RANDOM), its pages dropped (POSIX_FADV_DONTNEED) before each pass: every read
 * waits for the disk. Only FILE's pages are dropped, not the machine's cache. The main thread
 * ("uring_main") waits for completions in io_uring_enter. Raw syscalls, no liburing.
 * Ground truth: the workers' blocked time while reading is io.disk; their idle wait is not I/O.
 */
#include "common.h"
#include <linux/io_uring.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#define QD	64
/* Many reads on the disk at once: each then waits longer for it, at the same CPU cost, so the
 * workers' split stays the disk's when other load holds the CPUs (with 8, runqueue rivalled io.disk
 * at a load average of 5-7 on this 2-CPU VM). */
#define WORKERS 16
#define BATCH	16 /* completions waited for at once */
#define BS	(256 << 10)
#define STRIDE	97 /* odd, so coprime with a power-of-two block count; scatters otherwise too */

struct ring {
	int fd;
	unsigned *sq_head, *sq_tail, *sq_mask, *sq_flags, *sq_array;
	unsigned *cq_head, *cq_tail, *cq_mask;
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqes;
	int sqpoll;
};

static void *map_ring(int fd, size_t len, off_t off)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, off);

	if (p == MAP_FAILED)
		die("mmap ring");
	return p;
}

static void ring_open(struct ring *r, int sqpoll)
{
	struct io_uring_params p = { 0 };
	unsigned max_workers[2] = { WORKERS, WORKERS }; /* bound (regular files), unbound */
	size_t sq_len, cq_len;
	char *sq, *cq;

	if (sqpoll) {
		p.flags = IORING_SETUP_SQPOLL;
		p.sq_thread_idle = 20; /* ms of spinning before it sleeps */
	}
	r->fd = (int)syscall(__NR_io_uring_setup, QD, &p);
	if (r->fd < 0)
		die("io_uring_setup");
	r->sqpoll = sqpoll;
	sq_len = p.sq_off.array + p.sq_entries * sizeof(unsigned);
	cq_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	if (!(p.features & IORING_FEAT_SINGLE_MMAP)) {
		fprintf(stderr, "io_uring: no IORING_FEAT_SINGLE_MMAP\n");
		exit(1);
	}
	sq = cq = map_ring(r->fd, sq_len > cq_len ? sq_len : cq_len, IORING_OFF_SQ_RING);
	r->sq_head = (unsigned *)(sq + p.sq_off.head);
	r->sq_tail = (unsigned *)(sq + p.sq_off.tail);
	r->sq_mask = (unsigned *)(sq + p.sq_off.ring_mask);
	r->sq_flags = (unsigned *)(sq + p.sq_off.flags);
	r->sq_array = (unsigned *)(sq + p.sq_off.array);
	r->cq_head = (unsigned *)(cq + p.cq_off.head);
	r->cq_tail = (unsigned *)(cq + p.cq_off.tail);
	r->cq_mask = (unsigned *)(cq + p.cq_off.ring_mask);
	r->cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
	r->sqes = map_ring(r->fd, p.sq_entries * sizeof(struct io_uring_sqe), IORING_OFF_SQES);
	if (syscall(__NR_io_uring_register, r->fd, IORING_REGISTER_IOWQ_MAX_WORKERS, max_workers,
		    2) < 0)
		die("IORING_REGISTER_IOWQ_MAX_WORKERS");
}

/* Queues a read of BS bytes at off into buf, tagged slot; submitted by ring_enter(). */
static void queue_read(struct ring *r, int fd, char *buf, off_t off, unsigned slot)
{
	unsigned tail = *r->sq_tail, i = tail & *r->sq_mask;
	struct io_uring_sqe *sqe = &r->sqes[i];

	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_READ;
	sqe->flags = IOSQE_ASYNC;
	sqe->fd = fd;
	sqe->addr = (unsigned long)buf;
	sqe->len = BS;
	sqe->off = (unsigned long long)off;
	sqe->user_data = slot;
	r->sq_array[i] = i;
	__atomic_store_n(r->sq_tail, tail + 1, __ATOMIC_RELEASE);
}

/*
 * Queues the next block's read into slot's buffer, dropping the file's pages first at the start
 * of each pass over it.
 */
static void queue_next(struct ring *r, int fd, char *buf, off_t blocks, unsigned *next,
		       unsigned slot)
{
	int err;

	if (*next % blocks == 0) {
		err = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
		if (err)
			die_err("posix_fadvise", err);
	}
	queue_read(r, fd, buf + (size_t)slot * BS, (off_t)(*next * STRIDE % blocks) * BS, slot);
	(*next)++;
}

/* Submits what is queued (SQPOLL: wakes its thread if it sleeps), waits for `want` completions. */
static void ring_enter(struct ring *r, unsigned queued, unsigned want)
{
	unsigned flags = IORING_ENTER_GETEVENTS;

	if (r->sqpoll) {
		queued = 0;
		if (__atomic_load_n(r->sq_flags, __ATOMIC_ACQUIRE) & IORING_SQ_NEED_WAKEUP)
			flags |= IORING_ENTER_SQ_WAKEUP;
	}
	while (syscall(__NR_io_uring_enter, r->fd, queued, want, flags, NULL, 0) < 0)
		if (errno != EINTR)
			die("io_uring_enter");
}

int main(int argc, char **argv)
{
	const char *args = "SECS FILE IDLE [sqpoll]";
	uint64_t end, idle_ns;
	unsigned queued = 0, in_flight = 0, head, next = 0, slot;
	off_t blocks;
	struct stat st;
	struct ring r;
	char *buf;
	int fd, err;

	if (argc < 4 || argc > 5 || (argc == 5 && strcmp(argv[4], "sqpoll")))
		usage(argv[0], args);
	end = now_ns() + parse_secs(argv[1], argv[0], args);
	idle_ns = parse_secs(argv[3], argv[0], args);
	name_thread("uring_main");
	fd = open(argv[2], O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		die(argv[2]);
	blocks = st.st_size / BS;
	if (blocks < QD) {
		fprintf(stderr, "%s: fewer than %d blocks of %d KiB\n", argv[2], QD, BS >> 10);
		exit(1);
	}
	err = posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM);
	if (err)
		die_err("posix_fadvise", err);
	if (posix_memalign((void **)&buf, 4096, (size_t)QD * BS))
		die("posix_memalign");
	ring_open(&r, argc == 5);

	for (slot = 0; slot < QD; slot++)
		queue_next(&r, fd, buf, blocks, &next, slot);
	queued = in_flight = QD;
	while (in_flight) {
		ring_enter(&r, queued, in_flight < BATCH ? in_flight : BATCH);
		queued = 0;
		head = *r.cq_head;
		while (head != __atomic_load_n(r.cq_tail, __ATOMIC_ACQUIRE)) {
			struct io_uring_cqe *c = &r.cqes[head++ & *r.cq_mask];

			if (c->res < 0)
				die_err("read", -c->res);
			in_flight--;
			if (now_ns() >= end)
				continue;
			queue_next(&r, fd, buf, blocks, &next, (unsigned)c->user_data);
			queued++;
			in_flight++;
		}
		__atomic_store_n(r.cq_head, head, __ATOMIC_RELEASE);
	}
	printf("%u reads of %d KiB\n", next, BS >> 10);
	fflush(stdout);
	/* The ring stays open: its workers wait for work. */
	sleep_ns(idle_ns);
	return 0;
}
