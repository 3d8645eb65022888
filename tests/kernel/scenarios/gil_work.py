# SPDX-License-Identifier: MIT
"""gil_work.py --threads N | --procs N [--units U] — a fixed amount of pure-Python CPU work
split N ways, across threads (which CPython's GIL serializes) or processes (which it does not).
Prints "elapsed_ns N" for the work itself. The advisor's GIL scenario and its check."""

import argparse
import multiprocessing
import threading
import time


def work(units):
    x = 0
    for _ in range(units):
        for i in range(100_000):
            x += i * i
    return x


def main():
    ap = argparse.ArgumentParser()
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--threads", type=int)
    mode.add_argument("--procs", type=int)
    ap.add_argument("--units", type=int, default=120)
    args = ap.parse_args()
    n = args.threads or args.procs
    share = [args.units // n] * n
    t0 = time.monotonic_ns()
    if args.threads:
        ts = [threading.Thread(target=work, args=(u,)) for u in share]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
    else:
        ps = [multiprocessing.Process(target=work, args=(u,)) for u in share]
        for p in ps:
            p.start()
        for p in ps:
            p.join()
    print("elapsed_ns", time.monotonic_ns() - t0, flush=True)


if __name__ == "__main__":
    main()
