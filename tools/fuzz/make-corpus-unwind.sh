#!/bin/sh
# Regenerates the unwind table fuzzer's seed corpus (tools/fuzz/corpus-unwind/) from the unit
# tests' programs with known frame shapes, stripped of everything but what the builder reads.
# Usage: tools/fuzz/make-corpus-unwind.sh BUILD_DIR   (needs BUILD_DIR/tests/elf/, `make
# BUILD_DIR/unit-tests` builds it)
set -eu
build=${1:-build}
out=tools/fuzz/corpus-unwind
mkdir -p "$out"
for name in frames frames-fp; do
	objcopy --strip-all "$build/tests/elf/$name" "$out/$name"
done
objcopy --strip-all --keep-section=.debug_frame "$build/tests/elf/frames-debug" "$out/frames-debug"
