# SPDX-License-Identifier: MIT
"""Threads the kernel creates for the program: io_uring's io-wq workers (iou-wrk-PID), which run
its IOSQE_ASYNC reads, and a ring's SQPOLL thread (iou-sqp-PID). The kernel makes them with
create_io_thread(), which fires no sched_process_fork, and their saved user registers are their
creator's: they must be followed from creation and classified from their kernel-side wait.

uring_run / uring_attach (uring_reader: 16 workers on cold reads, then idle 0.3 s),
uring_sqpoll (the same through a SQPOLL thread).
"""

import os
import shutil
import tempfile
import time

from harness import MS, OFF_CPU, REPO, SEC, Fail, load_folded, profile, split, start_workload, \
    stop_workload, test, who

IDLE_S = 0.3  # the workload's idle tail: the ring open, no work queued


def data_file():
    """A 64 MiB file on a disk (not tmpfs: under build/, ext4 here), written back (clean: the
    workload's POSIX_FADV_DONTNEED drops every page), in a directory the workload can read
    (concur run may drop to the sudo user). Returns (directory, path)."""
    build = os.path.join(REPO, "build")
    os.makedirs(build, exist_ok=True)
    d = tempfile.mkdtemp(prefix="uring-test-", dir=build)
    os.chmod(d, 0o755)
    path = os.path.join(d, "data")
    with open(path, "wb") as f:
        for _ in range(64):
            f.write(os.urandom(1 << 20))
        f.flush()
        os.fsync(f.fileno())
    os.chmod(path, 0o644)
    return d, path


def the_process(doc, pid=None):
    """The workload's process: by pid when known (attach: its comm is then the renamed main
    thread's), else by the name it was executed as."""
    procs = [p for p in doc["processes"] if p["pid"] == pid or (pid is None and
                                                                p["comm"] == "uring_reader")]
    if len(procs) != 1 or len(doc["processes"]) != 1:
        raise Fail("want one process, uring_reader, got %s"
                   % [(p["pid"], p["comm"]) for p in doc["processes"]])
    return procs[0]


def blocked_ns(t):
    return t["lifetime_ns"] - t["ns"]["cpu"] - t["ns"]["runqueue"]


def check_workers(doc, folded, verdict=True, pid=None):
    """The workers are the process's threads, their reads are io.disk, their idle is no I/O.
    folded: the run's folded stacks; verdict: whether the process's verdict is known."""
    pid = the_process(doc, pid)["pid"]
    wrk = [t for t in doc["threads"] if t["comm"].startswith("iou-wrk-")]
    if not wrk:
        raise Fail("no iou-wrk thread reported; threads: %s"
                   % [(t["tid"], t["comm"]) for t in doc["threads"]])
    stray = [t for t in wrk if t["pid"] != pid]
    if stray:
        raise Fail("iou-wrk threads outside process %d: %s" % (pid, [who(t) for t in stray]))
    idle = IDLE_S * SEC
    for t in wrk:
        # Each worker waits for work through the whole tail: named poll (the pool's idle wait),
        # at least 80 % of the tail (the sleep timing it is the only slack), and never 'other'
        # (the copied registers read as a fault or io_uring_enter: neither may show).
        if t["ns"]["poll"] < 0.8 * idle:
            raise Fail("%s: poll %.0f ms, need >= 80 %% of its %.0f ms idle tail; %s"
                       % (who(t), t["ns"]["poll"] / MS, idle / MS, split(t)))
        # Nothing else blocks them: no lock, pipe, net, sleep, other (a read waits for the disk).
        rest = sum(v for c, v in t["ns"].items() if c in OFF_CPU and c not in ("io.disk", "poll"))
        if rest > 10 * MS or t["ns"]["io.disk"] == 0:
            raise Fail("%s: waits other than io.disk and poll, or no io.disk; %s"
                       % (who(t), split(t)))
    # Their poll is their idle wait, whenever it comes (the tail, and any time the main thread,
    # short of a CPU, is late to refill the ring): the kernel stacks say so independently of
    # the classification. Tolerance: >= 95 % of it under io_wq_worker's own wait (stacks can be
    # lost when a map fills), none of it in a read.
    poll_us = sum(t["ns"]["poll"] for t in wrk) / 1e3
    parked = sum(w for frames, w in folded if frames[0] == "poll"
                 and "io_wq_worker_[k]" in frames and "schedule_timeout_[k]" in frames)
    reading = sum(w for frames, w in folded if frames[0] == "poll" and "io_read_[k]" in frames)
    if parked < 0.95 * poll_us or reading:
        raise Fail("workers' poll %.0f ms, of it %.0f ms in io_wq_worker's idle wait and %.0f ms "
                   "in io_read" % (poll_us / 1e3, parked / 1e3, reading / 1e3))
    # Ground truth: the rest of their blocked time is the reads' (all they are given), which
    # wait for the disk: their cold pages are read with readahead off. Tolerance: >= 80 % of it
    # io.disk (the rest: hand-offs between reads, the page cache's own locks).
    disk = sum(t["ns"]["io.disk"] for t in wrk)
    busy = sum(blocked_ns(t) - t["ns"]["poll"] for t in wrk)
    if busy <= 0 or disk < 0.8 * busy:
        raise Fail("workers' io.disk %.0f ms of %.0f ms blocked outside their idle wait (< 80 %%); "
                   "%s" % (disk / MS, busy / MS, "; ".join(split(t) for t in wrk)))
    if not verdict:
        return wrk
    # The main thread only waits for completions (poll, under 2 % CPU: parked), so the workers
    # are the process's active threads. On a loaded machine their run-queue wait can outgrow
    # their disk wait, and the verdict then is CPU saturation: this is no timing test.
    advice = [a for a in doc["advice"]["processes"] if a["pid"] == pid]
    if not advice or advice[0]["verdict"] != "io_disk":
        raise Fail("verdict %r, want io_disk: %s" % (advice[0]["verdict"] if advice else None,
                                                    advice[0]["why"] if advice else "no advice"))
    return wrk


