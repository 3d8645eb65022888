#!/bin/sh
# Regenerates the fuzzer's seed corpus (tools/fuzz/corpus/) from the synthetic fixtures:
# whole recordings (first byte 0) and bare bodies (first byte 1), see fuzz_recording.c.
# Usage: tools/fuzz/make-corpus.sh BUILD_DIR   (needs BUILD_DIR/render-fixture, big-fixture)
set -eu
build=${1:-build}
out=tools/fuzz/corpus
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$build/render-fixture" "$tmp/fixture.concur"
"$build/big-fixture" "$tmp/big5.concur" 5
mkdir -p "$out"
for name in fixture big5; do
	{ printf '\000'; cat "$tmp/$name.concur"; } > "$out/file-$name"
done
# The body: after the magic (9), version (4), version string (1 + n), sizes and CRC (20).
python3 - "$tmp/fixture.concur" "$out/body-fixture" <<'PY'
import struct, sys, zlib
d = open(sys.argv[1], 'rb').read()
o = 14 + d[13]
size, zlen, _ = struct.unpack_from('<QQI', d, o)
body = zlib.decompress(d[o + 20:o + 20 + zlen])
assert len(body) == size
open(sys.argv[2], 'wb').write(b'\x01' + body)
# The fixture has no unwind warnings: the same body with two, naming strings 0 and 1. They
# come last but for the futexes, whose section starts with the fixture's first wait.
futexes = body.rfind(struct.pack('<IIIQ', 2, 100, 101, 0x601040))
assert futexes > 0 and body[futexes - 4:futexes] == b'\0\0\0\0'
unwind = struct.pack('<I', 2) + struct.pack('<IQQQQ', 0, 5, 10, 3, 4) + \
	struct.pack('<IQQQQ', 1, 1, 2, 3, 4)
open(sys.argv[2].replace('fixture', 'unwind'), 'wb').write(
	b'\x01' + body[:futexes - 4] + unwind + body[futexes:])
PY
