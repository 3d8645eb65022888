#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""concur's overhead side by side with the tools users would otherwise pick, in one run.

    tools/bench/overhead.py [--pairs N] [--tracers a,b,...] [WORKLOAD...]

Each workload (tools/bench/*.c, built into build/bench/) waits for a line on stdin, then
measures itself and prints "elapsed_ns N", so a tracer's start-up is never counted. Every
tracer attaches to the waiting workload by pid first. Runs are paired and interleaved:
for each pair, the untraced run and the traced run follow each other, so drift on this
noisy 2-core VM cancels in the ratio; the table gives the median and min-max of the
ratios. Root only (every tracer loads BPF or perf events).
"""

import argparse
import json
import math
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BUILD = os.path.join(REPO, "build")
CONCUR = os.path.join(BUILD, "concur")
# --base: another concur binary (an earlier build), measured in the same run as "base" and
# "base-stacks", so that a change's cost is a ratio of ratios taken side by side.
BASE = None

# name: (program in build/bench, or a .py in tools/bench run by python3, iterations, further
# arguments); iterations chosen for ~0.5 s untraced on the reference VM.
WORKLOADS = {
    # ~200 000 switches in ~0.5 s (~385 000/s), two threads pinned to one CPU
    "pingpong": ("pingpong", 100000, []),
    # the same with 2 us of computing per hand-off: ~100 000 switches at ~210 000/s, just
    # above the rate concur's target names
    "pingpong-200k": ("pingpong", 50000, ["2000"]),
    "mutex": ("mutex", 60000, []),
    "smallread": ("smallread", 2000000, []),
    "cpu": ("cpu", 300000000, []),
    "churn": ("churn", 3000, []),
    # CPython threads passing a token round a ring of queues, ~140 us of Python per hop: a GIL
    # hand-off and a futex wait and wake each, ~20 000 switches/s (issue 13's rate)
    "pythreads": ("pythreads.py", 4000, ["1500"]),
}
# Tracers run on a workload when not all: the floor says something only where switches
# dominate; pingpong-200k is there for concur's target at that rate.
WORKLOAD_TRACERS = {
    "pingpong-200k": ("floor", "concur", "concur-stacks", "base", "base-stacks"),
    # Issue 13 asks for Python stacks against untraced: both unwinders capture them.
    "pythreads": ("concur-stacks", "concur-cfi", "base-stacks"),
}
# Tracers run on these workloads only, unless the workload names them above: the floor says
# something only where switches dominate, the CFI unwinder's cost is issue 12's ping-pong.
TRACER_WORKLOADS = {
    "floor": ("pingpong",),
    "concur-cfi": ("pingpong",),
}

# An off-CPU tracer as a user would write it in bpftrace: time blocked, by stack.
BPFTRACE_OFFCPU = r"""
tracepoint:sched:sched_switch
{
	if (pid == %(pid)d) {
		@start[tid] = nsecs;
		@kstk[tid] = kstack;
		@ustk[tid] = ustack;
	}
	if (@start[args->next_pid]) {
		@offcpu[@kstk[args->next_pid], @ustk[args->next_pid]] =
			sum(nsecs - @start[args->next_pid]);
		delete(@start[args->next_pid]);
	}
}
"""


def tracer_argv(name, pid, tmp):
    """argv of a tracer attached to pid, and the line (regex) on stderr that says it is live."""
    out = os.path.join(tmp, "out")
    if name == "floor":
        return [os.path.join(BUILD, "bench", "floor"), os.path.join(BUILD, "bench", "floor.bpf.o")], \
            r"probes attached"
    if name == "concur":
        return [CONCUR, "attach", "-q", "-v", "--no-stacks", "-p", str(pid), "-o", out + ".json"], r"probes attached"
    if name == "concur-stacks":
        return [CONCUR, "attach", "-q", "-v", "--unwind=fp", "-p", str(pid), "-o", out + ".json"], r"probes attached"
    if name == "concur-cfi":
        return [CONCUR, "attach", "-q", "-v", "--unwind=cfi", "-p", str(pid), "-o", out + ".json"], \
            r"probes attached"
    if name == "base":
        return [BASE, "attach", "-q", "-v", "--no-stacks", "-p", str(pid), "-o", out + ".json"], r"probes attached"
    if name == "base-stacks":
        return [BASE, "attach", "-q", "-v", "-p", str(pid), "-o", out + ".json"], r"probes attached"
    if name == "bpftrace":
        script = os.path.join(tmp, "offcpu.bt")
        with open(script, "w") as f:
            f.write(BPFTRACE_OFFCPU % {"pid": pid})
        return ["bpftrace", script], r"Attaching \d+ probe"
    if name == "perf-record":
        return ["perf", "record", "-q", "-e", "sched:sched_switch", "-g", "-p", str(pid), "-o", out + ".data"], None
    if name == "perf-trace":
        return ["perf", "trace", "-s", "-p", str(pid), "-o", out + ".trace"], None
    raise SystemExit("unknown tracer %s" % name)


def ensure_tracefs():
    """bpftrace's and perf's tracepoints need tracefs; a fresh machine may not have it mounted."""
    if not os.path.exists("/sys/kernel/tracing/events"):
        subprocess.run(["mount", "-t", "tracefs", "nodev", "/sys/kernel/tracing"], check=False)


def perf_event_fds(pid):
    n = 0
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            n += os.readlink("/proc/%d/fd/%s" % (pid, fd)) == "anon_inode:[perf_event]"
        except OSError:
            pass
    return n


def perf_ready(proc, timeout):
    """perf says nothing when it is ready: it is once its perf events are open (their count
    steady for 60 ms), plus 200 ms for it to map and enable them."""
    t0, last, steady = time.monotonic(), -1, 0
    while time.monotonic() - t0 < timeout and proc.poll() is None:
        n = perf_event_fds(proc.pid)
        steady = steady + 1 if n and n == last else 0
        if steady >= 3:
            time.sleep(0.2)
            return
        last = n
        time.sleep(0.02)
    raise RuntimeError("perf did not open its events")


def wait_ready(proc, log, pattern, timeout=20.0):
    """Until the tracer's log (its stdout and stderr) shows pattern, or, for a tracer without
    a readiness message, a fixed settle time. Returns concur's own attach time, if it said."""
    if pattern is None:
        perf_ready(proc, timeout)
        return None
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        with open(log, errors="replace") as f:
            text = f.read()
        m = re.search(pattern, text)
        if m:
            if proc.args[0] == "bpftrace":
                time.sleep(0.5)  # it prints "Attaching" before attaching
            a = re.search(r"attached ([\d.]+) ms", text)
            return float(a.group(1)) if a else None
        if proc.poll() is not None:
            break
        time.sleep(0.02)
    raise RuntimeError("%s did not become ready: %s" % (proc.args[0], text[-300:]))


def run_once(workload, tracer, tmp, scale=1):
    """One run (of 1/scale of the workload's iterations); returns (elapsed_ns, info) where info
    holds concur's figures when traced by it."""
    prog, iters, extra = WORKLOADS[workload]
    argv = [sys.executable, os.path.join(HERE, prog)] if prog.endswith(".py") else \
        [os.path.join(BUILD, "bench", prog)]
    wl = subprocess.Popen(argv + [str(iters // scale)] + extra,
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    info = {}
    tr = None
    try:
        if tracer != "none":
            argv, ready = tracer_argv(tracer, wl.pid, tmp)
            log = os.path.join(tmp, "tracer.log")
            with open(log, "w") as logf:
                tr = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=logf, stderr=logf)
            info["attach_ms"] = wait_ready(tr, log, ready)
        wl.stdin.write("go\n")
        wl.stdin.close()
        out = wl.stdout.read()
        wl.wait()
        m = re.search(r"elapsed_ns (\d+)", out)
        if not m:
            raise RuntimeError("%s printed no elapsed_ns: %r" % (workload, out))
        elapsed = int(m.group(1))
    finally:
        if wl.poll() is None:
            wl.kill()
            wl.wait()
        if tr is not None:
            # wait4, not Popen.poll(): the rusage of the tracer is part of the result.
            pid, status, usage = os.wait4(tr.pid, os.WNOHANG)
            if pid == 0:
                tr.send_signal(signal.SIGINT)
                pid, status, usage = os.wait4(tr.pid, 0)
            tr.returncode = status
            info["cpu_ms"] = (usage.ru_utime + usage.ru_stime) * 1000
            info["rss_mb"] = usage.ru_maxrss / 1024
    if tracer.startswith("concur") or tracer.startswith("base"):
        with open(os.path.join(tmp, "out.json")) as f:
            doc = json.load(f)
        info["lost"] = doc["events"]["lost"]
        info["switches"] = doc["events"]["switches"]
        info.update(stack_figures(doc.get("stacks", {})))
    return elapsed, info


def stack_figures(st):
    """The stack capture's own figures from concur's JSON stacks object: the stack cache's hit
    rate at switch-outs (%), frames per CFI walk, Python frames per Python stack; each None
    when the run had none."""
    cache, cfi, py = st.get("cache", {}), st.get("cfi", {}), st.get("python", {})
    looked = cache.get("cache_hits", 0) + cache.get("cache_misses", 0)
    return {
        "cache_hit": 100.0 * cache.get("cache_hits", 0) / looked if looked else None,
        "cfi_frames": cfi["cfi_frames"] / cfi["cfi_walks"] if cfi.get("cfi_walks") else None,
        "py_frames": py["frames"] / py["frame_lists"] if py.get("frame_lists") else None,
    }


# A tracer that slows a workload by SLOW_RATIO or more (perf trace on smallread: 122x, a
# minute a run) runs its remaining pairs on 1/SLOW_SCALE of the iterations, untraced and
# traced alike: the ratio is per iteration, and such a slowdown dwarfs the shorter run's noise.
SLOW_RATIO = 50.0
SLOW_SCALE = 10


def median_ci(xs, conf=0.95):
    """A distribution-free confidence interval for the median of xs: the order statistics
    x(k) and x(n-k+1) with the largest k whose coverage, 1 - 2 P(Binomial(n, 1/2) < k), is
    still >= conf. Returns (lo, hi, coverage); with too few values for conf, (min, max) and the
    coverage that interval has."""
    xs = sorted(xs)
    n = len(xs)
    below = lambda k: sum(math.comb(n, i) for i in range(k)) / 2.0 ** n  # P(B < k)
    k = 1
    while k + 1 <= (n + 1) // 2 and 1 - 2 * below(k + 1) >= conf:
        k += 1
    return xs[k - 1], xs[n - k], 1 - 2 * below(k)


def fmt_ratio(rs):
    lo, hi, cover = median_ci(rs)
    return "%.3f [%.3f-%.3f] %2.0f%% (%.3f-%.3f)" % (statistics.median(rs), lo, hi, 100 * cover,
                                                     min(rs), max(rs))


def wide(rs, width):
    """Whether the median's interval is wider than width (relative to the median)."""
    lo, hi, _ = median_ci(rs)
    return (hi - lo) / statistics.median(rs) > width


def bench(workloads, all_tracers, pairs, max_pairs, width):
    rows, stack_rows = [], []
    for w in workloads:
        allowed = WORKLOAD_TRACERS.get(w, [t for t in all_tracers if w in TRACER_WORKLOADS.get(t, (w,))])
        tracers = [t for t in all_tracers if t in allowed]
        ratios = {t: [] for t in tracers}
        infos = {t: [] for t in tracers}
        base = []
        i = 0
        # `pairs` rounds for everyone, then more for the tracers whose median is still vague,
        # up to max_pairs: a claim such as "<= 1.5x" needs an interval, not a lucky median.
        while True:
            todo = tracers if i < pairs else \
                [t for t in tracers if len(ratios[t]) < max_pairs and wide(ratios[t], width)]
            if not todo:
                break
            # Rotate the tracer order each pair so no tracer always runs right after another.
            order = todo[i % len(todo):] + todo[:i % len(todo)]
            i += 1
            for t in order:
                scale = SLOW_SCALE if ratios[t] and min(ratios[t]) >= SLOW_RATIO else 1
                with tempfile.TemporaryDirectory(prefix="concur-bench-") as tmp:
                    u, _ = run_once(w, "none", tmp, scale)
                    v, info = run_once(w, t, tmp, scale)
                ratios[t].append(v / u)
                # The untraced time and the tracer's own figures are for the whole workload.
                if scale == 1:
                    base.append(u)
                    infos[t].append(info)
        for t in tracers:
            med = lambda k: statistics.median([x[k] for x in infos[t] if x.get(k) is not None]) \
                if any(x.get(k) is not None for x in infos[t]) else None
            rows.append((w, t, statistics.median(base), ratios[t], med("attach_ms"), med("cpu_ms"),
                         med("rss_mb"), med("lost"), med("switches")))
            print_row(rows[-1])
            figs = (med("cache_hit"), med("cfi_frames"), med("py_frames"))
            if any(f is not None for f in figs):
                stack_rows.append((w, t) + figs)
    return rows, stack_rows


def print_stack_rows(stack_rows):
    """The stack capture's figures of the concur runs above, medians over their pairs."""
    if not stack_rows:
        return
    opt = lambda v, f: (f % v) if v is not None else "-"
    print("\nstack capture, concur's own counts (JSON stacks.cache, .cfi, .python), median of the runs:")
    print("%-13s %-14s %13s %16s %19s" % ("workload", "tracer", "cache hit %", "frames/CFI walk",
                                         "Python frames/stack"))
    for w, t, hit, cfi, py in stack_rows:
        print("%-13s %-14s %13s %16s %19s" % (w, t, opt(hit, "%.1f"), opt(cfi, "%.1f"), opt(py, "%.1f")))


def print_header():
    print("%-13s %-14s %10s  %-40s %9s %9s %7s %6s %10s %5s" % (
        "workload", "tracer", "base ms", "slowdown median [its interval] cover (min-max)", "attach ms",
        "cpu ms", "rss MB", "lost", "switches", "pairs"))


def print_row(r):
    w, t, base, rs, attach, cpu, rss, lost, sw = r
    opt = lambda v, f: (f % v) if v is not None else "-"
    print("%-13s %-14s %10.1f  %-40s %9s %9s %7s %6s %10s %5d" % (
        w, t, base / 1e6, fmt_ratio(rs), opt(attach, "%.0f"), opt(cpu, "%.0f"), opt(rss, "%.1f"),
        opt(lost, "%d"), opt(sw, "%d"), len(rs)), flush=True)


def schedstat_ns(pid):
    """CPU time of a single-threaded process so far, in ns (the kernel's own figure)."""
    with open("/proc/%d/schedstat" % pid) as f:
        return int(f.read().split()[0])


def idle_cost(window=15.0, settle=2.0, span=10.0):
    """concur attached to an idle process for `window` seconds: its CPU time in all (start-up
    included, most of it loading the BPF programs), as % of one core over the window and in ms;
    and its steady state, % of one core over `span` seconds once attached (read from its
    schedstat: concur is single-threaded)."""
    target = subprocess.Popen(["sleep", str(window + 5)])
    try:
        tr = subprocess.Popen([CONCUR, "attach", "-q", "-p", str(target.pid), "-d", str(window)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(settle)
        a = schedstat_ns(tr.pid)
        time.sleep(span)
        b = schedstat_ns(tr.pid)
        _, _, usage = os.wait4(tr.pid, 0)
    finally:
        target.kill()
        target.wait()
    total = usage.ru_utime + usage.ru_stime
    return 100.0 * total / window, 100.0 * (b - a) / 1e9 / span, 1000.0 * total


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("workloads", nargs="*", default=list(WORKLOADS))
    ap.add_argument("--pairs", type=int, default=5, help="paired runs per cell, at least")
    ap.add_argument("--max-pairs", type=int, default=15,
                    help="more pairs, up to this, for a cell whose median's 95%% interval is wider "
                         "than --width")
    ap.add_argument("--width", type=float, default=0.08,
                    help="the widest interval accepted, relative to the median (default 0.08: +-4%%)")
    ap.add_argument("--tracers",
                    default="floor,concur,concur-stacks,concur-cfi,bpftrace,perf-record,perf-trace",
                    help="floor: an empty program on sched_switch, the least any switch tracer costs "
                         "(the ping-pongs only); concur-cfi: stacks with --unwind=cfi (pingpong and "
                         "pythreads only)")
    ap.add_argument("--base", metavar="CONCUR",
                    help="an earlier concur binary, measured beside this one as the tracers base and "
                         "base-stacks (name them in --tracers)")
    ap.add_argument("--no-idle", action="store_true",
                    help="skip the 15 s measurement of concur attached to an idle process")
    args = ap.parse_args()
    global BASE
    BASE = args.base and os.path.abspath(args.base)
    if any(t.startswith("base") for t in args.tracers.split(",")) and not BASE:
        raise SystemExit("overhead.py: the base tracers need --base CONCUR")
    if os.geteuid() != 0:
        raise SystemExit("overhead.py: needs root (tracers load BPF programs and perf events)")
    tracers = args.tracers.split(",")
    for t in tracers:
        tool = {"bpftrace": "bpftrace", "perf-record": "perf", "perf-trace": "perf"}.get(t)
        if tool and not shutil.which(tool):
            raise SystemExit("overhead.py: %s not found (tools/install-deps.sh --bench installs it)" % tool)
    for w in args.workloads:
        if w not in WORKLOADS:
            raise SystemExit("overhead.py: unknown workload %s (%s)" % (w, ", ".join(WORKLOADS)))
    ensure_tracefs()
    print("concur overhead, %s, %d CPUs, kernel %s; slowdown = traced/untraced, the median of %d "
          "paired runs,\nup to %d where its interval is wider than %.0f%% of it; [interval]: the "
          "order statistics covering the median\nwith the confidence after it (95%% or more "
          "from 6 pairs on), (min-max) of the ratios"
          % (time.strftime("%Y-%m-%d"), os.cpu_count(), os.uname().release, args.pairs,
             max(args.pairs, args.max_pairs), 100 * args.width), flush=True)
    print_header()
    _, stack_rows = bench(args.workloads, tracers, args.pairs, max(args.pairs, args.max_pairs),
                          args.width)
    print_stack_rows(stack_rows)
    if args.no_idle:
        return
    window, steady, cpu_ms = idle_cost()
    print("concur attached to an idle process for 15 s: %.2f %% of one core (%.0f ms of CPU, "
          "start-up included); once attached %.3f %%" % (window, cpu_ms, steady))


if __name__ == "__main__":
    main()
