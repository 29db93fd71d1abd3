#!/bin/sh
# The libvirt backend (embedded QEMU driver, no daemon) on a subset of the
# check matrix: every cell is one TAP line, and each must end with the
# same verdict as on the QEMU backend (the differential).
. "${HH_SRCDIR:-.}/tests/lib.sh"

# Sysfs probe, ACPI DIMM (libvirt's API and QMP passthrough), vCPU add,
# the emulator's node and CPU, boot-clean on several layouts.
subset="--only stock/mem2g-of-3g/sysfs-probe-* --only stock/numa2-memoryless-nocpu/*
--only stock/numa2-node1-512m/* --only stock/smp2-maxcpus1/cpu-offline-online
--only stock/mem1g-of-2g/boot-clean --only emu/emu-mem2g-possible4/emu-walkthrough
--only emu/emu-cpu-hpe/emu-cpu-probe-release --only emu/emu-node-and-cpu/diff-node-emulated"

# shellcheck disable=SC2086
"$HH" run --quiet --keep-going --matrix configs/check.matrix --backend libvirt \
	--results "$tmp/lv" $subset >"$tmp/lv.ktap" 2>"$tmp/lv.err"
lv_status=$?
# shellcheck disable=SC2086
"$HH" run --quiet --keep-going --matrix configs/check.matrix --backend qemu \
	--results "$tmp/qemu" $subset >"$tmp/qemu.ktap" 2>"$tmp/qemu.err"
qemu_status=$?

grep -E '^(not )?ok [0-9]+ ' "$tmp/lv.ktap" |
	sed -E 's/^(not )?ok [0-9]+ /\1ok - libvirt cell /' >"$tmp/cells"
cat "$tmp/cells"
tap_n=$(wc -l <"$tmp/cells")
tap_failed=$(grep -c '^not ok' "$tmp/cells")
if [ "$tap_n" -ge 12 ]; then
	ok "the libvirt subset has at least 12 cells ($tap_n)"
else
	not_ok "the libvirt subset has at least 12 cells" "it has $tap_n" \
		"$(tail -n 20 "$tmp/lv.err")"
fi
if [ "$lv_status" -eq 0 ]; then
	ok "libvirt run exits 0"
else
	not_ok "libvirt run exits 0" "exit status $lv_status" \
		"$(tail -n 30 "$tmp/lv.err")"
fi
check "the run says it used the libvirt backend" \
	grep -q 'libvirt backend' "$tmp/lv.err"
skips=$(grep -c '# SKIP' "$tmp/lv.ktap")
if [ "$skips" -eq 0 ]; then
	ok "no cell is skipped on libvirt"
else
	not_ok "no cell is skipped on libvirt" "$(grep '# SKIP' "$tmp/lv.ktap")"
fi

# The differential: the same verdict for every cell on both backends.
verdicts() {
	for f in "$1"/2*/*/*/*/result.json; do
		cell=$(sed -n 's/^  "cell" : "\(.*\)",$/\1/p' "$f")
		status=$(sed -n 's/^  "status" : "\(.*\)",$/\1/p' "$f")
		echo "$cell $status"
	done | sort
}
verdicts "$tmp/lv" >"$tmp/lv.verdicts"
verdicts "$tmp/qemu" >"$tmp/qemu.verdicts"
if [ "$qemu_status" -eq 0 ] && [ -s "$tmp/lv.verdicts" ] &&
	diff "$tmp/qemu.verdicts" "$tmp/lv.verdicts" >"$tmp/diff"; then
	ok "every cell has the same verdict on qemu and libvirt ($(wc -l <"$tmp/lv.verdicts") cells)"
else
	not_ok "every cell has the same verdict on qemu and libvirt" \
		"qemu exit $qemu_status" "$(cat "$tmp/diff")"
fi

run_dir=$(find "$tmp/lv" -mindepth 1 -maxdepth 1 -type d -name '2*' | head -n 1)
cell="$run_dir/stock/numa2-memoryless-nocpu/acpi-dimm-memoryless-node"
check "a libvirt cell has domain.xml, libvirt.log, console and kernel log" \
	test -s "$cell/domain.xml" -a -s "$cell/libvirt.log" \
	-a -s "$cell/console.log" -a -s "$cell/kmsg.log"
