# SPDX-License-Identifier: MIT
"""The command line: one-line errors and their exit statuses, --help and --version, the refusal
when not root, and SIGINT during a run (a complete summary, exit 0, the workload gone).
"""

import os
import shutil
import signal
import subprocess
import time

from harness import Fail, Skip, check_doc, execute, kill_group, load_json, one_line_error, test


@test("errors")
def t_errors(ctx):
    c = ctx.concur
    cases = [
        ([c, "attach", "-p", "999999"], 1),                        # no such process
        ([c, "run", "--", "/nonexistent/cmd"], 127),               # cannot execute
        ([c, "attach"], None),                                     # attach without -p: usage
        ([c, "run", "--no-such-option", "--", "true"], None),      # unknown option
        ([c, "run", "-q", "-o", os.path.join(ctx.tmp, "out.xyz"), "--", "true"], None),  # unknown format
    ]
    problems = []
    for argv, status in cases:
        rc, _, err = execute(argv)
        try:
            one_line_error(argv, rc, err, status)
        except Fail as e:
            problems.append(str(e))
    for flag in ("--help", "--version"):
        rc, stdout, err = execute([c, flag])
        if rc != 0 or not stdout.strip():
            problems.append("concur %s exited %d with stdout %r (expected 0 and some output); stderr %r"
                            % (flag, rc, stdout[:200], err[:200]))
        elif flag == "--help" and "usage" not in stdout.lower():
            problems.append("concur --help: no usage on stdout: %r" % stdout[:300])
    if problems:
        raise Fail("%d of %d cases wrong: %s" % (len(problems), len(cases) + 2, " | ".join(problems)))


@test("bad_output_refused_before_running")
def t_bad_output_refused_before_running(ctx):
    # A -o path that cannot be written is refused before the workload starts: a 10 s job is not
    # run, and the error comes at once.
    marker = os.path.join(ctx.tmp, "ran")
    job = "touch %s; sleep 10" % marker
    os.mkdir(os.path.join(ctx.tmp, "d.json"))
    bad = [os.path.join(ctx.tmp, "no-such-dir", "out.json"),   # missing directory
           os.path.join(ctx.tmp, "d.json"),                     # a directory at the file's name
           os.path.join("/etc/passwd", "out.json"),             # a file where a directory should be
           "/proc/out.json"]                                    # a directory that takes no new file
    for path in bad:
        argv = [ctx.concur, "run", "-q", "-o", os.path.join(ctx.tmp, "ok.json"), "-o", path, "--",
                "sh", "-c", job]
        t0 = time.monotonic()
        rc, _, err = execute(argv, timeout=20)
        took = time.monotonic() - t0
        one_line_error(argv, rc, err, 1)
        if path not in err:
            raise Fail("the error does not name %s: %r" % (path, err.strip()))
        if took > 5 or os.path.exists(marker):
            raise Fail("-o %s: the workload ran (%.1f s) before the refusal" % (path, took))


@test("signal_bursts_keep_the_report")
def t_signal_bursts_keep_the_report(ctx):
    # timeout(1) sends its signal to concur, then again to its whole process group: one burst,
    # one stop, the report written. 20 times in a row, under attach and under run.
    if not shutil.which("timeout"):
        raise Skip("timeout not found")
    target = subprocess.Popen(["sleep", "120"])
    lost = []
    try:
        for mode in ("attach", "run"):
            for i in range(20):
                out = os.path.join(ctx.tmp, "%s-%d.json" % (mode, i))
                what = ["attach", "-p", str(target.pid)] if mode == "attach" else \
                    ["run", "--", "sleep", "30"]
                argv = ["timeout", "-s", "TERM", "0.3", ctx.concur] + what[:1] + ["-q", "-o", out] + what[1:]
                rc, _, err = execute(argv, timeout=30)
                try:
                    check_doc(load_json(out))
                except Exception as e:  # noqa: BLE001 - any failure to read it is a lost report
                    lost.append("%s #%d: exit %d, %s; stderr %r" % (mode, i, rc, e, err[-200:]))
    finally:
        target.kill()
        target.wait()
    if lost:
        raise Fail("%d of 40 reports lost: %s" % (len(lost), " | ".join(lost[:3])))


