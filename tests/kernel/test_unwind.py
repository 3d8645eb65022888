# SPDX-License-Identifier: MIT
"""The CFI unwinder (--unwind=cfi): a workload built with -O2 -fomit-frame-pointer against
Debian's libc (no frame pointers anywhere) must show its callers, through libc, up to the
thread entry (clone3;start_thread) or the process entry (_start;__libc_start_main;main).
"""

import os

from harness import Fail, load_folded, profile, test, thread

# The workload computes 300 ms in main before its threads start (cfi_stacks.c): the tables
# are built meanwhile; stacks captured before, by frame pointers, are not what is checked.
SECS = "1.5"


def in_order(frames, names):
    """Whether frames holds each of names (a tuple of alternatives each) in that order."""
    at = 0
    for alts in names:
        while at < len(frames) and frames[at] not in alts:
            at += 1
        if at == len(frames):
            return False
        at += 1
    return True


def weight(rows, cat, names, roots=None):
    """Microseconds of cat's stacks holding names in order (and rooted in roots, if given)."""
    return sum(w for f, w in rows if f[0] == cat and in_order(f[1:], names)
               and (roots is None or f[1] in roots))


def cfi_profile(ctx, unwind):
    folded = os.path.join(ctx.tmp, unwind + ".folded")
    doc = profile(ctx, ["run", "--unwind=" + unwind, "-o", folded, "--", ctx.w("cfi_stacks"), SECS])
    return doc, load_folded(folded)


LOCKER = (("start_thread",), ("cfi_lock_worker",), ("cfi_lock_take",),
          ("pthread_mutex_lock", "___pthread_mutex_lock"),
          ("__lll_lock_wait", "__GI___lll_lock_wait"))
SLEEPER = (("__libc_start_main", "__libc_start_main_impl"), ("main",), ("cfi_main_sleep",),
           ("clock_nanosleep", "__clock_nanosleep", "__GI___clock_nanosleep"))
SPINNER = (("start_thread",), ("cfi_spinner",), ("cfi_spin_outer",), ("cfi_spin_inner",))
THREAD_ROOTS = ("clone3", "__clone3", "start_thread")
MAIN_ROOTS = ("_start",)


@test("unwind_cfi_without_frame_pointers")
def t_unwind_cfi_without_frame_pointers(ctx):
    doc, rows = cfi_profile(ctx, "cfi")
    checks = [
        # (what, thread, category, frames in order, roots, share of the thread's time)
        # Off-CPU stacks carry the thread's own intervals: 95 % (the bar) leaves room
        # for an interval captured before the tables were in (the kernel's walk, counted).
        ("lock", "cfilocker", "lock", LOCKER, THREAD_ROOTS, 0.95),
        ("sleep", "cfi_stacks", "sleep", SLEEPER, MAIN_ROOTS, 0.95),
        # ~150 samples at 99 Hz: +-2 of timer granularity, and samples taken while the tables
        # were loading, within 10 %.
        ("cpu", "cfispinner", "cpu", SPINNER, THREAD_ROOTS, 0.90),
    ]
    for what, comm, cat, names, roots, share in checks:
        want = thread(doc, comm)["ns"][cat] / 1000
        got = weight(rows, cat, names, roots)
        print("  %s: %.1f of %.1f ms of %s's %s on stacks %s" % (what, got / 1000, want / 1000, comm, cat,
                                                                 ";".join(a[0] for a in names)))
        if want <= 0 or got < share * want:
            seen = sorted(((w, ";".join(f)) for f, w in rows if f[0] == cat), reverse=True)[:4]
            raise Fail("%s: %.1f ms of %s's %.1f ms of %s reach %s from %s (need %d %%); heaviest: %s"
                       % (what, got / 1000, comm, want / 1000, cat, ";".join(a[0] for a in names),
                          "/".join(roots), share * 100, seen))
    # How the walks ended, by object: most complete (the rest: before the tables were in).
    stops = doc["stacks"].get("unwind_stops") or []
    walks = sum(sum(v for k, v in o.items() if k not in ("module", "fp_frames")) for o in stops)
    complete = sum(o["complete"] for o in stops)
    print("  walks: %d, complete %d; by object: %s" % (walks, complete, stops))
    if not walks or complete < 0.9 * walks or any(o["invalid_rule"] or o["bad_frame"] for o in stops):
        raise Fail("unwind stops: %d of %d walks complete (need 90 %%), none invalid or bad: %s"
                   % (complete, walks, stops))
    # The same workload by frame pointers: the callers are lost (else this test shows nothing).
    doc, rows = cfi_profile(ctx, "fp")
    want = thread(doc, "cfilocker")["ns"]["lock"] / 1000
    got = weight(rows, "lock", LOCKER)
    print("  by frame pointers: %.1f of %.1f ms of lock reach cfi_lock_worker" % (got / 1000, want / 1000))
    if got >= 0.5 * want:
        raise Fail("frame pointers alone walked %.1f of %.1f ms of lock through cfi_lock_worker: the "
                   "workload no longer needs CFI" % (got / 1000, want / 1000))
