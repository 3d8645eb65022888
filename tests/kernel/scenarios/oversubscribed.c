/* SPDX-License-Identifier: MIT */
/*
 * oversubscribed [--threads N | --procs N] [--units U]
 *
 * More CPU-bound threads than CPUs: U units (default 1440) of about 1 ms of integer hashing,
 * split evenly across N threads (default 8: the main thread and N - 1 more, comm "cruncher"),
 * which share no data and take no lock. --procs N splits the same units across N processes
 * instead (the main one and N - 1 forked).
 * Prints "elapsed_ns N" (the work only) and exits 0; bad arguments: usage on stderr, exit 2.
 *
 * Ground truth on 2 CPUs: the baseline already keeps both CPUs busy all the time (its threads
 * mostly wait in the run queue), so nothing helps: --threads 16, --procs 8 and --threads 2 all
 * take about as long as the baseline (within 10%), about U / 2 ms.
 */
#include "scenario.h"

static const char *args = "[--threads N | --procs N] [--units U]";
static long units = 1440;

static NOINLINE uint64_t crunch_unit(long u)
{
	return hash_rounds((uint64_t)u, HASH_ITERS_PER_MS);
}

static NOINLINE uint64_t crunch_share(long k, void *arg)
{
	long n = *(long *)arg, first, count;
	uint64_t acc = 0;

	share_range(units, n, k, &first, &count);
	for (long u = first; u < first + count; u++)
		acc += crunch_unit(u);
	return acc;
}

int main(int argc, char **argv)
{
	long threads = 0, procs = 0;
	int modes = 0;
	uint64_t t0, t1;

	for (int i = 1; i < argc; i++)
		if (!opt_mode(argc, argv, &i, args, &threads, &procs, &modes) &&
		    !opt_long(argc, argv, &i, "--units", 1, 10000000, args, &units))
			usage(argv[0], args);
	if (!modes)
		threads = 8;

	t0 = now_ns();
	if (procs)
		sink(run_procs(procs, crunch_share, &procs));
	else
		sink(run_threads(threads, "cruncher", crunch_share, &threads));
	t1 = now_ns();
	print_elapsed(t0, t1);
	return 0;
}
