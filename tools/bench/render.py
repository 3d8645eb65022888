#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""How fast concur renders a big profile, and in how much memory: every output format.

    tools/bench/render.py [--runs N] [--stacks N]

A synthetic recording (build/big-fixture: 100 000 distinct stacks by default, about a million
samples and intervals, 8 processes, 64 threads) is rendered with `concur report FILE -o OUT`
for each format; prints the median wall time and the peak RSS of concur over the runs. No
root needed. Target (issue 5): under 1 s and 200 MiB for 1 000 000 samples / 100 000 stacks.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.join(os.path.dirname(os.path.dirname(HERE)), "build")
FORMATS = ["html", "pb.gz", "folded", "json", "txt"]


def render(rec, out):
    t0 = time.monotonic()
    p = subprocess.Popen([os.path.join(BUILD, "concur"), "report", rec, "-o", out],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    t = time.monotonic() - t0
    if status != 0:
        sys.exit("render.py: concur report -o %s failed: %s" % (out, p.stderr.read().decode()[-300:]))
    return t, usage.ru_maxrss / 1024


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--stacks", type=int, default=100000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="concur-render-") as tmp:
        rec = os.path.join(tmp, "big.concur")
        subprocess.run([os.path.join(BUILD, "big-fixture"), rec, str(args.stacks)], check=True)
        print("%d distinct stacks, recording %.1f MB; %d runs per format"
              % (args.stacks, os.path.getsize(rec) / 1e6, args.runs))
        print("%-8s %12s %14s" % ("format", "median s", "peak RSS MiB"))
        for fmt in FORMATS:
            res = [render(rec, os.path.join(tmp, "out." + fmt)) for _ in range(args.runs)]
            print("%-8s %12.3f %14.1f" % (fmt, statistics.median(t for t, _ in res),
                                          max(r for _, r in res)), flush=True)


if __name__ == "__main__":
    main()
