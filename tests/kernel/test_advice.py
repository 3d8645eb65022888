# SPDX-License-Identifier: MIT
"""The advice against reality: each scenario of tests/kernel/scenarios/ is profiled, its variants
timed, and the levers concur's advice rates are held to the measured speedups (advice_pairs.py).
"""

import os
import shutil
import time

from advice_pairs import (BOUND_TOLERANCE, ROUNDS, SPEEDUP_MARGIN, expect_levers, expect_table,
                          hold_to_reality, median_interval)
from harness import REPO, Fail, Skip, execute, profile, test


# Advice against reality: tests/kernel/scenarios/. Each scenario does a fixed amount of work;
# its baseline is profiled, then its variants timed beside it and the advice held to the
# speedups (advice_pairs.py: the pairs, the checks (a)-(c) and their tolerances).
PYTHON = "/usr/bin/python3"


def scenario_argv(ctx, name, args):
    if name.endswith(".py"):
        return [PYTHON, os.path.join(REPO, "tests", "kernel", "scenarios", name)] + args
    return [os.path.join(os.path.dirname(ctx.wl), "scenarios", name)] + args


def wall_time(argv):
    t0 = time.monotonic()
    rc, out, err = execute(argv)
    t = time.monotonic() - t0
    if rc != 0 or "elapsed_ns" not in out:
        raise Fail("%s exited %d: %s" % (" ".join(argv), rc, (err or out).strip()[-300:]))
    return t


def root_advice(doc):
    """The advice for the process concur started (the one whose parent it is not tracing)."""
    pids = {p["pid"] for p in doc["processes"]}
    roots = [p for p in doc["processes"] if p["ppid"] not in pids]
    if len(roots) != 1:
        raise Fail("expected one root process, got %s" % [(p["pid"], p["comm"]) for p in roots])
    adv = [a for a in doc["advice"]["processes"] if a["pid"] == roots[0]["pid"]]
    return roots[0], adv[0]


def advice_vs_reality(ctx, name, base, variants, unchecked=(), whole=False):
    """variants: lever -> (args, "more" | "fewer") (see hold_to_reality). Levers in
    `unchecked` are measured and printed, not held to (b). whole: hold the whole workload's
    advice to them (a supervisor's own is its children's). Returns (doc, process, advice)
    for extra checks."""
    doc = profile(ctx, ["run", "--"] + scenario_argv(ctx, name, base))
    proc, adv = root_advice(doc)
    if whole:
        adv = doc["advice"]["whole"]
    hold_to_reality(name, adv, base, variants,
                    lambda args: wall_time(scenario_argv(ctx, name, args)),
                    unchecked=unchecked, noisy=name.endswith(".py"))
    return doc, proc, adv


@test("advice_native_split_cpu")
def t_advice_native_split(ctx):
    # 1. Native CPU work in one thread, splittable: threads and processes about 2x on 2 CPUs.
    _, _, adv = advice_vs_reality(ctx, "native_split", [], {
        "threads": (["--threads", "2"], "more"), "processes": (["--procs", "2"], "more"),
        "async": (["--async"], "more")})
    expect_levers(adv, {"threads": "helps", "processes": "helps", "async": "no effect"})
    expect_table(adv, "cpu", {"threads": "helps", "processes": "helps", "async": "no effect"})
    expect_table(adv, "gil", {"threads": "n/a"})


@test("advice_python_gil")
def t_advice_python_gil(ctx):
    # 2. Python CPU work already split across 2 threads: GIL-bound, measured on _PyRuntime's
    # futexes; processes help, more threads do not (4 against 2: 1.01x over 14 pairs). Fewer
    # is not held to anything: 1 against 2 measured 1.21x, 1.14x and 1.00x in three sessions.
    _, proc, adv = advice_vs_reality(ctx, "gil_work.py", ["--threads", "2"], {
        "threads": (["--threads", "4"], "more"), "processes": (["--procs", "2"], "more")})
    if not proc["runtime"].startswith("CPython 3."):
        raise Fail("runtime %r" % proc["runtime"])
    ev = adv["evidence"]
    gil = ev.get("gil_ns", 0) / ev["active_ns"] if ev["active_ns"] else 0
    if gil < 0.2 or "GIL" not in adv["why"] or adv.get("best") != "processes":
        raise Fail("GIL wait %.0f%% of the active time (expected >= 20%%), best %s: %s"
                   % (100 * gil, adv.get("best"), adv["why"]))
    if not [f for f in proc["futexes"] if f.get("symbol") == "_PyRuntime"]:
        raise Fail("no futex named _PyRuntime: %s" % proc["futexes"])
    expect_table(adv, "gil", {"threads": "hurts", "processes": "helps", "async": "no effect"})


