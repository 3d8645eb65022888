/* SPDX-License-Identifier: MIT */
/*
 * big_lock [--threads N | --procs N] [--items K]
 *
 * Work serialized on one global lock: K work items (default 600) in total, taken one at a time
 * from a shared counter by N threads (default 2: the main thread and N - 1 more, comm "locker");
 * each item is about 1 ms of CPU
 * done while holding the global lock `big_lock`, then about 20 us (2%) outside it. The lock is
 * a small futex mutex of our own (0 free, 1 held, 2 held with waiters): a thread that finds it
 * held blocks in FUTEX_WAIT made from wait_for_big_lock(), by an inline syscall instruction, so
 * that the wait and its callers show in frame-pointer stacks. --procs N runs N processes instead
 * (the main one and N - 1 forked), the lock word and the item counter in a MAP_SHARED page (a
 * non-private futex).
 * Prints "elapsed_ns N" (the work only) and exits 0; bad arguments: usage on stderr, exit 2.
 *
 * Ground truth: only the lock holder makes progress, so the elapsed time is about K ms whatever
 * the number of threads or processes: --threads 4 and --procs 2 are no faster than the
 * baseline (within 10%). Only a shorter critical section would help.
 */
#include "scenario.h"

#include <sys/mman.h>

static const char *args = "[--threads N | --procs N] [--items K]";

/* The global lock (a futex word: 0 free, 1 held, 2 held and maybe waiters) and the work queue. */
int big_lock;
_Atomic long next_item;

/* Where the lock word and the item counter are: the globals, or the shared page (--procs). */
struct shared {
	int lock;
	_Atomic long next_item;
};

static int *lock_word = &big_lock;
static _Atomic long *item_counter = &next_item;
static int futex_private = FUTEX_PRIVATE_FLAG;
static long items = 600;

static NOINLINE void wait_for_big_lock(int *word)
{
	long ret = RAW_FUTEX(word, FUTEX_WAIT | futex_private, 2);

	if (ret < 0 && ret != -EAGAIN && ret != -EINTR) {
		errno = (int)-ret;
		die("futex wait");
	}
}

static NOINLINE void wake_big_lock_waiter(int *word)
{
	long ret = RAW_FUTEX(word, FUTEX_WAKE | futex_private, 1);

	if (ret < 0) {
		errno = (int)-ret;
		die("futex wake");
	}
}

static NOINLINE void take_big_lock(void)
{
	int *w = lock_word, c = 0;

	if (__atomic_compare_exchange_n(w, &c, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return;
	if (c != 2)
		c = __atomic_exchange_n(w, 2, __ATOMIC_ACQUIRE);
	while (c != 0) {
		wait_for_big_lock(w);
		c = __atomic_exchange_n(w, 2, __ATOMIC_ACQUIRE);
	}
}

static NOINLINE void release_big_lock(void)
{
	if (__atomic_exchange_n(lock_word, 0, __ATOMIC_RELEASE) == 2)
		wake_big_lock_waiter(lock_word);
}

/* The critical section: about 1 ms of CPU on the state the lock protects. */
static NOINLINE uint64_t update_under_lock(long item)
{
	return hash_rounds((uint64_t)item, HASH_ITERS_PER_MS);
}

/* The part outside the lock: about 20 us. */
static NOINLINE uint64_t prepare_item(long item)
{
	return hash_rounds((uint64_t)item ^ 0x5555, HASH_ITERS_PER_MS / 50);
}

static NOINLINE uint64_t locker(long k, void *arg)
{
	uint64_t acc = 0;
	long item;

	(void)k;
	(void)arg;
	while ((item = atomic_fetch_add(item_counter, 1)) < items) {
		acc += prepare_item(item);
		take_big_lock();
		acc += update_under_lock(item);
		release_big_lock();
	}
	return acc;
}

int main(int argc, char **argv)
{
	long threads = 0, procs = 0;
	int modes = 0;
	uint64_t t0, t1;

	for (int i = 1; i < argc; i++)
		if (!opt_mode(argc, argv, &i, args, &threads, &procs, &modes) &&
		    !opt_long(argc, argv, &i, "--items", 1, 100000000, args, &items))
			usage(argv[0], args);
	if (!modes)
		threads = 2;

	if (procs) {
		struct shared *sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
					 MAP_SHARED | MAP_ANONYMOUS, -1, 0);

		if (sh == MAP_FAILED)
			die("mmap");
		lock_word = &sh->lock;
		item_counter = &sh->next_item;
		futex_private = 0;
	}

	t0 = now_ns();
	if (procs)
		sink(run_procs(procs, locker, NULL));
	else
		sink(run_threads(threads, "locker", locker, NULL));
	t1 = now_ns();
	print_elapsed(t0, t1);
	return 0;
}
