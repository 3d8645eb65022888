# SPDX-License-Identifier: MIT
"""The CFI unwinder on Debian's own binaries (built without frame pointers), checked against an
independent unwinder: elfutils' eu-stack, run on the stopped process.

Comparison rule (same_stack): eu-stack's frames of the thread, leaf to root, without -i (so no
inlined frames: neither side shows them), against the user frames of a stack concur captured of
the same thread at the same place, leaf to root. They must be as many and agree one by one:
  - the same object (file name; eu-stack prints the path, concur the base name);
  - the same name once symbol versions (eu-stack's `@@GLIBC_2.34`) are dropped; where eu-stack
    has no name (no symbol covers the address), concur's must be an address form (`sym+0x..`
    or `[object]+0x..`), never another function's name.
"""

import os
import re
import shutil
import signal
import subprocess
import time

from harness import Fail, Skip, kill_group, load_folded, load_json, test, thread

EU_FRAME = re.compile(r"^#\d+\s+0x[0-9a-f]+(?: - 1)?\s+(?:(\S+)\s+)?-\s+(\S+)$")


def eu_stack(pid, tid):
    """eu-stack's frames of thread tid of stopped process pid, leaf first: [(name|None, path)]."""
    r = subprocess.run(["eu-stack", "-m", "-p", str(pid)], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=20)
    frames, cur = {}, None
    for line in r.stdout.splitlines():
        if line.startswith("TID "):
            cur = int(line[4:].rstrip(":"))
            frames[cur] = []
        elif line.startswith("#") and cur is not None:
            m = EU_FRAME.match(line)
            if not m:
                raise Fail("eu-stack: unexpected line %r" % line)
            frames[cur].append((m.group(1), m.group(2)))
    if tid not in frames or not frames[tid]:
        raise Fail("eu-stack -p %d: no frames for thread %d (exit %d): %s"
                   % (pid, tid, r.returncode, (r.stdout + r.stderr)[-400:]))
    return frames[tid]


def user_frames(stack):
    """A JSON stack's user frames, leaf first: [(name, module)]."""
    return [(f["name"], f["module"]) for f in reversed(stack["frames"]) if not f["kernel"]]


def same_stack(eu, ours):
    """None when they agree by the rule above, else why not."""
    if len(eu) != len(ours):
        return "%d frames vs %d" % (len(eu), len(ours))
    for i, ((en, path), (on, mod)) in enumerate(zip(eu, ours)):
        if os.path.basename(path) != mod:
            return "frame %d: object %s vs %s" % (i, os.path.basename(path), mod)
        if en is None:
            if "+0x" not in on:
                return "frame %d: eu-stack names none, concur %s" % (i, on)
        elif en.split("@")[0] != on:
            return "frame %d: %s vs %s" % (i, en, on)
    return None


def fmt(frames):
    return ";".join((n or "?") for n, _ in frames)


def need(tool, package):
    if not shutil.which(tool):
        raise Skip("%s not installed (Debian package %s: tools/install-deps.sh --test)" % (tool, package))


def child_of(ppid, comm, timeout=10):
    """The pid of ppid's child named comm, waiting for it up to timeout seconds."""
    end = time.time() + timeout
    while time.time() < end:
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % d) as f:
                    st = f.read()
            except OSError:
                continue
            name = st[st.index("(") + 1:st.rindex(")")]
            if name == comm and int(st[st.rindex(")") + 2:].split()[1]) == ppid:
                return int(d)
        time.sleep(0.02)
    raise Fail("no child %s of %d within %d s" % (comm, ppid, timeout))


def stopped_stack(pid, settle):
    """Lets pid run settle seconds, stops it (SIGSTOP), reads its main thread with eu-stack,
    lets it go on."""
    time.sleep(settle)
    os.kill(pid, signal.SIGSTOP)
    try:
        return eu_stack(pid, pid)
    finally:
        os.kill(pid, signal.SIGCONT)


def concur_run(ctx, argv, stdin, name):
    out = os.path.join(ctx.tmp, name + ".json")
    folded = os.path.join(ctx.tmp, name + ".folded")
    p = subprocess.Popen([ctx.concur, "run", "-q", "--unwind=cfi", "-o", out, "-o", folded, "--"] + argv,
                         stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         start_new_session=True)
    return p, out, folded


def finish(p, what, ok=(0,)):
    try:
        _, err = p.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        kill_group(p.pid)
        p.communicate()
        raise Fail("%s: concur timed out" % what)
    if p.returncode not in ok:
        raise Fail("%s: concur exited %d: %s" % (what, p.returncode, err.decode(errors="replace")[-400:]))


def top_stacks(doc, cat):
    return doc["stacks"]["top"].get(cat) or []


