#!/bin/sh
# Fault catalogue item 9 (docs/reliability.md): archive.sqlite locked by
# another writer for longer than the busy timeout (10 s), and corrupted.
# Either way the run stops with an error naming the archive before any
# cell boots, and the archive is never replaced by a new one: the earlier
# run's cell is still in it, and it passes PRAGMA integrity_check.
. "${HH_SRCDIR:-.}/tests/lib.sh"

check "the stock kernel is built" "$HH" kernel build --no-patches --quiet
res="$tmp/results"
db="$res/archive.sqlite"
hh_run() {
	"$HH" run --quiet --boot cold -j 1 --matrix configs/check.matrix \
		--only 'stock/smp2-maxcpus1/boot-clean' \
		--results "$res" >/dev/null 2>"$tmp/stderr"
}
hh_run
expect_exit 0 $? "a first run archives its cell"
first=$(run_dir_of "$res")
first_id=$(basename "$first")
kept_cell() {
	"$HH" results show "$first_id" --results "$res" 2>/dev/null |
		grep -q 'stock/smp2-maxcpus1/boot-clean' &&
		[ -f "$first/stock/smp2-maxcpus1/boot-clean/result.json" ]
}

# Locked: another writer holds the write lock for 30 s.
python3 - "$db" >"$tmp/locker.out" 2>&1 <<'P' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(30)
c.execute("ROLLBACK")
P
locker=$!
wait_for 10 grep -q locked "$tmp/locker.out"
t0=$(date +%s)
hh_run
status=$?
t1=$(date +%s)
if [ "$status" -ne 0 ] && grep -q "archive $db: .*database is locked" "$tmp/stderr"; then
	ok "locked archive: the run stops after $((t1 - t0)) s: $(grep -m1 'database is locked' "$tmp/stderr")"
else
	not_ok "locked archive: the run stops with 'database is locked'" \
		"status $status" "$(tail -n 5 "$tmp/stderr")"
fi
check_no_qemu "locked archive"
kill "$locker" 2>/dev/null
wait "$locker" 2>/dev/null
check "locked archive: the first run's cell is still archived" kept_cell
check "locked archive: integrity_check says ok" archive_ok "$db"

# Corrupt: the header overwritten (a disk error, a stray write).
python3 -c 'import sqlite3,sys; sqlite3.connect(sys.argv[1]).execute("PRAGMA wal_checkpoint(TRUNCATE)")' "$db"
printf 'this is not an SQLite database, whatever it was before....' |
	dd of="$db" bs=1 seek=0 conv=notrunc 2>/dev/null
before=$(sha256sum <"$db")
hh_run
status=$?
if [ "$status" -ne 0 ] && grep -q "archive $db: .*not a database" "$tmp/stderr"; then
	ok "corrupt archive: the run stops: $(grep -m1 'not a database' "$tmp/stderr")"
else
	not_ok "corrupt archive: the run stops with 'not a database'" \
		"status $status" "$(tail -n 5 "$tmp/stderr")"
fi
if [ "$(sha256sum <"$db")" = "$before" ]; then
	ok "corrupt archive: the file is left as it was, not replaced"
else
	not_ok "corrupt archive: the file is left as it was, not replaced"
fi
check_no_qemu "corrupt archive"
check "corrupt archive: the first run's cell is still on disk" \
	test -f "$first/stock/smp2-maxcpus1/boot-clean/result.json"
echo "1..$tap_n"
