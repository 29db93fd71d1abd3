#!/bin/sh
# Several hosts: two libvirt daemons on this machine (scripts/local-hosts,
# each in its own mount namespace on 127.0.0.1) stand for two machines.
# The cells spread over both give the verdicts one host gives; a host
# killed mid-run (daemon and QEMUs) has its cells moved; a host down at
# start is skipped; losing every host stops the run (exit 2) and --resume
# finishes it; three shards imported give the cells of one run.
# Needs root and libvirtd (make check-hosts; .ci/run runs it).
. "${HH_SRCDIR:-.}/tests/lib.sh"

if [ "$(id -u)" -ne 0 ] || ! command -v libvirtd >/dev/null; then
	echo "1..0 # SKIP needs root and libvirtd (apt-get install libvirt-daemon-system) for hosts in mount namespaces"
	exit 0
fi
export HH_LOCAL_HOSTS_DIR="$tmp/hosts" HH_LOCAL_HOSTS_PORT=16700
lh="$HH_SRCDIR/scripts/local-hosts"
cleanup() {
	"$lh" stop >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
if ! "$lh" start 2 >"$tmp/start.out" 2>&1; then
	echo "Bail out! scripts/local-hosts start 2: $(tail -n 3 "$tmp/start.out")"
	exit 1
fi
two="$tmp/hosts/hosts.conf"
one="$tmp/one.conf"
only2="$tmp/only2.conf"
printf '[host local1]\nuri=qemu+tcp://127.0.0.1:16701/system\n' >"$one"
printf '[host local2]\nuri=qemu+tcp://127.0.0.1:16702/system\n' >"$only2"
# A quarter of the check matrix's stock cells: snapshot groups of several
# sizes, DIMM and vCPU hot-add, an expected crash.
sel="--only stock/mem2g-of-3g/* --only stock/numa2-node1-512m/* --only stock/smp2-maxcpus1/*"

# Cell name and verdict of every cell of a results directory's run.
verdicts() {
	"$HH" results show --results "$1" "$(readlink "$1/latest")" |
		awk '/^[a-z]/ { print $2, $1 }' | sort
}

# The run's QEMUs, on any host: their -name holds the run id.
qemu_of_run() {
	pgrep -f "[q]emu-system-x86_64 .*guest=hh-$1"
}

# Starts a run over HOSTS into $tmp/NAME (KTAP in NAME.ktap, stderr in
# NAME.err) in the background, and returns once two cells are done; the
# run's pid is in $pid.
run_started() {
	name=$1
	hosts=$2
	shift 2
	"$HH" run --quiet --keep-going --hosts "$hosts" --matrix configs/check.matrix \
		"$@" --results "$tmp/$name" >"$tmp/$name.ktap" 2>"$tmp/$name.err" &
	pid=$!
	wait_for 240 grep -q '^\[2/' "$tmp/$name.err"
}

# How many cells run NAME planned, and how many have a KTAP verdict.
count_verdicts() {
	planned=$(sed -n 's/^1\.\.//p' "$tmp/$1.ktap")
	verdicts=$(grep -cE '^(not )?ok ' "$tmp/$1.ktap")
}

check "the stock kernel is built" "$HH" kernel build --no-patches --quiet

# 1. Two hosts against one.
# shellcheck disable=SC2086
"$HH" run --quiet --keep-going --hosts "$two" --matrix configs/check.matrix \
	$sel --results "$tmp/two" >"$tmp/two.ktap" 2>"$tmp/two.err"
s2=$?
# shellcheck disable=SC2086
"$HH" run --quiet --keep-going --hosts "$one" --matrix configs/check.matrix \
	$sel --results "$tmp/one" >"$tmp/one.ktap" 2>"$tmp/one.err"
s1=$?
verdicts "$tmp/two" >"$tmp/two.v"
verdicts "$tmp/one" >"$tmp/one.v"
if [ "$s2" -eq 0 ] && [ "$s1" -eq 0 ] && [ -s "$tmp/two.v" ] &&
	cmp -s "$tmp/two.v" "$tmp/one.v"; then
	ok "over two hosts the cells give the verdicts of one host ($(wc -l <"$tmp/two.v") cells)"
else
	not_ok "over two hosts the cells give the verdicts of one host" \
		"exit $s2 and $s1" "$(diff "$tmp/one.v" "$tmp/two.v")" \
		"$("$HH" results show --results "$tmp/two" "$(readlink "$tmp/two/latest")" | grep -v '^pass')" \
		"$("$HH" results show --results "$tmp/one" "$(readlink "$tmp/one/latest")" | grep -v '^pass')"
fi
hosts_used=$(grep -h '"host"' "$tmp"/two/2*/*/*/*/result.json | sort -u)
if printf '%s\n' "$hosts_used" | grep -q local1 &&
	printf '%s\n' "$hosts_used" | grep -q local2; then
	ok "both hosts ran cells, and result.json names the host"
else
	not_ok "both hosts ran cells, and result.json names the host" "$hosts_used"
fi
if grep -q 'id="host-timeline"' "$tmp"/two/latest/report/index.html &&
	grep -q '<td>local2</td>' "$tmp"/two/latest/report/index.html; then
	ok "the HTML report has the per-host table and timeline"
else
	not_ok "the HTML report has the per-host table and timeline"
fi
# Kernel and initramfs reach each host once, through its storage pool: a
# second run uploads nothing.
"$HH" run --quiet --keep-going --hosts "$two" --matrix configs/check.matrix \
	--only 'stock/mem2g-of-3g/*' --results "$tmp/again" \
	>/dev/null 2>"$tmp/again.err"
if grep -q 'libvirt: uploaded .* to qemu+tcp://127.0.0.1:16701/' "$tmp/two.err" &&
	grep -q 'libvirt: uploaded .* to qemu+tcp://127.0.0.1:16702/' "$tmp/two.err" &&
	! grep -q 'libvirt: uploaded' "$tmp/again.err"; then
	ok "kernel and initramfs go to each host once: a second run uploads nothing"
else
	not_ok "kernel and initramfs go to each host once: a second run uploads nothing" \
		"$(grep 'uploaded' "$tmp/two.err" "$tmp/again.err")"
fi
if ! grep -qE "$HOME|/tmp/|\.cache" "$tmp"/two/2*/*/*/*/domain.xml &&
	grep -q '/var/lib/libvirt/hotplug-harness/' "$tmp"/two/2*/*/*/*/domain.xml; then
	ok "no path of the harness machine in a host's domain XML"
else
	not_ok "no path of the harness machine in a host's domain XML" \
		"$(grep -hE 'kernel|initrd' "$tmp"/two/2*/*/*/*/domain.xml | sort -u | head -n 4)"
fi

# 2. A host killed mid-run, daemon and QEMUs.
# shellcheck disable=SC2086
run_started kill "$two" $sel
"$lh" kill 2
wait "$pid"
status=$?
id=$(readlink "$tmp/kill/latest")
count_verdicts kill
if [ "$status" -eq 0 ] && [ "$verdicts" = "$planned" ] &&
	grep -q '^host local2 lost at [0-9:]*, [0-9]* cell(s) moved to other hosts' "$tmp/kill.err"; then
	ok "a host killed mid-run: the run completes, $verdicts of $planned cells have a verdict"
else
	not_ok "a host killed mid-run: the run completes, every cell has a verdict" \
		"exit $status, $verdicts of $planned" "$(grep -v '^\[' "$tmp/kill.err" | tail -n 15)"
fi
moved=$(grep -l '"lost_attempts"' "$tmp"/kill/"$id"/*/*/*/result.json 2>/dev/null | head -n 1)
if [ -n "$moved" ] && grep -q 'host local2 lost at' "$moved" &&
	grep -q '"host" : "local1"' "$moved" &&
	ls -d "$tmp"/kill/"$id"/*/*/*.lost-local2-1 >/dev/null 2>&1; then
	ok "a moved cell says so in result.json and keeps its lost try's files"
else
	not_ok "a moved cell says so in result.json and keeps its lost try's files" \
		"${moved:-no result.json has lost_attempts}"
fi
if wait_for 10 sh -c "! pgrep -f '[q]emu-system-x86_64 .*guest=hh-$id' >/dev/null"; then
	ok "no QEMU of the run is left on either host"
else
	not_ok "no QEMU of the run is left on either host" "$(qemu_of_run "$id")"
fi
"$lh" restart 2 >/dev/null 2>&1

# 2b. A daemon killed alone leaves its QEMUs running; back during the run,
# the host gets the guests the run left there destroyed, and cells again.
# shellcheck disable=SC2086
run_started back "$two" $sel --only 'stock/mem1g-of-2g/*'
id=$(sed -n 's/^run \([0-9a-f-]*\): .*/\1/p' "$tmp/back.err" | head -n 1)
"$lh" kill-daemon 2
left=$(pgrep -fc "[q]emu-system-x86_64 .*guest=hh-$id" || true)
wait_for 30 grep -q '^host local2 lost at' "$tmp/back.err"
"$lh" restart 2 >/dev/null 2>&1
wait "$pid"
status=$?
if [ "$status" -eq 0 ] &&
	grep -q '^host local2 is back at [0-9:]*; [0-9]* guest(s) the run had left there destroyed' "$tmp/back.err" &&
	! pgrep -f "[q]emu-system-x86_64 .*guest=hh-$id" >/dev/null; then
	ok "a host back during the run: its abandoned guests destroyed ($left QEMU(s) outlived the daemon), none left"
else
	not_ok "a host back during the run: its abandoned guests destroyed, none left" \
		"exit $status" "$(grep -v '^\[' "$tmp/back.err" | tail -n 10)" \
		"$(pgrep -af "[q]emu-system-x86_64 .*guest=hh-$id")"
fi

# 2c. A hung host (its daemon stopped, as a machine that drops off the
# network): noticed through keepalive, its cells moved, no crash.
# shellcheck disable=SC2086
run_started hang "$two" $sel
dpid=$(cat "$HH_LOCAL_HOSTS_DIR/h2/run/libvirtd.pid")
kill -STOP "$dpid"
wait_for 60 grep -q '^host local2 lost at' "$tmp/hang.err"
kill -CONT "$dpid"
wait "$pid"
status=$?
count_verdicts hang
if [ "$status" -eq 0 ] && [ "$verdicts" = "$planned" ] &&
	grep -q '^host local2 lost at' "$tmp/hang.err"; then
	ok "a hung host: noticed, its cells moved, the run completes ($verdicts of $planned)"
else
	not_ok "a hung host: noticed, its cells moved, the run completes" \
		"exit $status, $verdicts of $planned" "$(grep -v '^\[' "$tmp/hang.err" | tail -n 10)"
fi

# 3. A host down at start.
cp "$one" "$tmp/down.conf"
printf '\n[host gone]\nuri=qemu+tcp://127.0.0.1:16799/system\n' >>"$tmp/down.conf"
"$HH" run --quiet --keep-going --hosts "$tmp/down.conf" \
	--matrix configs/check.matrix --only 'stock/mem2g-of-3g/*' \
	--results "$tmp/down" >/dev/null 2>"$tmp/down.err"
status=$?
if [ "$status" -eq 0 ] &&
	grep -q '^host gone (qemu+tcp://127.0.0.1:16799/system) is unreachable and is skipped: ' "$tmp/down.err"; then
	ok "a host down at start is reported and skipped; the run passes on the other"
else
	not_ok "a host down at start is reported and skipped; the run passes on the other" \
		"exit $status" "$(grep -v '^\[' "$tmp/down.err" | tail -n 8)"
fi

# 4. Every host lost mid-run: exit 2, then --resume finishes the run.
run_started all "$only2" --only 'stock/mem2g-of-3g/*' --only 'stock/mem1g-of-2g/*'
"$lh" kill 2
wait "$pid"
status=$?
id=$(readlink "$tmp/all/latest")
if [ "$status" -eq 2 ] &&
	grep -q "^every host was lost: [0-9]* cell(s) not run; finish the run with: hotplug-harness run --resume $id" "$tmp/all.err"; then
	ok "every host lost: the run stops with exit 2 and says how to finish it"
else
	not_ok "every host lost: the run stops with exit 2 and says how to finish it" \
		"exit $status" "$(grep -v '^\[' "$tmp/all.err" | tail -n 8)"
fi
if ! "$lh" restart 2 >"$tmp/restart.out" 2>&1; then
	echo "# restarting host 2: $(cat "$tmp/restart.out")"
fi
"$HH" run --quiet --keep-going --resume "$id" --hosts "$only2" \
	--results "$tmp/all" >/dev/null 2>"$tmp/resume.err"
status=$?
if [ "$status" -eq 0 ] &&
	"$HH" results list --results "$tmp/all" | grep -q "^$id .* 10 .* complete"; then
	ok "--resume with the host back finishes the run (10 cells, complete)"
else
	not_ok "--resume with the host back finishes the run" "exit $status" \
		"$("$HH" results list --results "$tmp/all")" "$(tail -n 8 "$tmp/resume.err")"
fi

# 5. Three shards, imported, against one run (QEMU backend: no daemon).
shard_sel="--only stock/* --exclude stock/numa2-memoryless/*"
# shellcheck disable=SC2086
"$HH" run --quiet --keep-going --matrix configs/check.matrix $shard_sel \
	--results "$tmp/whole" >/dev/null 2>&1
for k in 1 2 3; do
	# shellcheck disable=SC2086
	"$HH" run --quiet --keep-going --matrix configs/check.matrix $shard_sel \
		--shard "$k/3" --results "$tmp/shard$k" >/dev/null 2>"$tmp/shard$k.err"
done
"$HH" results import --results "$tmp/merged" "$tmp/shard1" "$tmp/shard2" \
	"$tmp/shard3" >"$tmp/import.out" 2>"$tmp/import.err"
status=$?
verdicts "$tmp/whole" >"$tmp/whole.v"
verdicts "$tmp/merged" >"$tmp/merged.v" 2>/dev/null
if [ "$status" -eq 0 ] && [ -s "$tmp/whole.v" ] &&
	cmp -s "$tmp/whole.v" "$tmp/merged.v" &&
	[ -f "$tmp/merged/latest/report/index.html" ]; then
	ok "three shards imported give the cells and verdicts of one run ($(wc -l <"$tmp/whole.v") cells)"
else
	not_ok "three shards imported give the cells and verdicts of one run" \
		"import exit $status: $(tail -n 3 "$tmp/import.err")" \
		"$(diff "$tmp/whole.v" "$tmp/merged.v" | head -n 20)"
fi
if "$HH" results import --results "$tmp/dup" "$tmp/shard1" "$tmp/shard1" \
	>/dev/null 2>"$tmp/dup.err"; then
	not_ok "a cell in two shards is refused"
elif grep -q 'is in .* and in ' "$tmp/dup.err"; then
	ok "a cell in two shards is refused"
else
	not_ok "a cell in two shards is refused" "$(cat "$tmp/dup.err")"
fi

# Unauthenticated TCP beyond loopback needs --insecure-tcp.
printf '[host far]\nuri=qemu+tcp://192.0.2.7/system\n' >"$tmp/far.conf"
"$HH" run --quiet --hosts "$tmp/far.conf" --matrix configs/check.matrix \
	--only 'stock/mem2g-of-3g/boot-clean' --results "$tmp/far" \
	>/dev/null 2>"$tmp/far.err"
status=$?
if [ "$status" -eq 64 ] && grep -q 'insecure-tcp' "$tmp/far.err"; then
	ok "qemu+tcp:// to another machine is refused without --insecure-tcp"
else
	not_ok "qemu+tcp:// to another machine is refused without --insecure-tcp" \
		"exit $status" "$(cat "$tmp/far.err")"
fi

echo "1..$tap_n"
[ "$tap_failed" -eq 0 ]
