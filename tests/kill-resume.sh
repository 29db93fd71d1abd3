#!/bin/sh
# SIGKILL of the harness mid-run: no qemu survives it (PR_SET_PDEATHSIG),
# the archive keeps every cell that had finished and the run stays
# incomplete; 'run --resume' then runs only the missing cells and
# completes it.
. "${HH_SRCDIR:-.}/tests/lib.sh"

results="$tmp/results"
check "the stock kernel is built" "$HH" kernel build --no-patches --quiet
# Cold boots one at a time: slow enough to be killed half way.
"$HH" run --quiet --keep-going --boot cold -j 1 --matrix configs/check.matrix \
	--only 'stock/smp2-maxcpus1/*' --only 'stock/smp4-maxcpus1/*' \
	--results "$results" >/dev/null 2>"$tmp/stderr" &
pid=$!

run_id() { ls "$results" | grep -v -e latest -e archive | head -n 1; }
archived() {
	"$HH" results show "$(run_id)" --results "$results" 2>/dev/null |
		grep -cv '^ '
}
two_done() { [ "$(archived)" -ge 2 ]; }

if wait_for 300 two_done; then
	ok "two cells finished and were archived"
else
	not_ok "two cells finished and were archived" "$(tail -n 5 "$tmp/stderr")"
fi
kill -KILL "$pid"
wait "$pid" 2>/dev/null
if wait_for 5 no_qemu_of_test; then
	ok "no qemu survives the harness's SIGKILL"
else
	not_ok "no qemu survives the harness's SIGKILL" "$(qemu_of_test)"
	pkill -9 -f "[q]emu-system-x86_64 .*$tmp"
fi
before=$(archived)
check "the killed run is listed as not complete" \
	sh -c "'$HH' results list --results '$results' | grep -q 'running or killed$'"
if [ "$before" -ge 2 ] && [ "$before" -lt 5 ]; then
	ok "the archive kept the $before finished cell(s) of 5"
else
	not_ok "the archive kept the finished cells" "$before archived"
fi
check "run --resume runs the rest and succeeds" \
	"$HH" run --quiet --keep-going --resume "$(run_id)" --results "$results"
check "the resumed run is complete" \
	sh -c "'$HH' results list --results '$results' | grep -q ' complete$'"
after=$(archived)
if [ "$after" -eq 5 ]; then
	ok "all 5 cells are archived once"
else
	not_ok "all 5 cells are archived once" "$after archived"
fi
json="$results/$(run_id)/run.json"
if grep -q '"total" : 5' "$json" && grep -q '"complete" : true' "$json" &&
	[ "$(grep -c '"name" : "stock/' "$json")" -eq 5 ]; then
	ok "the resumed run's run.json lists all 5 cells, complete"
else
	not_ok "the resumed run's run.json lists all 5 cells, complete" \
		"$(head -n 40 "$json")"
fi
echo "1..$tap_n"