@test("advice_slow_server_io")
def t_advice_slow_server(ctx):
    # 3. Sequential requests to a slow loopback server: every lever overlaps the waits; async,
    # with one request in flight each, is the one to try first. Its variant (all 12 requests
    # in flight) comes within one delay of the bound, 1 / (1 - blocked share), which the
    # client's own time (80-125 ms over runs) sets from the one profiled run: with 20 ms
    # delays it came within 10 % of it and CI measured 6.80x against a bound of 6.11x; with
    # 50 ms the variant measured 4.3-5.8x against bounds of 6.4-7.5x (6 profiled runs).
    _, _, adv = advice_vs_reality(ctx, "slow_server.py", [], {
        "threads": (["--threads", "4"], "more"), "processes": (["--procs", "4"], "more"),
        "async": (["--async", "30"], "more")})
    expect_levers(adv, {"threads": "helps", "processes": "helps", "async": "helps"})
    if adv.get("best") != "async" or adv["verdict"] != "io_net":
        raise Fail("verdict %s, best %s" % (adv["verdict"], adv.get("best")))
    expect_table(adv, "io", {"threads": "helps", "processes": "helps", "async": "helps"})


@test("advice_big_lock")
def t_advice_big_lock(ctx):
    # 4. Threads serialized on one global lock: no lever helps; the advice names the lock by
    # its symbol and the evidence shows its wait site.
    _, _, adv = advice_vs_reality(ctx, "big_lock", [], {
        "threads": (["--threads", "4"], "more"), "processes": (["--procs", "2"], "more")})
    if adv["verdict"] != "lock" or "big_lock" not in adv["why"]:
        raise Fail("verdict %s: %s" % (adv["verdict"], adv["why"]))
    lock = adv["evidence"].get("lock", {})
    if lock.get("symbol") != "big_lock" or lock.get("threads", 0) < 2:
        raise Fail("evidence lock %s" % lock)
    sites = [f["name"] for t in adv["evidence"]["top"] for f in t["frames"]]
    if "wait_for_big_lock" not in sites:
        raise Fail("no wait site wait_for_big_lock in the evidence: %s" % sites[:20])


@test("advice_oversubscribed")
def t_advice_oversubscribed(ctx):
    # 5. 8 CPU-bound threads on 2 CPUs: saturated, nothing helps short of more CPUs.
    _, _, adv = advice_vs_reality(ctx, "oversubscribed", [], {
        "threads": (["--threads", "16"], "more"), "processes": (["--procs", "8"], "more")})
    if adv["verdict"] != "cpu_saturated" or adv.get("best"):
        raise Fail("verdict %s, best %s" % (adv["verdict"], adv.get("best")))


@test("advice_busy_loop")
def t_advice_busy_loop(ctx):
    # 6. One asyncio loop at 100 % CPU: processes (a loop each) help; threads do not (the GIL);
    # async is already used. Two loops in two threads measured 0.81-1.04x (median about 0.92x
    # over 6 runs of 5 pairs): the GIL hand-offs cost a few %, on the edge of the 10 % band of
    # "no effect" and inside this VM's noise, so that row is printed, not held to (b).
    _, _, adv = advice_vs_reality(ctx, "busy_loop.py", [], {
        "threads": (["--threads", "2"], "more"), "processes": (["--procs", "2"], "more"),
        "async": (["--async", "32"], "more")}, unchecked=("threads",))
    expect_levers(adv, {"threads": "no effect", "processes": "helps", "async": "already used"})
    if adv.get("best") != "processes":
        raise Fail("best %s" % adv.get("best"))


@test("advice_idle_pool")
def t_advice_idle_pool(ctx):
    # 7. 8 idle workers fed by one busy producer: not lock contention; the producer's CPU work
    # is the bound, so more threads doing it (a second producer) help.
    _, _, adv = advice_vs_reality(ctx, "idle_pool", [], {
        "threads": (["--producers", "2"], "more")})
    ev = adv["evidence"]
    if adv["verdict"] != "cpu" or ev["idle_threads"] < 8 or ev.get("idle_category") != "lock":
        raise Fail("verdict %s, idle %d in %s" % (adv["verdict"], ev["idle_threads"],
                                                  ev.get("idle_category")))


