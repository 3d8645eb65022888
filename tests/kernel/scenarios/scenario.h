/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the advisor's C scenarios (beside ../workloads/common.h): a fixed unit of
 * CPU work, a raw futex call to put inside the scenario's own named wait functions (so that a
 * frame-pointer unwinder sees the caller chain: Debian's libc has no frame pointers), option
 * parsing and the fork-and-collect pattern of the --procs variants.
 */
#ifndef CONCUR_SCENARIO_H
#define CONCUR_SCENARIO_H

#include "../workloads/common.h"

#include <linux/futex.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <sys/wait.h>

/*
 * The futex syscall made by an inline syscall instruction, so that the instruction pointer of
 * a thread blocked in it lies in the (non-inline) function that expands this macro.
 */
#if defined(__x86_64__)
#define RAW_FUTEX(uaddr, op, val)                                                          \
	({                                                                                 \
		register long r10_ __asm__("r10") = 0; /* no timeout */                    \
		long ret_;                                                                 \
		__asm__ volatile("syscall"                                                 \
				 : "=a"(ret_)                                              \
				 : "0"((long)SYS_futex), "D"(uaddr), "S"((long)(op)),      \
				   "d"((long)(val)), "r"(r10_)                             \
				 : "rcx", "r11", "memory");                                \
		ret_;                                                                      \
	})
#elif defined(__aarch64__)
#define RAW_FUTEX(uaddr, op, val)                                                          \
	({                                                                                 \
		register long x8_ __asm__("x8") = SYS_futex;                               \
		register long x0_ __asm__("x0") = (long)(uaddr);                           \
		register long x1_ __asm__("x1") = (long)(op);                              \
		register long x2_ __asm__("x2") = (long)(val);                             \
		register long x3_ __asm__("x3") = 0;                                       \
		__asm__ volatile("svc 0"                                                   \
				 : "+r"(x0_)                                               \
				 : "r"(x8_), "r"(x1_), "r"(x2_), "r"(x3_)                  \
				 : "memory");                                              \
		x0_;                                                                       \
	})
#else
#define RAW_FUTEX(uaddr, op, val) syscall(SYS_futex, (uaddr), (op), (val), NULL)
#endif

/* Kept as a function of its own, under its own name (no .isra or .constprop clone). */
#ifdef __clang__
#define NOINLINE __attribute__((noinline))
#else
#define NOINLINE __attribute__((noinline, noclone))
#endif
/* The same for the helpers below, which a scenario may not use. */
#define HELPER static NOINLINE __attribute__((unused))

/*
 * The unit of CPU work: ITERS rounds of a serially dependent integer hash (no memory, no
 * vectorization), about 1 ms per HASH_ITERS_PER_MS rounds on a current x86 core.
 */
#define HASH_ITERS_PER_MS 450000ull

HELPER uint64_t hash_rounds(uint64_t x, uint64_t iters)
{
	for (uint64_t i = 0; i < iters; i++) {
		x += 0x9e3779b97f4a7c15ull;
		x ^= x >> 31;
		x *= 0xbf58476d1ce4e5b9ull;
		x ^= x >> 27;
	}
	return x;
}

/* Where the results go so that the compiler keeps the work. */
static _Atomic uint64_t scenario_sink;

static inline void sink(uint64_t v)
{
	atomic_fetch_add_explicit(&scenario_sink, v, memory_order_relaxed);
}

/* "--NAME" followed by a value: *i is moved past the value, which is returned. */
static inline const char *opt_value(int argc, char **argv, int *i, const char *prog,
				    const char *args)
{
	if (*i + 1 >= argc)
		usage(prog, args);
	return argv[++*i];
}

/*
 * "--NAME N" with N in [min, max]: if argv[*i] is name, its value goes to *val (usage() on a
 * bad one) and 1 is returned, else 0, so that a scenario's options chain in one condition.
 */
static inline int opt_long(int argc, char **argv, int *i, const char *name, long min, long max,
			   const char *args, long *val)
{
	if (strcmp(argv[*i], name))
		return 0;
	*val = parse_long(opt_value(argc, argv, i, argv[0], args), min, max, argv[0], args);
	return 1;
}

/*
 * The variants of most scenarios: --threads N or --procs N (1 to 256). If argv[*i] is one of
 * them, its value goes to *threads or *procs, *modes counts it and 1 is returned, else 0. The
 * variants do not combine, so a second mode is a usage error (a scenario with a mode of its
 * own, like --async, counts it in *modes too and checks the same).
 */
