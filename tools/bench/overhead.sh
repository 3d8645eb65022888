#!/usr/bin/env bash
# tools/bench/overhead.sh [WORKLOAD...] — the overhead comparison (see overhead.py), after
# building concur and the benchmark workloads.
set -euo pipefail
cd "$(dirname "$0")/../.."
make -s build/concur build/bench/floor build/bench/floor.bpf.o \
	$(for w in tools/bench/*.c; do basename "$w" .c; done | sed 's|^|build/bench/|')
exec python3 tools/bench/overhead.py "$@"