@test("advice_thread_per_request")
def t_advice_thread_per_request(ctx):
    # 8. CPU-bound Python, a thread per request: threads hurt (the same work in one thread is
    # faster), processes help. The processes variant keeps the design (a thread per request in
    # each of 2 processes): the lever alone, which is what its bound is for; a process pool
    # without the threads gains both (measured 2.3-2.6x), as the advice's reason says.
    _, _, adv = advice_vs_reality(ctx, "thread_per_request.py", [], {
        "threads": (["--threads", "1"], "fewer"),
        "processes": (["--procs-per-request", "2"], "more")})
    expect_levers(adv, {"threads": "hurts", "processes": "helps"})


@test("advice_native_gil_released")
def t_advice_native_gil_released(ctx):
    # 9. Python work in extensions that release the GIL (zlib, hashlib), one worker thread that
    # the main thread joins: the GIL wait is measured ~0 and the samples are outside the
    # interpreter, so threads help like processes; the joining main thread is idle, not an
    # active thread in lock.
    _, proc, adv = advice_vs_reality(ctx, "native_hash.py", [], {
        "threads": (["--threads", "2"], "more"), "processes": (["--procs", "2"], "more")})
    expect_levers(adv, {"threads": "helps", "processes": "helps", "async": "no effect"})
    ev = adv["evidence"]
    gil = ev.get("gil_ns", 0) / ev["active_ns"] if ev["active_ns"] else 1
    # 5 %: the GIL is taken between units only (a few us per 2 MiB unit).
    if gil > 0.05 or ev["active_threads"] != 1 or ev["idle_threads"] < 1:
        raise Fail("GIL wait %.1f%%, %d active, %d idle: %s"
                   % (100 * gil, ev["active_threads"], ev["idle_threads"], adv["why"]))
    native, interp = ev.get("native_ns", 0), ev.get("interpreter_ns", 0)
    # 80 %: the interpreter's share is its loop between units, well under 5 % here.
    if native < 0.8 * (native + interp):
        raise Fail("CPU samples: %d ns native, %d ns in the interpreter" % (native, interp))
    if adv["levers"]["threads"]["bound"] < 1.8:
        raise Fail("threads bound %.2f" % adv["levers"]["threads"]["bound"])


@test("advice_pool_helpers")
def t_advice_pool_helpers(ctx):
    # 10. A process pool whose 2 workers fill the 2 CPUs, beside helpers parked in pipes, a
    # socket poll and a join (result handler, feeder, watchdog, supervisor, tracker process):
    # the helpers are idle capacity, the parent a supervisor, the whole verdict follows the
    # workers (CPU), and neither
    # more workers nor more threads per worker help; nothing says async would.
    doc, _, adv = advice_vs_reality(ctx, "pool_helpers", [], {
        "threads": (["--threads", "2"], "more"), "processes": (["--workers", "4"], "more")})
    # The parent supervises its workers (wait4, their pipes, poll): waiting for children
    # (issue 15, kind 6), its helper threads idle.
    if adv["verdict"] != "wait":
        raise Fail("the parent (supervisor and helper threads) is %s: %s"
                   % (adv["verdict"], adv["why"]))
    w = doc["advice"]["whole"]
    ev = w["evidence"]
    want = (ev["ns"]["cpu"] + ev["ns"]["runqueue"]) / ev["active_ns"] if ev["active_ns"] else 0
    # cpu + runqueue: the workers want a CPU all their life; on a machine shared with other
    # load part of it is the run queue's. 80 %: a worker blocks briefly on its pipes.
    if w["verdict"] not in ("cpu", "cpu_saturated") or want < 0.8 or ev["active_threads"] != 2:
        raise Fail("whole: %s, %d active threads wanting a CPU %.0f%% of their time: %s"
                   % (w["verdict"], ev["active_threads"], 100 * want, w["why"]))
    helps = [k for k, v in w["levers"].items() if v["effect"] == "helps"]
    if helps:
        raise Fail("whole: %s help: %s" % (helps, w["why"]))
    idle = [a for a in doc["advice"]["processes"] if a["verdict"] == "idle"]
    if len(idle) != 1:
        raise Fail("idle processes %s, expected the tracker"
                   % [(a["pid"], a["verdict"]) for a in doc["advice"]["processes"]])


