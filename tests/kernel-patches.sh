#!/bin/sh
# The emulator series in kernel-patches/6.1: well formed, listed in order,
# signed off, and clean under the kernel tree's own checkpatch.pl --strict
# (0 errors, 0 warnings), and applying to the installed linux-source-6.1
# with no offset and no fuzz ('kernel build' refuses fuzz, and only notes
# an offset, which other point releases can need).
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

# Every file the series touches, from the same tarball, then the series
# applied in order: no offset, no fuzz.
files=$(cd "$dir" && cat $patches | sed -n 's|^--- a/||p' | sort -u)
mkdir -p "$tmp/apply"
# shellcheck disable=SC2086
tar -xf "$tarball" -C "$tmp/apply" --strip-components=1 \
	$(for f in $files; do echo "linux-source-6.1/$f"; done) 2>/dev/null
# The series is refreshed against the linux-source-6.1 Debian 12 serves
# with its security updates; another point release (bookworm without
# them serves 6.1.176) may need offsets, which 'kernel build' accepts.
base=6.1.192
tar -xf "$tarball" -C "$tmp/apply" --strip-components=1 linux-source-6.1/Makefile
installed=$(awk '/^VERSION =/ { v = $3 } /^PATCHLEVEL =/ { p = $3 }
	/^SUBLEVEL =/ { s = $3 } END { print v "." p "." s }' "$tmp/apply/Makefile")
for p in $patches; do
	out=$(cd "$tmp/apply" && patch -p1 --forward --batch --fuzz=0 -i "$dir/$p" 2>&1)
	status=$?
	if [ "$status" -eq 0 ] && ! echo "$out" | grep -q -e offset -e fuzz; then
		ok "$p applies to $(basename "$tarball") with no offset and no fuzz"
	elif [ "$status" -eq 0 ] && [ "$installed" != "$base" ] &&
		! echo "$out" | grep -q fuzz; then
		ok "$p # SKIP the installed source is $installed, the series is refreshed against $base: it applies with an offset, no fuzz"
	else
		not_ok "$p applies to $(basename "$tarball") with no offset and no fuzz" \
			"$out"
	fi
done
echo "1..$tap_n"
