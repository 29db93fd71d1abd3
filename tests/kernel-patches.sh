#!/bin/sh
# Every emulator series in kernel-patches/<version>/: well formed, listed in
# order, signed off, clean under the kernel tree's own checkpatch.pl
# --strict (0 errors, 0 warnings, 0 checks), every MAINTAINERS section it
# adds has a maintainer (M:), every ABI entry it adds has Date: and
# KernelVersion:, and it applies to the installed linux-source-<version>
# with no offset and no fuzz ('kernel build' refuses fuzz and only notes
# an offset, which other point releases can need).  The series file's
# "# refreshed against X.Y.Z" line names the point release it is kept
# exact for; on another one an offset is a SKIP with the reason.
. "${HH_SRCDIR:-.}/tests/lib.sh"

for dir in "$HH_SRCDIR"/kernel-patches/*/; do
	dir=$(cd "$dir" && pwd)
	v=$(basename "$dir")
	tarball=/usr/src/linux-source-$v.tar.xz
	patches=$(grep -v '^#' "$dir/series" | grep .)
	base=$(sed -n 's/^# refreshed against \([0-9.]*\).*/\1/p' "$dir/series")
	check "$v: the series file names the point release it is refreshed against" \
		test -n "$base"
	n=0
	for p in $patches; do
		n=$((n + 1))
		check "$v: series entry $n ($p) exists" test -f "$dir/$p"
		check "$v: $p is a git format-patch file with a Signed-off-by" \
			sh -c "head -n 1 '$dir/$p' | grep -q '^From [0-9a-f]\{40\} ' &&
				grep -q '^Signed-off-by: ' '$dir/$p'"
	done
	check "$v: a config fragment for the patched kernel" \
		sh -c "ls '$dir'/*.config >/dev/null 2>&1"

	# A section added to MAINTAINERS starts with a title line followed by
	# added tag lines; it needs an M: among them.
	# shellcheck disable=SC2086
	check "$v: every MAINTAINERS section the series adds names a maintainer (M:)" \
		awk '
			FILENAME != last { last = FILENAME; inm = 0 }
			/^diff --git a\/MAINTAINERS/ { inm = 1; next }
			/^diff --git/ { inm = 0 }
			inm && /^\+[A-Z][A-Z0-9 ()\/,.-]+$/ { if (title != "" && !m) bad = 1; title = $0; m = 0; next }
			inm && title != "" && /^\+M:\t/ { m = 1 }
			inm && title != "" && !/^\+[A-Z]:\t/ { if (!m) bad = 1; title = "" }
			END { if (title != "" && !m) bad = 1; exit bad }' \
		$(for p in $patches; do echo "$dir/$p"; done)
	# shellcheck disable=SC2086
	check "$v: every ABI entry the series adds has Date: and KernelVersion:" \
		awk '
			/^diff --git a\/Documentation\/ABI\// { inabi = 1; next }
			/^diff --git/ { inabi = 0 }
			inabi && /^\+What:/ { w++ }
			inabi && /^\+Date:/ { d++ }
			inabi && /^\+KernelVersion:/ { k++ }
			END { exit !(w == d && w == k) }' \
		$(for p in $patches; do echo "$dir/$p"; done)

	if [ ! -f "$tarball" ]; then
		ok "$v: checkpatch and apply # SKIP $tarball missing (apt-get install linux-source-$v)"
		continue
	fi
	# checkpatch.pl and the data files it reads, from the same tree.
	tree=$tmp/tree-$v
	mkdir -p "$tree"
	tar -xf "$tarball" -C "$tree" --strip-components=1 --wildcards \
		'*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
		'*/scripts/const_structs.checkpatch' '*/scripts/spdxcheck.py' \
		'*/LICENSES/*' '*/MAINTAINERS' 2>/dev/null
	for p in $patches; do
		out=$(cd "$tree" && PATH=/usr/bin:/bin:$PATH perl scripts/checkpatch.pl \
			--strict --no-tree "$dir/$p" 2>&1)
		if echo "$out" | grep -q '^total: 0 errors, 0 warnings, 0 checks,'; then
			ok "$v: checkpatch --strict: $p: $(echo "$out" | grep '^total:')"
		else
			not_ok "$v: checkpatch --strict: $p" "$(echo "$out" | tail -n 20)"
		fi
	done

	# Every file the series touches, from the same tarball, then the
	# series applied in order: no offset, no fuzz.
	files=$(cd "$dir" && cat $patches | sed -n 's|^--- a/||p' | sort -u)
	apply=$tmp/apply-$v
	mkdir -p "$apply"
	# shellcheck disable=SC2086
	tar -xf "$tarball" -C "$apply" --strip-components=1 \
		$(for f in $files; do echo "linux-source-$v/$f"; done) \
		"linux-source-$v/Makefile" 2>/dev/null
	installed=$(awk '/^VERSION =/ { v = $3 } /^PATCHLEVEL =/ { p = $3 }
		/^SUBLEVEL =/ { s = $3 } END { print v "." p "." s }' "$apply/Makefile")
	for p in $patches; do
		out=$(cd "$apply" && patch -p1 --forward --batch --fuzz=0 -i "$dir/$p" 2>&1)
		status=$?
		if [ "$status" -eq 0 ] && ! echo "$out" | grep -q -e offset -e fuzz; then
			ok "$v: $p applies to $(basename "$tarball") with no offset and no fuzz"
		elif [ "$status" -eq 0 ] && [ "$installed" != "$base" ] &&
			! echo "$out" | grep -q fuzz; then
			ok "$v: $p # SKIP the installed source is $installed, the series is refreshed against $base: it applies with an offset, no fuzz"
		else
			not_ok "$v: $p applies to $(basename "$tarball") with no offset and no fuzz" \
				"$out"
		fi
	done
done
echo "1..$tap_n"
