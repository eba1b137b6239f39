#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make demo: run $BUILD/bin/badbatch-demo (a publisher and dependent
# consumer processes through /dev/badbatch). On the host when it runs the
# kernel the module was built for and we may load it; otherwise in the VM
# lane's guest. Fails on a demo failure or on any kernel splat.
#
# Environment: TOP BUILD; BB_DEMO (default $BUILD/bin/badbatch-demo);
# BB_DEMO_VM=1 forces the VM; the BB_VM_* variables of run.sh apply there.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
TOP=${TOP:-$(cd "$here/../.." && pwd)}
BUILD=${BUILD:-$TOP/build}
demo=${BB_DEMO:-$BUILD/bin/badbatch-demo}
module=$TOP/kernel/badbatch.ko
# Kept in step with guest/runner.sh.
splat='BUG:|WARNING:|Oops|KASAN|UBSAN|lockdep|possible recursive locking'
splat+='|circular locking|RCU stall|rcu_.*stall|general protection'
splat+='|Kernel panic|kernel BUG|blocked for more than|soft lockup'
splat+='|hard LOCKUP|Call Trace:'

finish() {
	echo "demo: $1 passed, $2 failed"
	exit $(($2 > 0))
}

# The host can run the demo if it runs the module's kernel and lets us
# load it (or it is loaded already).
host_ok() {
	[[ ${BB_DEMO_VM:-0} != 1 && $EUID -eq 0 ]] || return 1
	[[ $(modinfo -F vermagic "$module" 2>/dev/null) == "$(uname -r) "* ]] ||
		return 1
	[[ -e /sys/module/badbatch ]] || insmod "$module" 2>/dev/null || return 1
}

# on_host LOADED: run the demo, check the kernel log, unload what we loaded.
on_host() {
	local loaded=$1 before fail=0 log
	echo "demo: running on the host ($(uname -r))"
	before=$(dmesg | wc -l)
	"$demo" || { echo "demo: $demo failed ($?)"; fail=1; }
	if [[ $loaded == 1 ]] && ! rmmod badbatch; then
		echo "demo: rmmod badbatch failed"
		fail=1
	fi
	log=$(dmesg | tail -n +$((before + 1)))
	if grep -E "$splat" <<<"$log"; then
		echo "demo: kernel log shows a problem"
		fail=1
	fi
	finish $((1 - fail)) $fail
}

main() {
	[[ -x $demo ]] || { echo "demo: no $demo (make all)"; finish 0 1; }
	local loaded=0
	[[ -e /sys/module/badbatch ]] || loaded=1
	if host_ok; then
		on_host $loaded
	fi
	echo "demo: running in a qemu guest (the host cannot load the module)"
	BB_VM_LANE=demo exec "$here/run.sh" --name badbatch-demo --cmd "$demo"
}

main "$@"