static inline int opt_mode(int argc, char **argv, int *i, const char *args, long *threads,
			   long *procs, int *modes)
{
	if (!opt_long(argc, argv, i, "--threads", 1, 256, args, threads) &&
	    !opt_long(argc, argv, i, "--procs", 1, 256, args, procs))
		return 0;
	if (++*modes > 1)
		usage(argv[0], args);
	return 1;
}

/* Units [0, total) split n ways, the first total % n shares one larger: share k's range. */
static inline void share_range(long total, long n, long k, long *first, long *count)
{
	long base = total / n, extra = total % n;

	*first = k * base + (k < extra ? k : extra);
	*count = base + (k < extra ? 1 : 0);
}

/* Write all of buf (a pipe): die on error. */
static inline void write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("write");
		p += n;
		len -= (size_t)n;
	}
}

/* Read exactly len bytes (a pipe): die on error or early end of file. */
static inline void read_all(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("read");
		if (n == 0) {
			fprintf(stderr, "read: unexpected end of file\n");
			exit(1);
		}
		p += n;
		len -= (size_t)n;
	}
}

/*
 * The --procs pattern: n processes in all, the caller and n - 1 forked children; process k runs
 * fn(k, arg) (the caller k = 0), which returns a 64-bit result (a child sends it back through a
 * pipe). Returns the sum of the results once every child has exited; a child that fails makes
 * the caller exit 1.
 */
HELPER uint64_t run_procs(long n, uint64_t (*fn)(long k, void *arg), void *arg)
{
	uint64_t total;
	pid_t pids[256];
	int fds[2];

	if (n < 1 || n > 256) {
		fprintf(stderr, "run_procs: %ld processes\n", n);
		exit(1);
	}
	if (pipe(fds))
		die("pipe");
	fflush(NULL);
	for (long k = 1; k < n; k++) {
		pids[k] = fork();
		if (pids[k] < 0)
			die("fork");
		if (pids[k] == 0) {
			uint64_t r;

			close(fds[0]);
			r = fn(k, arg);
			write_all(fds[1], &r, sizeof(r));
			_exit(0);
		}
	}
	close(fds[1]);
	total = fn(0, arg);
	for (long k = 1; k < n; k++) {
		uint64_t r;

		read_all(fds[0], &r, sizeof(r));
		total += r;
	}
	close(fds[0]);
	for (long k = 1; k < n; k++) {
		int status;

		while (waitpid(pids[k], &status, 0) < 0)
			if (errno != EINTR)
				die("waitpid");
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			fprintf(stderr, "child %d failed\n", (int)pids[k]);
			exit(1);
		}
	}
	return total;
}

/*
 * The --threads pattern: n threads in all, the calling thread and n - 1 new ones (comm `name`);
 * thread k runs fn(k, arg) (the caller k = 0). Returns the sum of the results.
 */
struct thread_job {
	pthread_t th;
	long k;
	uint64_t (*fn)(long k, void *arg);
	void *arg;
	uint64_t result;
	const char *name;
};

HELPER void *thread_job_main(void *p)
{
	struct thread_job *j = p;

	name_thread(j->name);
	j->result = j->fn(j->k, j->arg);
	return NULL;
}

HELPER uint64_t run_threads(long n, const char *name, uint64_t (*fn)(long k, void *arg),
			    void *arg)
{
	struct thread_job *jobs = calloc((size_t)n, sizeof(*jobs));
	uint64_t total;
	int err;

	if (!jobs)
		die("calloc");
	for (long k = 1; k < n; k++) {
		jobs[k] = (struct thread_job){ .k = k, .fn = fn, .arg = arg, .name = name };
		if ((err = pthread_create(&jobs[k].th, NULL, thread_job_main, &jobs[k])))
			die_err("pthread_create", err);
	}
	total = fn(0, arg);
	for (long k = 1; k < n; k++) {
		if ((err = pthread_join(jobs[k].th, NULL)))
			die_err("pthread_join", err);
		total += jobs[k].result;
	}
	free(jobs);
	return total;
}

static inline void print_elapsed(uint64_t t0, uint64_t t1)
{
	printf("elapsed_ns %llu\n", (unsigned long long)(t1 - t0));
	if (fflush(stdout))
		die("stdout");
}

#endif /* CONCUR_SCENARIO_H */
