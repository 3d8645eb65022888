# SPDX-License-Identifier: MIT
"""Stacks: the folded file's weights against the split, symbolization (a short-lived child, a
PIE calling a shared library), the unwinding warning for code without frame pointers, and the
pprof output as go tool pprof reads it.
"""

import os
import shutil
import time

from harness import (MS, Fail, execute, folded_weight, load_folded, profile, run_env, start_workload,
                     stop_workload, test, thread, threads)


def stacks_profile(ctx, argv, opts=()):
    folded = os.path.join(ctx.tmp, "out.folded")
    doc = profile(ctx, ["run"] + list(opts) + ["-o", folded, "--"] + argv)
    return doc, load_folded(folded)


@test("stacks_known_functions")
def t_stacks_known_functions(ctx):
    doc, rows = stacks_profile(ctx, [ctx.w("stacks"), "1.5"])
    # Off-CPU stacks carry exactly the time the split gives the thread (the same intervals):
    # tolerance 1 %, the foundation's, plus 1 µs per line for the folded file's rounding.
    for comm, cat, func in (("locker", "lock", "wait_on_lock"), ("reader", "io.pipe", "read_slow_pipe")):
        t = thread(doc, comm)
        got, want = folded_weight(rows, cat, func) * 1000, t["ns"][cat]
        if want == 0 or abs(got - want) > 0.01 * want + 1000 * len(rows):
            raise Fail("%s stacks through %s weigh %.1f ms; the %s thread's %s is %.1f ms (limit 1 %%)"
                       % (cat, func, got / MS, comm, cat, want / MS))
    # On-CPU stacks are samples (99 Hz, ~150 over 1.5 s) of a thread that computes in burn_cpu:
    # within 5 % of its cpu time: +-2 samples of timer granularity, plus the samples that land
    # in the kernel's interrupt entry (stacks that still pass through burn_cpu) or clock reads.
    got, want = folded_weight(rows, "cpu", "burn_cpu") * 1000, thread(doc, "burner")["ns"]["cpu"]
    if abs(got - want) > 0.05 * want:
        raise Fail("cpu stacks through burn_cpu weigh %.1f ms; burner's cpu is %.1f ms (limit 5 %%)"
                   % (got / MS, want / MS))


@test("stacks_short_lived_child")
def t_stacks_short_lived_child(ctx):
    # The child computes ~50 ms in child_burn and exits long before the window ends: its
    # frames must still be symbolized (its memory map is read while it lives). Sampled at
    # 999 Hz, and held to the CPU time the child got: on 2 CPUs beside the burner thread it
    # got 30 ms (20 ms runnable) in one CI run, 3 samples at 99 Hz, of which 1 was taken.
    # Half of its cpu time through child_burn: sampling noise at 30+ samples is ~20 %.
    doc, rows = stacks_profile(ctx, [ctx.w("stacks"), "0.5"], ["-F", "999"])
    got = folded_weight(rows, "cpu", "child_burn")
    exited = [p for p in doc["processes"] if p["exited"] and p["pid"] != doc["processes"][0]["pid"]]
    if not exited:
        raise Fail("no exited child process in the report: %s" % doc["processes"])
    child_cpu = sum(t["ns"]["cpu"] for t in doc["threads"] if t["pid"] == exited[0]["pid"])
    if child_cpu < 10 * MS or got * 1000 < 0.5 * child_cpu:
        raise Fail("cpu stacks through child_burn weigh %.1f ms of the child's %.1f ms on a CPU; "
                   "cpu lines: %s" % (got / 1000, child_cpu / MS,
                                      [";".join(f) for f, _ in rows if f[0] == "cpu"][:8]))


@test("stacks_pie_and_shared_library")
def t_stacks_pie_and_shared_library(ctx):
    doc, rows = stacks_profile(ctx, [ctx.w("uselib"), "0.5"])
    want = thread(doc, "uselib")["ns"]["cpu"]
    paths = [f for f, w in rows if f[0] == "cpu" and "lib_burn" in f]
    if not paths or not all("pie_caller" in f for f in paths):
        raise Fail("expected cpu stacks ...;pie_caller;lib_burn, got %s" % [";".join(f) for f, _ in rows][:8])
    got = folded_weight(rows, "cpu", "lib_burn") * 1000
    if got < 0.9 * want:  # as above, less the samples outside lib_burn (start-up, exit)
        raise Fail("cpu stacks through lib_burn weigh %.1f ms of uselib's %.1f ms cpu" % (got / MS, want / MS))


@test("stacks_no_frame_pointer_warning")
def t_stacks_no_frame_pointer_warning(ctx):
    # The warning is the frame-pointer walk's (--unwind=cfi says where walks stopped instead).
    fp = ["--unwind=fp"]
    doc, _ = stacks_profile(ctx, [ctx.w("nofp"), "0.5"], fp)
    mods = [w["module"] for w in doc["stacks"]["unwind_warnings"]]
    if "nofp" not in mods:
        raise Fail("no unwinding warning names nofp: %s" % doc["stacks"]["unwind_warnings"])
    # and one built with frame pointers is not named
    doc, _ = stacks_profile(ctx, [ctx.w("uselib"), "0.3"], fp)
    mods = [w["module"] for w in doc["stacks"]["unwind_warnings"]]
    if "uselib" in mods or "libconcurwork.so" in mods:
        raise Fail("a binary built with frame pointers is named in the warnings: %s" % mods)



