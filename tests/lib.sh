# Shared helpers for the shell tests: TAP output and a private temp dir.
# Sourced by tests/*.sh; HH, HH_SRCDIR and HH_BUILDDIR come from make check.
set -u
: "${HH:=$(pwd)/hotplug-harness}"
: "${HH_SRCDIR:=$(pwd)}"
tap_n=0
tap_failed=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/hh-test-XXXXXX")
trap 'rm -rf "$tmp"' EXIT

ok() {
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - $1"
}

not_ok() {
	tap_n=$((tap_n + 1))
	tap_failed=$((tap_failed + 1))
	echo "not ok $tap_n - $1"
	shift
	for line in "$@"; do printf '%s\n' "$line" | sed 's/^/# /'; done
}

check() {
	# check "title" command args...: ok if the command succeeds
	title=$1
	shift
	if "$@" >"$tmp/check.out" 2>&1; then
		ok "$title"
	else
		not_ok "$title" "command failed: $*" "$(tail -n 20 "$tmp/check.out")"
	fi
}

# Waits up to $1 seconds for "$2 ..." to succeed.
wait_for() {
	limit=$1
	shift
	i=0
	while [ "$i" -lt $((limit * 10)) ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# qemu processes started for this test (their argv holds our temp dir).
# The bracket keeps pgrep from matching a shell whose argv holds the pattern.
qemu_of_test() {
	pgrep -f "[q]emu-system-x86_64 .*$tmp"
}

no_qemu_of_test() {
	! qemu_of_test >/dev/null
}

# ---- fault tests (tests/fault-*.sh, make check-faults) ----

# A private data directory: the shipped configs (copied, so that a test
# can add scenarios), the kernel patches linked.  Exports HH_DATADIR.
fault_datadir() {
	data="$tmp/data"
	mkdir -p "$data"
	cp -R "$HH_SRCDIR/configs" "$data/"
	ln -s "$HH_SRCDIR/kernel-patches" "$data/kernel-patches"
	HH_DATADIR=$data
	export HH_DATADIR
}

# fault_scenario NAME LINES...: adds configs/scenarios/NAME.scenario.
fault_scenario() {
	name=$1
	shift
	printf '%s\n' "$@" >"$HH_DATADIR/configs/scenarios/$name.scenario"
}

# The pid of the qemu of one cell (its console log is in the cell dir).
qemu_of_cell() {
	pgrep -f "[q]emu-system-x86_64 .*$1/console.log" | head -n 1
}

# The only run directory under $1.
run_dir_of() {
	for d in "$1"/*/; do
		case $d in */latest/) continue ;; esac
		[ -f "$d/run.json" ] && { echo "${d%/}"; return 0; }
	done
	return 1
}

# json_str FILE MEMBER: a top-level string member of a JSON file.
json_str() {
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], ""))' "$1" "$2"
}

# Passes when no qemu of this test is left within 5 s; kills the ones
# that are (by pid) so the next test is not disturbed.
check_no_qemu() {
	if wait_for 5 no_qemu_of_test; then
		ok "no qemu is left${1:+ ($1)}"
	else
		not_ok "no qemu is left${1:+ ($1)}" "$(qemu_of_test)"
		for p in $(qemu_of_test); do kill -9 "$p"; done
	fi
}

# check_archived RESULTS CELL...: every cell is in the archive and has
# its result.json on disk.
check_archived() {
	res=$1
	shift
	rd=$(run_dir_of "$res") || { not_ok "a run directory exists under $res"; return; }
	id=$(basename "$rd")
	"$HH" results show "$id" --results "$res" >"$tmp/show.out" 2>&1
	for cell in "$@"; do
		if grep -q "$cell" "$tmp/show.out" && [ -f "$rd/$cell/result.json" ]; then
			ok "$cell is archived and on disk"
		else
			not_ok "$cell is archived and on disk" "$(cat "$tmp/show.out")"
		fi
	done
}

# expect_exit WANTED GOT TITLE: an exit status, with the harness's stderr
# ($tmp/stderr) when it is not the one wanted.
expect_exit() {
	if [ "$2" -eq "$1" ]; then
		ok "$3"
	else
		not_ok "$3" "exit status $2, expected $1" "$(tail -n 20 "$tmp/stderr" 2>/dev/null)"
	fi
}

# in_range VALUE MIN MAX OK-TITLE FAIL-TITLE: a measured figure in bounds.
in_range() {
	if [ -n "$1" ] && [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; then
		ok "$4"
	else
		not_ok "$5" "got ${1:-nothing}, expected $2..$3"
	fi
}

# expect_verdict RESULT.JSON NAME VERDICT REASON-REGEX: the cell's status
# and reason (the reason text is shown either way).
expect_verdict() {
	v=$(json_str "$1" status 2>/dev/null)
	why=$(json_str "$1" reason 2>/dev/null)
	if [ "$v" = "$3" ] && printf '%s' "$why" | grep -Eq "$4"; then
		ok "$2: $v: $why"
	else
		not_ok "$2: verdict $3 matching /$4/" "got $v: $why"
	fi
}

# private_cache: HH_CACHE_DIR in $tmp holding a copy of the stock kernel's
# cache entry (bzImage, config, info.json) and the memoized source hashes,
# so a test can damage or race on the cache without touching the shared
# one.  Sets $stock_bz to the shared bzImage and $stock_key to its key.
private_cache() {
	stock_bz=$("$HH" kernel build --no-patches --quiet | tail -n 1)
	entry=$(dirname "$stock_bz")
	stock_key=$(basename "$entry")
	shared=$(dirname "$(dirname "$entry")")
	HH_CACHE_DIR="$tmp/cache"
	export HH_CACHE_DIR
	mkdir -p "$HH_CACHE_DIR/kernels/$stock_key" "$HH_CACHE_DIR/sources"
	cp "$entry/bzImage" "$entry/config" "$entry/info.json" \
		"$HH_CACHE_DIR/kernels/$stock_key/"
	cp "$shared"/sources/*.sha256 "$HH_CACHE_DIR/sources/" 2>/dev/null
	test -f "$HH_CACHE_DIR/kernels/$stock_key/bzImage"
}

# archive_ok DB: PRAGMA integrity_check of an archive says ok.
archive_ok() {
	[ "$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("PRAGMA integrity_check").fetchone()[0])' "$1")" = ok ]
}

# start_three_cells RESULTS: a run of three stock cells, one at a time,
# in the background ($pid; stderr in $tmp/stderr).
start_three_cells() {
	"$HH" run --quiet --keep-going --boot cold -j 1 --matrix configs/check.matrix \
		--only 'stock/smp2-maxcpus1/boot-clean' \
		--only 'stock/smp2-maxcpus1/cpu-offline-online' \
		--only 'stock/smp4-maxcpus1/boot-clean' \
		--results "$1" >/dev/null 2>"$tmp/stderr" &
	pid=$!
}
