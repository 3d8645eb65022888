/* SPDX-License-Identifier: MIT */
/*
 * idle_pool [--workers W] [--producers P] [--items K]
 *
 * A thread pool starved by its producer: W worker threads (default 8, comm "worker") take items
 * from a shared queue and spend about 20 us of CPU on each; P producer threads (default 1: the
 * main thread, and P - 1 more, comm "producer") make the K items (default 600, split evenly
 * between the producers), about 1 ms of CPU each. The queue is guarded by our own futex mutex `queue_lock`; an idle worker blocks in
 * FUTEX_WAIT on `work_seq` made from wait_for_work() (a condition variable of our own: the
 * inline syscall instruction keeps the wait and its callers visible in frame-pointer stacks).
 * The elapsed time runs until every item has been consumed.
 * Prints "elapsed_ns N" (the work only) and exits 0; bad arguments: usage on stderr, exit 2.
 *
 * Ground truth on 2 CPUs: the workers are idle ~98% of the time and the single producer is on a
 * CPU all the time: it is the bound (about K ms). More workers do not help (--workers 16 takes
 * as long as the baseline); a second producer does (--producers 2 is about 2x faster).
 */
#include "scenario.h"

#include <limits.h>

static const char *args = "[--workers W] [--producers P] [--items K]";

/* The queue's lock (0 free, 1 held, 2 held and maybe waiters), its sequence word and state. */
int queue_lock;
int work_seq;

struct item {
	long id;
	uint64_t payload;
	struct item *next;
};

static struct item *queue_head, **queue_tail = &queue_head;
static int producers_done;
static long workers = 8, producers = 1, items = 600;
static struct item *item_pool;

static NOINLINE void wait_for_queue_lock(void)
{
	long ret = RAW_FUTEX(&queue_lock, FUTEX_WAIT_PRIVATE, 2);

	if (ret < 0 && ret != -EAGAIN && ret != -EINTR) {
		errno = (int)-ret;
		die("futex wait");
	}
}

static NOINLINE void take_queue_lock(void)
{
	int c = 0;

	if (__atomic_compare_exchange_n(&queue_lock, &c, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return;
	if (c != 2)
		c = __atomic_exchange_n(&queue_lock, 2, __ATOMIC_ACQUIRE);
	while (c != 0) {
		wait_for_queue_lock();
		c = __atomic_exchange_n(&queue_lock, 2, __ATOMIC_ACQUIRE);
	}
}

static NOINLINE void release_queue_lock(void)
{
	if (__atomic_exchange_n(&queue_lock, 0, __ATOMIC_RELEASE) == 2)
		RAW_FUTEX(&queue_lock, FUTEX_WAKE_PRIVATE, 1);
}

/* An idle worker sleeps here until work_seq moves on from seq. */
static NOINLINE void wait_for_work(int seq)
{
	long ret = RAW_FUTEX(&work_seq, FUTEX_WAIT_PRIVATE, seq);

	if (ret < 0 && ret != -EAGAIN && ret != -EINTR) {
		errno = (int)-ret;
		die("futex wait");
	}
}

static NOINLINE void signal_work(int nr)
{
	long ret = RAW_FUTEX(&work_seq, FUTEX_WAKE_PRIVATE, nr);

	if (ret < 0) {
		errno = (int)-ret;
		die("futex wake");
	}
}

/* The producer's part: about 1 ms of CPU to make one item. */
static NOINLINE void produce_item(struct item *it)
{
	it->payload = hash_rounds((uint64_t)it->id, HASH_ITERS_PER_MS);
}

/* A worker's part: about 20 us of CPU per item. */
static NOINLINE uint64_t consume_item(struct item *it)
{
	return hash_rounds(it->payload, HASH_ITERS_PER_MS / 50);
}

static NOINLINE void enqueue(struct item *it)
{
	take_queue_lock();
	it->next = NULL;
	*queue_tail = it;
	queue_tail = &it->next;
	__atomic_add_fetch(&work_seq, 1, __ATOMIC_RELEASE);
	release_queue_lock();
	signal_work(1);
}

/* The next item, or NULL when the queue is empty and the producers are done. */
static NOINLINE struct item *dequeue(void)
{
	struct item *it;

	take_queue_lock();
	while (!queue_head && !producers_done) {
		int seq = __atomic_load_n(&work_seq, __ATOMIC_ACQUIRE);

		release_queue_lock();
		wait_for_work(seq);
		take_queue_lock();
	}
	it = queue_head;
	if (it && !(queue_head = it->next))
		queue_tail = &queue_head;
	release_queue_lock();
	return it;
}

static NOINLINE uint64_t producer(long k, void *arg)
{
	long first, count;

	(void)arg;
	share_range(items, producers, k, &first, &count);
	for (long i = first; i < first + count; i++) {
		item_pool[i].id = i;
		produce_item(&item_pool[i]);
		enqueue(&item_pool[i]);
	}
	return 0;
}

static NOINLINE uint64_t worker(long k, void *arg)
{
	uint64_t acc = 0;
	struct item *it;

	(void)k;
	(void)arg;
	while ((it = dequeue()))
		acc += consume_item(it);
	return acc;
}

static void *worker_main(void *arg)
{
	name_thread("worker");
	sink(worker(0, arg));
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t *wth;
	uint64_t t0, t1;
	int err;

	for (int i = 1; i < argc; i++)
		if (!opt_long(argc, argv, &i, "--workers", 1, 1024, args, &workers) &&
		    !opt_long(argc, argv, &i, "--producers", 1, 256, args, &producers) &&
		    !opt_long(argc, argv, &i, "--items", 1, 10000000, args, &items))
			usage(argv[0], args);
	item_pool = calloc((size_t)items, sizeof(*item_pool));
	wth = calloc((size_t)workers, sizeof(*wth));
	if (!item_pool || !wth)
		die("calloc");

	t0 = now_ns();
	for (long w = 0; w < workers; w++)
		if ((err = pthread_create(&wth[w], NULL, worker_main, NULL)))
			die_err("pthread_create", err);
	run_threads(producers, "producer", producer, NULL);
	take_queue_lock();
	producers_done = 1;
	__atomic_add_fetch(&work_seq, 1, __ATOMIC_RELEASE);
	release_queue_lock();
	signal_work(INT_MAX);
	for (long w = 0; w < workers; w++)
		if ((err = pthread_join(wth[w], NULL)))
			die_err("pthread_join", err);
	t1 = now_ns();
	print_elapsed(t0, t1);
	free(wth);
	free(item_pool);
	return 0;
}
