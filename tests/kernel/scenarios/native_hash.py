# SPDX-License-Identifier: MIT
"""native_hash.py [--threads N | --procs N] [--units U] [--kib K]

Python CPU work done inside C extensions that release the GIL. U units (default 24), each: a
buffer of K KiB (default 2048) compressed with zlib (level 1) and the result hashed with SHA-256,
both of which release the GIL for a buffer this large. By default the main thread starts one
worker thread (comm "worker") that does all the units, and waits for it in join(): the main
thread supervises, it does no work. --threads N shares the units among N worker threads,
--procs N among N forked processes (one worker thread each, the design kept: the lever alone).
Prints "elapsed_ns N" (the work only) and exits 0; bad arguments: a one-line usage error on
stderr, exit 2.

Ground truth on 2 CPUs: the worker is on a CPU nearly all the time, nearly all of it in libz
and libcrypto with the GIL released (GIL wait ~0 even with 2 threads): --threads 2 and --procs 2
are each about 2x faster (measured 1.8-1.95x on an idle 2-CPU VM).
"""

import hashlib
import os
import random
import sys
import threading
import time
import zlib

import scenario_common

USAGE = "[--threads N | --procs N] [--units U] [--kib K]"


def parse_args(argv):
    return scenario_common.parse(
        argv, USAGE, {"--threads": 256, "--procs": 256},
        {"--units": (int, 100000), "--kib": (int, 1 << 20)},
        {"mode": None, "n": 1, "units": 24, "kib": 2048})


def unit(buf):
    """One unit: both calls run in C with the GIL released (zlib and hashlib do so for
    buffers far above their 2-5 KiB thresholds)."""
    return hashlib.sha256(zlib.compress(buf, 1)).digest()


def work(buf, count, out):
    for _ in range(count):
        out.append(unit(buf))


def shares(total, n):
    return [total // n + (1 if k < total % n else 0) for k in range(n)]


def threads(buf, counts):
    """One worker thread per count; the calling thread only starts and joins them."""
    out = []
    ts = [threading.Thread(target=work, args=(buf, c, out), name="worker") for c in counts]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if len(out) != sum(counts):
        raise RuntimeError("%d results for %d units" % (len(out), sum(counts)))


def procs(buf, counts):
    pids = []
    sys.stdout.flush()
    for c in counts:
        pid = os.fork()
        if pid == 0:
            scenario_common.in_child(threads, buf, [c])
        pids.append(pid)
    failed = [pid for pid in pids if os.waitpid(pid, 0)[1] != 0]
    if failed:
        sys.stderr.write("native_hash: processes failed: %s\n" % failed)
        sys.exit(1)


def main():
    opts = parse_args(sys.argv)
    # Pseudo-random bytes: zlib works on them as on real data (no degenerate fast path).
    buf = random.Random(15).randbytes(opts["kib"] * 1024)
    counts = shares(opts["units"], opts["n"])
    t0 = time.monotonic_ns()
    if opts["mode"] == "procs":
        procs(buf, counts)
    else:
        threads(buf, counts)
    print("elapsed_ns", time.monotonic_ns() - t0, flush=True)


if __name__ == "__main__":
    main()