def expect_stall(adv, function, call_category):
    """A stalled loop, recognised by asyncio's frames, blocked in `category` under `function`
    (named by its qualname, any line of stalled_loop.py), the name in the advice's why."""
    stall = adv["evidence"].get("stall")
    if adv["verdict"] != "loop_stalled" or not stall:
        raise Fail("verdict %s, expected loop_stalled: %s" % (adv["verdict"], adv["why"]))
    got = stall.get("function", "")
    if (stall["recognised_by"] != "asyncio_frames" or stall["category"] != call_category
            or not got.startswith(function + " (stalled_loop.py:") or got not in adv["why"]):
        raise Fail("stall %s, expected %s in %s: %s" % (stall, function, call_category, adv["why"]))


@test("advice_stalled_loop_socket")
def t_advice_stalled_loop_socket(ctx):
    # 11. Asyncio tasks that each make a blocking socket round trip in their coroutine: the loop
    # runs them one after another. The advice names round_trip, the function that blocks in
    # recv under the loop's callback, and says async helps (the asyncio streams variant) as do
    # threads (asyncio.to_thread: the default executor's 6 workers on 2 CPUs).
    _, _, adv = advice_vs_reality(ctx, "stalled_loop.py", [], {
        "async": (["--async", "1"], "more"), "threads": (["--to-thread", "1"], "more")})
    expect_stall(adv, "round_trip", "io.net")
    if adv.get("best") != "async" or adv["levers"]["async"]["bound"] < 2:
        raise Fail("best %s, async %s" % (adv.get("best"), adv["levers"]["async"]))


@test("advice_stalled_loop_sleep")
def t_advice_stalled_loop_sleep(ctx):
    # 12. time.sleep in the coroutines: the loop never waits in its poll (a task is always
    # ready), so only its frames say it is a loop; not "deliberate sleeps: nothing helps". The
    # fixed program (asyncio.sleep) is a healthy loop: no stall reported.
    _, _, adv = advice_vs_reality(ctx, "stalled_loop.py", ["--sleep-stall", "1"], {
        "async": (["--async-sleep", "1"], "more")})
    expect_stall(adv, "sleeping_request", "sleep")
    if "asyncio.sleep()" not in adv["levers"]["async"]["reason"]:
        raise Fail("async: %s" % adv["levers"]["async"]["reason"])
    doc = profile(ctx, ["run", "--"] + scenario_argv(ctx, "stalled_loop.py", ["--async-sleep", "1"]))
    _, healthy = root_advice(doc)
    if healthy["verdict"] == "loop_stalled":
        raise Fail("the asyncio.sleep variant is reported stalled: %s" % healthy["why"])


@test("advice_job_runner")
def t_advice_job_runner(ctx):
    # 11. A runner starting 40 short CPU-bound children one at a time and waiting for their
    # results in poll on their pipes (issue 15, kinds 5 and 6): the runner is a supervisor
    # ("wait"), not an event loop waiting for events; the whole workload's verdict follows the
    # children, which ran one at a time: running 2 at once (processes) helps, threads in the
    # runner do not; the 25 ms children are summarised by executable, not advised one by one.
    doc, _, adv = advice_vs_reality(ctx, "job_runner", [], {
        "processes": (["--jobs", "2"], "more")}, whole=True)
    _, root = root_advice(doc)
    if root["verdict"] != "wait":
        raise Fail("the runner is %s: %s" % (root["verdict"], root["why"]))
    if adv["verdict"] != "cpu" or adv.get("best") != "processes" \
            or "one at a time" not in adv["why"]:
        raise Fail("whole: %s, best %s: %s" % (adv["verdict"], adv.get("best"), adv["why"]))
    short = doc["advice"]["short_processes"]
    # 38: a child or two may outlive 50 ms behind other load on this shared VM.
    if not short or short[0]["count"] < 38 or short[0].get("category") not in ("cpu", "runqueue"):
        raise Fail("short processes %s" % short)


MAKE_FILES = 24


def make_project(root):
    """A C project of MAKE_FILES small files, each a few ms of gcc -O2, and its Makefile."""
    os.makedirs(root, exist_ok=True)
    for i in range(MAKE_FILES):
        with open(os.path.join(root, "f%d.c" % i), "w") as f:
            f.write("".join("int f%d_%d(int x) { for (int i = 0; i < x; i++) x ^= x * %d + i;"
                            " return x; }\n" % (i, k, k + 3) for k in range(40)))
    objs = " ".join("f%d.o" % i for i in range(MAKE_FILES))
    with open(os.path.join(root, "Makefile"), "w") as f:
        f.write("all: %s\n%%.o: %%.c\n\tgcc -O2 -c $< -o $@\nclean:\n\trm -f *.o\n" % objs)


