#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Debug lane, in the guest chroot after the tests (module still loaded):
# ask kmemleak for a scan and fail on any suspected leak whose allocation
# backtrace goes through badbatch. Other suspects are listed, not failed.
# The whole report is saved as $BB_OUT/kmemleak.txt.
k=/sys/kernel/debug/kmemleak
echo "1..1"
if [ ! -w $k ]; then
	echo "not ok 1 - no $k (CONFIG_DEBUG_KMEMLEAK)"
	exit 1
fi
# kmemleak does not report objects younger than 5 s; two scans settle
# objects only referenced from registers or stacks.
sleep 6
echo scan >$k
sleep 1
echo scan >$k
cat $k >/tmp/kmemleak.txt
cp /tmp/kmemleak.txt "$BB_OUT/kmemleak.txt" 2>/dev/null
awk '
/^unreferenced object/ { flush(); entry = $0 "\n"; next }
{ entry = entry $0 "\n" }
function flush() {
	if (entry == "") return
	n++
	if (entry ~ /\[badbatch\]|[ <]bb_[a-z_0-9]+\+0x/) { bb++; printf "%s", entry }
	entry = ""
}
END { flush(); printf "# kmemleak: %d suspects, %d from badbatch\n", n, bb
      exit bb > 0 }' /tmp/kmemleak.txt >/tmp/kmemleak.bb
rc=$?
sed 's/^/# /' /tmp/kmemleak.bb
if [ $rc -eq 0 ]; then
	echo "ok 1 - kmemleak: no leak from badbatch"
else
	echo "not ok 1 - kmemleak: badbatch leaked memory (above)"
fi
exit $rc
