# SPDX-License-Identifier: MIT
"""busy_loop.py [--procs N | --threads N | --async C] [--requests R] [--cost-ms X]

A CPU-bound asyncio event loop: one single-threaded asyncio server (the main process, with the
pid the script was started as) answers R requests (default 300) over loopback TCP, and each
request costs the loop about X ms (default 2) of pure-Python CPU before it replies. The load
comes from a generator process forked before the timed part: it keeps C requests in flight on C
connections (default 4; closed loop: a connection sends its next request when the reply to its
last one arrives), and reports when all R replies are in, which ends the timed part.
--procs N runs N event loops in N processes (the main one and N-1 forked ones, each with its
own listening socket; the generator spreads its connections evenly over them, C = max(4, 2N)),
--threads N runs N event loops in N threads of the main process instead (likewise), and --async C
only raises the number of requests in flight into the single loop.
Prints "elapsed_ns N" (from the go signal to the last reply) and exits 0; bad arguments: a
one-line usage error on stderr, exit 2.

Ground truth on 2 CPUs: the baseline loop is on a CPU ~100% of the time (not waiting for I/O),
so only more CPUs help: --procs 2 is about 2x faster; more concurrency in the same loop
(--async 32) is no faster, and loops in more threads (--threads 2) are no faster either, since
the GIL lets only one of them run Python at a time.
"""

import asyncio
import os
import selectors
import socket
import sys
import threading
import time

import scenario_common

USAGE = "[--procs N | --threads N | --async C] [--requests R] [--cost-ms X]"
MSG = 16  # bytes in a request and in a reply
ITERS_PER_MS = 25000  # of request_work()'s loop: about 1 ms on a current x86 core


def parse_args(argv):
    return scenario_common.parse(
        argv, USAGE, {"--procs": 1000, "--threads": 1000, "--async": 1000},
        {"--requests": (int, 1000000), "--cost-ms": (float, 1000000)},
        {"mode": None, "n": 1, "requests": 300, "cost_ms": 2.0})


def listen():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(256)
    return s


# ---- the event loop: the server side ----

def request_work(iters):
    """The CPU a request costs the loop: pure Python, no I/O."""
    x = 0
    for i in range(iters):
        x += i * i
    return x


def make_handler(iters):
    async def handle(reader, writer):
        try:
            while True:
                try:
                    await reader.readexactly(MSG)
                except asyncio.IncompleteReadError:
                    break
                x = request_work(iters)
                writer.write(b"%015d\n" % (x % 10**15))
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()
    return handle


def fd_future(loop, fd):
    """A future done when fd is readable (a byte or end of file)."""
    fut = loop.create_future()

    def ready():
        loop.remove_reader(fd)
        if not fut.done():
            fut.set_result(None)

    loop.add_reader(fd, ready)
    return fut


async def serve_until(listener, iters, stop_fd):
    """Serve on listener until stop_fd is readable (the lifeline pipe closed)."""
    loop = asyncio.get_running_loop()
    server = await asyncio.start_server(make_handler(iters), sock=listener)
    await fd_future(loop, stop_fd)
    server.close()


async def main_loop(listener, iters, ready_fd, go_fd, done_fd):
    """Loop 0, in the main thread: serve, and time the generator's run from go to done."""
    loop = asyncio.get_running_loop()
    server = await asyncio.start_server(make_handler(iters), sock=listener)
    await fd_future(loop, ready_fd)
    t0 = time.monotonic_ns()
    os.write(go_fd, b"g")
    await fd_future(loop, done_fd)
    elapsed = time.monotonic_ns() - t0
    server.close()
    return elapsed


# ---- the load generator (a forked process) ----

def generate(ports, conns, requests, ready_fd, go_fd, done_fd):
    """Keep `conns` requests in flight, spread over ports, until `requests` replies are in."""
    socks = []
    for k in range(conns):
        s = socket.create_connection(("127.0.0.1", ports[k % len(ports)]))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        socks.append(s)
    os.write(ready_fd, b"r")
    if os.read(go_fd, 1) != b"g":
        raise RuntimeError("no go signal")
    sel = selectors.DefaultSelector()
    sent = received = 0
    pending = {}
    for s in socks:
        if sent < requests:
            s.sendall(b"%015d\n" % sent)
            sent += 1
            pending[s] = 0
            sel.register(s, selectors.EVENT_READ)
    while received < requests:
        for key, _ in sel.select():
            s = key.fileobj
            data = s.recv(MSG - pending[s])
            if not data:
                raise ConnectionError("a loop closed its connection")
            pending[s] += len(data)
            if pending[s] < MSG:
                continue
            received += 1
            pending[s] = 0
            if sent < requests:
                s.sendall(b"%015d\n" % sent)
                sent += 1
            else:
                sel.unregister(s)
    os.write(done_fd, b"d")
    for s in socks:
        s.close()


def main():
    opts = parse_args(sys.argv)
    mode, n, requests = opts["mode"], opts["n"], opts["requests"]
    iters = max(1, int(opts["cost_ms"] * ITERS_PER_MS))
    loops = n if mode in ("procs", "threads") else 1
    conns = n if mode == "async" else max(4, 2 * loops)
    listeners = [listen() for _ in range(loops)]
    ports = [s.getsockname()[1] for s in listeners]
    life_r, life_w = os.pipe()  # the extra loops stop when it closes
    ready_r, ready_w = os.pipe()
    go_r, go_w = os.pipe()
    done_r, done_w = os.pipe()
    sys.stdout.flush()

    children = []
    threads = []
    if mode == "procs":
        for k in range(1, loops):
            pid = os.fork()
            if pid == 0:
                for fd in (life_w, ready_r, ready_w, go_r, go_w, done_r, done_w):
                    os.close(fd)
                scenario_common.in_child(lambda: asyncio.run(serve_until(listeners[k], iters, life_r)))
            children.append(pid)
    pid = os.fork()
    if pid == 0:
        for fd in (life_w, ready_r, go_w, done_r):
            os.close(fd)
        scenario_common.in_child(generate, ports, conns, requests, ready_w, go_r, done_w)
    children.append(pid)
    for fd in (ready_w, go_r, done_w):
        os.close(fd)
    if mode == "threads":
        for k in range(1, loops):
            t = threading.Thread(target=lambda k=k: asyncio.run(serve_until(listeners[k], iters, life_r)),
                                 name="loop%d" % k)
            t.start()
            threads.append(t)

    elapsed = asyncio.run(main_loop(listeners[0], iters, ready_r, go_w, done_r))

    os.close(life_w)
    for t in threads:
        t.join()
    failed = [pid for pid in children if os.waitpid(pid, 0)[1] != 0]
    if failed:
        sys.stderr.write("busy_loop: processes failed: %s\n" % failed)
        sys.exit(1)
    print("elapsed_ns", elapsed, flush=True)


if __name__ == "__main__":
    main()
