# SPDX-License-Identifier: MIT
"""Python frames' test subject, run by /usr/bin/python3 (tests/kernel/test_python.py).

    python3 py_threads.py SECONDS

Two threads compute in functions of their own (worker_a, worker_b: each calls a helper, so
that a frame's caller is in the stack too) and one sleeps in time.sleep under nap_until, for
SECONDS. The names, and the lines the test expects, are this file's: LINE_* below are checked
against the source itself by the test, through inspect.
"""

import sys
import threading
import time


def spin_a(n):
    total = 0
    for i in range(n):
        total += i * i
    return total


def worker_a(deadline):
    while time.monotonic() < deadline:
        spin_a(20000)


def spin_b(n):
    total = 1
    for i in range(n):
        total = (total * 31 + i) % 1000003
    return total


def worker_b(deadline):
    while time.monotonic() < deadline:
        spin_b(20000)


def nap_until(deadline):
    while time.monotonic() < deadline:
        time.sleep(0.05)


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
    deadline = time.monotonic() + seconds
    threads = [threading.Thread(target=f, args=(deadline,), name=f.__name__)
               for f in (worker_a, worker_b, nap_until)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
