# SPDX-License-Identifier: MIT
"""Python processes that exit before the window ends (tests/kernel/test_python_exit.py).

    python3 -S py_shortlived.py LONG SHORT      the parent
    python3 -S py_shortlived.py child SECONDS   one child (started by the parent)

The parent runs LONG children of 0.3 s one after another, then SHORT children of 0.01 s, then
computes 0.5 s more in parent_linger: every child has exited well before the window ends, so
the names of its frames can only come from what was read while it lived. A child computes half
its time in child_spin and sleeps the other half in child_nap (time.sleep, 10 ms at a time or
less): only child_nap sleeps, only child_spin and child_work compute. The child imports no
Python module (sys and time are built in, -S skips site), so every Python frame of a child is
one of this file's functions.
"""

import sys
import time


def child_spin(until):
    n = 0
    while time.monotonic() < until:
        n += 1
    return n


def child_nap(until):
    while True:
        left = until - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(left, 0.01))


def child_work(seconds):
    half = seconds / 2
    child_spin(time.monotonic() + half)
    child_nap(time.monotonic() + half)


def child_main(seconds):
    child_work(seconds)


def parent_linger(seconds):
    until = time.monotonic() + seconds
    n = 0
    while time.monotonic() < until:
        n += 1
    return n


def parent_main(long_children, short_children):
    import os

    for seconds, count in ((0.3, long_children), (0.01, short_children)):
        for _ in range(count):
            status = os.spawnv(os.P_WAIT, sys.executable,
                               [sys.executable, "-S", os.path.abspath(__file__), "child",
                                str(seconds)])
            if status != 0:
                sys.exit("a child exited %d" % status)
    parent_linger(0.5)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "child":
        child_main(float(sys.argv[2]))
    elif len(sys.argv) == 3:
        parent_main(int(sys.argv[1]), int(sys.argv[2]))
    else:
        sys.exit("usage: py_shortlived.py LONG SHORT | child SECONDS")
