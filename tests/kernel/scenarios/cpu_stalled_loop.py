# SPDX-License-Identifier: MIT
"""cpu_stalled_loop.py [--healthy 1] [--seconds S]

An asyncio loop whose callbacks compute: every ~0.5 s a timer callback runs crunch(), ~200 ms of
pure Python, and in between short callbacks (about 1 ms of work each, every 20 ms) keep the loop
busy as a server's would. Between them the loop waits in its poll (epoll_wait).
  --healthy 1  the same loop with only the short callbacks: no callback reaches 100 ms.
Runs for S seconds (default 3), prints "crunches N" and exits 0; bad arguments: a one-line usage
error on stderr, exit 2.

Ground truth: crunch() is the only function that computes for >= 100 ms between two polls; about
S / 0.5 of its iterations happen in the window.
"""

import asyncio
import sys
import time

import scenario_common

USAGE = "[--healthy 1] [--seconds S]"


def parse_args(argv):
    return scenario_common.parse(argv, USAGE, {"--healthy": 1}, {"--seconds": (float, 60)},
                                 {"mode": None, "n": 1, "seconds": 3.0})


def spin(ms):
    """Pure-Python work for about ms milliseconds of CPU time (holds the GIL throughout)."""
    end = time.thread_time() + ms / 1000.0
    x = 0
    while time.thread_time() < end:
        for i in range(1000):
            x += i * i
    return x


def crunch():
    return spin(200)


def short_callback():
    return spin(1)


async def main(opts):
    loop = asyncio.get_running_loop()
    stop = loop.time() + opts["seconds"]
    crunches = 0
    next_crunch = loop.time() + 0.3
    while loop.time() < stop:
        await asyncio.sleep(0.02)
        short_callback()
        if opts["mode"] != "healthy" and loop.time() >= next_crunch:
            next_crunch += 0.5  # every 0.5 s from the first: 200 ms of every 500
            crunch()
            crunches += 1
    return crunches


if __name__ == "__main__":
    options = parse_args(sys.argv)
    print("crunches %d" % asyncio.run(main(options)))