def make_time(root, jobs):
    execute(["make", "-s", "-C", root, "clean"])
    t0 = time.monotonic()
    rc, out, err = execute(["make", "-s", "-C", root, "-j%d" % jobs])
    if rc != 0:
        raise Fail("make -j%d: %s" % (jobs, err.strip()[-300:]))
    return time.monotonic() - t0


@test("advice_make_j1")
def t_advice_make_j1(ctx):
    # 12. `make -j1` of a small C project (issue 15, kind 5): the compilers ran one at a time;
    # the whole workload's advice is running 2 at once (processes, phrased `make -j2`), not
    # threads; make -j2 measured beside make -j1 (ROUNDS pairs) is at least 10 % faster and
    # within the stated bound (+10 %, as advice_vs_reality's (c)).
    if not os.path.exists("/usr/bin/gcc") or not shutil.which("make"):
        raise Skip("no gcc or make")
    root = os.path.join(ctx.tmp, "proj")
    make_project(root)
    execute(["make", "-s", "-C", root, "clean"])
    doc = profile(ctx, ["run", "--", "make", "-s", "-C", root, "-j1"])
    w = doc["advice"]["whole"]
    if w.get("best") != "processes" or "make -j2" not in w["why"] \
            or w["levers"]["threads"]["effect"] == "helps":
        raise Fail("whole: %s, best %s, threads %s: %s" % (
            w["verdict"], w.get("best"), w["levers"]["threads"]["effect"], w["why"]))
    ratios = []
    for r in range(ROUNDS):
        order = [1, 2] if r % 2 == 0 else [2, 1]
        t = {j: make_time(root, j) for j in order}
        ratios.append(t[1] / t[2])
    x = median_interval(ratios)[1]
    bound = w["levers"]["processes"]["bound"]
    print("    make -j1: %s | measured -j2 %.2fx (%s)" % (
        w["why"], x, " ".join("%.2f" % r for r in ratios)), flush=True)
    if x < 1 + SPEEDUP_MARGIN or x > bound * (1 + BOUND_TOLERANCE):
        raise Fail("make -j2 measured %.2fx against a bound of %.2fx" % (x, bound))


@test("advice_cpu_stalled_loop")
def t_advice_cpu_stalled_loop(ctx):
    # An asyncio loop whose callback computes ~200 ms of pure Python every ~0.5 s among 1 ms
    # callbacks: the loop's iterations (wake from epoll_wait to the next) of >= 100 ms are CPU
    # stalls; the advice names crunch (or spin, which it calls: both are the user's code under
    # the loop's callback) and says async does not help. The same loop with only the short
    # callbacks has no CPU stall. Counts: 3 s with a crunch every 0.5 s from 0.3 s gives 5 or
    # 6 (~40 % of the thread's life with Python's start-up); at least 4 is asked (a crunch preempted long on the shared CPUs still counts: runnable
    # time is busy time, and the threshold is half the crunch).
    doc = profile(ctx, ["run", "--"] + scenario_argv(ctx, "cpu_stalled_loop.py", []))
    _, adv = root_advice(doc)
    loop = max(doc["threads"], key=lambda t: t["ns"]["cpu"])
    cs = loop.get("cpu_stalls")
    if not cs or cs["count"] < 4 or cs["longest_ns"] < 150_000_000 or cs["longest_ns"] > 1_000_000_000:
        raise Fail("loop thread's cpu_stalls %s, expected >= 4, longest 150..1000 ms" % cs)
    stall = adv["evidence"].get("stall")
    if adv["verdict"] != "loop_stalled" or not stall or not stall.get("cpu"):
        raise Fail("verdict %s, stall %s: %s" % (adv["verdict"], stall, adv["why"]))
    fn = stall.get("function", "")
    if not fn.split(" (")[0] in ("crunch", "spin") or "cpu_stalled_loop.py:" not in fn or fn not in adv["why"]:
        raise Fail("stall named %r: %s" % (fn, adv["why"]))
    if adv["levers"]["async"]["effect"] != "no effect":
        raise Fail("async: %s" % adv["levers"]["async"])
    doc = profile(ctx, ["run", "--"] + scenario_argv(ctx, "cpu_stalled_loop.py", ["--healthy", "1"]))
    _, healthy = root_advice(doc)
    stalled = [t for t in doc["threads"] if t.get("cpu_stalls")]
    if stalled or healthy["verdict"] == "loop_stalled":
        raise Fail("healthy loop: cpu_stalls %s, verdict %s: %s"
                   % ([t["cpu_stalls"] for t in stalled], healthy["verdict"], healthy["why"]))
