#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A threaded CPython workload for the benchmarks: 4 threads pass a token round a ring of
queues, each computing a little at every hop (a few Python frames deep), so each hop is a
GIL hand-off and a futex wait and wake: ~20 000 switches/s on the reference VM.

    python3 tools/bench/pythreads.py HOPS [WORK]

Like the C workloads (common.h): waits for a line on stdin, then runs HOPS hops and prints
"elapsed_ns N" (the hops only: start-up and thread creation excluded). WORK: loop turns of
computing per hop (default 1500, ~140 us).
"""

import queue
import sys
import threading
import time

THREADS = 4


def crunch(n):
    acc = 0
    for i in range(n):
        acc += i * i
    return acc


def handle(token, work):
    # Two frames below the thread's loop, so captured stacks have some depth.
    return crunch(work) + token


def worker(inbox, outbox, hops, work):
    while True:
        token = inbox.get()
        if token < 0 or token >= hops:
            outbox.put(-1)
            return
        handle(token, work)
        outbox.put(token + 1)


def main():
    if len(sys.argv) < 2 or not sys.argv[1].isdigit():
        sys.exit("usage: pythreads.py HOPS [WORK]")
    hops = int(sys.argv[1])
    work = int(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2].isdigit() else 1500
    queues = [queue.Queue() for _ in range(THREADS)]
    threads = [threading.Thread(target=worker, name="ring-%d" % i,
                                args=(queues[i], queues[(i + 1) % THREADS], hops, work))
               for i in range(THREADS)]
    for t in threads:
        t.start()
    sys.stdin.readline()
    t0 = time.monotonic_ns()
    queues[0].put(0)
    for t in threads:
        t.join()
    print("elapsed_ns %d" % (time.monotonic_ns() - t0), flush=True)


if __name__ == "__main__":
    main()
