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
