# SPDX-License-Identifier: MIT
"""The advice against reality on programs nobody here wrote (issue 15, "Proof"): Debian's own
redis-server under its own load generator, and xz-utils' xz, each profiled, its alternative
design measured in pairs beside it (advice_pairs.py: the pairs, checks (a)-(c), tolerances).
"""

import os
import random
import shutil
import socket
import subprocess
import time

from advice_pairs import expect_levers, hold_to_reality
from harness import Fail, Skip, execute, kill_group, load_json, check_doc, test

REDIS = "/usr/bin/redis-server"
BENCH = "/usr/bin/redis-benchmark"
# The fixed work of one timed run: REDIS_REQUESTS GETs from REDIS_CLIENTS connections, split
# between 2 redis-benchmark processes (the load generator is the same in every arm: only the
# servers it talks to change). About 1 s on the reference VM with one server.
REDIS_REQUESTS = 80000
REDIS_CLIENTS = 50
REDIS_WINDOW_S = 2


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_redis(port):
    """A redis-server on 127.0.0.1:port without persistence, its own session; waits until it
    accepts connections (5 s at most)."""
    p = subprocess.Popen([REDIS, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                          "--appendonly", "no", "--logfile", "/dev/null"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as c:
                c.sendall(b"PING\r\n")
                if c.recv(16).startswith(b"+PONG"):
                    return p
        except OSError:
            time.sleep(0.02)
    kill_group(p.pid)
    p.wait()
    raise Fail("redis-server on port %d did not answer PING within 5 s" % port)


def start_benchmarks(ports, requests=None):
    """One redis-benchmark per port in `ports`, each with its share of the clients and of the
    requests (requests None: loop until killed)."""
    share = ["-n", str(requests // len(ports))] if requests else ["-l"]
    return [subprocess.Popen([BENCH, "-h", "127.0.0.1", "-p", str(port), "-c",
                              str(REDIS_CLIENTS // len(ports)), "-t", "get", "--csv"] + share,
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, start_new_session=True)
            for port in ports]


def finish(benchmarks, timeout=60):
    for b in benchmarks:
        try:
            _, err = b.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            for x in benchmarks:
                kill_group(x.pid)
            raise Fail("redis-benchmark timed out after %d s" % timeout)
        if b.returncode != 0:
            raise Fail("redis-benchmark exited %d: %s" % (b.returncode, err.decode()[-300:]))


def redis_time(ports, arm):
    """Seconds for the fixed work: both benchmark processes on the first server ("one"), or
    one on each ("two")."""
    ports = [ports[0], ports[0]] if arm == "one" else ports
    t0 = time.monotonic()
    finish(start_benchmarks(ports, REDIS_REQUESTS))
    return time.monotonic() - t0


def attach(ctx, pid, seconds):
    out = os.path.join(ctx.tmp, "out.json")
    argv = [ctx.concur, "attach", "-q", "-o", out, "-p", str(pid), "-d", str(seconds)]
    rc, _, err = execute(argv)
    if rc != 0:
        raise Fail("%s exited %d: %s" % (" ".join(argv), rc, err.strip()[-300:]))
    doc = load_json(out)
    check_doc(doc)
    return doc


def process_advice(doc, pid):
    adv = [a for a in doc["advice"]["processes"] if a["pid"] == pid]
    if not adv:
        raise Fail("no advice for pid %d" % pid)
    return adv[0]


@test("advice_redis_event_loop")
def t_advice_redis(ctx):
    # 1. Debian's redis-server, one event-loop thread (its bio_* and jemalloc threads parked),
    # under redis-benchmark on loopback: the advice recognises the loop (async already used)
    # and rates more loops, processes (another instance) first; measured against one instance
    # vs two, the load generator (2 benchmark processes, 25 connections each) the same in
    # both. Not measured here: the threads redis offers (io-threads 2, reads and writes
    # handed to I/O threads, the loop's data still its own) are not a second loop, which is
    # what the threads row rates; by hand they measured 0.2-0.7x beside the generator (their
    # threads spin on the CPUs it needs), at 2-5 s a run too slow for this suite.
    if not (os.access(REDIS, os.X_OK) and os.access(BENCH, os.X_OK)):
        raise Skip("no redis-server or redis-benchmark (tools/install-deps.sh --test)")
    ports = [free_port(), free_port()]
    servers = []
    try:
        servers = [start_redis(port) for port in ports]
        load = start_benchmarks([ports[0], ports[0]])
        try:
            time.sleep(0.3)  # the connections made: the steady state is profiled
            doc = attach(ctx, servers[0].pid, REDIS_WINDOW_S)
        finally:
            for b in load:
                kill_group(b.pid)
                b.wait()
        adv = process_advice(doc, servers[0].pid)
        if adv["verdict"] != "loop_saturated":
            raise Fail("redis-server: verdict %s, expected an event loop computing its events:"
                       " %s" % (adv["verdict"], adv["why"]))
        ev = adv["evidence"]
        # Its background threads (bio_close_file, bio_aof_fsync, bio_lazy_free,
        # jemalloc_bg_thd) wait on condition variables for work it never gives them here.
        if ev["active_threads"] != 1 or ev["idle_threads"] < 4:
            raise Fail("redis-server: %d active threads, %d idle, expected the loop alone "
                       "active: %s" % (ev["active_threads"], ev["idle_threads"], adv["why"]))
        expect_levers(adv, {"async": "already used", "processes": "helps"})
        if adv.get("best") != "processes":
            raise Fail("redis-server: best %s, expected processes: %s" % (adv.get("best"),
                                                                          adv["why"]))
        hold_to_reality("redis-server", adv, "one", {"processes": ("two", "more")},
                        lambda arm: redis_time(ports, arm))
    finally:
        for s in servers:
            kill_group(s.pid)
            s.wait()


# xz's fixed work: XZ_MIB MiB of text-like data (words of a seeded vocabulary, 2 % random
# bytes; compresses to about 37 %) at preset -1, split into XZ_BLOCK-sized blocks in both
# arms, so that -T2 has blocks to give its 2 threads (its default, 3 x the dictionary, would
# be 3 MiB at -1) and -T1 compresses the same blocks. About 2.5 s single-threaded.
XZ_MIB = 24
XZ_BLOCK = "2MiB"
XZ_BLOCKS = 12


def xz_input(path):
    """XZ_MIB MiB, the same bytes on every run (seeded)."""
    rng = random.Random(15)
    words = [bytes(rng.choices(b"abcdefghijklmnopqrstuvwxyz", k=rng.randint(2, 10)))
             for _ in range(5000)]
    size = XZ_MIB << 20
    out = bytearray()
    while len(out) < size:
        out += b" ".join(rng.choices(words, k=20000)) + b"\n"
        out += rng.randbytes(2000)
    with open(path, "wb") as f:
        f.write(out[:size])


def xz_argv(path, threads):
    return ["xz", "-1", "-T%d" % threads, "--block-size=" + XZ_BLOCK, "-k", "-f", path]


def xz_time(path, threads):
    t0 = time.monotonic()
    rc, _, err = execute(xz_argv(path, threads))
    if rc != 0:
        raise Fail("xz -T%d exited %d: %s" % (threads, rc, err.strip()[-300:]))
    return time.monotonic() - t0


def xz_blocks(path):
    """The number of blocks in path (xz --list --robot's "file" line, its third field)."""
    rc, out, err = execute(["xz", "--list", "--robot", path])
    rows = [line.split("\t") for line in out.splitlines() if line.startswith("file\t")]
    if rc != 0 or len(rows) != 1:
        raise Fail("xz --list %s exited %d: %s" % (path, rc, (err or out)[-300:]))
    return int(rows[0][2])


@test("advice_xz_threads")
def t_advice_xz(ctx):
    # 2. xz-utils' xz, single-threaded (-T1): CPU work in one thread; threads help, by at most
    # the CPU count; measured against -T2, the same preset and blocks on 2 threads.
    if not shutil.which("xz"):
        raise Skip("no xz (xz-utils)")
    data = os.path.join(ctx.tmp, "in.dat")
    xz_input(data)
    # -T2 really splits the input: its output has the blocks (and the run warms the cache).
    xz_time(data, 2)
    blocks = xz_blocks(data + ".xz")
    if blocks != XZ_BLOCKS:
        raise Fail("xz -T2 wrote %d blocks, expected %d" % (blocks, XZ_BLOCKS))
    out = os.path.join(ctx.tmp, "out.json")
    argv = [ctx.concur, "run", "-q", "-o", out, "--"] + xz_argv(data, 1)
    rc, _, err = execute(argv)
    if rc != 0:
        raise Fail("%s exited %d: %s" % (" ".join(argv), rc, err.strip()[-300:]))
    doc = load_json(out)
    check_doc(doc)
    if len(doc["processes"]) != 1:
        raise Fail("expected xz alone, got %s" % [p["comm"] for p in doc["processes"]])
    adv = process_advice(doc, doc["processes"][0]["pid"])
    blocks = xz_blocks(data + ".xz")
    if blocks != XZ_BLOCKS:
        raise Fail("xz -T1 wrote %d blocks, expected %d" % (blocks, XZ_BLOCKS))
    if adv["verdict"] != "cpu" or adv.get("best") != "threads":
        raise Fail("xz -T1: verdict %s, best %s: %s" % (adv["verdict"], adv.get("best"),
                                                        adv["why"]))
    bound = adv["levers"]["threads"]["bound"]
    if bound > doc["cpus"] + 1e-9:
        raise Fail("threads bound %.2f above the %d CPUs" % (bound, doc["cpus"]))
    expect_levers(adv, {"threads": "helps", "async": "no effect"})
    hold_to_reality("xz -T1", adv, 1, {"threads": (2, "more")},
                    lambda threads: xz_time(data, threads))
