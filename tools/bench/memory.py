#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The kernel memory concur's stack maps take, and what a target fills of it.

    tools/bench/memory.py [--functions N]

1. CFI tables (--unwind=cfi, issue 12): concur attached to an idle python3 (which maps libc
   and python3.11) and to an idle redis-server. The maps are sized at load, not per target,
   so two figures: each unwinder map's size in the kernel (bpftool's bytes_memlock), and the
   part the target's tables fill (rows and rules used, from concur's JSON stacks.unwind_tables,
   times the maps' value sizes, plus its mapping index).
2. Python stacks (issue 13): a generated program with N distinct Python functions (default
   5 000), each on the stack at a switch-out once, run under concur: the Python stack map's
   size and entries in use (bpftool), and concur's own peak RSS beside the same program with
   10 functions (the difference is the code-object cache, names and lines, and the stacks
   that hold them).

concur's maps are found through its own file descriptors (/proc/PID/fdinfo's map_id), so
another concur running meanwhile is not counted. Root only.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.join(os.path.dirname(os.path.dirname(HERE)), "build")
CONCUR = os.path.join(BUILD, "concur")
UNWIND_MAPS = ("unwind_rows", "unwind_rules", "unwind_procs", "unwind_stats", "unwind_asks",
               "ustacks", "unwind_scratch")
PY_MAPS = ("py_procs", "pystacks", "py_scratch", "py_stats", "py_events")
MIB = 1024.0 * 1024.0


def map_ids(pid):
    """The ids of the BPF maps process pid holds open."""
    ids = set()
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            if os.readlink("/proc/%d/fd/%s" % (pid, fd)) != "anon_inode:bpf-map":
                continue
            with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                for line in f:
                    if line.startswith("map_id:"):
                        ids.add(int(line.split()[1]))
        except OSError:
            pass
    return ids


def maps_of(pid):
    """{name: bpftool's map description} of pid's maps."""
    ids = map_ids(pid)
    out = subprocess.run(["bpftool", "-j", "map", "show"], capture_output=True, text=True,
                         check=True).stdout
    return {m.get("name", ""): m for m in json.loads(out) if m["id"] in ids}


def map_entries(m):
    """Entries in use in a hash map, by dumping it (pystacks: at most a few thousand)."""
    out = subprocess.run(["bpftool", "-j", "map", "dump", "id", str(m["id"])],
                         capture_output=True, text=True, check=True).stdout
    return len(json.loads(out))