def profile_folded(ctx, mode_args):
    """profile() with folded stacks as well: (doc, folded rows)."""
    path = os.path.join(ctx.tmp, "out.folded")
    doc = profile(ctx, mode_args[:1] + ["-o", path] + mode_args[1:])
    return doc, load_folded(path)


def with_data(body):
    d, path = data_file()
    try:
        return body(path)
    finally:
        shutil.rmtree(d, ignore_errors=True)


@test("uring_run")
def t_uring_run(ctx):
    def body(path):
        doc, folded = profile_folded(ctx, ["run", "--", ctx.w("uring_reader"), "1.5", path,
                                           str(IDLE_S)])
        check_workers(doc, folded)
    with_data(body)


@test("uring_attach")
def t_uring_attach(ctx):
    def body(path):
        p = start_workload([ctx.w("uring_reader"), "2.5", path, str(IDLE_S)])
        try:
            time.sleep(0.5)  # its workers exist by then: attach finds them in /proc
            doc, folded = profile_folded(ctx, ["attach", "-p", str(p.pid)])  # until it exits
        finally:
            stop_workload(p)
        check_workers(doc, folded, pid=p.pid)
    with_data(body)


@test("uring_sqpoll")
def t_uring_sqpoll(ctx):
    def body(path):
        doc, folded = profile_folded(ctx, ["run", "--", ctx.w("uring_reader"), "1", path,
                                           str(IDLE_S), "sqpoll"])
        # The SQPOLL thread spins on one of the 2 CPUs while reads flow: the verdict is not
        # known in advance.
        check_workers(doc, folded, verdict=False)
        pid = the_process(doc)["pid"]
        sqp = [t for t in doc["threads"] if t["comm"].startswith("iou-sqp-")]
        if len(sqp) != 1 or sqp[0]["pid"] != pid:
            raise Fail("want one iou-sqp thread in process %d, got %s"
                       % (pid, [who(t) for t in sqp]))
        t = sqp[0]
        # It submits without blocking (reads go to the workers) and sleeps when no work comes
        # for 20 ms: the idle tail is its wait for submissions (poll), nothing is I/O or other.
        if t["ns"]["poll"] < 0.8 * IDLE_S * SEC:
            raise Fail("%s: poll %.0f ms, need >= 80 %% of the %.0f ms idle tail; %s"
                       % (who(t), t["ns"]["poll"] / MS, IDLE_S * 1e3, split(t)))
        bad = sum(t["ns"][c] for c in ("io.disk", "io.net", "io.pipe", "other"))
        if bad > 10 * MS:
            raise Fail("%s: %.0f ms of I/O or other; %s" % (who(t), bad / MS, split(t)))
    with_data(body)
