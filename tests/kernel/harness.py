# SPDX-License-Identifier: MIT
"""The harness shared by the real-kernel tests (tests/kernel/test_*.py), and their runner.

Running concur and its workloads with a timeout (execute, profile, start_workload), loading and
checking its JSON summary (check_doc, and the split helpers: thread, need_frac, need_dominant,
...), reading its other outputs (load_folded, one_line_error), the @test registry, and main(),
which tests/kernel/run.py calls once it has imported the test modules. Standard library only.
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

TIMEOUT = 60  # seconds for any one concur invocation: a hang is a failure, not a stuck CI
MS = 1_000_000
SEC = 1_000_000_000

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _categories():
    """The category names in column order, from the one list of them (include/model.h)."""
    with open(os.path.join(REPO, "include", "model.h")) as f:
        names = re.findall(r'X\(CAT_[A-Z_]+, "([a-z.]+)", "[a-z]+"\)', f.read())
    if not names:
        raise SystemExit("no categories found in include/model.h")
    return names


CATEGORIES = _categories()
OFF_CPU = [c for c in CATEGORIES if c not in ("cpu", "runqueue")]


class Fail(Exception):
    pass


class Skip(Exception):
    pass


class Ctx:
    def __init__(self, concur, workloads, tmp):
        self.concur = concur
        self.wl = workloads
        self.tmp = tmp  # this test's own scratch directory

    def w(self, name):
        return os.path.join(self.wl, name)


# ---------------------------------------------------------------------------------------------
# Running things


def execute(argv, timeout=TIMEOUT, env=None, preexec_fn=None):
    """Run argv in its own session; on timeout kill its whole process group and fail."""
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=env, start_new_session=True, preexec_fn=preexec_fn)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(p.pid)
        p.communicate()
        raise Fail("%s: timed out after %d s" % (" ".join(argv), timeout))
    return p.returncode, out.decode(errors="replace"), err.decode(errors="replace")


def kill_group(pgid):
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise Fail("cannot load the JSON summary %s: %s" % (path, e))


def profile(ctx, mode_args, env=None, expect_status=0):
    """concur MODE_ARGS with -q -o out.json; check the exit status; return the checked JSON."""
    out = os.path.join(ctx.tmp, "out.json")
    mode, rest = mode_args[0], mode_args[1:]
    argv = [ctx.concur, mode, "-q", "-o", out] + rest
    rc, stdout, stderr = execute(argv, env=env)
    if rc != expect_status:
        raise Fail("%s exited %d (expected %d); stderr: %s" % (" ".join(argv), rc, expect_status,
                                                               stderr.strip()[-500:] or "(empty)"))
    doc = load_json(out)
    check_doc(doc)
    return doc


def run_env(**extra):
    env = dict(os.environ)
    env.update(extra)
    return env


def start_workload(argv):
    return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, start_new_session=True)


def stop_workload(p):
    kill_group(p.pid)
    p.wait()
    if p.stdout:
        p.stdout.close()


# ---------------------------------------------------------------------------------------------
# Reading the summary


def check_doc(doc):
    """Checks applied to every summary: structure, and (test 10) each thread's categories add up."""
    for key in ("window_ns", "threads", "processes", "categories"):
        if key not in doc:
            raise Fail("JSON summary has no %r" % key)
    if doc["categories"] != CATEGORIES:
        raise Fail("categories are %r, expected %r" % (doc["categories"], CATEGORIES))
    for t in doc["threads"]:
        missing = [c for c in CATEGORIES if c not in t["ns"]]
        if missing:
            raise Fail("thread %s has no ns for %s" % (who(t), missing))
        # Tolerance (spec): the categories' sum equals lifetime_ns within 1 %.
        total = sum(t["ns"][c] for c in CATEGORIES)
        life = t["lifetime_ns"]
        if abs(total - life) > 0.01 * life:
            raise Fail("thread %s: categories sum to %d ns but lifetime_ns is %d (%+.2f %%, limit 1 %%); %s"
                       % (who(t), total, life, 100.0 * (total - life) / life if life else float("inf"),
                          split(t)))


def who(t):
    return "%s (tid %d, pid %d)" % (t.get("comm"), t.get("tid"), t.get("pid"))


def frac(t, cat):
    life = t["lifetime_ns"]
    return t["ns"][cat] / life if life else 0.0


def split(t):
    """A thread's split as a readable string: the non-zero categories in % of its lifetime."""
    parts = ["%s %.1f%%" % (c, 100 * frac(t, c)) for c in CATEGORIES if t["ns"][c]]
    return "lifetime %.3f s: %s" % (t["lifetime_ns"] / SEC, ", ".join(parts) or "nothing")


def threads(doc, comm, n=None):
    ts = [t for t in doc["threads"] if t["comm"] == comm]
    if not ts or (n is not None and len(ts) != n):
        raise Fail("expected %s thread(s) with comm %r, found %d; threads: %s"
                   % (n if n is not None else "some", comm, len(ts),
                      ", ".join(sorted({"%s/%d" % (t["comm"], t["tid"]) for t in doc["threads"]}))))
    return ts


def thread(doc, comm):
    return threads(doc, comm, 1)[0]


def dominant(t, cats=CATEGORIES):
    return max(cats, key=lambda c: t["ns"][c])


