#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Debug lane, fault-injection pass (BB_VM_WRAP): run PROG ARGS... with
# BB_MAKE_IT_FAIL=1, so that the program sets /proc/self/make-it-fail in
# t_init() and the faults armed by faults.sh hit it and its children only.
#
# Under injected faults the program's own checks fail at random: its
# "not ok" lines become TODO, its plan and exit status are ignored (a
# death by signal is noted). What fails the pass is the kernel's side,
# checked by the VM runner and leakcheck.sh: a splat, a hang (timeout),
# a process left behind, a leak, a module that will not unload.
# PROG is a static build (tests/debug/run.sh) and runs from tmpfs: a
# faulted task that touches the guest's 9p root can break the mount for
# everyone (seen: every exec then fails with EINVAL).
rcfile=/tmp/bb-fault-rc.$$
name=$(basename "$1")
cp "$1" "/tmp/bb-fault-$name"
shift
{
	BB_MAKE_IT_FAIL=1 "/tmp/bb-fault-$name" "$@" 2>&1
	echo $? >$rcfile
} | sed -u -e 's/^not ok \(.*\)$/not ok \1 # TODO under fault injection/' \
	-e 's/^1\.\.[0-9]*/# &/'
rc=$(cat $rcfile 2>/dev/null)
rm -f $rcfile "/tmp/bb-fault-$name"

case $rc in
'') echo "# the program's status was lost" ;;
0) ;;
*)
	[ "$rc" -gt 128 ] && echo "# killed by signal $((rc - 128)) under fault injection"
	echo "# exit $rc under fault injection" ;;
esac
echo "ok - $name ran under fault injection (exit ${rc:-?})"
exit 0
