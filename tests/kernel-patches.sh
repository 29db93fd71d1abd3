#!/bin/sh
# The emulator series in kernel-patches/6.1: well formed, listed in order,
# signed off, and clean under the kernel tree's own checkpatch.pl --strict
# (0 errors, 0 warnings).  That it applies to linux-source-6.1 with no
# offset and no fuzz is checked by every 'kernel build' that uses it.
. "${HH_SRCDIR:-.}/tests/lib.sh"

dir=$HH_SRCDIR/kernel-patches/6.1
tarball=/usr/src/linux-source-6.1.tar.xz

patches=$(grep -v '^#' "$dir/series" | grep .)
n=0
for p in $patches; do
	n=$((n + 1))
	check "series entry $n ($p) exists" test -f "$dir/$p"
	check "$p is a git format-patch file with a Signed-off-by" \
		sh -c "head -n 1 '$dir/$p' | grep -q '^From [0-9a-f]\{40\} ' &&
			grep -q '^Signed-off-by: ' '$dir/$p'"
done

if [ ! -f "$tarball" ]; then
	echo "ok $((tap_n + 1)) # SKIP $tarball missing (apt-get install linux-source-6.1)"
	echo "1..$((tap_n + 1))"
	exit 0
fi
# checkpatch.pl and the data files it reads, from the same tree.
mkdir -p "$tmp/tree"
tar -xf "$tarball" -C "$tmp/tree" --strip-components=1 --wildcards \
	'*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
	'*/scripts/const_structs.checkpatch' '*/scripts/spdxcheck.py' \
	'*/LICENSES/*' '*/MAINTAINERS' 2>/dev/null
for p in $patches; do
	out=$(cd "$tmp/tree" && PATH=/usr/bin:/bin:$PATH perl scripts/checkpatch.pl \
		--strict --no-tree "$dir/$p" 2>&1)
	if echo "$out" | grep -q '^total: 0 errors, 0 warnings,'; then
		ok "checkpatch --strict: $p: $(echo "$out" | grep '^total:')"
	else
		not_ok "checkpatch --strict: $p" "$(echo "$out" | tail -n 20)"
	fi
done
echo "1..$tap_n"
