#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Debug lane, in the guest chroot: the module built with its KUnit suite
# (CONFIG_BADBATCH_KUNIT_TEST) ran the suite when it was loaded; print its
# test cases from debugfs as top-level TAP lines for the VM runner.
r=/sys/kernel/debug/kunit/badbatch/results
if [ ! -r $r ]; then
	echo "1..1"
	echo "not ok 1 - no KUnit results in $r"
	exit 1
fi
cp $r "$BB_OUT/kunit-results.txt" 2>/dev/null
# Test cases are indented by four spaces under the suite (KTAP); their
# own subtests (parameters) deeper. Case lines are "ok N name".
# A case's log is 512 bytes in 6.1: a chatty case can lose its result
# line (the plan then counts it missing); the suite's own line, computed
# from the statuses, is the backstop.
awk '
/^    1\.\.[0-9]+/ { sub(/^ +/, ""); print; next }
/^    (not )?ok [0-9]+ / { sub(/^ +/, ""); print; if ($1 == "not") nf++; next }
/^not ok 1 badbatch/ { suite_failed = 1 }
/^        / { next }
{ print "# " $0 }
END { if (suite_failed && !nf) print "not ok 0 - the badbatch suite failed (see kunit-results.txt)" }' $r
