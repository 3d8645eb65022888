# SPDX-License-Identifier: MIT
"""Robustness under hostile conditions: thread churn, a fork storm, exec and SIGKILL mid-window,
signals to concur (nothing left attached), two concurs at once, hostile thread and directory
names, a full disk, a closed output pipe, and pid reuse.
"""

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import time

from harness import (SEC, TIMEOUT, Fail, check_doc, execute, folded_weight, kill_group, load_folded,
                     load_json, need_frac, one_line_error, profile, start_workload, stop_workload,
                     test, thread)


def concur_progs():
    """ids of BPF programs named like concur's, loaded in the kernel now."""
    rc, out, _ = execute(["bpftool", "-j", "prog", "show"])
    if rc != 0:
        raise Fail("bpftool prog show failed")
    names = {"on_switch", "on_wakeup", "on_wakeup_new", "on_fork", "on_exec", "on_exit", "on_sample"}
    return [p["id"] for p in json.loads(out) if p.get("name") in names]


def run_with_rusage(argv, timeout=TIMEOUT):
    """argv to completion (output to /dev/null); its exit status and peak RSS in MB."""
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
    t0 = time.monotonic()
    while True:
        pid, status, usage = os.wait4(p.pid, os.WNOHANG)
        if pid:
            return os.waitstatus_to_exitcode(status), usage.ru_maxrss / 1024
        if time.monotonic() - t0 > timeout:
            kill_group(p.pid)
            raise Fail("%s: timed out" % " ".join(argv))
        time.sleep(0.05)


@test("thread_churn")
def t_thread_churn(ctx):
    # 20 000 short threads (more ids than pid_max=32768 holds without reuse once other tests
    # ran): every one is in the report with its own entry, nothing lost, categories add up.
    out = os.path.join(ctx.tmp, "out.json")
    rc, rss_mb = run_with_rusage([ctx.concur, "run", "-q", "-o", out, "--", ctx.w("churn"), "20000"])
    if rc != 0:
        raise Fail("concur exited %d" % rc)
    doc = load_json(out)
    check_doc(doc)
    ev = doc["events"]
    if ev["lost"]:
        raise Fail("events lost: %s" % ev)
    workers = [t for t in doc["threads"] if t["comm"] == "churn" and t["tid"] != t["pid"]]
    if len(workers) != 20000:
        raise Fail("expected 20000 worker threads in the report, found %d" % len(workers))
    # Each spins 0.2 ms of wall-clock time between its birth and its death: a shorter
    # lifetime would mean an entry that missed its start or its end.
    short = [t for t in workers if t["lifetime_ns"] < 200_000]
    if short:
        raise Fail("%d threads live under 0.2 ms, e.g. %s" % (len(short), short[:2]))
    # Memory stays bounded: the maps are preallocated at fixed sizes.
    if rss_mb > 200:
        raise Fail("concur's peak RSS was %.0f MB (limit 200 MB)" % rss_mb)


@test("fork_storm")
def t_fork_storm(ctx):
    # 300 short processes started by a shell under run: every one is counted.
    doc = profile(ctx, ["run", "--", "sh", "-c", "i=0; while [ $i -lt 300 ]; do /bin/true & i=$((i+1)); done; wait"])
    n = len([p for p in doc["processes"] if p["comm"] == "true"])
    if n != 300:
        raise Fail("expected 300 'true' processes, found %d (lost: %s)" % (n, doc["events"]))


@test("exec_and_kill_mid_window")
def t_exec_and_kill_mid_window(ctx):
    # A shell that execs the workload: the exec'd image is symbolized.
    folded = os.path.join(ctx.tmp, "out.folded")
    profile(ctx, ["run", "-o", folded, "--", "sh", "-c", "exec %s 0.4" % shlex.quote(ctx.w("stacks"))])
    if not folded_weight(load_folded(folded), "cpu", "burn_cpu"):
        raise Fail("no cpu stacks through burn_cpu after exec")
    # A target killed with SIGKILL mid-window: the report covers what happened.
    p = start_workload([ctx.w("spin"), "10"])
    try:
        time.sleep(0.2)
        threading_kill = subprocess.Popen(["sh", "-c", "sleep 0.8; kill -KILL %d" % p.pid])
        doc = profile(ctx, ["attach", "-p", str(p.pid), "-d", "5"])
        threading_kill.wait()
    finally:
        stop_workload(p)
    t = thread(doc, "spin")
    if not t["exited"] or doc["window_ns"] > 3 * SEC:
        raise Fail("the killed target: exited=%s, window %.1f s" % (t["exited"], doc["window_ns"] / SEC))
    need_frac(t, "cpu", lo=0.97)


