# SPDX-License-Identifier: MIT
"""Python frames: Debian's /usr/bin/python3 (3.11, stripped, as installed) runs a script whose
function names and lines are known; its stacks must name them, under `run` and `attach`.
"""

import ast
import os
import time

from harness import Fail, Skip, load_folded, profile, start_workload, stop_workload, test

# CONCUR_PYTHON: another CPython with a frame layout (3.12, 3.13) to check by hand; the suite
# runs Debian's.
PYTHON = os.environ.get("CONCUR_PYTHON", "/usr/bin/python3")
LAYOUTS = ("python3.11", "python3.12", "python3.13")
SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "workloads", "python",
                      "py_threads.py")


def script_lines():
    """From the script's own source: each function's line range, and the line of the one call
    each worker loops on (the line its frame shows while the callee runs)."""
    with open(SCRIPT, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    funcs = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    spans = {name: (n.lineno, n.end_lineno) for name, n in funcs.items()}
    calls = {}
    for name, callee in (("worker_a", "spin_a"), ("worker_b", "spin_b"), ("nap_until", "sleep")):
        for node in ast.walk(funcs[name]):
            if isinstance(node, ast.Call):
                fn = node.func
                if getattr(fn, "id", None) == callee or getattr(fn, "attr", None) == callee:
                    calls[name] = node.lineno
    return spans, calls


def frame_line(frame, func):
    """The line of a 'func (py_threads.py:LINE)' frame, None for any other frame."""
    prefix = func + " (py_threads.py:"
    if frame.startswith(prefix) and frame.endswith(")"):
        return int(frame[len(prefix):-1])
    return None


def check(mode, rows):
    spans, calls = script_lines()
    cpu = sum(w for f, w in rows if f[0] == "cpu")
    sleep = sum(w for f, w in rows if f[0] == "sleep" and f[1:] != ["[no stack]"])
    for worker, spin in (("worker_a", "spin_a"), ("worker_b", "spin_b")):
        # Every sample of the worker's thread in its loop: the worker's frame at the call's
        # line, the callee's frame inside its body, under threading's Thread.run.
        got = 0
        for f, w in rows:
            lines = [frame_line(x, worker) for x in f]
            if f[0] != "cpu" or not any(lines):
                continue
            at = next(i for i, l in enumerate(lines) if l)
            run = [i for i, x in enumerate(f) if x.startswith("Thread.run (threading.py:")]
            if not run or run[0] > at:
                raise Fail("%s: %s not under Thread.run: %s" % (mode, worker, ";".join(f)))
            spin_lines = [frame_line(x, spin) for x in f[at + 1:]]
            lo, hi = spans[spin]
            if any(l is not None and not lo <= l <= hi for l in spin_lines):
                raise Fail("%s: %s's frame outside lines %d-%d: %s" % (mode, spin, lo, hi, ";".join(f)))
            # Under the callee, the worker is at the call's line; without it (a sample in the
            # loop's test), anywhere in its body.
            lo, hi = spans[worker]
            want = [calls[worker]] if any(spin_lines) else range(lo, hi + 1)
            if lines[at] not in want:
                raise Fail("%s: %s's frame at line %d, expected %s: %s"
                           % (mode, worker, lines[at], list(want), ";".join(f)))
            got += w
        # Two threads share the GIL: each computes about half of the process's cpu time. At
        # least 30 % each: the rest is start-up (run) and the main thread.
        if got < 0.3 * cpu:
            raise Fail("%s: cpu through %s (py_threads.py:%d) weighs %d us of %d us (< 30 %%); "
                       "heaviest cpu stacks: %s"
                       % (mode, worker, calls[worker], got, cpu,
                          [";".join(f) for f, w in sorted(rows, key=lambda r: -r[1])
                           if f[0] == "cpu"][:3]))
    # The sleeper: its sleep time under nap_until at the time.sleep line; the process's other
    # threads do not sleep, so >= 95 % of all sleep with a stack. Under attach, the sleep in
    # progress at the start has none ("[no stack]": nothing was captured, up to 50 ms).
    napped = sum(w for f, w in rows if f[0] == "sleep"
                 and any(frame_line(x, "nap_until") == calls["nap_until"] for x in f))
    if not sleep or napped < 0.95 * sleep:
        raise Fail("%s: sleep through nap_until (py_threads.py:%d) weighs %d us of %d us; sleep "
                   "stacks: %s" % (mode, calls["nap_until"], napped, sleep,
                                   [";".join(f) for f, w in rows if f[0] == "sleep"][:3]))
    print("%s: cpu %d us, sleep %d us (%d us under nap_until)" % (mode, cpu, sleep, napped))


@test("python_frames_run_and_attach")
def t_python_frames(ctx):
    if not os.path.exists(PYTHON) or not os.path.realpath(PYTHON).endswith(LAYOUTS):
        raise Skip("%s is not CPython 3.11, 3.12 or 3.13" % PYTHON)
    for mode in ("run", "attach"):
        folded = os.path.join(ctx.tmp, mode + ".folded")
        if mode == "attach":
            p = start_workload([PYTHON, SCRIPT, "4"])
            try:
                time.sleep(0.5)
                profile(ctx, ["attach", "-p", str(p.pid), "-d", "2", "-o", folded])
            finally:
                stop_workload(p)
        else:
            profile(ctx, ["run", "-o", folded, "--", PYTHON, SCRIPT, "2"])
        check(mode, load_folded(folded))
