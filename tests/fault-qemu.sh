#!/bin/sh
# Fault catalogue items 1-3 (docs/reliability.md): QEMU killed (SIGKILL)
# in the middle of a step, QEMU stopped (SIGSTOP) in the middle of a step,
# the guest panicking in the middle of a step.  One run of four cells,
# one at a time: a clean cell first, then one per fault.  Each fault
# must give its verdict and text, leave no qemu, and keep every cell.
. "${HH_SRCDIR:-.}/tests/lib.sh"

check "the stock kernel is built" "$HH" kernel build --no-patches --quiet
fault_datadir
fault_scenario fault-kill "variants smp2-maxcpus1" "run timeout=60s sleep 50"
fault_scenario fault-stop "variants smp2-maxcpus1" "run timeout=12s sleep 6"
fault_scenario fault-panic "variants smp2-maxcpus1" \
	"requires path /sys/kernel/debug/provoke-crash/DIRECT" \
	"write /sys/kernel/debug/provoke-crash/DIRECT PANIC"
cat >"$tmp/fault.matrix" <<'M'
[matrix]
kernels=stock
variants=smp2-maxcpus1
scenarios=boot-clean;fault-kill;fault-stop;fault-panic
[kernel stock]
source=default
patches=none
M
results="$tmp/results"
"$HH" run --quiet --keep-going --boot cold -j 1 --matrix "$tmp/fault.matrix" \
	--results "$results" >/dev/null 2>"$tmp/stderr" &
pid=$!

cells() { echo "$(run_dir_of "$results")/stock/smp2-maxcpus1"; }
in_step() { grep -q "EXEC sleep" "$(cells)/$1/agent.log" 2>/dev/null; }

# inject SIGNAL CELL: the signal to the cell's qemu once its "sleep" runs.
inject() {
	if wait_for 300 in_step "$2"; then
		q=$(qemu_of_cell "$(cells)/$2")
		kill "-$1" "$q"
		ok "$2: qemu $q got SIG$1 in the middle of its step"
	else
		not_ok "$2: the step started" "$(tail -n 5 "$tmp/stderr")"
	fi
}
inject KILL fault-kill	# 1: while "sleep 50" runs in the guest
inject STOP fault-stop	# 2: while "sleep 6" runs (timeout 12 s)
wait "$pid"
expect_exit 1 $? "the run ends with status 1 (cells failed)"
check_no_qemu

c=$(cells)
expect_result() { expect_verdict "$c/$1/result.json" "$@"; }
expect_result boot-clean pass ''
expect_result fault-kill error \
	'^line 2: run .*: qemu exited during step 1 \(line 2\): killed by signal 9 \(SIGKILL\)'
expect_result fault-stop timeout \
	'^line 2: run timeout=12s sleep 6: guest agent did not answer EXEC'
expect_result fault-panic crash 'Kernel panic - not syncing'

# Item 2's figures: the hang is reported within the step's timeout plus
# 5 s, and the unresponsive qemu is gone within 5 s after that.
python3 - "$c/fault-stop/result.json" >"$tmp/stop.txt" <<'P'
import json, sys
r = json.load(open(sys.argv[1]))
step = [s for s in r["steps"] if s.get("line") == 2][0]
print(step["ms"], r["durations_ms"]["shutdown"])
P
read -r step_ms shut_ms <"$tmp/stop.txt"
in_range "$step_ms" 0 17000 \
	"fault-stop: the hang was reported after $step_ms ms (timeout 12 s + 5 s)" \
	"fault-stop: the hang was reported within 17 s (ms)"
in_range "$shut_ms" 0 5000 \
	"fault-stop: the stopped qemu was gone $shut_ms ms later" \
	"fault-stop: the stopped qemu was gone within 5 s (ms)"
check_archived "$results" stock/smp2-maxcpus1/boot-clean \
	stock/smp2-maxcpus1/fault-kill stock/smp2-maxcpus1/fault-stop \
	stock/smp2-maxcpus1/fault-panic
echo "1..$tap_n"
