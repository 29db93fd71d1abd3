#!/bin/sh
# Fault catalogue item 8 (docs/reliability.md): the results directory
# fills up (a small tmpfs, filled once the first cell finished).  The run
# stops with an error naming the directory and how to resume; the cell
# that finished before is archived and on disk; the cell whose results
# could not be written is not reported (not archived); the archive passes
# PRAGMA integrity_check; no qemu is left.
. "${HH_SRCDIR:-.}/tests/lib.sh"

small="$tmp/small"
mkdir -p "$small"
if ! mount -t tmpfs -o size=16m,mode=0755 tmpfs "$small" 2>"$tmp/mount.err"; then
	echo "1..0 # SKIP cannot mount a tmpfs here (needs root): $(cat "$tmp/mount.err")"
	exit 0
fi
trap 'umount "$small" 2>/dev/null; rm -rf "$tmp"' EXIT
check "the stock kernel is built" "$HH" kernel build --no-patches --quiet
res="$small/results"
start_three_cells "$res"
first() { ls "$(run_dir_of "$res")"/stock/*/*/result.json; }
if wait_for 300 first; then
	done_cell=$(first | head -n 1 | sed "s|^$(run_dir_of "$res")/||; s|/result.json$||")
	dd if=/dev/zero of="$small/filler" bs=64k 2>/dev/null
	ok "the disk is full after the first cell: $(df -k "$small" | awk 'NR==2 {print $4}') kB free"
else
	not_ok "the first cell finished" "$(tail -n 5 "$tmp/stderr")"
fi
wait "$pid"
expect_exit 2 $? "the run stops with status 2"
if grep -q "^error: results directory $res: .*the run stopped" "$tmp/stderr"; then
	ok "the error names the directory: $(grep -m1 '^error: results directory' "$tmp/stderr")"
else
	not_ok "the error names the directory" "$(tail -n 8 "$tmp/stderr")"
fi
check_no_qemu
# Room again, to read the archive (SQLite wants its -shm).
rm -f "$small/filler"
check_archived "$res" "$done_cell"
id=$(basename "$(run_dir_of "$res")")
"$HH" results show "$id" --results "$res" >"$tmp/show" 2>&1
n=$(grep -c 'stock/' "$tmp/show")
in_range "$n" 1 1 "only the cell whose results were written is archived" \
	"only the cell whose results were written is archived (cells)"
check "the archive passes integrity_check" archive_ok "$res/archive.sqlite"
echo "1..$tap_n"
