#!/bin/sh
# Hotplug torture against a planted bug (make check-torture; about 5
# minutes with the kernels cached, each kernel 8 to 9 minutes to build
# the first time).  The planted kernel is the emulator series plus
# tests/data/planted/offline-movable-node2.patch: offlining a ZONE_MOVABLE
# block of node 2 fails with EBUSY, where the model says it must succeed.
#
#  1. the good kernel survives the fixed seed's operations: nothing found
#     (the model does not cry wolf on these operations);
#  2. the planted kernel, same seed: the bug is found within that many
#     operations, shrunk to at most 5, written as a scenario;
#  3. that scenario, run as an ordinary cell by 'run', fails on the
#     planted kernel and passes on the good one.
. "${HH_SRCDIR:-.}/tests/lib.sh"

SEED=62
OPS=40
results="$tmp/results"
data="$tmp/data"
mkdir -p "$data"
cp -R "$HH_SRCDIR/configs" "$data/"
ln -s "$HH_SRCDIR/kernel-patches" "$data/kernel-patches"
mkdir -p "$data/tests/data"
cp -R "$HH_SRCDIR/tests/data/planted" "$data/tests/data/"
cp "$HH_SRCDIR/tests/torture-test.matrix" "$data/torture-test.matrix"
HH_DATADIR=$data
export HH_DATADIR

echo "1..9"

torture() {
	# torture KERNEL OUT: one episode of $OPS operations from seed $SEED
	kernel=$1
	out=$2
	shift 2
	"$HH" torture --matrix "$data/torture-test.matrix" --kernel "$kernel" \
		--seed "$SEED" --ops "$OPS" --episode "$OPS" --accel tcg \
		--repro-runs 2 --results "$results" \
		--scenario-dir "$data/configs/scenarios" "$@" \
		>"$tmp/$out.out" 2>"$tmp/$out.err"
}

# json FILE EXPR: a value of the torture summary
json() {
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

summary_of() {
	dir=$(sed -n 's/^torture \([0-9a-f-]*\): kernel .*results in \(.*\)$/\2/p' "$tmp/$1.err" | head -n 1)
	echo "$dir/torture.json"
}

t0=$(date +%s)
torture emu good
code=$?
good=$(summary_of good)
if [ "$code" -eq 0 ] && [ -f "$good" ] &&
	[ "$(json "$good" 'd["operations"] > 0 and not d["findings"]')" = True ]; then
	ok "good kernel: nothing found in $(json "$good" 'd["operations"]') operations from seed $SEED"
else
	not_ok "good kernel: nothing found from seed $SEED" "exit $code" "$(tail -n 20 "$tmp/good.err")"
fi

torture planted planted
code=$?
planted=$(summary_of planted)
if [ "$code" -eq 1 ] && [ -f "$planted" ] &&
	[ "$(json "$planted" 'len(d["findings"]) == 1')" = True ]; then
	ok "planted kernel: found after $(json "$planted" 'd["findings"][0]["failed_at"]') of at most $OPS operations"
else
	not_ok "planted kernel: the bug is found within $OPS operations" "exit $code" "$(tail -n 20 "$tmp/planted.err")"
fi

sig=$(json "$planted" 'd["findings"][0]["signature"]' 2>/dev/null)
case $sig in
*"/state offline -> ok"*) ok "the finding is the refused offline: $sig" ;;
*) not_ok "the finding is the refused offline" "signature: $sig" ;;
esac

shrunk=$(json "$planted" 'd["findings"][0]["shrunk_to"]' 2>/dev/null)
failed_at=$(json "$planted" 'd["findings"][0]["failed_at"]' 2>/dev/null)
if [ -n "$shrunk" ] && [ "$shrunk" -ge 1 ] && [ "$shrunk" -le 5 ] &&
	[ "$shrunk" -lt "$failed_at" ]; then
	ok "shrunk from $failed_at to $shrunk operations in $(json "$planted" 'd["findings"][0]["shrink_runs"]') runs"
else
	not_ok "shrunk to at most 5 operations" "shrunk_to: $shrunk of $failed_at"
fi

scenario=$(head -n 1 "$tmp/planted.out")
name=$(basename "$scenario" .scenario)
if [ -f "$scenario" ] && [ "$scenario" = "$data/configs/scenarios/$name.scenario" ] &&
	[ "$(grep -c '^# operation ' "$scenario")" = "$shrunk" ] &&
	grep -q "^#   hotplug-harness torture --kernel planted --variant torture-emu --seed $SEED " "$scenario"; then
	ok "scenario $name.scenario: $shrunk operations, the seed in its header"
else
	not_ok "a scenario with the shrunk operations and the seed" "stdout: $(cat "$tmp/planted.out")"
fi

if [ "$(json "$planted" 'd["findings"][0]["reproduced"]')" = 2 ]; then
	ok "the shrunk sequence failed in 2 of 2 re-runs (not flaky)"
else
	not_ok "the shrunk sequence fails in every re-run" "$(json "$planted" 'd["findings"][0]')"
fi

# The written scenario is an ordinary one: run reproduces it on the
# planted kernel and passes it on the good one.
cat >"$data/replay.matrix" <<EOM
[matrix]
kernels=emu;planted
variants=torture-emu
scenarios=$name

[kernel emu]
source=default
patches=kernel-patches/6.1

[kernel planted]
source=default
patches=kernel-patches/6.1
extra-patches=tests/data/planted/offline-movable-node2.patch
EOM
"$HH" run --matrix "$data/replay.matrix" --results "$tmp/replay" -j1 \
	--accel tcg --keep-going --no-report >"$tmp/replay.out" 2>"$tmp/replay.err"
code=$?
if grep -q "^not ok [0-9]* planted/torture-emu/$name" "$tmp/replay.out"; then
	ok "run: the scenario fails on the planted kernel"
else
	not_ok "run: the scenario fails on the planted kernel" "$(cat "$tmp/replay.out")" "$(tail -n 5 "$tmp/replay.err")"
fi
if grep -q "^ok [0-9]* emu/torture-emu/$name" "$tmp/replay.out" && [ "$code" -eq 1 ]; then
	ok "run: the scenario passes on the good kernel"
else
	not_ok "run: the scenario passes on the good kernel" "exit $code" "$(cat "$tmp/replay.out")"
fi

# Every torture run is in the archive, its seed and outcome in the label.
if "$HH" results list --results "$results" >"$tmp/list" 2>&1 &&
	grep -q "torture seed=$SEED .*found 1" "$tmp/list" &&
	grep -q "torture seed=$SEED .*nothing in" "$tmp/list"; then
	ok "both torture runs are archived with seed, rate and outcome"
else
	not_ok "torture runs archived" "$(cat "$tmp/list")"
fi
echo "# $(($(date +%s) - t0)) s"
[ "$tap_failed" -eq 0 ]
