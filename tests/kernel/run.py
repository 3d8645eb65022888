#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Real-kernel integration tests for concur: the entry point.

    python3 tests/kernel/run.py --concur build/concur --workloads build/workloads [--no-skip] [-k SUBSTR]
    python3 tests/kernel/run.py --list [-k SUBSTR]   # the test names, in run order; runs none

Each test runs concur (as root) on a workload from tests/kernel/workloads whose ground truth is
known, reads the JSON summary and checks concur's per-thread split of wall-clock time against it.
Tests run one at a time: they measure time on shared CPUs. Standard library only.

The harness (running things, checking the summary, the @test registry, the runner) is
harness.py; the tests are in test_*.py, one behaviour a file. Importing a test module registers
its tests, so the order of the imports below is the order the tests run in.
"""

import sys

import harness
import test_split  # noqa: F401  (imported for its @test registrations, here and below)
import test_run_attach  # noqa: F401
import test_stacks  # noqa: F401
import test_unwind  # noqa: F401
import test_exec  # noqa: F401
import test_unwind_debian  # noqa: F401
import test_recording  # noqa: F401
import test_robustness  # noqa: F401
import test_advice  # noqa: F401
import test_advice_real  # noqa: F401
import test_advice_python_real  # noqa: F401
import test_cli  # noqa: F401
import test_states  # noqa: F401
import test_uring  # noqa: F401
import test_resources  # noqa: F401
import test_python  # noqa: F401
import test_python_gil  # noqa: F401
import test_python_names  # noqa: F401

if __name__ == "__main__":
    sys.exit(harness.main(__file__))
