#!/bin/sh
# SIGINT to the harness while a guest boots leaves no qemu process behind,
# and the run is recorded as incomplete.
. "${HH_SRCDIR:-.}/tests/lib.sh"

results="$tmp/results"
# The kernel first (on a fresh machine it takes minutes), so that the
# signal lands while a guest boots, not while make runs.
check "the stock kernel is built" "$HH" kernel build --no-patches --quiet
# A boot timeout far beyond the test: only the signal can end this run.
"$HH" run --quiet --results "$results" --boot-timeout 600 -j 2 \
	--only 'stock/*' >"$tmp/ktap" 2>"$tmp/stderr" &
pid=$!

if wait_for 300 qemu_of_test; then
	ok "qemu started"
else
	not_ok "qemu started" "$(tail -n 20 "$tmp/stderr")"
fi
kill -INT "$pid"
wait "$pid"
status=$?
if [ "$status" -eq 130 ]; then
	ok "harness exits 130 after SIGINT"
else
	not_ok "harness exits 130 after SIGINT" "exit status $status" \
		"$(tail -n 20 "$tmp/stderr")"
fi
if wait_for 5 no_qemu_of_test; then
	ok "no qemu process is left"
else
	not_ok "no qemu process is left" "$(qemu_of_test)"
	pkill -9 -f "[q]emu-system-x86_64 .*$tmp"
fi
check "run.json says the run is incomplete" \
	sh -c "grep -q '\"complete\" : false' '$results'/*/run.json"
echo "1..$tap_n"
