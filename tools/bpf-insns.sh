#!/usr/bin/env bash
# Prints the instructions in each BPF program of the given objects, from the ELF symbol table,
# without loading anything: a function's size / 8 (a 64-bit immediate load counts twice, as
# the kernel's own count does). The verifier's 1 000 000 limit applies to the paths it walks,
# not to this count, but a change that grows a program shows here first.
#   tools/bpf-insns.sh build/concur.bpf.o
# Programs are global functions; a static function left out of line is a subprogram ("sub"),
# which libbpf appends to each program that calls it.
set -euo pipefail

READELF=${READELF:-readelf}
[ $# -gt 0 ] || { echo "usage: $0 OBJECT.bpf.o..." >&2; exit 2; }

for obj in "$@"; do
	[ -r "$obj" ] || { echo "bpf-insns: cannot read $obj" >&2; exit 1; }
	# binutils readelf warns about bpftool-linked objects (locals after the globals); the
	# tables it prints are right.
	{ "$READELF" -SW "$obj"; "$READELF" -sW "$obj"; } \
		2> >(grep -v 'Warning: local symbol' >&2) |
	awk -v obj="$obj" '
		# Section headers: "[Nr] Name Type ...", the name possibly holding no spaces.
		/^ *\[ *[0-9]+\]/ {
			line = $0
			sub(/^ *\[ */, "", line)
			nr = line; sub(/\].*/, "", nr)
			name = line; sub(/^[0-9]+\] +/, "", name); sub(/ .*/, "", name)
			sec[nr + 0] = name
			next
		}
		# Symbols: Num: Value Size Type Bind Vis Ndx Name
		$4 == "FUNC" && $7 ~ /^[0-9]+$/ {
			kind = $5 == "GLOBAL" ? "prog" : "sub"
			rows[++n] = sprintf("%-18s %-4s %-28s %6d", $8, kind, sec[$7 + 0], $3 / 8)
			total += $3 / 8
		}
		END {
			printf "%s\n%-18s %-4s %-28s %6s\n", obj, "function", "kind", "section",
				"insns"
			for (i = 1; i <= n; i++)
				print rows[i]
			printf "%-18s %-4s %-28s %6d\n", "total", "", "", total
		}'
done
