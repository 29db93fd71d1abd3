#!/bin/sh
# Fault catalogue item 10 (docs/reliability.md): a truncated initramfs and
# a truncated bzImage in the cache are detected, said so, and rebuilt;
# neither is booted.  Runs on a private cache (HH_CACHE_DIR) holding a
# copy of the stock kernel's cache entry: the shared cache is not touched.
. "${HH_SRCDIR:-.}/tests/lib.sh"

check "a private cache holds a copy of the stock kernel" private_cache
bz=$stock_bz
key=$stock_key
res="$tmp/results"
hh_run() {
	"$HH" run --boot cold -j 1 --matrix configs/check.matrix \
		--only 'stock/smp2-maxcpus1/boot-clean' --results "$res" \
		>/dev/null 2>"$tmp/stderr"
}
hh_run
expect_exit 0 $? "a run on the private cache passes (and builds its initramfs)"
img=$(ls "$HH_CACHE_DIR"/initramfs/*.cpio.gz)
size=$(wc -c <"$img")

# A truncated initramfs: detected, rebuilt, booted whole.
head -c $((size / 2)) "$img" >"$tmp/half" && cat "$tmp/half" >"$img"
hh_run
expect_exit 0 $? "the run with a truncated initramfs passes"
if grep -q "initramfs: cached $img is damaged" "$tmp/stderr"; then
	ok "the truncated initramfs is reported: $(grep -m1 'initramfs: cached' "$tmp/stderr")"
else
	not_ok "the truncated initramfs is reported" "$(head -n 5 "$tmp/stderr")"
fi
if [ "$(wc -c <"$img")" -eq "$size" ]; then
	ok "the initramfs was rebuilt whole ($size bytes)"
else
	not_ok "the initramfs was rebuilt whole" "$(wc -c <"$img") bytes, not $size"
fi

# A truncated bzImage: detected, and the kernel is built again rather
# than booted.  A rebuild from scratch takes minutes: the test stops it
# once make runs, after checking nothing booted.
cbz="$HH_CACHE_DIR/kernels/$key/bzImage"
head -c 100000 "$bz" >"$cbz"
"$HH" kernel build --no-patches >"$tmp/kout" 2>"$tmp/kerr" &
kpid=$!
building() { grep -q "configuring\|building\|extracting\|copying" "$tmp/kerr"; }
if wait_for 120 building; then
	ok "the truncated bzImage is rebuilt: $(grep -m1 'is damaged' "$tmp/kerr")"
else
	not_ok "the truncated bzImage is rebuilt" "$(cat "$tmp/kerr")"
fi
grep -q "truncated: 100000 of $(wc -c <"$bz") bytes" "$tmp/kerr"
check "the message gives the truncated and the whole size" test $? -eq 0
kill -TERM "$kpid" 2>/dev/null
wait "$kpid" 2>/dev/null
check "the truncated bzImage was not taken as cached" \
	sh -c "! grep -q '^kernel: cached [0-9]' '$tmp/kerr'"
check_no_qemu
echo "1..$tap_n"
