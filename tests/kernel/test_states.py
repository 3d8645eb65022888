# SPDX-License-Identifier: MIT
"""Waits the syscall register does not explain: a stopped process (SIGSTOP), a traced one
(strace), and a reader through mmap whose page faults wait for the disk.

stop_run / stop_attach (stop_writer: a writer blocked in a pipe write, stopped 0.5 s), traced
(sysloop under strace -f), mmap_disk (file_reader: mmap beside pread of a file not in the cache).
"""

import os
import shutil
import signal
import tempfile
import threading
import time

from harness import MS, OFF_CPU, REPO, SEC, Fail, Skip, frac, need_dominant, need_frac, profile, \
    split, start_workload, stop_workload, test, thread, who


def other_ns(doc, comm, reason):
    """ns under one 'other' reason, summed over the processes named comm."""
    return sum(o["ns"] for p in doc["processes"] if p["comm"] == comm
               for o in p["other_syscalls"] if o["syscall"] == reason)


def check_stopped(doc, stopped_ns):
    w = thread(doc, "writer")
    got = other_ns(doc, "stop_writer", "stopped (job control)")
    # Tolerance: all three threads (main in pthread_join, writer, drain) are stopped for the
    # stop, give or take the signals' delivery and the sleeps timing them (-20 %, +40 %).
    n = sum(1 for t in doc["threads"] if t["pid"] == w["pid"])
    if n != 3 or not n * 0.8 * stopped_ns <= got <= n * 1.4 * stopped_ns:
        raise Fail("stopped (job control): %.0f ms over %d threads, need 3 x %.0f ms -20/+40 %%; "
                   "writer %s" % (got / MS, n, stopped_ns / MS, split(w)))
    # The writer's own stop is 'other', not the pipe write it was stopped in: io.pipe is the
    # rest of its life, at most its lifetime minus most of the stop.
    need_frac(w, "other", lo=0.8 * stopped_ns / w["lifetime_ns"])
    need_frac(w, "io.pipe", hi=1 - 0.8 * stopped_ns / w["lifetime_ns"])
    fault = other_ns(doc, "stop_writer", "fault")
    if fault > 20 * MS:
        raise Fail("%.0f ms named 'fault' in a process that stops, not faults; %s" % (fault / MS, split(w)))


@test("stop_run")
def t_stop_run(ctx):
    # The workload stops itself from a child: 1.5 s of writing, SIGSTOP at 0.5 s for 0.5 s.
    doc = profile(ctx, ["run", "--", ctx.w("stop_writer"), "1.5", "0.5", "0.5"])
    check_stopped(doc, 0.5 * SEC)


@test("stop_attach")
def t_stop_attach(ctx):
    p = start_workload([ctx.w("stop_writer"), "4"])
    try:
        time.sleep(0.3)

        def stop():
            time.sleep(1.0)  # attach is in place by then
            os.kill(p.pid, signal.SIGSTOP)
            time.sleep(0.5)
            os.kill(p.pid, signal.SIGCONT)

        s = threading.Thread(target=stop)
        s.start()
        try:
            doc = profile(ctx, ["attach", "-p", str(p.pid), "-d", "2.5"])
        finally:
            s.join()
    finally:
        stop_workload(p)
    check_stopped(doc, 0.5 * SEC)


@test("traced")
def t_traced(ctx):
    strace = shutil.which("strace")
    if not strace:
        raise Skip("strace is not installed (tools/install-deps.sh --test)")
    doc = profile(ctx, ["run", "--", strace, "-f", "-o", "/dev/null", ctx.w("sysloop"), "1.5"])
    t = thread(doc, "sysloop")
    blocked = 1 - frac(t, "cpu") - frac(t, "runqueue")
    traced = other_ns(doc, "sysloop", "traced (ptrace stop)") / t["lifetime_ns"]
    # Tolerance: the tracee never blocks on its own (getppid, writes to /dev/null), so its
    # off-CPU time is the tracer's stops: >= 90 % of it named traced, and over a fifth of its
    # life (two stops a syscall, each a round trip to strace); no pipe I/O, almost no 'fault'.
    if traced < 0.9 * blocked or traced < 0.2:
        raise Fail("%s: traced %.1f %% of its lifetime, blocked %.1f %%; %s"
                   % (who(t), 100 * traced, 100 * blocked, split(t)))
    need_frac(t, "io.pipe", hi=0.02)
    if other_ns(doc, "sysloop", "fault") > 0.05 * t["lifetime_ns"]:
        raise Fail("%s: over 5 %% named 'fault'; %s" % (who(t), split(t)))


@test("mmap_disk")
def t_mmap_disk(ctx):
    # The file must be on a disk, not tmpfs: under the repository's build/ (ext4 here).
    build = os.path.join(REPO, "build")
    os.makedirs(build, exist_ok=True)
    d = tempfile.mkdtemp(prefix="mmap-test-", dir=build)
    os.chmod(d, 0o777)  # concur run may drop to the sudo user for the workload
    path = os.path.join(d, "data")
    try:
        with open(path, "wb") as f:
            for _ in range(64):
                f.write(os.urandom(1 << 20))
            f.flush()
            os.fsync(f.fileno())  # clean pages: the workload's POSIX_FADV_DONTNEED drops them all
        os.chmod(path, 0o644)
        res = {}
        for mode in ("mmap", "pread"):
            doc = profile(ctx, ["run", "--", ctx.w("file_reader"), mode, path])
            t = res[mode] = thread(doc, mode + "_reader")
            # Tolerance: with readahead off, each page is one synchronous read; on this VM's
            # virtual disk a read costs about as much CPU (the syscall or fault, the exits to
            # the host) as it waits, so the reader is ~50 % io.disk either way: io.disk is its
            # largest off-CPU category and >= 30 % of its life; its faults are not 'fault'.
            need_dominant(t, "io.disk", OFF_CPU)
            need_frac(t, "io.disk", lo=0.30)
            need_frac(t, "other", hi=0.05)
        # And the two ways wait alike: within 20 percentage points of each other.
        a, b = frac(res["mmap"], "io.disk"), frac(res["pread"], "io.disk")
        if abs(a - b) > 0.20:
            raise Fail("io.disk: mmap %.1f %%, pread %.1f %%: more than 20 points apart; %s / %s"
                       % (100 * a, 100 * b, split(res["mmap"]), split(res["pread"])))
    finally:
        shutil.rmtree(d, ignore_errors=True)