@test("unwind_cfi_redis_vs_eu_stack")
def t_unwind_cfi_redis_vs_eu_stack(ctx):
    """redis-server idle (no frame pointers in it or in libc): its main thread waits in
    epoll_wait under aeMain; the stack concur weighs that wait with must be eu-stack's."""
    need("eu-stack", "elfutils")
    need("redis-server", "redis-server")
    sock = os.path.join(ctx.tmp, "redis.sock")
    # No TCP port, no persistence: nothing outside the test's directory.
    argv = ["redis-server", "--port", "0", "--unixsocket", sock, "--save", "", "--appendonly", "no",
            "--dir", ctx.tmp, "--logfile", os.path.join(ctx.tmp, "redis.log")]
    p, out, _ = concur_run(ctx, argv, subprocess.DEVNULL, "redis")
    try:
        pid = child_of(p.pid, "redis-server")
        eu = stopped_stack(pid, 1.5)
        time.sleep(0.5)
        os.kill(pid, signal.SIGTERM)  # redis shuts down cleanly and exits 0
    except BaseException:
        kill_group(p.pid)
        raise
    finish(p, "redis-server")
    doc = load_json(out)
    print("  eu-stack: %s" % fmt(eu))
    if not any(n == "aeMain" for n, _ in eu):
        raise Fail("eu-stack did not find redis blocked under aeMain: %s" % fmt(eu))
    # The main thread is redis's only one in poll (its others wait on condition variables).
    main = [t for t in doc["threads"] if t["tid"] == pid]
    want = main[0]["ns"]["poll"] if main else 0
    got = 0
    for s in top_stacks(doc, "poll"):
        why = same_stack(eu, user_frames(s))
        print("  concur %.1f ms: %s%s" % (s["ns"] / 1e6, fmt(user_frames(s)), " (" + why + ")" if why else ""))
        if not why:
            got += s["ns"]
    # What is not on eu-stack's stack: the wait in progress at the start (no stack) and the
    # waits before the tables were in (frame pointers): two of redis's 100 ms ticks at most,
    # 0.2 s of ~2.2 s.
    print("  %.1f of %.1f ms of the main thread's poll on eu-stack's stack" % (got / 1e6, want / 1e6))
    if want <= 0 or got < 0.75 * want:
        raise Fail("%.1f of %.1f ms of redis's poll time on eu-stack's stack %s (need 75 %%)"
                   % (got / 1e6, want / 1e6, fmt(eu)))


@test("unwind_cfi_xz_vs_eu_stack")
def t_unwind_cfi_xz_vs_eu_stack(ctx):
    """xz -T1 compressing random data (xz and liblzma without frame pointers): stopped in the
    middle of its work, its stack as concur captured it at the stop (category other) is
    eu-stack's; and its on-CPU samples reach the process entry."""
    need("eu-stack", "elfutils")
    need("xz", "xz-utils")
    data = os.path.join(ctx.tmp, "random")
    with open(data, "wb") as f:
        f.write(os.urandom(4 << 20))  # ~1.5 s of xz -6 here
    with open(data, "rb") as src:
        p, out, folded = concur_run(ctx, ["xz", "-T1", "-6", "-c"], src, "xz")
        try:
            pid = child_of(p.pid, "xz")
            eu = stopped_stack(pid, 0.6)
        except BaseException:
            kill_group(p.pid)
            raise
        finish(p, "xz")
    doc = load_json(out)
    print("  eu-stack: %s" % fmt(eu))
    stops = top_stacks(doc, "other")
    if not stops:
        raise Fail("no stack in category other: the stop was not seen")
    why = same_stack(eu, user_frames(stops[0]))
    print("  concur at the stop: %s" % fmt(user_frames(stops[0])))
    if why:
        raise Fail("xz's stack at the stop differs from eu-stack's: %s\n  eu-stack %s\n  concur   %s"
                   % (why, fmt(eu), fmt(user_frames(stops[0]))))
    # On-CPU: xz is stripped and exports neither _start nor main: a stack reaches main when
    # it is rooted in xz (its entry, _start) and goes through __libc_start_call_main to the
    # frame after it (main). 90 %: the bar; the samples before the tables were in
    # (xz's first milliseconds) are what may miss.
    def reaches_main(f):
        return (f[1] == "_start" or f[1].startswith("[xz]+0x")) and "__libc_start_call_main" in f[1:-1]

    rows = [(f, w) for f, w in load_folded(folded) if f[0] == "cpu"]
    want = thread(doc, "xz")["ns"]["cpu"] / 1000
    got = sum(w for f, w in rows if reaches_main(f))
    print("  on-CPU: %.1f of %.1f ms on stacks [xz];...;__libc_start_call_main;main" % (got / 1000, want / 1000))
    if want <= 0 or got < 0.9 * want:
        heavy = sorted(((w, ";".join(f)) for f, w in rows), reverse=True)[:3]
        raise Fail("%.1f of %.1f ms of xz's samples reach main (need 90 %%); heaviest: %s"
                   % (got / 1000, want / 1000, heavy))
