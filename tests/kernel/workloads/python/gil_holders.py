# SPDX-License-Identifier: MIT
"""GIL attribution's test subject, run by /usr/bin/python3 (tests/kernel/test_python_gil.py).

    python3 gil_holders.py SECONDS

Three threads share the GIL for SECONDS: 'parser' computes in parse_rows, 'renderer' in
render_pages (each through a helper of its own), and 'poller' sleeps 2 ms at a time and then
does a short burst of Python work in poll_status. Each thread names itself (its comm) so that
the report can tell them apart. Whoever waits for the GIL waits mostly while one of the two
computing threads holds it: the poller holds it for a fraction of a millisecond at a time.
"""

import sys
import threading
import time


def name_thread(name):
    with open("/proc/self/task/%d/comm" % threading.get_native_id(), "w") as f:
        f.write(name)


def crunch_rows(n):
    total = 0
    for i in range(n):
        total += i * i
    return total


def parse_rows(deadline):
    name_thread("parser")
    while time.monotonic() < deadline:
        crunch_rows(20000)


def paint_page(n):
    total = 1
    for i in range(n):
        total = (total * 31 + i) % 1000003
    return total


def render_pages(deadline):
    name_thread("renderer")
    while time.monotonic() < deadline:
        paint_page(20000)


def poll_status(deadline):
    name_thread("poller")
    while time.monotonic() < deadline:
        time.sleep(0.002)
        sum(i for i in range(200))


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
    deadline = time.monotonic() + seconds
    threads = [threading.Thread(target=f, args=(deadline,))
               for f in (parse_rows, render_pages, poll_status)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
