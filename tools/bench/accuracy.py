#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""concur's split against the kernel's own accounting, per category, in percentage points.

    tools/bench/accuracy.py [--runs N]

Workloads from tests/kernel/workloads (built into build/workloads) dump each thread's
/proc/self/task/TID/schedstat just before the thread ends (CONCUR_TEST_SCHEDSTAT). The kernel's
figures are the truth for cpu and runqueue; the rest of a thread's lifetime is the truth for
the one off-CPU category the workload waits in by construction (a thread that only sleeps,
only reads a pipe, ...). Each cell: concur minus truth, in percentage points of the thread's
lifetime, median over the runs (min..max beside it).
"""

import argparse
import json
import os
import shlex
import statistics
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.join(os.path.dirname(os.path.dirname(HERE)), "build")
CONCUR = os.path.join(BUILD, "concur")

# workload argv, thread comm, the off-CPU category its waiting is by construction
CASES = [
    (["busy_sleep", "2"], "busy_sleep", "sleep"),
    (["pipe_reader", "2"], "reader", "io.pipe"),
    (["mutex_contend", "4", "2"], "contend", "lock"),
    (["epoll_idle", "2"], "epoller", "poll"),
    (["runq3", "2"], "runq", None),
    (["spin", "2"], "spin", None),
]


def run_case(argv, comm, waits, scratch):
    d = tempfile.mkdtemp(dir=scratch)
    os.chmod(d, 0o777)
    out = os.path.join(d, "out.json")
    # Through a shell so that every measured thread is born inside the window.
    script = " ".join(shlex.quote(a) for a in [os.path.join(BUILD, "workloads", argv[0])] + argv[1:])
    env = dict(os.environ, CONCUR_TEST_SCHEDSTAT=d)
    subprocess.run([CONCUR, "run", "-q", "--no-stacks", "-o", out, "--", "sh", "-c", script + "; exit $?"],
                   env=env, check=True)
    with open(out) as f:
        doc = json.load(f)
    diffs = {}
    for t in doc["threads"]:
        path = os.path.join(d, str(t["tid"]))
        if t["comm"] != comm or not os.path.exists(path):
            continue
        with open(path) as f:
            k_cpu, k_rq, _ = (int(x) for x in f.read().split())
        life = t["lifetime_ns"]
        truth = {"cpu": k_cpu, "runqueue": k_rq}
        if waits:
            truth[waits] = life - k_cpu - k_rq
        for cat, want in truth.items():
            diffs.setdefault(cat, []).append(100.0 * (t["ns"][cat] - want) / life)
    return diffs


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("accuracy.py: needs root")
    print("concur accuracy against the kernel's schedstat, %d runs; cells: concur - truth, "
          "percentage points of the thread's lifetime, median (min..max)" % args.runs)
    print("%-22s %-10s %-9s %s" % ("workload", "thread", "category", "error pp"))
    with tempfile.TemporaryDirectory(prefix="concur-accuracy-") as scratch:
        for argv, comm, waits in CASES:
            cells = {}
            for _ in range(args.runs):
                for cat, ds in run_case(argv, comm, waits, scratch).items():
                    cells.setdefault(cat, []).extend(ds)
            for cat, ds in cells.items():
                print("%-22s %-10s %-9s %+6.2f (%+.2f..%+.2f)" % (" ".join(argv), comm, cat, statistics.median(ds),
                                                                min(ds), max(ds)), flush=True)


if __name__ == "__main__":
    main()
