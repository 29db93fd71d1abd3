#!/bin/sh
# The libvirt backend against a daemon (qemu:///system): the cells' domains
# show in `virsh list` while they run, kernel and initramfs reach the
# daemon through its storage pool once (a second run uploads nothing), and
# cells restore from snapshots saved on the daemon's side.
# Needs libvirtd at qemu:///system; as root in CI (CI=true) or with
# HH_TEST_START_LIBVIRTD=1 the test starts one (and stops it after).
. "${HH_SRCDIR:-.}/tests/lib.sh"

uri=qemu:///system
started=
if ! virsh -c "$uri" version >/dev/null 2>&1; then
	if [ "$(id -u)" -eq 0 ] &&
		{ [ "${CI:-}" = true ] || [ "${HH_TEST_START_LIBVIRTD:-}" = 1 ]; }; then
		# What Debian's udev rules do on a normal machine: without it
		# the daemon's QEMU user cannot open /dev/kvm and libvirt
		# probes QEMU again on every domain start (about 60 s here).
		if [ -c /dev/kvm ] && [ "$(stat -c %G /dev/kvm)" != kvm ] &&
			getent group kvm >/dev/null; then
			chgrp kvm /dev/kvm && chmod 660 /dev/kvm
		fi
		pgrep -x virtlogd >/dev/null || virtlogd -d
		libvirtd -d -p "$tmp/libvirtd.pid"
		started=1
		wait_for 30 virsh -c "$uri" version
	fi
fi
if ! virsh -c "$uri" version >/dev/null 2>&1; then
	echo "1..0 # SKIP no libvirtd at $uri (start one with 'virtlogd -d && libvirtd -d', or run as root with HH_TEST_START_LIBVIRTD=1)"
	exit 0
fi
stop_daemon() {
	[ -n "$started" ] && [ -f "$tmp/libvirtd.pid" ] &&
		kill "$(cat "$tmp/libvirtd.pid")" 2>/dev/null
	rm -rf "$tmp"
}
trap stop_daemon EXIT

check "the stock kernel is built" "$HH" kernel build --no-patches --quiet
"$HH" run --quiet --keep-going --backend libvirt --connect "$uri" \
	--matrix configs/check.matrix --results "$tmp/r1" -j 1 \
	--only 'stock/mem2g-of-3g/*' --only 'stock/numa2-memoryless-nocpu/acpi-dimm-memoryless-node' \
	>"$tmp/r1.ktap" 2>"$tmp/r1.err" &
pid=$!
wait_for 60 grep -q '^run ' "$tmp/r1.err"
id=$(sed -n 's/^run \([0-9a-f-]*\): .*/\1/p' "$tmp/r1.err" | head -n 1)
seen=
i=0
while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 3000 ]; do
	if virsh -c "$uri" list --name 2>/dev/null | grep -q "^hh-$id-"; then
		seen=$(virsh -c "$uri" list --name | grep "^hh-$id-" | head -n 1)
		break
	fi
	sleep 0.1
	i=$((i + 1))
done
wait "$pid"
status=$?
if [ -n "$seen" ]; then
	ok "virsh -c $uri list shows the run's domains while it runs ($seen)"
else
	not_ok "virsh -c $uri list shows the run's domains while it runs" \
		"$(tail -n 20 "$tmp/r1.err")"
fi
if [ "$status" -eq 0 ]; then
	ok "the run through $uri passes"
else
	not_ok "the run through $uri passes" "exit status $status" \
		"$(cat "$tmp/r1.ktap")" "$(tail -n 30 "$tmp/r1.err")"
fi
cell=$(find "$tmp/r1" -path '*nocpu/acpi-dimm-memoryless-node/domain.xml' | head -n 1)
if [ -n "$cell" ] && ! grep -q "$HOME\|$tmp\|\.cache" "$cell" &&
	grep -q '/var/lib/libvirt/hotplug-harness/' "$cell"; then
	ok "the domain boots the uploaded copies, no path of the harness machine"
else
	not_ok "the domain boots the uploaded copies, no path of the harness machine" \
		"$(grep -E 'kernel|initrd' "$cell" 2>/dev/null)"
fi
"$HH" run --quiet --keep-going --backend libvirt --connect "$uri" \
	--matrix configs/check.matrix --results "$tmp/r2" -j 1 \
	--only 'stock/mem2g-of-3g/*' >"$tmp/r2.ktap" 2>"$tmp/r2.err"
check "a second run passes" sh -c "grep -q '^ok ' '$tmp/r2.ktap' && ! grep -q '^not ok' '$tmp/r2.ktap'"
if grep -q 'libvirt: uploaded' "$tmp/r2.err"; then
	not_ok "a second run uploads nothing" "$(grep 'libvirt: uploaded' "$tmp/r2.err")"
else
	ok "a second run uploads nothing"
fi
check "its cells restored from a snapshot saved on the daemon's side" \
	grep -rq '"boot" : "snapshot"' "$tmp/r2"
if virsh -c "$uri" list --name | grep -q '^hh-'; then
	not_ok "no hh- domain is left on the daemon" "$(virsh -c "$uri" list --name)"
else
	ok "no hh- domain is left on the daemon"
fi
echo "1..$tap_n"
