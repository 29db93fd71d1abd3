#!/bin/sh
# The HTML report in a real browser: headless Chromium loads the report
# of a real run, the heat map shows every cell in its verdict's colour,
# a cell link followed from the rendered page leads to a page with the
# SVG timeline, the highlighted kernel log and the agent transcript.
# Screenshots are kept beside the test's log (tests/report-html-*.png).
. "${HH_SRCDIR:-.}/tests/lib.sh"

browser=
for b in chromium chromium-browser google-chrome; do
	command -v "$b" >/dev/null 2>&1 && browser=$b && break
done
if [ -z "$browser" ]; then
	echo "1..0 # SKIP no Chromium (Debian package chromium; scripts/install-deps installs it)"
	exit 0
fi
shots="${HH_BUILDDIR:-.}/tests"
results="$tmp/results"

# Chromium as root needs --no-sandbox; its profile goes to the temp dir.
chrome() {
	timeout 120 "$browser" --headless --no-sandbox --disable-gpu \
		--hide-scrollbars --user-data-dir="$tmp/profile" \
		--window-size=1200,1000 "$@" 2>>"$tmp/chrome.err"
}

check "a run of the default matrix" "$HH" run --quiet --keep-going \
	--matrix configs/default.matrix --results "$results"
check "its HTML report" "$HH" report --results "$results" -o "$tmp/report"

chrome --dump-dom "file://$tmp/report/index.html" >"$tmp/index.dom"
cells=$(grep -o '<td class="v [a-z]*"><a class="[a-z]*" href="cells/[^"]*"' \
	"$tmp/index.dom" | wc -l)
pass=$(grep -o '<td class="v pass"><a class="pass" href="cells/' \
	"$tmp/index.dom" | wc -l)
if [ "$cells" -eq 3 ] && [ "$pass" -eq 3 ] &&
	grep -q '<table class="heat">' "$tmp/index.dom"; then
	ok "Chromium renders the heat map: 3 cells, 3 green"
else
	not_ok "Chromium renders the heat map: 3 cells, 3 green" \
		"cells $cells, pass $pass" "$(tail -n 3 "$tmp/chrome.err")"
fi

# Follow the first cell link of the rendered page.
href=$(grep -o 'href="cells/[^"]*"' "$tmp/index.dom" | head -n 1 |
	sed 's/^href="//; s/"$//')
chrome --dump-dom "file://$tmp/report/$href" >"$tmp/cell.dom"
if [ -n "$href" ] && grep -q '<svg id="timeline"' "$tmp/cell.dom" &&
	grep -q '<rect ' "$tmp/cell.dom" &&
	grep -q 'class="mark" id="step-1"' "$tmp/cell.dom" &&
	grep -q '<pre id="agent">' "$tmp/cell.dom" &&
	grep -q '<pre id="rerun">hotplug-harness run' "$tmp/cell.dom"; then
	ok "the cell link leads to its page: timeline, marked log, transcript, re-run"
else
	not_ok "the cell link leads to its page: timeline, marked log, transcript, re-run" \
		"href '$href'" "$(head -c 600 "$tmp/cell.dom")"
fi

# Every phase of the cell on its timeline, not just boot, steps, shutdown.
if grep -q '<title>start: [0-9]* ms</title>' "$tmp/cell.dom" &&
	grep -Eq '<title>(boot|restore): [0-9]* ms</title>' "$tmp/cell.dom" &&
	grep -q '<title>analyse: [0-9]* ms</title>' "$tmp/cell.dom" &&
	grep -q '"phases"' "$results"/latest/*/*/*/result.json; then
	ok "the cell's timeline draws every phase of result.json (start, boot, ..., analyse)"
else
	not_ok "the cell's timeline draws every phase of result.json" \
		"$(grep -o '<title>[^<]*</title>' "$tmp/cell.dom" | head -n 12)"
fi

chrome --screenshot="$shots/report-html-index.png" "file://$tmp/report/index.html" \
	>/dev/null
chrome --window-size=1200,1400 --screenshot="$shots/report-html-cell.png" \
	"file://$tmp/report/$href" >/dev/null
if [ -s "$shots/report-html-index.png" ] && [ -s "$shots/report-html-cell.png" ]; then
	ok "screenshots saved: $shots/report-html-index.png, report-html-cell.png"
else
	not_ok "screenshots saved" "$(tail -n 3 "$tmp/chrome.err")"
fi

echo "1..$tap_n"
[ "$tap_failed" -eq 0 ]