@test("signal_at_each_startup_stage")
def t_signal_at_each_startup_stage(ctx):
    # A stop signal to concur's whole process group (as timeout(1) sends it) at each stage of
    # start-up: before the probes are loaded, once loaded, once attached (run: the workload
    # still held before its exec, and killed by the signal too). CONCUR_TEST_STOP_AT makes
    # concur send it itself at that point, so each stage is hit every time, whatever the
    # start-up's speed. One stop and a report every time; a run says its workload never ran.
    target = subprocess.Popen(["sleep", "120"])
    lost = []
    try:
        for stage in ("start", "loaded", "attached"):
            for mode in ("attach", "run"):
                out = os.path.join(ctx.tmp, "%s-%s.json" % (stage, mode))
                what = ["attach", "-q", "-o", out, "-p", str(target.pid)] if mode == "attach" \
                    else ["run", "-q", "-o", out, "--", "sleep", "30"]
                env = dict(os.environ, CONCUR_TEST_STOP_AT=stage)
                p = subprocess.run([ctx.concur] + what, env=env, start_new_session=True,
                                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, timeout=30)
                err = p.stderr.decode()
                try:
                    doc = load_json(out)
                    check_doc(doc)
                    if not doc.get("interrupted"):
                        raise Fail("not marked interrupted")
                    if mode == "run" and "stopped before sleep started" not in err:
                        raise Fail("no word that the workload never ran")
                    if p.returncode != 0:
                        raise Fail("exit %d" % p.returncode)
                except Exception as e:  # noqa: BLE001 - any failure to read it is a lost report
                    lost.append("%s at %s: exit %d, %s; stderr %r" % (mode, stage, p.returncode,
                                                                     e, err[-200:]))
                if target.poll() is not None:
                    raise Fail("the attached target died with concur's stop (%s at %s)"
                               % (mode, stage))
    finally:
        target.kill()
        target.wait()
    if lost:
        raise Fail("%d of 6 stops went wrong: %s" % (len(lost), " | ".join(lost)))


@test("signal_pairs_stop_once")
def t_signal_pairs_stop_once(ctx):
    # The second signal of a pair comes while concur is already stopping (20 ms later, as a
    # supervisor that signals the process and then its group): still one stop and a report.
    target = subprocess.Popen(["sleep", "120"])
    lost = []
    try:
        for mode in ("attach", "run"):
            for i in range(10):
                out = os.path.join(ctx.tmp, "%s-%d.json" % (mode, i))
                what = ["attach", "-q", "-o", out, "-p", str(target.pid)] if mode == "attach" else \
                    ["run", "-q", "-o", out, "--", "sleep", "30"]
                p = subprocess.Popen([ctx.concur] + what, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                time.sleep(0.4)
                p.send_signal(signal.SIGTERM)
                time.sleep(0.02)
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)
                _, err = p.communicate(timeout=30)
                try:
                    check_doc(load_json(out))
                except Exception as e:  # noqa: BLE001 - any failure to read it is a lost report
                    lost.append("%s #%d: exit %d, %s; stderr %r" % (mode, i, p.returncode, e,
                                                                  err.decode()[-200:]))
    finally:
        target.kill()
        target.wait()
    if lost:
        raise Fail("%d of 20 reports lost: %s" % (len(lost), " | ".join(lost[:3])))


@test("not_root")
def t_not_root(ctx):
    if not shutil.which("setpriv"):
        raise Skip("setpriv not found")
    argv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", ctx.concur,
            "attach", "-p", "1", "-d", "1"]
    rc, _, err = execute(argv)
    one_line_error(argv, rc, err, 1)
    if "root" not in err and "CAP_BPF" not in err:
        raise Fail("the error does not mention root or CAP_BPF: %r" % err.strip())


@test("sigint")
def t_sigint(ctx):
    out = os.path.join(ctx.tmp, "out.json")
    argv = [ctx.concur, "run", "-q", "-o", out, "--", ctx.w("spin"), "5"]
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         start_new_session=True)
    doc = None
    try:
        time.sleep(1)
        os.kill(p.pid, signal.SIGINT)  # concur alone, not its process group
        try:
            _, err = p.communicate(timeout=3)
        except subprocess.TimeoutExpired:
            raise Fail("concur still running 3 s after SIGINT (spec: exit within a few seconds)")
        if p.returncode != 0:
            raise Fail("concur exited %d after SIGINT, expected 0; stderr %r" % (p.returncode, err[-300:]))
        doc = load_json(out)
        check_doc(doc)
        if doc.get("interrupted") is not True:
            raise Fail("JSON interrupted is %r, expected true" % doc.get("interrupted"))
        # A signal sent to concur alone is passed on: the workload does not outlive it.
        alive = [pr["pid"] for pr in doc["processes"] if os.path.exists("/proc/%d" % pr["pid"])
                 and not open("/proc/%d/stat" % pr["pid"]).read().rsplit(")", 1)[1].split()[0] == "Z"]
        if alive:
            raise Fail("workload processes %s still alive after concur exited" % alive)
    finally:
        if p.poll() is None:
            kill_group(p.pid)
            p.communicate()
        # The workload may outlive concur: kill whatever spin it started.
        for proc in (doc or {}).get("processes", []):
            try:
                with open("/proc/%d/comm" % proc["pid"]) as f:
                    if f.read().strip() == "spin":
                        os.kill(proc["pid"], signal.SIGKILL)
            except (OSError, KeyError):
                pass
