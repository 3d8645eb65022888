# SPDX-License-Identifier: MIT
"""measure.py [--rounds K] [--build DIR] SCENARIO [--baseline ARGS] [--variant ARGS]...

Run an advisor scenario's baseline and variants interleaved K times (default 5; the order of the
runs rotates each round) and print, per variant, the median, minimum and maximum elapsed seconds
(the "elapsed_ns N" line the scenario prints) and the ratio of the baseline's median to the
variant's (> 1: the variant is faster).
SCENARIO is a name in this directory: NAME.py runs with /usr/bin/python3, NAME.c as
DIR/scenarios/NAME (DIR defaults to the repository's build; make it first: make
build/scenarios/NAME). Without --baseline/--variant, each scenario's usual baseline and variants
are run. ARGS is one string, split on blanks ("" for no arguments; write --variant=--async when
it is a single option).
The machine may be shared: each run waits (up to a minute) for a quiet moment first, and a run
during which other processes used >= 0.2 CPUs (--max-foreign; /proc/stat less the run's own CPU
time) is made again, up to 5 times (a note on stderr each time).
Exits 1 when a run fails or prints no elapsed_ns line, 2 on bad arguments.
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
PYTHON = "/usr/bin/python3"

# Each scenario's baseline arguments and its variants' (see the header of each scenario).
PRESETS = {
    "native_split": ("", ["--threads 2", "--procs 2", "--async"]),
    "gil_work": ("--threads 2", ["--threads 4", "--procs 2"]),
    "slow_server": ("", ["--threads 4", "--procs 4", "--async 4", "--async 30"]),
    "big_lock": ("", ["--threads 4", "--procs 2"]),
    "oversubscribed": ("", ["--threads 16", "--procs 8", "--threads 2"]),
    "busy_loop": ("", ["--procs 2", "--async 32", "--threads 2"]),
    "idle_pool": ("", ["--workers 16", "--producers 2"]),
    "thread_per_request": ("", ["--threads 1", "--procs 2"]),
}


def command(name, build):
    py = os.path.join(HERE, name + ".py")
    if os.path.exists(py):
        return [PYTHON, py]
    if os.path.exists(os.path.join(HERE, name + ".c")):
        exe = os.path.join(build, "scenarios", name)
        if not os.access(exe, os.X_OK):
            sys.exit("measure.py: %s is not built (make %s)" % (exe, os.path.relpath(exe, REPO)))
        return [exe]
    sys.stderr.write("measure.py: no scenario %r in %s\n" % (name, HERE))
    sys.exit(2)


def busy_seconds():
    """CPU time spent by the whole machine so far (all CPUs, from /proc/stat)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal ...: all but idle and iowait
    return (sum(v[:8]) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK")


def children_seconds():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def wait_quiet(max_cpus, patience):
    """Wait (up to patience seconds) for a 0.3 s window in which the machine uses < max_cpus CPUs."""
    deadline = time.monotonic() + patience
    while True:
        b0 = busy_seconds()
        time.sleep(0.3)
        load = (busy_seconds() - b0) / 0.3
        if load < max_cpus or time.monotonic() > deadline:
            return load


def run_once(argv, max_foreign, tries=6):
    """The elapsed seconds the scenario reports, from a run the rest of the machine left alone
    (other processes used < max_foreign CPUs meanwhile) if one of `tries` runs was."""
    for attempt in range(tries):
        wait_quiet(max_foreign, 60)
        b0, c0, w0 = busy_seconds(), children_seconds(), time.monotonic()
        try:
            p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
        except subprocess.TimeoutExpired:
            sys.exit("measure.py: %s timed out" % " ".join(argv))
        wall = time.monotonic() - w0
        foreign = ((busy_seconds() - b0) - (children_seconds() - c0)) / wall
        lines = p.stdout.splitlines()
        if p.returncode != 0 or len(lines) != 1 or not lines[0].startswith("elapsed_ns "):
            sys.exit("measure.py: %s exited %d, stdout %r, stderr %r"
                     % (" ".join(argv), p.returncode, p.stdout[-200:], p.stderr[-300:]))
        if foreign < max_foreign:
            break
        sys.stderr.write("measure.py: other processes used %.2f CPUs during %s%s\n"
                         % (foreign, " ".join(argv[-3:]), ", again" if attempt + 1 < tries else ""))
    return int(lines[0].split()[1]) / 1e9


def main():
    ap = argparse.ArgumentParser(description="Time a scenario's baseline and variants, interleaved.")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--build", default=os.path.join(REPO, "build"))
    ap.add_argument("--baseline")
    ap.add_argument("--variant", action="append")
    ap.add_argument("--max-foreign", type=float, default=0.2,
                    help="rerun a run during which other processes used this many CPUs or more")
    ap.add_argument("scenario")
    args = ap.parse_args()
    if args.rounds < 1:
        ap.error("--rounds must be at least 1")
    preset = PRESETS.get(args.scenario, ("", []))
    baseline = args.baseline if args.baseline is not None else preset[0]
    variants = args.variant if args.variant is not None else preset[1]
    base = command(args.scenario, args.build)

    labels = [baseline] + [v for v in variants if v != baseline]
    times = {label: [] for label in labels}
    for r in range(args.rounds):
        order = labels[r % len(labels):] + labels[:r % len(labels)]
        for label in order:
            times[label].append(run_once(base + label.split(), args.max_foreign))

    med0 = statistics.median(times[baseline])
    names = {label: (label + " (baseline)").strip() if label == baseline else label for label in labels}
    width = max(len(name) for name in names.values()) + 2
    print("%s, %d rounds" % (args.scenario, args.rounds))
    print("%-*s %9s %9s %9s %7s" % (width, "variant", "median", "min", "max", "ratio"))
    for label in labels:
        t = times[label]
        med = statistics.median(t)
        print("%-*s %8.3fs %8.3fs %8.3fs %6.2fx" % (width, names[label], med, min(t), max(t), med0 / med))


if __name__ == "__main__":
    main()
