#!/bin/sh
# bisect on a real kernel tree: scripts/make-bisect-repo builds a git
# repository from linux-source-6.1 with the emulator series and 8 commits
# on top, one of which breaks add_node and one of which breaks the build.
# 'hotplug-harness bisect' must name the add_node commit, skip the broken
# build, leave the user's tree as it was, keep a replayable bisect log, and
# build incrementally (each step far faster than the first full build).
# Slow (about 10 minutes): run by 'make check-bisect', not 'make check'.
. "${HH_SRCDIR:-.}/tests/lib.sh"

cell=emu/emu-mem2g-possible4/emu-walkthrough
repo="$tmp/linux"
state="$tmp/state"
clone=

cleanup() {
	# Our clone of the repository under the cache (1.6 GB).
	[ -n "$clone" ] && rm -rf "$clone" "$clone.lock"
	rm -rf "$tmp"
}
trap cleanup EXIT

t0=$(date +%s)
if subject=$("$HH_SRCDIR/scripts/make-bisect-repo" "$repo" 2>"$tmp/repo.err" |
	tail -n 1) && [ -n "$subject" ]; then
	ok "make-bisect-repo builds the repository ($(($(date +%s) - t0)) s)"
else
	not_ok "make-bisect-repo builds the repository" "$(tail -n 5 "$tmp/repo.err")"
	echo "1..$tap_n"
	exit 1
fi
breaker=$(git -C "$repo" log --format=%H -F --grep="$subject" -n 1)
build_breaker=$(git -C "$repo" log --format=%H -n 1 \
	--grep='^drivers/base/memory: reword the block size comment$')
head_before=$(git -C "$repo" rev-parse HEAD)

t1=$(date +%s)
"$HH" bisect --tree "$repo" --good emulator --bad HEAD --cell "$cell" \
	--runs 2 --state "$state" >"$tmp/out" 2>"$tmp/err"
rc=$?
total=$(($(date +%s) - t1))
clone=$(sed -n 's|^bisect-step: building [0-9a-f]* in \(.*\)/src/hh-build .*|\1|p' \
	"$tmp/err" | head -n 1)
if [ "$rc" -eq 0 ]; then
	ok "bisect finds a first bad commit (exit 0, $total s)"
else
	not_ok "bisect finds a first bad commit (exit 0, $total s)" \
		"exit $rc" "$(tail -n 30 "$tmp/err")" "$(cat "$tmp/out")"
fi
if grep -q "^first bad commit: \[$breaker\] $subject\$" "$tmp/out"; then
	ok "the first bad commit is the one that breaks add_node"
else
	not_ok "the first bad commit is the one that breaks add_node" \
		"expected $breaker $subject" "$(cat "$tmp/out")"
fi
if grep -q "^step: line [0-9]*: write /sys/kernel/debug/mem_hotplug/add_node" \
	"$state/signature"; then
	ok "the signature is the failing step of the bad end"
else
	not_ok "the signature is the failing step of the bad end" \
		"$(cat "$state/signature" 2>&1)"
fi
if grep -q "^git bisect skip $build_breaker\$" "$state/bisect.log" &&
	grep -q "^$build_breaker	skip	.*build failed: .*error" "$state/steps.tsv"; then
	ok "the commit that breaks the build was built and skipped"
else
	not_ok "the commit that breaks the build was built and skipped" \
		"$(cat "$state/bisect.log" 2>&1)" "$(cat "$state/steps.tsv" 2>&1)"
fi
if grep -q "^  failing step: line [0-9]*: write .*add_node" "$tmp/out" &&
	grep -q "^  crash title:  none" "$tmp/out" &&
	grep -q "mem_hotplug_emu: added .* as node 2" "$tmp/out" &&
	grep -q "build(s) in .* boot(s) in" "$tmp/out"; then
	ok "the report names the failing step, the crash title, a log excerpt and the counts"
else
	not_ok "the report names the failing step, the crash title, a log excerpt and the counts" \
		"$(cat "$tmp/out")"
fi
if ! git -C "$repo" bisect log >/dev/null 2>&1 &&
	[ "$(git -C "$repo" rev-parse HEAD)" = "$head_before" ] &&
	[ -z "$(git -C "$repo" status --porcelain)" ]; then
	ok "the user's tree is reset, at its HEAD and clean"
else
	not_ok "the user's tree is reset, at its HEAD and clean" \
		"$(git -C "$repo" status 2>&1 | head -n 5)"
fi
if git -C "$repo" bisect replay "$state/bisect.log" >"$tmp/replay" 2>&1 &&
	[ "$(git -C "$repo" rev-parse refs/bisect/bad)" = "$breaker" ]; then
	ok "the kept bisect log replays to the same first bad commit"
else
	not_ok "the kept bisect log replays to the same first bad commit" \
		"$(tail -n 5 "$tmp/replay")"
fi
git -C "$repo" bisect reset >/dev/null 2>&1

# Per-step build times: the first step built everything (ccache warm from
# the harness's own kernel builds), the others only what changed.
awk -F '\t' '{ printf "# step %d %.12s %-5s build %6.1f s boot %5.1f s (%d boots)\n",
	NR, $1, $2, $3, $4, $5 }' "$state/steps.tsv"
echo "# repository $((t1 - t0)) s, bisect $total s; bisect's report:"
sed -n '/^steps (build/,$p' "$tmp/out" | sed 's/^/# /'

# Incremental builds, judged by what was compiled, not by the clock (the
# times above are figures for docs/performance.md, not a pass mark): the
# first step compiles the whole kernel, every later one only what changed.
objects() {
	n=$(grep -cE '^  (CC|AS) ' "$1/build.log" 2>/dev/null)
	echo "${n:-0}"
}
first_objs=$(objects "$(head -n 1 "$state/steps.tsv" | cut -f 6)")
many=
while IFS="$(printf '\t')" read -r commit _ _ _ _ dir _; do
	n=$(objects "$dir")
	echo "# step $(echo "$commit" | cut -c 1-12): $n object(s) compiled"
	[ "$n" -lt 100 ] || many="$many $(echo "$commit" | cut -c 1-12):$n"
done <<EOT
$(tail -n +2 "$state/steps.tsv")
EOT
if [ "$first_objs" -gt 500 ] && [ -z "$many" ]; then
	ok "the first build compiled $first_objs objects, every later one under 100"
else
	not_ok "the first build compiled $first_objs objects, every later one under 100" \
		"later builds compiling 100 or more:$many"
fi
# Reconfigured only when what the configuration is made from changed: no
# commit of the range touches a Kconfig file or a fragment, so only the
# first build ran tinyconfig ("configuration written to .config").
configured=
while IFS="$(printf '\t')" read -r commit _ _ _ _ dir _; do
	grep -q 'configuration written to' "$dir/build.log" 2>/dev/null &&
		configured="$configured $(echo "$commit" | cut -c 1-12)"
done <<EOT
$(tail -n +2 "$state/steps.tsv")
EOT
if grep -q 'configuration written to' \
	"$(head -n 1 "$state/steps.tsv" | cut -f 6)/build.log" &&
	[ -z "$configured" ]; then
	ok "only the first build configured the tree; later steps kept its .config"
else
	not_ok "only the first build configured the tree; later steps kept its .config" \
		"reconfigured:${configured:- (the first build did not configure)}"
fi
echo "1..$tap_n"
