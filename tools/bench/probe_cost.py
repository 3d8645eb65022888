#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""What each of concur's BPF programs costs per call, measured by the kernel itself.

    tools/bench/probe_cost.py [--runs N] [--stacks] [--unwind fp|cfi] [--timing]
                              [WORKLOAD [ITERATIONS]]

Turns on kernel.bpf_stats_enabled (restored afterwards), attaches concur to a waiting bench
workload (default: the pipe ping-pong), lets it run, and reads every concur program's
run_time_ns / run_cnt from `bpftool prog show` while concur is still attached. Prints the
median over the runs of nanoseconds per call, per program. This is the figure to watch when
making the probes cheaper: the ping-pong's slowdown is roughly
(switch cost + wake-up cost) x switches per second. Root only.

--timing (stacks on) runs concur with its hidden --bench-timing: clock reads around each user
stack capture (the frame-pointer walk or the CFI unwinder, --unwind) and each Python stack
capture, summed by the probes (JSON stacks.timing); prints ns per call with the clock's own
cost (two reads back to back, measured at each call) taken off, and the frames per stack.
The per-program figures then include the clocks (~3 reads per capture). WORKLOAD is a
build/bench program or pythreads (tools/bench/pythreads.py, CPython threads).
"""

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
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


def workload_argv(workload, iters):
    if workload == "pythreads":
        return [sys.executable, os.path.join(HERE, "pythreads.py"), iters]
    return [os.path.join(BUILD, "bench", workload)] + ([iters] if iters else [])


def one_run(workload, iters, stacks, unwind, timing, json_out):
    wl = subprocess.Popen(workload_argv(workload, iters),
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    argv = [CONCUR, "attach", "-q", "-v", "-p", str(wl.pid), "-o", json_out,
            "--unwind=" + unwind]
    if not stacks:
        argv.insert(2, "--no-stacks")
    if timing:
        argv.insert(2, "--bench-timing")
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


def capture_costs(doc):
    """From concur's JSON: {what: (net ns per call, calls, frames per stack or None)} for the
    user and Python stack captures timed (stacks.timing), the clock's own cost per call taken
    off: timer_ns sums one back-to-back pair of reads per timed call of either kind."""
    st = doc.get("stacks", {})
    t = st.get("timing", {})
    calls = t.get("ustack_calls", 0) + t.get("pystack_calls", 0)
    if not calls:
        return {}
    clock = t["timer_ns"] / calls
    cfi, py = st.get("cfi", {}), st.get("python", {})
    res = {}
    if t["ustack_calls"]:
        frames = cfi["cfi_frames"] / cfi["cfi_walks"] if cfi.get("cfi_walks") else None
        res["user stack"] = (t["ustack_ns"] / t["ustack_calls"] - clock, t["ustack_calls"], frames)
    if t["pystack_calls"]:
        frames = py["frames"] / py["frame_lists"] if py.get("frame_lists") else None
        res["Python stack"] = (t["pystack_ns"] / t["pystack_calls"] - clock, t["pystack_calls"],
                               frames)
    res["clock pair"] = (clock, calls, None)
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--stacks", action="store_true", help="with stacks (default: time split only)")
    ap.add_argument("--unwind", choices=("fp", "cfi"), default="fp", help="concur's --unwind")
    ap.add_argument("--timing", action="store_true",
                    help="time the user and Python stack captures (implies --stacks)")
    ap.add_argument("workload", nargs="?", default="pingpong")
    ap.add_argument("iterations", nargs="?", default="100000000")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("probe_cost.py: root needed (BPF and kernel.bpf_stats_enabled)")
    with open(STATS) as f:
        saved = f.read().strip()
    if args.workload == "pythreads" and args.iterations == "100000000":
        args.iterations = "1000000"  # hops; the run is cut after a second anyway
    stacks = args.stacks or args.timing
    runs, costs = [], []
    try:
        with open(STATS, "w") as f:
            f.write("1")
        with tempfile.TemporaryDirectory(prefix="concur-probe-cost-") as tmp:
            out = os.path.join(tmp, "out.json")
            for _ in range(args.runs):
                runs.append(one_run(args.workload, args.iterations, stacks, args.unwind,
                                    args.timing, out))
                if args.timing:
                    with open(out) as f:
                        costs.append(capture_costs(json.load(f)))
    finally:
        with open(STATS, "w") as f:
            f.write(saved)
    print("%s, %s, unwind %s%s, median of %d runs" % (
        args.workload, "stacks" if stacks else "time split only", args.unwind,
        ", captures timed" if args.timing else "", args.runs))
    names = sorted({n for r in runs for n in r})
    print("%-16s %12s %14s" % ("program", "ns/call", "calls/s"))
    for n in names:
        ns = [r[n][0] for r in runs if n in r]
        cnt = [r[n][1] for r in runs if n in r]
        print("%-16s %12.1f %14.0f" % (n, statistics.median(ns), statistics.median(cnt)))
    whats = [w for w in ("user stack", "Python stack", "clock pair") if any(w in c for c in costs)]
    if whats:
        print("%-16s %12s %14s %16s" % ("capture", "ns/call", "calls/run", "frames/stack"))
    for w in whats:
        got = [c[w] for c in costs if w in c]
        frames = [g[2] for g in got if g[2] is not None]
        print("%-16s %12.1f %14.0f %16s" % (
            w + (" (%s)" % args.unwind if w == "user stack" else ""),
            statistics.median(g[0] for g in got), statistics.median(g[1] for g in got),
            "%.1f" % statistics.median(frames) if frames else "-"))


if __name__ == "__main__":
    main()
