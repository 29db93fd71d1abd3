#!/bin/sh
# Fault catalogue item 11 (docs/reliability.md): two runs at once on the
# same results directory and the same (private, empty of initramfs)
# cache.  Both complete, the archive holds both runs with all their cells
# and passes PRAGMA integrity_check, and the initramfs both need is built
# once: the second run waits for the first's build (flock), never builds
# the same entry at the same time.
. "${HH_SRCDIR:-.}/tests/lib.sh"

check "a private cache holds a copy of the stock kernel" private_cache
res="$tmp/results"
for n in 1 2; do
	"$HH" run --quiet --boot cold -j 1 --matrix configs/check.matrix \
		--only 'stock/smp2-maxcpus1/boot-clean' \
		--only 'stock/smp2-maxcpus1/cpu-offline-online' \
		--results "$res" >/dev/null 2>"$tmp/stderr$n" &
	eval "pid$n=\$!"
done
wait "$pid1"
expect_exit 0 $? "the first run completes"
wait "$pid2"
expect_exit 0 $? "the second run completes"
check_no_qemu
built=$(cat "$tmp/stderr1" "$tmp/stderr2" | grep -c '^initramfs: built')
waited=$(cat "$tmp/stderr1" "$tmp/stderr2" | grep -c 'was built meanwhile by another process')
in_range "$built" 1 1 "the initramfs was built once ($waited run(s) waited for it)" \
	"the initramfs was built exactly once"
runs=$("$HH" results list --results "$res" | grep -c ' complete$')
in_range "$runs" 2 2 "the archive lists both runs as complete" \
	"the archive lists both runs as complete (runs)"
for d in "$res"/*/; do
	case $d in */latest/) continue ;; esac
	id=$(basename "$d")
	n=$("$HH" results show "$id" --results "$res" | grep -c 'stock/smp2-maxcpus1/')
	in_range "$n" 2 2 "run $id: both cells archived" "run $id: both cells archived (cells)"
done
check "the archive passes integrity_check" archive_ok "$res/archive.sqlite"
echo "1..$tap_n"
