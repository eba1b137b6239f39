#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Debug lane, fault-injection pass (BB_VM_WRAP): run PROG ARGS... with
# /proc/self/make-it-fail set, so the faults armed by faults.sh hit it and
# its children only.
#
# Under injected faults the program's own checks fail at random: its
# "not ok" lines become TODO, its plan and exit status are ignored (a
# death by signal is noted). What fails the pass is the kernel's side,
# checked by the VM runner and leakcheck.sh: a splat, a hang (timeout),
# a process left behind, a leak, a module that will not unload.
# make-it-fail.so (built by run.sh from make-it-fail.c, path in
# $BB_FAULT_SO) sets the flag after exec and loading, before main().
rcfile=/tmp/bb-fault-rc.$$
so=${BB_FAULT_SO:?BB_FAULT_SO: path of make-it-fail.so}
{
	LD_PRELOAD="${LD_PRELOAD:+$LD_PRELOAD }$so" "$@" 2>&1
	echo $? >$rcfile
} | sed -u -e 's/^not ok \(.*\)$/not ok \1 # TODO under fault injection/' \
	-e 's/^1\.\.[0-9]*/# &/'
rc=$(cat $rcfile 2>/dev/null)
rm -f $rcfile

case $rc in
'') echo "# the program's status was lost" ;;
0) ;;
*)
	[ "$rc" -gt 128 ] && echo "# killed by signal $((rc - 128)) under fault injection"
	echo "# exit $rc under fault injection" ;;
esac
echo "ok - $(basename "$1") ran under fault injection (exit ${rc:-?})"
exit 0