check "result.json names the backend" \
	grep -q '"backend" : "libvirt"' "$cell/result.json"
check "the domain was named after the run and the cell" \
	grep -q "<name>hh-$(basename "$run_dir")-stock-numa2-memoryless-nocpu-acpi-dimm-memoryless-node</name>" \
	"$cell/domain.xml"
check "the DIMM into the memoryless node went through QMP passthrough" \
	grep -q 'virDomainQemuMonitorCommand .*device_add' "$cell/libvirt.log"
check "the DIMM into node 1 of numa2-node1-512m went through libvirt's API" \
	grep -q "virDomainAttachDeviceFlags <memory model='dimm'>" \
	"$run_dir/stock/numa2-node1-512m/acpi-dimm-remove/libvirt.log"
check "the vCPU went through virDomainSetVcpu" \
	grep -q 'virDomainSetVcpu 1 on' \
	"$run_dir/stock/numa2-node1-512m/acpi-vcpu-node1/libvirt.log"
check "the memoryless node went to QEMU as -numa (libvirt has no memoryless cell)" \
	grep -q "qemu:arg value=\"node,nodeid=1\"" "$cell/domain.xml"
check "cells restored from a libvirt snapshot" \
	grep -q '"boot" : "snapshot"' "$run_dir/stock/mem2g-of-3g/sysfs-probe-online/result.json"
if ! pgrep -f "[q]emu-system-x86_64 .*guest=hh-$(basename "$run_dir")" >"$tmp/left"; then
	ok "no qemu of the libvirt run is left"
else
	not_ok "no qemu of the libvirt run is left" "$(cat "$tmp/left")"
fi

# A restore that fails (QEMU killed as it starts) boots the cell cold.
HH_FAULT_KILL_RESTORE=1 "$HH" run --quiet --backend libvirt --keep-going \
	--matrix configs/check.matrix --results "$tmp/fault" \
	--only 'stock/mem2g-of-3g/sysfs-probe-*' >"$tmp/fault.ktap" 2>"$tmp/fault.err"
if [ "$(grep -c '^ok ' "$tmp/fault.ktap")" -eq 2 ] &&
	grep -q '"boot" : "cold (restore failed: ' "$tmp"/fault/2*/stock/mem2g-of-3g/sysfs-probe-online/result.json; then
	ok "a failed libvirt restore falls back to a cold boot and the cells pass"
else
	not_ok "a failed libvirt restore falls back to a cold boot and the cells pass" \
		"$(cat "$tmp/fault.ktap")" "$(tail -n 20 "$tmp/fault.err")"
fi

# What a new user runs first: the default matrix, on libvirt.
"$HH" run --quiet --backend libvirt --results "$tmp/def" >"$tmp/def.ktap" 2>"$tmp/def.err"
def_status=$?
if [ "$def_status" -eq 0 ] && grep -q '^ok 3 ' "$tmp/def.ktap" &&
	! grep -q '^not ok\|# SKIP' "$tmp/def.ktap"; then
	ok "run --backend libvirt passes the default matrix, no cell skipped"
else
	not_ok "run --backend libvirt passes the default matrix, no cell skipped" \
		"exit $def_status" "$(cat "$tmp/def.ktap")" "$(tail -n 20 "$tmp/def.err")"
fi

# A layout libvirt cannot describe is skipped, saying why, never booted
# differently.
"$HH" run --quiet --backend libvirt --matrix configs/check.matrix \
	--results "$tmp/lv2" --only 'stock/numa2-memoryless/boot-clean' \
	>"$tmp/skip.ktap" 2>"$tmp/skip.err"
check "a memoryless node with CPUs is a SKIP with the reason on libvirt" \
	grep -q '^ok 1 stock/numa2-memoryless/boot-clean # SKIP .*node 1 has CPUs but no memory' \
	"$tmp/skip.ktap"
echo "1..$tap_n"
[ "$tap_failed" -eq 0 ]
