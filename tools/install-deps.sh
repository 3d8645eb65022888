#!/usr/bin/env bash
# Installs what building concur needs (and, with --test, what its tests need) with apt-get,
# when something is missing. Idempotent and quiet when everything is there already.
#   tools/install-deps.sh          build: compilers, libbpf, libelf, libdw, zlib, libdeflate,
#                                  bpftool, protobuf-c, GLib
#   tools/install-deps.sh --test   also Criterion, go (go tool pprof), chromium, node, libFuzzer,
#                                  eu-stack, redis-server, redis-benchmark, xz, ab, pytest with
#                                  pytest-xdist
#   tools/install-deps.sh --lint   also clang-format and cppcheck (make lint)
#   tools/install-deps.sh --bench  also bpftrace and perf, to compare with; redis-server
set -euo pipefail

# libglib2.0-dev: the containers; protobuf-c: the pprof encoder, generated from its schema;
# libdw-dev: elfutils' CFI decoder, for the native unwinder's tables; libdeflate-dev: a
# recording's body inflated and checksummed in one buffer, twice as fast as zlib's inflate.
packages=(make gcc clang bpftool libbpf-dev libelf-dev libdw-dev zlib1g-dev libdeflate-dev
	libglib2.0-dev pkg-config linux-libc-dev protobuf-c-compiler libprotobuf-c-dev)
if [ "${1:-}" = --test ]; then
	# elfutils (eu-stack), redis-server, xz-utils: the CFI unwinder checked on Debian's own
	# binaries against an independent unwinder; redis-server under redis-tools' redis-benchmark
	# and xz: the advice held to measured alternatives on real programs.
	packages+=(libcriterion-dev python3 util-linux golang-go chromium libclang-rt-dev elfutils
		redis-server redis-tools xz-utils)
	# The advice held on real programs under their real drivers: ab (apache2-utils) against
	# a python3 http.server; a suite run by pytest with pytest-xdist.
	packages+=(apache2-utils python3-pytest python3-pytest-xdist)
	# The machine image ships Node.js 20 with npm; Debian's own is the fallback.
	command -v node >/dev/null && command -v npm >/dev/null || packages+=(nodejs npm)
fi
if [ "${1:-}" = --lint ]; then
	packages+=(clang-format cppcheck)
fi
if [ "${1:-}" = --bench ]; then
	# redis-server: tools/bench/memory.py's CFI tables of a real program
	packages+=(python3 bpftrace linux-perf redis-server)
fi

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages: ${missing[*]} (run as root to install them)" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