def start_concur(argv, ready="probes attached", timeout=60.0):
    tr = subprocess.Popen([CONCUR] + argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    t0 = time.monotonic()
    for line in tr.stderr:
        if ready in line:
            return tr
        if time.monotonic() - t0 > timeout:
            break
    tr.kill()
    raise SystemExit("memory.py: concur did not attach: %s" % " ".join(argv))


def stop_concur(tr):
    """Stops concur (SIGINT: the report is written) and returns its peak RSS in MiB."""
    if tr.returncode is not None:
        raise SystemExit("memory.py: concur ended early (status %d)" % tr.returncode)
    tr.send_signal(signal.SIGINT)
    _, status, usage = os.wait4(tr.pid, 0)
    tr.returncode = status
    tr.stderr.close()
    return usage.ru_maxrss / 1024.0


def tables_of(name, argv, tmp, settle=3.0):
    """concur --unwind=cfi attached to the idle program argv: its unwinder maps and the part
    this program's tables fill."""
    target = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    out = os.path.join(tmp, name + ".json")
    try:
        time.sleep(0.5)  # past its start-up: all its libraries mapped
        tr = start_concur(["attach", "-q", "-v", "--unwind=cfi", "-p", str(target.pid),
                           "-o", out])
        # The tables are built in the background from the first read of its map; the wait
        # lets them finish and a target still starting map the rest of its libraries.
        time.sleep(settle)
        if target.poll() is not None:
            raise SystemExit("memory.py: %s exited (status %d)" % (name, target.returncode))
        maps = maps_of(tr.pid)
        stop_concur(tr)
    finally:
        target.kill()
        target.wait()
    with open(out) as f:
        t = json.load(f)["stacks"].get("unwind_tables", {})
    m = {k: maps[k] for k in UNWIND_MAPS if k in maps}
    used = t.get("rows", 0) * m["unwind_rows"]["bytes_value"] + \
        t.get("rules", 0) * m["unwind_rules"]["bytes_value"] + m["unwind_procs"]["bytes_value"]
    return t, m, used


def python_program(path, n):
    """A program whose N functions each sleep once: each is on the stack at a switch-out. It
    starts at a line on stdin, says "done" and waits for another line to exit."""
    with open(path, "w") as f:
        f.write("import sys, time\n")
        for i in range(n):
            f.write("def f%d():\n    time.sleep(0.0001)\n" % i)
        f.write("sys.stdin.readline()\n")
        f.write("for fn in [%s]:\n    fn()\n" % ", ".join("f%d" % i for i in range(n)))
        f.write("print('done', flush=True)\nsys.stdin.readline()\n")


def python_run(n, tmp):
    prog = os.path.join(tmp, "funcs%d.py" % n)
    python_program(prog, n)
    out = os.path.join(tmp, "py%d.json" % n)
    target = subprocess.Popen([sys.executable, prog], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(0.3)
        tr = start_concur(["attach", "-q", "-v", "-p", str(target.pid), "-o", out])
        target.stdin.write("go\n")
        target.stdin.flush()
        if target.stdout.readline().strip() != "done":
            raise SystemExit("memory.py: the %d-function program failed" % n)
        time.sleep(0.5)  # concur reads the code objects of the last frame lists meanwhile
        maps = maps_of(tr.pid)
        entries = map_entries(maps["pystacks"])
        target.stdin.write("exit\n")
        target.stdin.flush()
        target.wait()
        rss = stop_concur(tr)
    finally:
        if target.poll() is None:
            target.kill()
        target.wait()
    with open(out) as f:
        py = json.load(f)["stacks"].get("python", {})
    return maps, entries, rss, py


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--functions", type=int, default=5000)
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("memory.py: root needed (BPF maps)")
    if args.functions < 10:
        sys.exit("memory.py: --functions: at least 10")
    with tempfile.TemporaryDirectory(prefix="concur-memory-") as tmp:
        targets = [("python3", [sys.executable, "-c", "import sys; sys.stdin.readline()"])]
        redis = "/usr/bin/redis-server"
        if os.path.exists(redis):
            # No TCP port (the machine's own redis may hold 6379): a socket of its own.
            targets.append(("redis-server", [redis, "--port", "0", "--unixsocket",
                                             os.path.join(tmp, "redis.sock"), "--save", "",
                                             "--appendonly", "no"]))
        else:
            print("redis-server not installed: its row left out")
        print("CFI tables (--unwind=cfi): the unwinder's maps, sized at load, and what one "
              "idle process's tables fill")
        print("%-13s %8s %8s %9s %8s %12s %13s" % ("target", "objects", "tables", "rows", "rules",
                                                   "filled KiB", "maps MiB"))
        for name, argv in targets:
            t, m, used = tables_of(name, argv, tmp)
            total = sum(x.get("bytes_memlock", 0) for x in m.values())
            print("%-13s %8d %8d %9d %8d %12.0f %13.1f" % (
                name, t.get("objects", 0), t.get("tables", 0), t.get("rows", 0), t.get("rules", 0),
                used / 1024.0, total / MIB))
        print("  maps: " + ", ".join("%s %.2f MiB (%d x %d B)" % (
            k, v.get("bytes_memlock", 0) / MIB, v["max_entries"], v["bytes_value"])
            for k, v in sorted(m.items())))

        print("\nPython stacks: a program of N distinct functions, each on the stack once")
        print("%-9s %16s %14s %12s %14s %14s" % ("functions", "pystacks in use", "pystacks MiB",
                                                "frames/stack", "concur RSS MiB", "[python] frames"))
        rows = {}
        for n in (10, args.functions):
            maps, entries, rss, py = python_run(n, tmp)
            rows[n] = rss
            fl = py.get("frame_lists", 0)
            print("%-9d %16d %14.1f %12s %14.1f %14d" % (
                n, entries, maps["pystacks"].get("bytes_memlock", 0) / MIB,
                "%.1f" % (py.get("frames", 0) / fl) if fl else "-", rss, py.get("unresolved", 0)))
        print("  concur's RSS for %d functions beyond 10: %.1f MiB (code-object cache, names, "
              "stacks); Python maps: %s" % (
                  args.functions, rows[args.functions] - rows[10],
                  ", ".join("%s %.2f MiB" % (k, maps[k].get("bytes_memlock", 0) / MIB)
                            for k in PY_MAPS if k in maps)))


if __name__ == "__main__":
    main()
