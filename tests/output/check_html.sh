#!/usr/bin/env bash
# The HTML report read by its real reader: renders the synthetic fixture and a 100 000-stack
# profile to HTML and drives headless Chromium over them (check_html.mjs, with playwright-core
# from npm, installed here by `npm ci` when missing, and Debian's chromium).
# The fixture with a 127-frame stack (render-fixture --deep) checks the graph stays bounded;
# the fixture with GIL waits named as markup (--hostile-python) the GIL table's escaping; the
# recordings gil_waits and stalled_loop (tests/render/recordings) the GIL table and the stalled
# loop's advice against the JSON summary of the same recording.
# Usage: tests/output/check_html.sh BUILD_DIR
# Leaves a screenshot of the fixture's report in $CONCUR_HTML_SHOT (/tmp/concur-html.png).
set -uo pipefail

build=${1:?usage: $0 BUILD_DIR}
build=$(cd "$build" && pwd) || exit 1
here=$(cd "$(dirname "$0")" && pwd)
shot=${CONCUR_HTML_SHOT:-/tmp/concur-html.png}
export CHROMIUM=${CHROMIUM:-/usr/bin/chromium}

for tool in node npm "$CHROMIUM"; do
	if ! command -v "$tool" >/dev/null; then
		echo "FAIL: html: '$tool' not found (tools/install-deps.sh installs chromium, nodejs, npm)"
		exit 1
	fi
done
if [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
	echo "FAIL: html: playwright-core needs Node.js 20 or later, not $(node --version)"
	exit 1
fi
if [ ! -d "$here/node_modules/playwright-core" ]; then
	(cd "$here" && npm ci --no-audit --no-fund --loglevel=error) || {
		echo "FAIL: html: npm ci in $here failed"
		exit 1
	}
fi

tmp=$(mktemp -d /tmp/concur-html.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT
export HOME=${HOME:-$tmp}
if ! "$build/render-fixture" "$tmp/fixture.html"; then
	echo "FAIL: html: render-fixture could not write $tmp/fixture.html"
	exit 1
fi
if ! "$build/render-fixture" --deep "$tmp/deep.html"; then
	echo "FAIL: html: render-fixture --deep could not write $tmp/deep.html"
	exit 1
fi
if ! "$build/big-fixture" "$tmp/big.html" 100000; then
	echo "FAIL: html: big-fixture could not write $tmp/big.html"
	exit 1
fi
echo "html: big report $(($(stat -c %s "$tmp/big.html") / 1024)) KiB for 100000 stacks"
if ! "$build/render-fixture" --hostile-python "$tmp/hostile-gil.html"; then
	echo "FAIL: html: render-fixture --hostile-python could not write $tmp/hostile-gil.html"
	exit 1
fi
# Real recordings: the HTML with the JSON summary of the same recording, which the page's
# GIL table and stalled-loop advice must agree with.
for rec in gil gil_waits stalled_loop; do
	if ! "$build/concur" report -q "$here/../render/recordings/$rec.concur" \
		-o "$tmp/$rec.html" -o "$tmp/$rec.json"; then
		echo "FAIL: html: concur report could not render $rec.concur"
		exit 1
	fi
done
node "$here/check_html.mjs" "$tmp/fixture.html" "$tmp/big.html" "$shot" "$tmp/deep.html" \
	"$tmp/gil.html" "$tmp/hostile-gil.html" "$tmp/gil_waits.html" "$tmp/gil_waits.json" \
	"$tmp/stalled_loop.html" "$tmp/stalled_loop.json"
