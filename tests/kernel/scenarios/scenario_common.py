# SPDX-License-Identifier: MIT
"""What the advisor's Python scenarios (busy_loop, slow_server, thread_per_request) share:
option parsing, and running a forked child.

Every option takes a value ("--NAME V"); a few of them are modes (the variants), of which at most
one may be given. Any bad argument is a one-line usage error on stderr and exit status 2, which
is what the tests expect of every scenario.
"""

import os
import sys
import traceback


def usage(prog, usage_text, why):
    sys.stderr.write("usage: %s %s (%s)\n" % (prog, usage_text, why))
    sys.exit(2)


def parse(argv, usage_text, modes, values, defaults):
    """Parse argv (argv[0] the script) and return the options as a dict.

    modes: the mode options, name -> the highest value allowed (each an int in 1..max), in the
    order the "only one of" error names them; values: the other options, name -> (int or float,
    the highest value allowed); every value must be > 0. defaults: the dict to start from, with
    "mode" (None: the baseline), "n" and one key per value option, named after it ("--cost-ms":
    "cost_ms"). A mode option sets "mode" (its name without the dashes) and "n".
    """
    prog = os.path.basename(argv[0])
    opts = dict(defaults)
    i = 1
    while i < len(argv):
        name = argv[i]
        if name not in modes and name not in values:
            usage(prog, usage_text, "unknown argument %r" % name)
        if i + 1 >= len(argv):
            usage(prog, usage_text, "%s needs a value" % name)
        value = argv[i + 1]
        i += 2
        kind, limit = (int, modes[name]) if name in modes else values[name]
        try:
            v = kind(value)
        except ValueError:
            usage(prog, usage_text, "bad value %r for %s" % (value, name))
        # written so that a float NaN fails it too
        if not (0 < v <= limit):
            usage(prog, usage_text, "%s out of range" % name)
        if name in modes:
            if opts["mode"]:
                usage(prog, usage_text, "only one of " + ", ".join(modes))
            opts["mode"], opts["n"] = name[2:], v
        else:
            opts[name[2:].replace("-", "_")] = v
    return opts


def in_child(fn, *args):
    """In a forked child: run fn(*args), then exit at once (0, or 1 after a traceback)."""
    status = 1
    try:
        fn(*args)
        status = 0
    except BaseException:
        traceback.print_exc()
    finally:
        os._exit(status)
