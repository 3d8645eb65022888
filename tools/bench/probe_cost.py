#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""What each of concur's BPF programs costs per call, measured by the kernel itself.

    tools/bench/probe_cost.py [--runs N] [--stacks] [WORKLOAD [ITERATIONS]]

Turns on kernel.bpf_stats_enabled (restored afterwards), attaches concur to a waiting bench
workload (default: the pipe ping-pong), lets it run, and reads every concur program's
run_time_ns / run_cnt from `bpftool prog show` while concur is still attached. Prints the
median over the runs of nanoseconds per call, per program. This is the figure to watch when
making the probes cheaper: the ping-pong's slowdown is roughly
(switch cost + wake-up cost) x switches per second. Root only.
"""

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.join(os.path.dirname(os.path.dirname(HERE)), "build")
CONCUR = os.path.join(BUILD, "concur")
STATS = "/proc/sys/kernel/bpf_stats_enabled"


def concur_progs():
    """{name: (run_time_ns, run_cnt)} of concur's programs: the newest of each name (Debian's
    bpftool does not say which process holds a program; only one concur runs here)."""
    out = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True,
                         check=True).stdout
    progs, ids = {}, {}
    for p in json.loads(out):
        name = p.get("name", "")
        if name.startswith("on_") and p["id"] > ids.get(name, -1):
            ids[name] = p["id"]
            progs[name] = (p.get("run_time_ns", 0), p.get("run_cnt", 0))
    return progs


def one_run(workload, iters, stacks):
    wl = subprocess.Popen([os.path.join(BUILD, "bench", workload)] + ([iters] if iters else []),
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    argv = [CONCUR, "attach", "-q", "-v", "-p", str(wl.pid), "-o", "/dev/null.json"]
    if not stacks:
        argv.insert(2, "--no-stacks")
    tr = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    try:
        # "-v" says when the probes are live.
        for line in tr.stderr:
            if "probes attached" in line:
                break
        before = concur_progs()
        wl.stdin.write("go\n")
        wl.stdin.flush()
        time.sleep(1.0)
        after = concur_progs()
    finally:
        wl.kill()
        wl.wait()
        tr.send_signal(signal.SIGINT)
        tr.wait()
    res = {}
    for name, (t1, c1) in after.items():
        t0, c0 = before.get(name, (0, 0))
        if c1 > c0:
            res[name] = ((t1 - t0) / (c1 - c0), c1 - c0)
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--stacks", action="store_true", help="with stacks (default: time split only)")
    ap.add_argument("workload", nargs="?", default="pingpong")
    ap.add_argument("iterations", nargs="?", default="100000000")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("probe_cost.py: root needed (BPF and kernel.bpf_stats_enabled)")
    with open(STATS) as f:
        saved = f.read().strip()
    runs = []
    try:
        with open(STATS, "w") as f:
            f.write("1")
        for _ in range(args.runs):
            runs.append(one_run(args.workload, args.iterations, args.stacks))
    finally:
        with open(STATS, "w") as f:
            f.write(saved)
    names = sorted({n for r in runs for n in r})
    print("%-16s %12s %14s" % ("program", "ns/call", "calls/s"))
    for n in names:
        ns = [r[n][0] for r in runs if n in r]
        cnt = [r[n][1] for r in runs if n in r]
        print("%-16s %12.1f %14.0f" % (n, statistics.median(ns), statistics.median(cnt)))


if __name__ == "__main__":
    main()
