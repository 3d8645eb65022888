# SPDX-License-Identifier: MIT
"""stalled_loop.py [--sleep-stall 1 | --async 1 | --async-sleep 1 | --to-thread 1] [--tasks N]
                   [--delay-ms D]

An asyncio client whose coroutines make blocking calls: the event loop's only thread is held by
each call, so N "concurrent" tasks run one after another. Before the timed part the script forks
slow_server.py's server (a loopback asyncio server answering each request line after D ms,
default 20, any number at once). Then asyncio.gather runs N tasks (default 40), each one request:
  baseline        a blocking socket round trip inside the coroutine (connect, send, recv), in
                  blocking_request();
  --sleep-stall 1 time.sleep(D) inside the coroutine, in sleeping_request(), instead of a request;
  --async 1       the same round trip with asyncio streams (the fix for the baseline);
  --async-sleep 1 await asyncio.sleep(D) (the fix for --sleep-stall);
  --to-thread 1   the blocking round trip handed to asyncio.to_thread (the default executor's
                  worker threads: min(32, CPUs + 4) at once).
Prints "elapsed_ns N" (the tasks only) and exits 0; bad arguments: a one-line usage error on
stderr, exit 2.

Ground truth: the baseline and --sleep-stall take about N x D (the loop stalls in recv or in
clock_nanosleep under a callback); --async and --async-sleep about one D; --to-thread about
N / workers x D.
"""

import asyncio
import socket
import sys
import time

import scenario_common
import slow_server

USAGE = "[--sleep-stall 1 | --async 1 | --async-sleep 1 | --to-thread 1] [--tasks N] [--delay-ms D]"


def parse_args(argv):
    return scenario_common.parse(
        argv, USAGE, {"--sleep-stall": 1, "--async": 1, "--async-sleep": 1, "--to-thread": 1},
        {"--tasks": (int, 100000), "--delay-ms": (float, 100000)},
        {"mode": None, "n": 1, "tasks": 40, "delay_ms": 20.0})


def round_trip(port):
    """One request over a new blocking connection (the call that stalls the loop)."""
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(slow_server.REQUEST)
        got = 0
        while got < len(slow_server.PAYLOAD):
            chunk = s.recv(4096)
            if not chunk:
                raise ConnectionError("the server closed the connection early")
            got += len(chunk)


async def blocking_request(port, delay):
    round_trip(port)


async def sleeping_request(port, delay):
    time.sleep(delay)


async def async_request(port, delay):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(slow_server.REQUEST)
        await writer.drain()
        await reader.readexactly(len(slow_server.PAYLOAD))
    finally:
        writer.close()
        await writer.wait_closed()


async def async_sleep_request(port, delay):
    await asyncio.sleep(delay)


async def threaded_request(port, delay):
    await asyncio.to_thread(round_trip, port)


TASKS = {None: blocking_request, "sleep-stall": sleeping_request, "async": async_request,
         "async-sleep": async_sleep_request, "to-thread": threaded_request}


async def run(port, opts):
    task = TASKS[opts["mode"]]
    delay = opts["delay_ms"] / 1000.0
    t0 = time.monotonic_ns()
    await asyncio.gather(*(task(port, delay) for _ in range(opts["tasks"])))
    return time.monotonic_ns() - t0


def main():
    opts = parse_args(sys.argv)
    port, life_w, server_pid = slow_server.start_server(opts["delay_ms"] / 1000.0)
    try:
        elapsed = asyncio.run(run(port, opts))
    finally:
        slow_server.stop_server(life_w, server_pid)
    print("elapsed_ns", elapsed, flush=True)


if __name__ == "__main__":
    main()
