#!/bin/sh
# Fault catalogue item 7 (docs/reliability.md): the harness gets SIGTERM
# or SIGHUP in the middle of a run: it exits 128+N at once, no qemu is
# left, the cells that finished are archived and on disk, the run is
# recorded as not complete, and 'run --resume' finishes it.  (SIGKILL:
# tests/kill-resume.sh; SIGINT: tests/sigint-no-orphan.sh.)
. "${HH_SRCDIR:-.}/tests/lib.sh"

check "the stock kernel is built" "$HH" kernel build --no-patches --quiet
for sn in TERM:15 HUP:1; do
	sig=${sn%:*}
	num=${sn#*:}
	res="$tmp/$sig"
	start_three_cells "$res"
	first() { ls "$(run_dir_of "$res")"/stock/*/*/result.json; }
	if wait_for 300 first; then
		done_cell=$(first | head -n 1 | sed "s|^$(run_dir_of "$res")/||; s|/result.json$||")
		# The second cell is booting or running now.
		sleep 2
		kill "-$sig" "$pid"
		t0=$(date +%s%N)
		wait "$pid"
		status=$?
		t1=$(date +%s%N)
		expect_exit $((128 + num)) "$status" \
			"SIG$sig: the harness exits $((128 + num)) after $(( (t1 - t0) / 1000000 )) ms"
	else
		not_ok "SIG$sig: the first cell finished" "$(tail -n 5 "$tmp/stderr")"
		kill "$pid"
		wait "$pid"
	fi
	check_no_qemu "SIG$sig"
	check_archived "$res" "$done_cell"
	grep -q "error .*interrupted by signal $num" "$tmp/stderr"
	check "SIG$sig: the cell it stopped says so" test $? -eq 0
	check "SIG$sig: the run is recorded as incomplete" \
		sh -c "'$HH' results list --results '$res' | grep -q ' incomplete$'"
	id=$(basename "$(run_dir_of "$res")")
	check "SIG$sig: run --resume finishes the run" \
		"$HH" run --quiet --keep-going --resume "$id" --results "$res"
	check "SIG$sig: the resumed run is complete" \
		sh -c "'$HH' results list --results '$res' | grep -q ' complete$'"
done
echo "1..$tap_n"
