#!/bin/sh
# The libvirt backend and signals: SIGINT during a run leaves no domain and
# no QEMU at once; after a SIGKILL of the harness (its QEMU lives on, as
# libvirt daemonizes it) the next run removes what the dead run left, and
# says so.
. "${HH_SRCDIR:-.}/tests/lib.sh"

check "the stock kernel is built" "$HH" kernel build --no-patches --quiet

# qemu processes of the run whose id the harness printed in $1.
run_id_of() {
	sed -n 's/^run \([0-9a-f-]*\): .*/\1/p' "$1" | head -n 1
}
qemu_of_run() {
	[ -n "$1" ] && pgrep -f "[q]emu-system-x86_64 .*guest=hh-$1"
}
no_qemu_of_run() {
	! qemu_of_run "$1" >/dev/null
}
start_run() {
	"$HH" run --quiet --backend libvirt --boot cold --boot-timeout 600 \
		--matrix configs/check.matrix --results "$tmp/results" -j 2 --only 'stock/mem2g-of-3g/*' \
		>"$tmp/$1.ktap" 2>"$tmp/$1.err" &
	pid=$!
	wait_for 120 grep -q '^run ' "$tmp/$1.err"
	id=$(run_id_of "$tmp/$1.err")
}

start_run int
if wait_for 120 qemu_of_run "$id"; then
	ok "a libvirt guest started (run $id)"
else
	not_ok "a libvirt guest started" "$(tail -n 20 "$tmp/int.err")"
fi
kill -INT "$pid"
t0=$(date +%s%N)
wait "$pid"
status=$?
# Not a speed target: a harness that hangs on its way out (a deadlock
# between libvirt's event loop and a destroy once took 240 s) fails.
waited=$((($(date +%s%N) - t0) / 1000000))
if [ "$waited" -lt 30000 ]; then
	ok "harness is gone ${waited} ms after SIGINT (no hang)"
else
	not_ok "harness is gone within 30 s of SIGINT (no hang)" "it took $waited ms"
fi
if [ "$status" -eq 130 ]; then
	ok "harness exits 130 after SIGINT"
else
	not_ok "harness exits 130 after SIGINT" "exit status $status" \
		"$(tail -n 20 "$tmp/int.err")"
fi
if wait_for 5 no_qemu_of_run "$id"; then
	ms=$((($(date +%s%N) - t0) / 1000000))
	ok "no qemu of the run is left ${ms} ms after SIGINT"
else
	not_ok "no qemu of the run is left 5 s after SIGINT" "$(qemu_of_run "$id")"
	pkill -9 -f "[q]emu-system-x86_64 .*guest=hh-$id"
fi

# A guest that runs (its console has output), not one libvirt is still
# starting: libvirt itself kills those when the root is opened again.
guest_runs() {
	qemu_of_run "$id" >/dev/null &&
		[ -n "$(find "$tmp/results/$id" -name console.log -size +0 2>/dev/null)" ]
}
start_run kill
if wait_for 120 guest_runs; then
	ok "a libvirt guest started (run $id)"
else
	not_ok "a libvirt guest started" "$(tail -n 20 "$tmp/kill.err")"
fi
kill -KILL "$pid"
wait "$pid" 2>/dev/null
sleep 0.5
if qemu_of_run "$id" >/dev/null; then
	ok "after SIGKILL the dead run's qemu is still there (libvirt daemonized it)"
else
	ok "after SIGKILL the dead run's qemu is gone already # SKIP nothing left to reap"
fi
dead=$id
"$HH" run --quiet --backend libvirt --results "$tmp/results" --matrix configs/check.matrix \
	--only 'stock/mem2g-of-3g/boot-clean' >"$tmp/next.ktap" 2>"$tmp/next.err"
check "the next run passes" grep -q '^ok 1 ' "$tmp/next.ktap"
if grep -q "hh-$dead.*left running by a harness that was killed" "$tmp/next.err"; then
	ok "the next run says it removed the dead run's guests"
else
	not_ok "the next run says it removed the dead run's guests" \
		"$(head -n 20 "$tmp/next.err")"
fi
if wait_for 5 no_qemu_of_run "$dead"; then
	ok "no qemu of the killed run is left"
else
	not_ok "no qemu of the killed run is left" "$(qemu_of_run "$dead")"
	pkill -9 -f "[q]emu-system-x86_64 .*guest=hh-$dead"
fi
echo "1..$tap_n"
