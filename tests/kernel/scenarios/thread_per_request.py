# SPDX-License-Identifier: MIT
"""thread_per_request.py [--threads N | --procs N | --procs-per-request N] [--requests R] [--cost-ms X]

Thread-per-request for CPU-bound Python: R requests (default 1000), each about X ms (default
0.5) of pure-Python CPU and no I/O. By default the main thread starts a new thread for every
request as it comes (comm "request"), without waiting for the earlier ones, then waits for all
of them. --threads N does the same requests with N long-lived threads instead (each takes its
share in turn; --threads 1 is the sequential program), --procs N with N forked processes,
--procs-per-request N with N forked processes that each start a thread per request of their
share (the processes lever alone, the design kept).
Prints "elapsed_ns N" (the requests only) and exits 0; bad arguments: a one-line usage error on
stderr, exit 2.

Ground truth on 2 CPUs: the GIL lets only one thread run Python at a time, so the extra threads
buy nothing, and they cost: a thread's creation and start-up, and the GIL handed back and forth
between the new thread and the main thread (a futex wake-up on the other CPU) for every request.
--threads 1 is measurably faster than the baseline (at least 15%), and --procs 2, which really
runs on both CPUs, is faster still (about 2x the sequential program).
"""

import os
import sys
import threading
import time

import scenario_common

USAGE = "[--threads N | --procs N | --procs-per-request N] [--requests R] [--cost-ms X]"
ITERS_PER_MS = 25000  # of handle_request()'s loop: about 1 ms on a current x86 core


def parse_args(argv):
    return scenario_common.parse(
        argv, USAGE, {"--threads": 1000, "--procs": 1000, "--procs-per-request": 1000},
        {"--requests": (int, 1000000), "--cost-ms": (float, 1000000)},
        {"mode": None, "n": 0, "requests": 1000, "cost_ms": 0.5})


def handle_request(req, iters, results):
    """One request: pure-Python CPU, the result stored under the request's number."""
    x = req
    for i in range(iters):
        x += i * i
    results[req] = x


def handle_share(first, count, iters, results):
    for req in range(first, first + count):
        handle_request(req, iters, results)


def shares(total, n):
    out, first = [], 0
    for k in range(n):
        count = total // n + (1 if k < total % n else 0)
        out.append((first, count))
        first += count
    return out


def thread_per_request(first, count, iters, results):
    threads = []
    for req in range(first, first + count):
        t = threading.Thread(target=handle_request, args=(req, iters, results), name="request")
        t.start()
        threads.append(t)
    for t in threads:
        t.join()


def thread_pool(n, requests, iters, results):
    threads = [threading.Thread(target=handle_share, args=(first, count, iters, results), name="worker")
               for first, count in shares(requests, n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def process_pool(n, requests, iters, per_request=False):
    pids = []
    sys.stdout.flush()
    for first, count in shares(requests, n):
        pid = os.fork()
        if pid == 0:
            scenario_common.in_child(thread_per_request if per_request else handle_share,
                                     first, count, iters, {})
        pids.append(pid)
    failed = [pid for pid in pids if os.waitpid(pid, 0)[1] != 0]
    if failed:
        sys.stderr.write("thread_per_request: processes failed: %s\n" % failed)
        sys.exit(1)


def main():
    opts = parse_args(sys.argv)
    mode, n, requests = opts["mode"], opts["n"], opts["requests"]
    iters = max(1, int(opts["cost_ms"] * ITERS_PER_MS))
    results = {}
    t0 = time.monotonic_ns()
    if mode == "threads":
        thread_pool(n, requests, iters, results)
    elif mode in ("procs", "procs-per-request"):
        process_pool(n, requests, iters, mode == "procs-per-request")
    else:
        thread_per_request(0, requests, iters, results)
    elapsed = time.monotonic_ns() - t0
    if mode not in ("procs", "procs-per-request") and len(results) != requests:
        sys.stderr.write("thread_per_request: %d results for %d requests\n" % (len(results), requests))
        sys.exit(1)
    print("elapsed_ns", elapsed, flush=True)


if __name__ == "__main__":
    main()
