#!/bin/sh
# Boot snapshots: the check matrix gives the same verdict for every cell
# cold and from snapshots; a truncated state file, a state from another
# boot, one from another machine, and a QEMU killed while restoring each
# fall back to a cold boot, and the cell still passes.
. "${HH_SRCDIR:-.}/tests/lib.sh"

# Private snapshots, shared kernels: link the real cache's builds.
real=${HH_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/hotplug-harness}
mkdir -p "$real/kernels" "$real/sources" "$real/initramfs" "$tmp/cache"
for d in kernels sources initramfs; do ln -s "$real/$d" "$tmp/cache/$d"; done
cp "$real"/accel-* "$tmp/cache/" 2>/dev/null
HH_CACHE_DIR=$tmp/cache
export HH_CACHE_DIR

run() {
	# run NAME ARGS...: KTAP into $tmp/NAME.ktap, results in $tmp/NAME
	name=$1
	shift
	"$HH" run --quiet --keep-going --matrix configs/check.matrix \
		--results "$tmp/$name" "$@" >"$tmp/$name.ktap" 2>"$tmp/$name.err"
}

verdicts() {
	# "name ok|not ok [directive]" per cell, sorted
	grep -E '^(not )?ok ' "$tmp/$1.ktap" |
		sed -E 's/^(not ok|ok) [0-9]+ ([^ ]+)( # (SKIP|TODO|[a-z]+))?.*/\2 \1 \4/' |
		sort
}

boot_of() {
	sed -n 's/^  "boot" : "\(.*\)",$/\1/p' "$tmp/$1"/latest/stock/"$2"/result.json
}

run cold --boot cold
run snap --boot snapshot
if verdicts cold >"$tmp/v.cold" && verdicts snap >"$tmp/v.snap" &&
	[ -s "$tmp/v.cold" ] && cmp -s "$tmp/v.cold" "$tmp/v.snap"; then
	ok "cold and snapshot runs give identical verdicts ($(wc -l <"$tmp/v.cold") cells)"
else
	not_ok "cold and snapshot runs give identical verdicts" \
		"$(diff "$tmp/v.cold" "$tmp/v.snap")" "$(tail -n 5 "$tmp/snap.err")"
fi
restored=$(grep -l '"boot" : "snapshot"' "$tmp"/snap/latest/*/*/*/result.json | wc -l)
# A cell skipped by a requires line on the kernel or accelerator never boots.
cells=$(grep -vc ' SKIP$' "$tmp/v.snap")
if [ "$restored" -eq "$cells" ]; then
	ok "every cell of the snapshot run started from a snapshot"
else
	not_ok "every cell of the snapshot run started from a snapshot" \
		"$restored of $cells"
fi
check "a restored cell's log holds the boot log" \
	grep -q 'Linux version' "$tmp/snap/latest/stock/smp2-maxcpus1/boot-clean/kmsg.log"

# A group's snapshot, found by the label in its meta.json.
group() {
	for m in "$tmp"/cache/snapshots/*/meta.json; do
		if grep -q "\"label\":\"$1\"" "$m"; then
			dirname "$m"
			return
		fi
	done
}
smp2=$(group stock/smp2-maxcpus1)
smp4=$(group stock/smp4-maxcpus1)

fault() {
	# fault TITLE WHY: the cell passes after a restore that failed for WHY
	title=$1
	why=$2
	run fault --boot snapshot --only 'stock/smp2-maxcpus1/boot-clean'
	mode=$(boot_of fault smp2-maxcpus1/boot-clean)
	if grep -q '^ok 1 ' "$tmp/fault.ktap" &&
		case "$mode" in "cold (restore failed"*"$why"*) true ;; *) false ;; esac; then
		ok "$title falls back to a cold boot"
	else
		not_ok "$title falls back to a cold boot" "boot: $mode" \
			"$(cat "$tmp/fault.ktap")" "$(tail -n 5 "$tmp/fault.err")"
	fi
}

if [ -n "$smp2" ] && [ -n "$smp4" ]; then
	size=$(stat -c %s "$smp2/state")
	truncate -s $((size / 2)) "$smp2/state"
	fault "a truncated state file" "load of migration failed"
	check "the bad snapshot was thrown away" test ! -e "$smp2/state"

	run remake --boot snapshot --only 'stock/smp2-maxcpus1/boot-clean'
	sed -i 's/"boot_id":"[^"]*"/"boot_id":"00000000-0000-0000-0000-000000000000"/' \
		"$smp2/meta.json"
	fault "a state file from another boot" "is another boot"

	run remake --boot snapshot --only 'stock/smp2-maxcpus1/boot-clean'
	cp "$smp4/state" "$smp2/state"
	fault "a state file from another machine (smp4 for smp2)" "qemu exited"

	run remake --boot snapshot --only 'stock/smp2-maxcpus1/boot-clean'
	HH_FAULT_KILL_RESTORE=1
	export HH_FAULT_KILL_RESTORE
	fault "a QEMU killed during restore" "qemu exited"
	unset HH_FAULT_KILL_RESTORE
else
	not_ok "found the smp2 and smp4 snapshots" "$(ls "$tmp/cache/snapshots")"
fi
check "no qemu is left behind" no_qemu_of_test
echo "1..$tap_n"
