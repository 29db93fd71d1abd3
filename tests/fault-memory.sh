#!/bin/sh
# Fault catalogue item 12 (docs/reliability.md): the host is short of
# memory (HH_MEMORY_BUDGET=900M stands for a host with 900 MiB available).
# The scheduler's budget holds: two 512 MiB guests asked to run two at a
# time run one after the other, and a 3 GiB guest is refused with a
# message instead of running the host out of memory.
. "${HH_SRCDIR:-.}/tests/lib.sh"

check "the stock kernel is built" "$HH" kernel build --no-patches --quiet
res="$tmp/results"
HH_MEMORY_BUDGET=900M "$HH" run --quiet --keep-going --boot cold -j 2 \
	--matrix configs/check.matrix \
	--only 'stock/smp2-maxcpus1/boot-clean' \
	--only 'stock/smp2-maxcpus1/cpu-offline-online' \
	--only 'stock/mem2g-of-3g/boot-clean' \
	--results "$res" >/dev/null 2>"$tmp/stderr" &
pid=$!
most=0
while kill -0 "$pid" 2>/dev/null; do
	n=$(qemu_of_test | wc -l)
	[ "$n" -gt "$most" ] && most=$n
	sleep 0.2
done
wait "$pid"
expect_exit 0 $? "the run succeeds (a refused cell is a skip)"
in_range "$most" 1 1 "at most $most guest ran at a time within 900M" \
	"at most one 512M guest at a time within 900M (guests)"
check_no_qemu
rd=$(run_dir_of "$res")
expect_verdict "$rd/stock/smp2-maxcpus1/boot-clean/result.json" boot-clean pass ''
expect_verdict "$rd/stock/smp2-maxcpus1/cpu-offline-online/result.json" \
	cpu-offline-online pass ''
if grep -q 'skip .*stock/mem2g-of-3g/boot-clean.*not run: needs 3G of host memory, more than the 900M' "$tmp/stderr"; then
	ok "the 3G guest is refused: $(grep -m1 'not run: needs' "$tmp/stderr")"
else
	not_ok "the 3G guest is refused with a message" "$(tail -n 8 "$tmp/stderr")"
fi
"$HH" results show "$(basename "$rd")" --results "$res" >"$tmp/show" 2>&1
check "the refused cell is archived as a skip" \
	grep -q '^skip .*stock/mem2g-of-3g/boot-clean' "$tmp/show"
check_archived "$res" stock/smp2-maxcpus1/boot-clean \
	stock/smp2-maxcpus1/cpu-offline-online
echo "1..$tap_n"
