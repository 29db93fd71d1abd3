#!/bin/sh
# Fault catalogue items 4-6 (docs/reliability.md), injected from inside
# the guest by tests/hh-agent-faulty (the agent plus a fault chosen by
# the variant's kernel command line, hh.fault=...):
#   4  the guest never reaches the agent: /init is not a program
#   5  the agent dies inside the guest in the middle of a step
#   6  a hostile agent on the control port (a 1 MiB line and binary junk,
#      half a frame then silence, a frame whose field length lies) and a
#      guest flooding the kernel log; the harness's peak RSS is measured
# Each gives its verdict and text, leaves no qemu and keeps every cell.
. "${HH_SRCDIR:-.}/tests/lib.sh"

faulty="${HH_BUILDDIR:-.}/tests/hh-agent-faulty"
if [ ! -x "$faulty" ]; then
	echo "1..0 # SKIP $faulty not built (make check builds it)"
	exit 0
fi
check "the stock kernel is built" "$HH" kernel build --no-patches --quiet
fault_datadir
for f in die:8 garbage half lie flood; do
	name=fault-${f%%:*}
	sed -e "s/^cmdline=.*/& hh.fault=$f/" \
		"$HH_DATADIR/configs/variants/smp2-maxcpus1.variant" \
		>"$HH_DATADIR/configs/variants/$name.variant"
done
fault_scenario fault-step "run timeout=60s sleep 20"
fault_matrix() { # VARIANTS
	cat <<M
[matrix]
kernels=stock
variants=$1
scenarios=fault-step
[kernel stock]
source=default
patches=none
M
}
fault_matrix "smp2-maxcpus1;fault-die;fault-garbage;fault-half;fault-lie" \
	>"$tmp/a.matrix"
fault_matrix "fault-flood" >"$tmp/flood.matrix"
fault_matrix "smp2-maxcpus1" >"$tmp/noinit.matrix"

expect_result() { # RESULTS VARIANT VERDICT REASON-REGEX
	expect_verdict "$(run_dir_of "$1")/stock/$2/fault-step/result.json" \
		"$2" "$3" "$4"
}

# Items 5 and 6 (control port): five cells, two at a time.
res="$tmp/a"
HH_AGENT=$faulty "$HH" run --quiet --keep-going --boot cold -j 2 \
	--boot-timeout 20 --matrix "$tmp/a.matrix" --results "$res" \
	>/dev/null 2>"$tmp/stderr"
expect_exit 1 $? "the run with the faulty agents ends with status 1"
check_no_qemu "faulty agents"
expect_result "$res" smp2-maxcpus1 pass ''
expect_result "$res" fault-die crash \
	'^kernel: Kernel panic - not syncing: Attempted to kill init!'
expect_result "$res" fault-garbage error \
	'^boot: guest agent: malformed data on control port: bad frame magic'
expect_result "$res" fault-half timeout '^boot: '
expect_result "$res" fault-lie error \
	'^boot: guest agent: malformed data on control port: field runs past the end of its frame'
check_archived "$res" stock/smp2-maxcpus1/fault-step stock/fault-die/fault-step \
	stock/fault-garbage/fault-step stock/fault-half/fault-step \
	stock/fault-lie/fault-step

# Item 6, kernel log flood: the harness's memory stays bounded.
res="$tmp/flood"
HH_AGENT=$faulty "$HH" run --quiet --keep-going --boot cold -j 1 \
	--matrix "$tmp/flood.matrix" --results "$res" >/dev/null 2>"$tmp/stderr" &
pid=$!
hwm=0
while kill -0 "$pid" 2>/dev/null; do
	h=$(sed -n 's/^VmHWM:[^0-9]*\([0-9]*\).*/\1/p' "/proc/$pid/status" 2>/dev/null)
	[ -n "$h" ] && [ "$h" -gt "$hwm" ] && hwm=$h
	sleep 0.5
done
wait "$pid"
echo "# flood: harness exit $?, peak RSS $hwm kB"
check_no_qemu "flood"
cell="$(run_dir_of "$res")/stock/fault-flood/fault-step"
records=$(wc -l <"$cell/kmsg.log")
bytes=$(wc -c <"$cell/kmsg.log")
echo "# flood: kmsg.log $records lines, $bytes bytes"
v=$(json_str "$cell/result.json" status)
why=$(json_str "$cell/result.json" reason)
in_range "$records" 10000 999999999 \
	"fault-flood: the guest flooded the log ($records records kept): $v: $why" \
	"fault-flood: the guest flooded the log (records)"
# The kept log is bounded at 64 MiB; the rest of the harness is small.
in_range "$hwm" 1 262143 \
	"fault-flood: the harness's peak RSS stayed at $hwm kB (< 256 MiB)" \
	"fault-flood: the harness's peak RSS stayed under 256 MiB (kB)"
check_archived "$res" stock/fault-flood/fault-step

# Item 4: /init is not a program, so the guest never reaches the agent.
printf '#!/nonexistent/interpreter\n' >"$tmp/not-an-agent"
res="$tmp/noinit"
HH_AGENT="$tmp/not-an-agent" "$HH" run --quiet --keep-going --boot cold \
	-j 1 --boot-timeout 20 --matrix "$tmp/noinit.matrix" --results "$res" \
	>/dev/null 2>"$tmp/stderr"
expect_exit 1 $? "the run without init ends with status 1"
check_no_qemu "no init"
expect_result "$res" smp2-maxcpus1 timeout \
	'^boot: guest agent did not answer SYNC within 20000 ms \(console: Failed to execute /init'
check_archived "$res" stock/smp2-maxcpus1/fault-step
echo "1..$tap_n"
