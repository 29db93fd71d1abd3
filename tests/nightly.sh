#!/bin/sh
# The nightly job end to end: a first nightly is the baseline, a second
# one reports no regression, a third with a deliberately broken cell
# reports it as a regression and exits 1, a fourth where a crash is no
# longer expected reports a new crash title.  Known failures never fail
# the job; reports land in RUN/report.
. "${HH_SRCDIR:-.}/tests/lib.sh"

data="$tmp/data"
results="$tmp/results"
mkdir -p "$data"
cp -R "$HH_SRCDIR/configs" "$HH_SRCDIR/kernel-patches" "$data/"
matrix="$data/configs/nightly-test.matrix"
cat >"$matrix" <<'EOM'
[matrix]
kernels=stock;emu
variants=emu-mem2g-possible4;smp2-maxcpus1;mem2g-of-3g
scenarios=emu-walkthrough;sysfs-probe-online;selftest-crash-detected
exclude=stock/emu-*/*;stock/*/emu-*;emu/mem2g-of-3g/*;*/smp2-maxcpus1/sysfs-*

[kernel stock]
source=default
patches=none

[kernel emu]
source=default
patches=kernel-patches/6.1
EOM
HH_DATADIR="$data"
export HH_DATADIR

nightly() {
	# nightly N: runs it, keeps stdout and stderr, returns its status
	"$HH" nightly --quiet --torture-time 0 --matrix "$matrix" --results "$results" \
		>"$tmp/out$1" 2>"$tmp/err$1"
}
latest_report() { echo "$results/$(readlink "$results/latest")/report"; }

nightly 1
code=$?
if [ "$code" -eq 0 ] && grep -q "nothing to compare with" "$tmp/out1"; then
	ok "the first nightly passes and becomes the baseline"
else
	not_ok "the first nightly passes and becomes the baseline" \
		"exit $code" "$(tail -n 5 "$tmp/err1")" "$(tail -n 3 "$tmp/out1")"
fi
rep=$(latest_report)
missing=
for f in index.html history.html junit.xml kcidb.json results.ktap; do
	[ -s "$rep/$f" ] || missing="$missing $f"
done
if [ -z "$missing" ]; then
	ok "the nightly wrote every report into RUN/report"
else
	not_ok "the nightly wrote every report into RUN/report" "missing:$missing"
fi

nightly 2
code=$?
if [ "$code" -eq 0 ] &&
	grep -q "0 regression(s).*; 0 new crash title(s)" "$tmp/out2"; then
	ok "a second nightly finds no regression and exits 0"
else
	not_ok "a second nightly finds no regression and exits 0" \
		"exit $code" "$(cat "$tmp/out2")"
fi

# Break one cell: the node's MemTotal can never be one kB more.
sed -i 's/^node 1 memtotal 131072kB$/node 1 memtotal 131073kB/' \
	"$data/configs/scenarios/emu-walkthrough.scenario"
nightly 3
code=$?
rep=$(latest_report)
if [ "$code" -eq 1 ] &&
	grep -A1 "^regression (1):" "$tmp/out3" |
		grep -q "emu/emu-mem2g-possible4/emu-walkthrough: pass pass -> fail fail"; then
	ok "a broken cell is a regression and the nightly exits 1"
else
	not_ok "a broken cell is a regression and the nightly exits 1" \
		"exit $code" "$(cat "$tmp/out3")"
fi
if grep -q '"bad" : true' "$rep/compare.json" &&
	grep -q 'type="regression"' "$rep/compare-junit.xml"; then
	ok "compare.json and compare-junit.xml carry the regression"
else
	not_ok "compare.json and compare-junit.xml carry the regression" \
		"$(head -n 20 "$rep/compare.json")"
fi

# Still broken: a known failure, not a new one; the nightly exits 0.
nightly 4
code=$?
if [ "$code" -eq 0 ] && grep -q "^still failing (1):" "$tmp/out4"; then
	ok "a failure already known does not fail the next nightly"
else
	not_ok "a failure already known does not fail the next nightly" \
		"exit $code" "$(cat "$tmp/out4")"
fi

# A crash that is no longer expected: a new crash title.
sed -i 's/^node 1 memtotal 131073kB$/node 1 memtotal 131072kB/' \
	"$data/configs/scenarios/emu-walkthrough.scenario"
sed -i '/^expect-crash /d' \
	"$data/configs/scenarios/selftest-crash-detected.scenario"
nightly 5
code=$?
if [ "$code" -eq 1 ] && grep -q "^new crash titles (1):" "$tmp/out5" &&
	grep -A1 "^new crash titles" "$tmp/out5" | grep -q "WARNING in lkdtm_WARNING" &&
	grep -q "^fix (1):" "$tmp/out5"; then
	ok "an unexpected crash is a new crash title, the fixed cell a fix"
else
	not_ok "an unexpected crash is a new crash title, the fixed cell a fix" \
		"exit $code" "$(cat "$tmp/out5")"
fi
runs=$("$HH" results list --results "$results" | grep -c ' complete$')
if [ "$runs" -eq 5 ]; then
	ok "the archive holds the five complete nightly runs"
else
	not_ok "the archive holds the five complete nightly runs" \
		"$("$HH" results list --results "$results")"
fi

echo "1..$tap_n"
[ "$tap_failed" -eq 0 ]