@test("signals_detach_everything")
def t_signals_detach_everything(ctx):
    # SIGINT, SIGTERM, SIGHUP to concur: it stops, writes its output, exits 0, and leaves
    # no BPF program behind.
    before = set(concur_progs())
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        p = start_workload([ctx.w("spin"), "5"])
        out = os.path.join(ctx.tmp, "sig%d.json" % sig)
        try:
            c = subprocess.Popen([ctx.concur, "attach", "-q", "-p", str(p.pid), "-o", out],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            time.sleep(1.0)
            c.send_signal(sig)
            _, err = c.communicate(timeout=10)
        finally:
            stop_workload(p)
        if c.returncode != 0:
            raise Fail("concur exited %d on signal %d: %s" % (c.returncode, sig, err.decode()[-200:]))
        doc = load_json(out)
        check_doc(doc)
        if not doc["interrupted"]:
            raise Fail("signal %d: interrupted is false" % sig)
    left = set(concur_progs()) - before
    if left:
        raise Fail("BPF programs left attached after concur exited: %s" % sorted(left))


@test("two_concurs_at_once")
def t_two_concurs_at_once(ctx):
    p = start_workload([ctx.w("spin"), "3"])
    outs = [os.path.join(ctx.tmp, "c%d.json" % i) for i in (1, 2)]
    try:
        time.sleep(0.2)
        cs = [subprocess.Popen([ctx.concur, "attach", "-q", "-p", str(p.pid), "-d", "1", "-o", o],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for o in outs]
        for c in cs:
            _, err = c.communicate(timeout=TIMEOUT)
            if c.returncode != 0:
                raise Fail("a concur exited %d: %s" % (c.returncode, err.decode()[-200:]))
    finally:
        stop_workload(p)
    for o in outs:
        doc = load_json(o)
        check_doc(doc)
        need_frac(thread(doc, "spin"), "cpu", lo=0.97)


@test("hostile_names_stay_well_formed")
def t_hostile_names_stay_well_formed(ctx):
    # Thread names with markup, control characters, quotes, separators and invalid UTF-8,
    # run from a directory whose name has a newline and markup: every output stays well formed.
    weird = os.path.join(ctx.tmp, "dir\n<b>x&amp;\x1b[1m")
    os.mkdir(weird)
    exe = os.path.join(weird, "hostile")
    shutil.copy(ctx.w("hostile_names"), exe)
    outs = {ext: os.path.join(ctx.tmp, "out" + ext) for ext in (".json", ".folded", ".html")}
    argv = [ctx.concur, "run"]
    for o in outs.values():
        argv += ["-o", o]
    rc, text, err = execute(argv + ["--", exe, "0.3"])
    if rc != 0:
        raise Fail("concur exited %d: %s" % (rc, err[-300:]))
    if any(ord(ch) < 0x20 and ch not in "\n" for ch in text):
        raise Fail("control characters in the terminal report: %r" % [l for l in text.splitlines() if any(ord(c) < 0x20 for c in l)][:3])
    doc = load_json(outs[".json"])  # a real parser
    check_doc(doc)
    comms = {t["comm"] for t in doc["threads"]}
    if "<script>x" not in comms or "a\nb\x1b[31m" not in comms:
        raise Fail("hostile names not kept (escaped) in the JSON: %s" % sorted(comms))
    with open(outs[".folded"], "rb") as f:
        for line in f.read().split(b"\n")[:-1]:
            if not re.match(rb"^[^\x00-\x1f]+ \d+$", line):
                raise Fail("malformed folded line: %r" % line[:200])
    with open(outs[".html"], encoding="utf-8") as f:
        html = f.read()
    data = html[html.index('id="data"'):]
    data = data[data.index(">") + 1:data.index("</script>")]
    if "<" in data:
        raise Fail("a raw '<' inside the HTML report's embedded data")
    json.loads(data)


@test("full_disk_keeps_previous_output")
def t_full_disk_keeps_previous_output(ctx):
    # An output that does not fit: a one-line error, exit 1, the previous file untouched,
    # no temporary file left behind.
    rec = os.path.join(ctx.tmp, "a.concur")
    profile(ctx, ["run", "-o", rec, "--", ctx.w("stacks"), "0.3"])
    small = os.path.join(ctx.tmp, "small")
    os.mkdir(small)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", small]).returncode != 0:
        raise Fail("cannot mount a small tmpfs")
    try:
        target = os.path.join(small, "report.html")
        with open(target, "w") as f:
            f.write("previous\n")
        argv = [ctx.concur, "report", "-q", "-o", target, rec]
        rc, _, err = execute(argv)
        one_line_error(argv, rc, err, 1)
        if "No space left" not in err:
            raise Fail("the error does not say the disk is full: %r" % err)
        with open(target) as f:
            if f.read() != "previous\n":
                raise Fail("the previous file was changed")
        if sorted(os.listdir(small)) != ["report.html"]:
            raise Fail("files left behind: %s" % sorted(os.listdir(small)))
    finally:
        subprocess.run(["umount", small])


@test("closed_output_pipe")
def t_closed_output_pipe(ctx):
    # The terminal report's reader goes away: concur still finishes, writes its -o file and
    # leaves nothing attached.
    before = set(concur_progs())
    out = os.path.join(ctx.tmp, "out.json")
    script = "%s run -o %s -- %s 0.3 | head -c 1 >/dev/null; echo ${PIPESTATUS[0]}" % (
        shlex.quote(ctx.concur), shlex.quote(out), shlex.quote(ctx.w("spin")))
    rc, stdout, err = execute(["bash", "-c", script])
    if rc != 0 or stdout.strip() != "0":
        raise Fail("concur's exit status behind a closed pipe: %r (stderr %r)" % (stdout, err[-200:]))
    check_doc(load_json(out))
    if set(concur_progs()) - before:
        raise Fail("BPF programs left attached")


@test("pid_reuse")
def t_pid_reuse(ctx):
    # Two processes, one after the other, with the same pid (the second one forced onto the
    # first one's pid through /proc/sys/kernel/ns_last_pid): two processes in the report,
    # each with its own thread and its own split; the first sleeps, the second spins.
    script = (
        "sleep 0.3 & p=$!; wait $p; "
        "echo $((p - 1)) > /proc/sys/kernel/ns_last_pid; "
        "%s 0.3 & q=$!; wait $q; [ $p = $q ] || echo NOT-REUSED $p $q" % shlex.quote(ctx.w("spin")))
    doc = profile(ctx, ["run", "--as-root", "--", "bash", "-c", script])
    by_pid = {}
    for p in doc["processes"]:
        by_pid.setdefault(p["pid"], []).append(p)
    reused = [ps for ps in by_pid.values() if len(ps) == 2]
    if not reused:
        raise Fail("no pid reported twice: %s" % [(p["pid"], p["comm"]) for p in doc["processes"]])
    first, second = sorted(reused[0], key=lambda p: p["start_ns"])
    if (first["comm"], second["comm"]) != ("sleep", "spin") or not first["exited"]:
        raise Fail("the two instances: %s" % reused[0])
    if first["threads"] != 1 or second["threads"] != 1:
        raise Fail("threads per instance: %d and %d" % (first["threads"], second["threads"]))
    if first["ns"]["sleep"] < 0.9 * first["thread_ns"] or second["ns"]["cpu"] < 0.9 * second["thread_ns"]:
        raise Fail("the instances' splits are mixed up: %s" % reused[0])
