# SPDX-License-Identifier: MIT
"""Code objects freed and reused (tests/kernel/test_python_names.py).

    python3 -S py_codechurn.py SECONDS MS

For SECONDS, creates a function from source (compile + exec), calls it once and drops it: the
i-th is spin_<i> for an even i, which computes MS ms in burn, and nap_<i> for an odd i, which
sleeps MS ms in doze (time.sleep). Every generated function has the same header (one argument,
the same flags, first line 1) and the same bytecode, so a freed one's memory, and its address,
is taken by the next ones, which the walker's check of a code object (its header fields) cannot
tell apart; only the address of its name string (also in the check) differs, but for the rare
string freed and reused at the same address. Prints "generated N" at the end: the functions were spin_0 .. nap_<N-1>.
"""

import sys
import time

TEMPLATE = "def {name}(ms):\n    return {helper}(ms)\n"


def burn(ms):
    until = time.monotonic() + ms / 1000
    n = 0
    while time.monotonic() < until:
        n += 1
    return n


def doze(ms):
    time.sleep(ms / 1000)


def churn(seconds, ms):
    until = time.monotonic() + seconds
    i = 0
    while time.monotonic() < until:
        name, helper = ("spin_%d" % i, "burn") if i % 2 == 0 else ("nap_%d" % i, "doze")
        space = {"burn": burn, "doze": doze}
        exec(compile(TEMPLATE.format(name=name, helper=helper), "<generated>", "exec"), space)
        space[name](ms)
        del space
        i += 1
    return i


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: py_codechurn.py SECONDS MS")
    print("generated", churn(float(sys.argv[1]), float(sys.argv[2])), flush=True)