def need_frac(t, cat, lo=None, hi=None, what=""):
    f = frac(t, cat)
    if (lo is not None and f < lo) or (hi is not None and f > hi):
        bound = (">= %.0f %%" % (100 * lo) if hi is None else
                 "<= %.0f %%" % (100 * hi) if lo is None else
                 "in [%.0f %%, %.0f %%]" % (100 * lo, 100 * hi))
        raise Fail("%s%s: %s is %.1f %% of its lifetime, need %s; %s"
                   % (what, who(t), cat, 100 * f, bound, split(t)))


def need_dominant(t, cat, cats=CATEGORIES):
    d = dominant(t, cats)
    if d != cat or t["ns"][cat] == 0:
        raise Fail("%s: the largest %scategory is %s, not %s; %s"
                   % (who(t), "off-CPU " if cats == OFF_CPU else "", d, cat, split(t)))


# ---------------------------------------------------------------------------------------------
# Reading the other outputs: folded stacks, a refusal's error message


def load_folded(path):
    """A folded file as a list of (frames, weight_us); frames[0] is the category."""
    rows = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            stack, _, weight = line.rstrip("\n").rpartition(" ")
            if not stack or not weight.isdigit():
                raise Fail("malformed folded line: %r" % line[:200])
            rows.append((stack.split(";"), int(weight)))
    return rows


def folded_weight(rows, cat, func):
    """Microseconds of the stacks under category `cat` that pass through `func`."""
    return sum(w for frames, w in rows if frames[0] == cat and func in frames[1:])


def one_line_error(argv, rc, err, status=None):
    """Non-zero (or exactly `status`) exit and exactly one non-empty line on stderr."""
    lines = err.splitlines()
    if (status is None and rc == 0) or (status is not None and rc != status):
        raise Fail("%s exited %d, expected %s; stderr: %r"
                   % (" ".join(argv[1:]), rc, status if status is not None else "non-zero", err[-300:]))
    if len(lines) != 1 or not lines[0].strip():
        raise Fail("%s: expected exactly one non-empty line on stderr, got %d: %r"
                   % (" ".join(argv[1:]), len(lines), err[-500:]))


# ---------------------------------------------------------------------------------------------
# The registry. Each test_*.py module registers its tests with @test when run.py imports it, so
# the run order is run.py's import order, then each file's own order.


TESTS = []


def test(name):
    def register(fn):
        TESTS.append((name, fn))
        return fn
    return register


# ---------------------------------------------------------------------------------------------
# The runner


def main(script):
    """Run the registered tests; `script` is the entry point's path (run.py), for the hint
    printed when not root. Returns the exit status."""
    ap = argparse.ArgumentParser(description="concur real-kernel tests (root only)")
    ap.add_argument("--concur", default=os.path.join(REPO, "build", "concur"))
    ap.add_argument("--workloads", default=os.path.join(REPO, "build", "workloads"))
    ap.add_argument("--no-skip", action="store_true", help="count skipped tests as failures (CI)")
    ap.add_argument("-k", metavar="SUBSTRING", action="append",
                    help="only the tests whose name contains SUBSTRING (may be repeated)")
    ap.add_argument("--list", action="store_true",
                    help="print the names of the tests (those -k selects) in run order; run none")
    args = ap.parse_args()
    concur = os.path.abspath(args.concur)
    workloads = os.path.abspath(args.workloads)

    selected = [(n, fn) for n, fn in TESTS if not args.k or any(k in n for k in args.k)]
    if args.list:
        # Names only on stdout, one a line, so that lists can be diffed; needs neither root nor
        # a build.
        for name, _ in selected:
            print(name)
        if not selected:
            print("no test matches -k %r" % args.k, file=sys.stderr)
        return 0
    root = os.geteuid() == 0
    if not root:
        print("=" * 72)
        print("NOT ROOT: the real-kernel tests were NOT run (they load BPF programs).")
        print("Run them as root: sudo python3 %s ..." % os.path.relpath(script))
        print("=" * 72)

    passed = failed = skipped = 0
    for name, fn in selected:
        t0 = time.monotonic()
        reason = None
        skip = None
        tmp = tempfile.mkdtemp(prefix="concur-ktest-%s-" % name)
        os.chmod(tmp, 0o777)  # concur run may drop to the sudo user for the workload
        try:
            if not root:
                raise Skip("not root")
            if not os.access(concur, os.X_OK):
                raise Fail("%s is not an executable (build it first)" % concur)
            if not os.path.isdir(workloads):
                raise Fail("no workloads directory %s (build it first)" % workloads)
            fn(Ctx(concur, workloads, tmp))
        except Skip as e:
            skip = str(e)
        except Fail as e:
            reason = str(e)
        except Exception as e:  # a harness bug, or JSON of an unexpected shape
            reason = "%s: %s" % (type(e).__name__, e)
        if skip is not None and args.no_skip:
            reason = "skipped under --no-skip: %s" % skip
            skip = None
        if reason is not None:
            failed += 1
            if os.listdir(tmp):
                reason += " (files kept in %s)" % tmp
            else:
                os.rmdir(tmp)
            print("FAIL %s: %s" % (name, reason), flush=True)
            continue
        shutil.rmtree(tmp, ignore_errors=True)
        if skip is not None:
            skipped += 1
            print("SKIP %s: %s" % (name, skip), flush=True)
        else:
            passed += 1
            print("PASS %s (%.1fs)" % (name, time.monotonic() - t0), flush=True)

    if not selected:
        print("no test matches -k %r" % args.k)
    if not root:
        print("NOT ROOT: the real-kernel tests were NOT run.")
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return 1 if failed else 0
