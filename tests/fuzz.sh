#!/bin/sh
# The fuzz targets (tests/fuzz, scripts/fuzz) in CI: every input of every
# checked-in corpus runs once (crashes found earlier stay fixed), then each
# target fuzzes briefly (FUZZ_SECONDS, default 10) without growing the
# checked-in corpus.  Long runs: make fuzz FUZZ_SECONDS=600.
. "${HH_SRCDIR:-.}/tests/lib.sh"

if ! command -v clang >/dev/null 2>&1; then
	echo "1..0 # SKIP clang not installed (Debian: apt-get install clang libclang-rt-14-dev)"
	exit 0
fi
build="${HH_BUILDDIR:-.}"
cd "$build" || exit 1
if ! sh "$HH_SRCDIR/scripts/fuzz" build >"$tmp/build.log" 2>&1; then
	not_ok "the fuzz targets build" "$(tail -n 20 "$tmp/build.log")"
	echo "1..$tap_n"
	exit 0
fi
ok "the fuzz targets build"
targets=$(sed -n 's/^all_targets="\(.*\)"$/\1/p' "$HH_SRCDIR/scripts/fuzz")
for t in $targets; do
	n=$(find "$HH_SRCDIR/tests/fuzz/corpus/$t" -type f | wc -l)
	if FUZZ_TARGETS=$t sh "$HH_SRCDIR/scripts/fuzz" replay >"$tmp/$t.out" 2>&1; then
		ok "$t: its $n corpus inputs run clean"
	else
		not_ok "$t: its $n corpus inputs run clean" "$(tail -n 30 "$tmp/$t.out")"
	fi
	if FUZZ_SCRATCH=1 FUZZ_TARGETS=$t FUZZ_SECONDS="${FUZZ_SECONDS:-10}" \
		sh "$HH_SRCDIR/scripts/fuzz" run >"$tmp/$t.out" 2>&1; then
		ok "$t: fuzzed ${FUZZ_SECONDS:-10} s: $(grep -m1 -o 'average_exec_per_sec: *[0-9]*' "$tmp/$t.out" | tr -s ' ') execs/s"
	else
		not_ok "$t: fuzzed ${FUZZ_SECONDS:-10} s without a crash" "$(tail -n 30 "$tmp/$t.out")"
	fi
done
echo "1..$tap_n"
