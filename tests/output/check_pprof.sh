#!/usr/bin/env bash
# The pprof output read by its real reader: renders the synthetic fixture (tests/fixture) to
# .pb.gz and checks what `go tool pprof` reports against the fixture's known stacks.
# Usage: tests/output/check_pprof.sh BUILD_DIR     (needs `go`: Debian package golang-go)
set -uo pipefail

build=${1:?usage: $0 BUILD_DIR}
failures=0

pass() { echo "PASS: pprof: $*"; }
fail() { echo "FAIL: pprof: $*"; failures=$((failures + 1)); }

if ! command -v go >/dev/null; then
	echo "FAIL: pprof: 'go' not found (tools/install-deps.sh installs golang-go)"
	exit 1
fi

tmp=$(mktemp -d /tmp/concur-pprof.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT
# go wants writable caches; keep them out of $HOME (which CI may not set) and never go online.
export HOME=${HOME:-$tmp}
export GOPATH=$tmp/gopath GOCACHE=$tmp/gocache GOMODCACHE=$tmp/gopath/pkg/mod
export GOPROXY=off GOTOOLCHAIN=local GOFLAGS= PPROF_TMPDIR=$tmp/pprof
file=$tmp/fixture.pb.gz

if ! "$build/render-fixture" "$file"; then
	echo "FAIL: pprof: render-fixture could not write $file"
	exit 1
fi

pprof() {
	go tool pprof "$@" "$file" 2>"$tmp/stderr" || { cat "$tmp/stderr" >&2; return 1; }
}

# expect NAME GOT WANT
expect() {
	if [ "$2" = "$3" ]; then pass "$1 = $3"; else fail "$1: got '$2', want '$3'"; fi
}

# "Showing nodes accounting for 700ms, ..." -> 700ms: the total after filters.
accounted() {
	sed -n 's/^Showing nodes accounting for \([^,]*\),.*/\1/p'
}

# The flat value of the node named $1 in -top output.
flat_of() {
	awk -v fn="$1" '$NF == fn && NF == 6 { print $1 }'
}

# Every trace of -traces output as "label...|leaf;caller;...;root", one per line.
traces() {
	awk '
	/^-+\+/ { if (frames != "") print labels "|" frames; labels = frames = ""; body = 1; next }
	!body { next }	# the header: File, comments, Type...
	frames == "" && /:/ { line = $0; sub(/^ +/, "", line); labels = labels line " "; next }
	frames == "" { line = $0; sub(/^ +[^ ]+ +/, "", line); frames = line; next }
	{ line = $0; sub(/^ +/, "", line); frames = frames ";" line }'
}

top=$(pprof -top -nodecount=50 -unit=ms) || { fail "go tool pprof -top failed"; exit 1; }
expect "total time" "$(accounted <<<"$top")" "4350ms"
expect "burn_cpu flat" "$(flat_of burn_cpu <<<"$top")" "600ms"
expect "schedule flat (every off-CPU stack)" "$(flat_of schedule <<<"$top")" "3000ms"
expect "lock root cum" "$(awk '$NF == "lock" { print $4 }' <<<"$top")" "700ms"
expect "main cum" "$(awk '$NF == "main" { print $4 }' <<<"$top")" "4350ms"
grep -q '^Type: time$' <<<"$top" && pass "default sample type is time" ||
	fail "default sample type is not time"

lock=$(pprof -top -unit=ms -tagfocus=category=lock) || fail "-tagfocus=category=lock failed"
expect "tagfocus category=lock" "$(accounted <<<"$lock")" "700ms"
cpu=$(pprof -top -unit=ms -tagfocus=category=cpu) || fail "-tagfocus=category=cpu failed"
expect "tagfocus category=cpu" "$(accounted <<<"$cpu")" "1350ms"
child=$(pprof -top -unit=ms -tagfocus=pid=200) || fail "-tagfocus=pid=200 failed"
expect "tagfocus pid=200" "$(accounted <<<"$child")" "750ms"
samples=$(pprof -top -sample_index=samples) || fail "-sample_index=samples failed"
expect "samples" "$(accounted <<<"$samples")" "184"

tr=$(pprof -traces | traces) || { fail "go tool pprof -traces failed"; tr=; }
expect "traces" "$(wc -l <<<"$tr")" "7"
want_lock="schedule;futex_wait;__lll_lock_wait;wait_on_lock;handle_request;main;lock"
grep -q "category: *lock .*|$want_lock\$" <<<"$tr" && pass "lock trace leaf first: $want_lock" ||
	fail "no lock trace $want_lock in: $tr"
grep -q "thread: *worker \"1\" .*|burn_cpu;handle_request;main;cpu\$" <<<"$tr" &&
	pass "cpu trace of thread 'worker \"1\"'" || fail "no burn_cpu trace of worker \"1\" in: $tr"
grep -q "pid: *200 .*|\[unknown\];main;cpu\$" <<<"$tr" && pass "unknown frame trace of pid 200" ||
	fail "no [unknown] trace for pid 200 in: $tr"

# -top shortens C++-looking names ("parse_<...>" shows as "parse_"); -raw keeps the bytes.
raw=$(pprof -raw) || fail "go tool pprof -raw failed"
grep -qaF 'parse_<img src=x onerror=alert(1)>' <<<"$raw" && pass "hostile name kept byte-exact" ||
	fail "the name parse_<img src=x onerror=alert(1)> is missing from -raw"

# Python frames: pprof's own function, file and line (not "name (file:line)" as one name).
file=$tmp/python.pb.gz
if "$build/render-fixture" --python "$file"; then
	lines=$(pprof -top -lines -unit=ms) || fail "go tool pprof -top -lines failed"
	for want in "compute /srv/app.py:30" "main /srv/app.py:12" "parse_rows /srv/etl.py:88" \
		"Thread.run /usr/lib/python3.11/threading.py:982"; do
		grep -qF " $want" <<<"$lines" && pass "-lines: $want" || fail "-lines: no '$want' in: $lines"
	done
	expect "compute at line 30 cum" "$(awk '$6 == "compute" && $7 == "/srv/app.py:30" { print $4 }' <<<"$lines")" "400ms"
	tr=$(pprof -traces | traces) || { fail "go tool pprof -traces failed"; tr=; }
	want_gil="schedule;__futex_abstimed_wait_common;\[GIL\] take_gil;compute;main;lock"
	grep -q "category: *lock .*|$want_gil\$" <<<"$tr" && pass "GIL wait trace: $want_gil" ||
		fail "no GIL wait trace $want_gil in: $tr"
else
	fail "render-fixture --python could not write $file"
fi

if [ "$failures" -ne 0 ]; then
	echo "FAIL: pprof: $failures check(s) failed"
	exit 1
fi
echo "PASS: pprof: all checks"
