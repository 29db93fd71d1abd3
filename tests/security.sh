#!/bin/sh
# The checks docs/security.md promises a test for.  A hostile guest prints
# markup, script, shell syntax and path traversal into the kernel log and
# into a failing step's output (which becomes the cell's reason):
#   - the run directory holding QEMU's sockets is 0700, its sockets in it
#   - no guest text becomes a shell word (nothing it asks for runs on the
#     host) or a path (no file named after its text appears anywhere)
#   - the HTML report carries no <script> and a Content-Security-Policy
#     that forbids scripts; the guest's markup appears escaped
. "${HH_SRCDIR:-.}/tests/lib.sh"

check "the stock kernel is built" "$HH" kernel build --no-patches --quiet
fault_datadir
token="hh-sec-$$"
fault_scenario sec-hostile "variants smp2-maxcpus1" \
	"run sh -c \"printf '%s\\\\n' '<script>alert(1)</script>' '<img src=x onerror=alert(2)>' '\$(touch /tmp/$token-a)' '\`touch /tmp/$token-b\`' '../../../../tmp/$token-c' | tee /dev/kmsg; sleep 8\" -> exit=3"
res="$tmp/results"
"$HH" run --quiet --keep-going --boot cold -j 1 --matrix configs/check.matrix \
	--only 'stock/smp2-maxcpus1/sec-hostile' --results "$res" \
	>/dev/null 2>"$tmp/stderr" &
pid=$!

sock_dir() {
	q=$(qemu_of_test | head -n 1)
	[ -n "$q" ] || return 1
	tr '\0' '\n' <"/proc/$q/cmdline" |
		sed -n 's/.*socket,id=control,path=\(.*\)\/control.sock.*/\1/p'
}
if wait_for 120 sock_dir; then
	d=$(sock_dir)
	mode=$(stat -c %a "$d")
	if [ "$mode" = 700 ] && [ -S "$d/control.sock" ] && [ -S "$d/log.sock" ] &&
		[ -S "$d/qmp.sock" ]; then
		ok "QEMU's sockets are in $d, mode $mode"
	else
		not_ok "QEMU's sockets are in a 0700 directory" "$d: mode $mode" "$(ls -la "$d")"
	fi
else
	not_ok "QEMU started" "$(tail -n 5 "$tmp/stderr")"
fi
wait "$pid"
expect_exit 1 $? "the hostile cell fails (its command exits 0, not 3)"
check_no_qemu
cell="$(run_dir_of "$res")/stock/smp2-maxcpus1/sec-hostile"
check "the guest's text reached the kernel log" grep -q 'onerror=alert(2)' "$cell/kmsg.log"
check "the guest's text reached the cell's reason" \
	sh -c "'$HH' results show '$(basename "$(run_dir_of "$res")")' --results '$res' | grep -q 'script'"
check "nothing the guest wrote ran on the host" \
	sh -c "! ls /tmp/$token-* 2>/dev/null | grep -q ."
check "no file is named after guest text" \
	sh -c "! find '$res' '$tmp' -name '*$token*' | grep -q ."
pages=$(find "$res" -name '*.html' | wc -l)
in_range "$pages" 2 100000 "the report has $pages pages" "the report has pages"
check "no report page carries a <script" \
	sh -c "! grep -il '<script' \$(find '$res' -name '*.html')"
check "every report page forbids scripts (Content-Security-Policy)" \
	sh -c "for f in \$(find '$res' -name '*.html'); do grep -q \"Content-Security-Policy\\\" content=\\\"default-src 'none'\" \"\$f\" || exit 1; done"
check "the guest's markup is shown escaped" \
	sh -c "grep -rq '&lt;script&gt;alert(1)&lt;/script&gt;' '$res'"
echo "1..$tap_n"
