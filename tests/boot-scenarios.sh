#!/bin/sh
# Boots configs/check.matrix on the 6.1 and 6.12 kernels (built through the
# cache) and checks each cell's verdict and the files a user relies on.
# Every matrix cell is one TAP line; an expected crash is a TODO (XFAIL).
. "${HH_SRCDIR:-.}/tests/lib.sh"

results="$tmp/results"
"$HH" run --quiet --keep-going --matrix configs/check.matrix \
	--results "$results" >"$tmp/ktap" 2>"$tmp/stderr"
status=$?

# One TAP line per matrix cell, as the harness printed it.
grep -E '^(not )?ok [0-9]+ ' "$tmp/ktap" |
	sed -E 's/^(not )?ok [0-9]+ /\1ok - cell /' >"$tmp/cells"
cat "$tmp/cells"
tap_n=$(wc -l <"$tmp/cells")
if [ "$tap_n" -lt 15 ]; then
	not_ok "the check matrix has at least 15 cells" "it has $tap_n"
fi

if [ "$status" -eq 0 ]; then
	ok "run exits 0 when every cell passes"
else
	not_ok "run exits 0 when every cell passes" "exit status $status" \
		"$(tail -n 30 "$tmp/stderr")"
fi

run_dir=$(find "$results" -mindepth 1 -maxdepth 1 -type d | head -n 1)
check "run.json is written and complete" \
	grep -q '"complete" : true' "$run_dir/run.json"
for cell in "$run_dir"/stock/mem2g-of-3g/sysfs-probe-online \
	"$run_dir"/stock/numa2-memoryless/acpi-dimm-memoryless-node; do
	name=${cell#"$run_dir"/}
	missing=
	for f in console.log kmsg.log agent.log qmp.log qemu-cmdline.txt result.json; do
		[ -s "$cell/$f" ] || missing="$missing $f"
	done
	if [ -z "$missing" ]; then
		ok "$name has every result file"
	else
		not_ok "$name has every result file" "missing or empty:$missing"
	fi
	check "$name kmsg.log holds the step markers" \
		grep -q 'hh-mark: step 1 begin' "$cell/kmsg.log"
done
check "probe cell: node 0 grew by 128 MiB (result says pass)" \
	grep -q '"status" : "pass"' "$run_dir/stock/mem2g-of-3g/sysfs-probe-online/result.json"
check "DIMM cell: node 1 MemTotal 131072 kB (result says pass)" \
	grep -q '"status" : "pass"' "$run_dir/stock/numa2-memoryless/acpi-dimm-memoryless-node/result.json"
check "the archive lists the run as complete" \
	sh -c "'$HH' results list --results '$results' | grep -q ' complete$'"
archived=$("$HH" results show "$(basename "$run_dir")" --results "$results" | grep -cv '^ ')
if [ "$archived" -eq "$(wc -l <"$tmp/cells")" ]; then
	ok "the archive holds every cell ($archived)"
else
	not_ok "the archive holds every cell" "$archived archived, $(wc -l <"$tmp/cells") run"
fi
check "the crash self-test found the real WARNING" \
	grep -q '"title" : "WARNING in lkdtm_WARNING"' \
	"$run_dir/stock/smp2-maxcpus1/selftest-crash-detected/result.json"
check "no qemu is left behind" no_qemu_of_test
echo "1..$tap_n"
