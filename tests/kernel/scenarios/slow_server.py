# SPDX-License-Identifier: MIT
"""slow_server.py [--threads N | --procs N | --async N] [--requests R] [--delay-ms D]

Sequential blocking requests to a slow server. Before the timed part the script forks a server
process: an asyncio server on a loopback TCP port that answers each request line with a small
payload (256 bytes) after D ms (default 50, asyncio.sleep: it serves any number of connections at
once). The main process, with the pid the script was started as, is the client: it makes R
requests (default 12), each over a new blocking socket (connect, send, recv until the whole
reply), one after the other by default. --threads N shares the R requests among N client threads,
--procs N among N forked client processes, --async N makes them from one asyncio client with at
most N in flight. When the client is done the server is told to stop and is waited for.
Prints "elapsed_ns N" (the requests only, not the server's start) and exits 0; bad arguments: a
one-line usage error on stderr, exit 2.

Ground truth: the baseline client spends nearly all its time blocked in recv on a socket (about
R x D ms), its CPU nearly idle; the requests are independent, so overlapping them helps:
--threads N, --procs N and --async N are each about min(N, R) times faster (up to the server's
capacity); --async with all requests in flight (--async 30) is the fastest, about one delay.
The defaults keep one delay (50 ms) well above the run-to-run spread of the client's own
time (Python start-up, 80-125 ms): the async variant stays clearly below the advice's bound,
which that own time, from one profiled run, sets (20 ms delays put it within 10 %).
"""

import asyncio
import os
import socket
import sys
import threading
import time

import scenario_common

USAGE = "[--threads N | --procs N | --async N] [--requests R] [--delay-ms D]"
REQUEST = b"GET /slow\n"
PAYLOAD = b"x" * 255 + b"\n"


def parse_args(argv):
    return scenario_common.parse(
        argv, USAGE, {"--threads": 100000, "--procs": 100000, "--async": 100000},
        {"--requests": (int, 100000), "--delay-ms": (float, 100000)},
        {"mode": None, "n": 1, "requests": 12, "delay_ms": 50.0})


# ---- the server (a forked child process) ----

def serve(listener, delay, ready_fd, lifeline_fd):
    """Answer every request line after `delay` seconds; stop when the lifeline pipe closes."""

    async def handle(reader, writer):
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                await asyncio.sleep(delay)
                writer.write(PAYLOAD)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def main():
        loop = asyncio.get_running_loop()
        stop = loop.create_future()

        def on_lifeline():
            loop.remove_reader(lifeline_fd)
            if not stop.done():
                stop.set_result(None)

        server = await asyncio.start_server(handle, sock=listener)
        loop.add_reader(lifeline_fd, on_lifeline)
        os.write(ready_fd, b"r")
        os.close(ready_fd)
        await stop
        server.close()
        await server.wait_closed()

    asyncio.run(main())


def start_server(delay):
    """Fork the server; return (port, lifeline write end, pid) once it is accepting."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(256)
    port = listener.getsockname()[1]
    ready_r, ready_w = os.pipe()
    life_r, life_w = os.pipe()
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        os.close(ready_r)
        os.close(life_w)
        scenario_common.in_child(serve, listener, delay, ready_w, life_r)
    os.close(ready_w)
    os.close(life_r)
    listener.close()
    if os.read(ready_r, 1) != b"r":
        sys.stderr.write("slow_server: the server did not start\n")
        sys.exit(1)
    os.close(ready_r)
    return port, life_w, pid


def stop_server(life_w, pid):
    os.close(life_w)
    _, status = os.waitpid(pid, 0)
    if status != 0:
        sys.stderr.write("slow_server: the server exited with status %#x\n" % status)
        sys.exit(1)


# ---- the client (the main process) ----

def fetch(port):
    """One request over a new blocking connection: connect, send, receive the whole reply."""
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(REQUEST)
        got = 0
        while got < len(PAYLOAD):
            chunk = s.recv(4096)
            if not chunk:
                raise ConnectionError("the server closed the connection early")
            got += len(chunk)


def fetch_many(port, count):
    for _ in range(count):
        fetch(port)


def shares(total, n):
    return [total // n + (1 if k < total % n else 0) for k in range(n)]


def run_threads(port, requests, n):
    errors = []

    def client(count):
        try:
            fetch_many(port, count)
        except Exception as e:  # reported by the main thread
            errors.append(e)

    threads = [threading.Thread(target=client, args=(c,), name="client") for c in shares(requests, n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def run_procs(port, requests, n):
    pids = []
    sys.stdout.flush()
    for count in shares(requests, n):
        pid = os.fork()
        if pid == 0:
            scenario_common.in_child(fetch_many, port, count)
        pids.append(pid)
    failed = [pid for pid in pids if os.waitpid(pid, 0)[1] != 0]
    if failed:
        raise RuntimeError("client processes failed: %s" % failed)


async def fetch_async(port, sem):
    async with sem:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(REQUEST)
            await writer.drain()
            await reader.readexactly(len(PAYLOAD))
        finally:
            writer.close()
            await writer.wait_closed()


async def run_async(port, requests, n):
    sem = asyncio.Semaphore(n)
    await asyncio.gather(*(fetch_async(port, sem) for _ in range(requests)))


def main():
    opts = parse_args(sys.argv)
    port, life_w, server_pid = start_server(opts["delay_ms"] / 1000.0)
    try:
        mode, n, requests = opts["mode"], opts["n"], opts["requests"]
        if mode == "async":
            async def timed():
                t0 = time.monotonic_ns()
                await run_async(port, requests, n)
                return time.monotonic_ns() - t0
            elapsed = asyncio.run(timed())
        else:
            t0 = time.monotonic_ns()
            if mode == "threads":
                run_threads(port, requests, n)
            elif mode == "procs":
                run_procs(port, requests, n)
            else:
                fetch_many(port, requests)
            elapsed = time.monotonic_ns() - t0
    finally:
        stop_server(life_w, server_pid)
    print("elapsed_ns", elapsed, flush=True)


if __name__ == "__main__":
    main()
