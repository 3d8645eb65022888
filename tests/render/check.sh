#!/usr/bin/env bash
# Rendering is a pure function of the recording: every committed recording, rendered by this
# build in every format, must match what the build that recorded it rendered (expected/).
# Text, JSON, folded and HTML byte for byte; pprof by what `go tool pprof` reads from it
# (-top and -traces), since an encoder may order a message's fields differently.
# Usage: tests/render/check.sh BUILD_DIR     (needs `go`: Debian package golang-go)
set -uo pipefail

build=${1:?usage: $0 BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
failures=0

pass() { echo "PASS: render: $*"; }
fail() { echo "FAIL: render: $*"; failures=$((failures + 1)); }

if ! command -v go >/dev/null; then
	echo "FAIL: render: 'go' not found (tools/install-deps.sh installs golang-go)"
	exit 1
fi
tmp=$(mktemp -d /tmp/concur-render.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT
export HOME=${HOME:-$tmp}
export GOPATH=$tmp/gopath GOCACHE=$tmp/gocache GOMODCACHE=$tmp/gopath/pkg/mod
export GOPROXY=off GOTOOLCHAIN=local GOFLAGS= PPROF_TMPDIR=$tmp/pprof

# pprof_view VIEW FILE: what pprof shows, without the header line naming the file.
pprof_view() {
	go tool pprof "-$1" "$2" 2>"$tmp/stderr" | grep -v '^File: ' || { cat "$tmp/stderr" >&2; return 1; }
}

for rec in "$here"/recordings/*.concur; do
	name=$(basename "$rec" .concur)
	out=$tmp/$name
	if ! "$build/concur" report "$rec" -o "$out.json" -o "$out.folded" -o "$out.html" \
		-o "$out.pb.gz" >"$out.txt" 2>"$tmp/stderr"; then
		fail "$name: concur report failed: $(head -1 "$tmp/stderr")"
		continue
	fi
	for ext in txt json folded html; do
		if cmp -s "$out.$ext" "$here/expected/$name.$ext"; then
			pass "$name.$ext identical"
		else
			fail "$name.$ext differs (diff $out.$ext $here/expected/$name.$ext)"
			diff "$here/expected/$name.$ext" "$out.$ext" | head -20
		fi
	done
	for view in top traces; do
		if pprof_view "$view" "$out.pb.gz" >"$out.$view" &&
			pprof_view "$view" "$here/expected/$name.pb.gz" >"$out.$view.want" &&
			cmp -s "$out.$view" "$out.$view.want"; then
			pass "$name.pb.gz: pprof -$view agrees ($(wc -l <"$out.$view") lines)"
		else
			fail "$name.pb.gz: pprof -$view differs"
			diff "$out.$view.want" "$out.$view" | head -20
		fi
	done
done
[ "$failures" -eq 0 ] || { echo "render: $failures failure(s)"; exit 1; }