def user_frames(frames):
    """The user frames of a folded stack (category first, kernel frames suffixed _[k])."""
    return [f for f in frames[1:] if not f.endswith("_[k]")]


@test("stacks_cut_and_marked")
def t_stacks_cut_and_marked(ctx):
    # 300 calls deep: the kernel keeps the 127 frames nearest the leaf, main is lost; each such
    # stack must start at a [truncated] root, and the summary must count them.
    doc, rows = stacks_profile(ctx, [ctx.w("deep"), "300", "0.6"])
    burn = [(f, w) for f, w in rows if f[0] == "cpu" and "bottom_burn" in f]
    total = sum(w for _, w in burn)
    marked = sum(w for f, w in burn if f[1] == "[truncated]" and "main" not in f)
    if not total or marked < 0.9 * total:
        raise Fail("%.1f of %.1f ms of cpu stacks through bottom_burn start at [truncated]: %s"
                   % (marked / 1000, total / 1000, [";".join(f[:4]) for f, _ in burn][:5]))
    summary = doc["stacks"].get("truncated")
    if not summary or summary["frame"] != "[truncated]" or summary["samples"] < 1 \
            or summary["ns"] < 0.9 * marked * 1000:
        raise Fail("the summary's stacks.truncated does not count them (%.1f ms marked): %s"
                   % (marked / 1000, summary))
    # 40 deep: whole stacks, from main, nothing marked.
    doc, rows = stacks_profile(ctx, [ctx.w("deep"), "40", "0.3"])
    burn = [(f, w) for f, w in rows if f[0] == "cpu" and "bottom_burn" in f]
    whole = sum(w for f, w in burn if "main" in f and f[1] != "[truncated]")
    if not burn or whole < 0.9 * sum(w for _, w in burn) or "truncated" in doc["stacks"]:
        raise Fail("40 calls deep: stacks through bottom_burn not whole from main, or marked: %s; %s"
                   % ([";".join(f[:4]) for f, _ in burn][:5], doc["stacks"].get("truncated")))
    # Code using rbp as a general register: no walk through garbage, at most the leaf unknown.
    doc, rows = stacks_profile(ctx, [ctx.w("nofp"), "0.5"])
    for f, _ in rows:
        user = user_frames(f)
        if "[unknown]" in user[:-1]:
            raise Fail("a stack walks through unknown frames: %s" % ";".join(f[:12]))
        if "[unwind stopped]" in user[1:]:
            raise Fail("[unwind stopped] not at the root: %s" % ";".join(f[:12]))
    stopped = doc["stacks"].get("unwind_stopped")
    if stopped and stopped["frame"] != "[unwind stopped]":
        raise Fail("stacks.unwind_stopped names %s" % stopped)


def go_pprof(ctx, args, path):
    """`go tool pprof ARGS PATH` with its caches in the test's scratch directory, offline."""
    if not shutil.which("go"):
        raise Fail("go not found (tools/install-deps.sh installs golang-go)")
    env = run_env(HOME=ctx.tmp, GOPATH=os.path.join(ctx.tmp, "gopath"), GOCACHE=os.path.join(ctx.tmp, "gocache"),
                  GOPROXY="off", GOTOOLCHAIN="local", GOFLAGS="", PPROF_TMPDIR=os.path.join(ctx.tmp, "pprof"))
    rc, out, err = execute(["go", "tool", "pprof"] + args + [path], env=env)
    if rc != 0:
        raise Fail("go tool pprof %s failed: %s" % (" ".join(args), err.strip()[-300:]))
    return out


def pprof_total_us(top):
    """What a -top -unit=us listing of every node accounts for, after its filters:
    "Showing nodes accounting for 1234us, P% of T total"."""
    for line in top.splitlines():
        if line.startswith("Showing nodes accounting for "):
            return float(line.split()[4].rstrip(",").rstrip("us"))
    raise Fail("no total in pprof output: %r" % top[:300])


@test("stacks_pprof_matches_folded")
def t_stacks_pprof_matches_folded(ctx):
    # The same recording written as pprof and folded: go tool pprof (the real reader) must
    # see the same total and per-category totals as the folded file, and burn_cpu's work on top.
    pb, folded = os.path.join(ctx.tmp, "out.pb.gz"), os.path.join(ctx.tmp, "out.folded")
    profile(ctx, ["run", "-o", pb, "-o", folded, "--", ctx.w("stacks"), "1"])
    rows = load_folded(folded)
    # Folded weights are rounded to 1 us per line; pprof keeps nanoseconds.
    slack = len(rows) + 1
    total = pprof_total_us(go_pprof(ctx, ["-top", "-unit=us", "-nodecount=1000000", "-nodefraction=0"], pb))
    if abs(total - sum(w for _, w in rows)) > slack:
        raise Fail("pprof total %.0f us, folded total %d us" % (total, sum(w for _, w in rows)))
    for cat in ("cpu", "lock", "io.pipe"):
        got = pprof_total_us(go_pprof(ctx, ["-top", "-unit=us", "-nodecount=1000000", "-nodefraction=0", "-tagfocus=category=" + cat], pb))
        want = sum(w for f, w in rows if f[0] == cat)
        if abs(got - want) > slack:
            raise Fail("category %s: pprof %.0f us, folded %d us" % (cat, got, want))
    top = go_pprof(ctx, ["-top", "-unit=us", "-tagfocus=category=cpu", "-nodecount=3"], pb)
    rows_top = [l for l in top.splitlines() if l.strip() and l.strip()[0].isdigit()]
    if not rows_top or rows_top[0].split()[-1] != "burn":
        raise Fail("pprof's top on-CPU function is not burn (burn_cpu's worker):\n%s" % top)


@test("stacks_after_the_leader_exits")
def t_stacks_after_the_leader_exits(ctx):
    # The leader leaves with pthread_exit(); three threads compute on. Attached afterwards, and
    # launched from the start, their stacks are still named: >= 80 % of the cpu weight under
    # worker() (the rest: samples in thread start and exit). Not chew(): its calls into libc's
    # clock_gettime, built without frame pointers, hide it from a frame-pointer walk.
    for mode in ("attach", "run"):
        folded = os.path.join(ctx.tmp, mode + ".folded")
        if mode == "attach":
            p = start_workload([ctx.w("leader_exits"), "3"])
            try:
                pid = int(p.stdout.readline())
                time.sleep(0.3)
                doc = profile(ctx, ["attach", "-p", str(pid), "-d", "1.5", "-o", folded])
            finally:
                stop_workload(p)
        else:
            doc = profile(ctx, ["run", "-o", folded, "--", ctx.w("leader_exits"), "1.5"])
        rows = load_folded(folded)
        cpu = sum(w for frames, w in rows if frames[0] == "cpu")
        named = folded_weight(rows, "cpu", "worker")
        if not cpu or named < 0.8 * cpu:
            raise Fail("%s: %.0f%% of %d us of cpu under worker(); stacks: %s"
                       % (mode, 100.0 * named / max(cpu, 1), cpu,
                          sorted(rows, key=lambda r: -r[1])[:3]))
        if len(threads(doc, "chewer")) != 3:
            raise Fail("%s: expected 3 chewer threads, got %d" % (mode, len(threads(doc, "chewer"))))


@test("stacks_capture_counts")
def t_stacks_capture_counts(ctx):
    # The probes' own counts of their stack captures (make bench's figures), against the
    # events they are drawn from: every switch-out of a target thread with stacks either
    # reuses the stack cache's stacks or captures anew, exactly; with --bench-timing every user
    # stack capture is timed, and those are the misses plus the on-CPU samples, less the few
    # taken with no user stack of the task's own (inside execve: `run` launches the workload
    # by an exec; no io_uring workers here): at most 4 per process, 1 seen.
    doc = profile(ctx, ["run", "--unwind=cfi", "--bench-timing", "--", ctx.w("stacks"), "0.5"])
    st = doc["stacks"]
    for key in ("cache", "cfi", "timing"):
        if key not in st:
            raise Fail("stacks has no %r: %s" % (key, sorted(st)))
    cache, cfi, timing = st["cache"], st["cfi"], st["timing"]
    looked = cache["cache_hits"] + cache["cache_misses"]
    if looked != doc["events"]["switches"]:
        raise Fail("stack cache hits + misses %d, switches %d: %s"
                   % (looked, doc["events"]["switches"], cache))
    # The reader blocks ~25 times in one read at one stack pointer (a feed every 20 ms): all
    # but its first switch-out there are hits, whatever else misses (preemptions of the
    # burner at ever other instructions); 10 leaves room for a loaded machine's late feeds.
    if cache["cache_hits"] < 10:
        raise Fail("the stack cache served %d of %d switch-outs" % (cache["cache_hits"], looked))
    untimed = cache["cache_misses"] + st["samples"] - timing["ustack_calls"]
    if not 0 <= untimed <= 4 * len(doc["processes"]):
        raise Fail("%d user stack captures timed; misses %d + samples %d, %d processes"
                   % (timing["ustack_calls"], cache["cache_misses"], st["samples"],
                      len(doc["processes"])))
    # A CFI walk from a blocked thread reaches main or start_thread: more than 2 frames (the
    # syscall wrapper and its caller), at most the walker's 127.
    walks = cfi["cfi_walks"]
    if not walks or not 2 < cfi["cfi_frames"] / walks <= 127:
        raise Fail("CFI walks %d with %d frames" % (walks, cfi["cfi_frames"]))
    # ns per capture: above the clock pair's own cost, and far below a millisecond.
    per = timing["ustack_ns"] / timing["ustack_calls"]
    clock = timing["timer_ns"] / (timing["ustack_calls"] + timing["pystack_calls"])
    if not clock < per < 1e6 or timing["pystack_calls"]:
        raise Fail("user stack capture %.0f ns, clock pair %.0f ns; %s" % (per, clock, timing))
