#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# Check every Promela model with spin: generate the verifier, build it,
# search the whole state space, one line per run, then a summary line.
# Runs are sequential and small (each well under a minute and 2 GiB).
#
# A "pass" run must end with 0 errors after a complete search; a "fail"
# run is a negative control and passes only if spin finds an error, so a
# model that can no longer catch the bug it was built to show is noticed.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${BUILD:-$here/../build}/models
SPIN=${SPIN:-spin}
CC=${CC:-gcc}
# Generous against the measured runs, low enough to catch a blow-up.
TIMEOUT=${MODEL_TIMEOUT:-240}
MEMLIM=${MODEL_MEMLIM:-4096}

for tool in "$SPIN" "$CC" timeout; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "not ok - models: $tool not found"
		echo "models: 0 passed, 1 failed"
		exit 1
	fi
done
mkdir -p "$out" || exit 1
work=$(mktemp -d "$out/run.XXXXXX") || exit 1
# Keep the logs of the last run (counterexamples are in pan.log), not pan.
keep() {
	rm -rf "$out/logs"
	mkdir -p "$out/logs"
	for d in "$work"/*/; do
		[ -f "$d/pan.log" ] && cp "$d/pan.log" "$out/logs/$(basename "$d").log"
	done
	rm -rf "$work"
}
trap keep EXIT

passed=0
failed=0

# name  model  expect  spin -D flags (space separated, or -); expect is
# pass, fail (a negative control) or known (a finding not fixed yet).
runs=(
	"sp_ring              sp_ring.pml         pass -"
	"mp_ring              mp_ring.pml         pass -"
	"mp_ring_rmod1        mp_ring.pml         fail -DRMOD=1"
	"producer_death       producer_death.pml  pass -"
	"producer_death_rmod2 producer_death.pml  fail -DRMOD=2"
	"wakeup               wakeup.pml          pass -DNC=1 -DK=4 -DN=2"
	"wakeup_nofence       wakeup.pml          fail -DNC=1 -DK=4 -DN=2 -DNO_FENCE"
	"wakeup_noadvfence    wakeup.pml          fail -DNC=1 -DK=4 -DN=2 -DNO_ADVANCE_FENCE"
	"wakeup_join          wakeup.pml          pass -DNC=3 -DK=3 -DN=2 -DNO_HALT"
	"wakeup_join_noadvfence wakeup.pml        fail -DNC=3 -DK=3 -DN=2 -DNO_HALT -DNO_ADVANCE_FENCE"
	"wakeup_join_halt     wakeup.pml          pass -DNC=3 -DK=1 -DN=1"
	# A stall the model found (README.md, Findings), fixed by the halt
	# grace period; without it the stall must still be found.
	"wakeup_stay_attached wakeup.pml          pass -DNC=3 -DK=1 -DN=1 -DSTAY_ATTACHED"
	"wakeup_stay_attached_nograce wakeup.pml  fail -DNC=3 -DK=1 -DN=1 -DSTAY_ATTACHED -DNO_HALT_GRACE"
	# BB_FEAT_SLEEPER_BARRIER: movers without fences, sleepers fence
	# every CPU; without that the same wakeups must be lost.
	"wakeup_sb            wakeup.pml          pass -DNC=1 -DK=4 -DN=2 -DSLEEPER_BARRIER"
	"wakeup_sb_noipi      wakeup.pml          fail -DNC=1 -DK=4 -DN=2 -DSLEEPER_BARRIER -DNO_IPI"
	"wakeup_join_sb       wakeup.pml          pass -DNC=3 -DK=3 -DN=2 -DNO_HALT -DSLEEPER_BARRIER"
	"wakeup_join_sb_noipi wakeup.pml          fail -DNC=3 -DK=3 -DN=2 -DNO_HALT -DSLEEPER_BARRIER -DNO_IPI"
	"wakeup_join_halt_sb  wakeup.pml          pass -DNC=3 -DK=1 -DN=1 -DSLEEPER_BARRIER"
	# A consumer joining a running ring: the producer fences before its
	# gating snapshot, the attacher between topo_seq and the frontier.
	"attach               attach.pml          pass -"
	"attach_nosnapfence   attach.pml          fail -DNO_SNAPSHOT_FENCE"
	"attach_noattachfence attach.pml          fail -DNO_ATTACH_FENCE"
	# A dead producer's CAS won unrecorded: the kernel concludes so only
	# when no live intent, entry or slot explains the frontier.
	"intent               intent.pml          pass -"
	"intent_slotfirst     intent.pml          fail -DSLOT_FIRST"
	"intent_nointent      intent.pml          fail -DNO_INTENT"
)

report() {
	if [ "$1" = ok ]; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
	fi
	echo "$1 - $2"
}

for run in "${runs[@]}"; do
	read -r name model expect defs <<<"$run"
	[ "$defs" = - ] && defs=
	dir=$work/$name
	mkdir -p "$dir"
	cp "$here/$model" "$dir/" || { report "not ok" "$name: no $model"; continue; }
	# shellcheck disable=SC2086 # defs is a list of -D flags
	if ! (cd "$dir" && "$SPIN" -a $defs "$model") >"$dir/spin.log" 2>&1; then
		report "not ok" "$name: spin -a failed: $(tail -n 1 "$dir/spin.log")"
		continue
	fi
	# Only safety properties: assertions and invalid end states.
	if ! (cd "$dir" && "$CC" -O2 -w -DSAFETY -DMEMLIM="$MEMLIM" \
		-o pan pan.c) >"$dir/cc.log" 2>&1; then
		report "not ok" "$name: pan does not build: $(tail -n 1 "$dir/cc.log")"
		continue
	fi
	(cd "$dir" && timeout "$TIMEOUT" ./pan -m200000) >"$dir/pan.log" 2>&1
	rc=$?
	log=$dir/pan.log
	errors=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' "$log" | tail -n 1)
	states=$(sed -n 's/^ *\([0-9]*\) states, stored.*/\1/p' "$log" | tail -n 1)
	depth=$(sed -n 's/.*depth reached \([0-9]*\),.*/\1/p' "$log" | tail -n 1)
	what=$(grep -m 1 -E '^pan:[0-9]+: ' "$log" | sed 's/^pan:[0-9]*: //; s/ (at depth.*//')
	summary="$name: ${states:-?} states stored, ${errors:-?} errors (depth ${depth:-?})"
	if [ "$rc" = 124 ]; then
		report "not ok" "$name: timed out after ${TIMEOUT}s"
		continue
	fi
	if [ -z "$errors" ] || [ -z "$states" ]; then
		report "not ok" "$name: no verdict from pan (exit $rc): $(tail -n 1 "$log")"
		continue
	fi
	# An incomplete search proves nothing.
	if grep -qE 'reached -DMEMLIM|out of memory|search depth too small|max search depth' "$log"; then
		report "not ok" "$summary: search incomplete"
		continue
	fi
	if [ "$expect" = pass ]; then
		if [ "$errors" = 0 ]; then
			report "ok" "$summary"
		else
			report "not ok" "$summary: $what"
		fi
	elif [ "$expect" = known ]; then
		if [ "$errors" != 0 ]; then
			report "ok" "$summary: known stall still there: $what"
		else
			report "not ok" "$summary: the known stall is gone, update run.sh"
		fi
	else
		if [ "$errors" != 0 ]; then
			report "ok" "$summary: found as it must be: $what"
		else
			report "not ok" "$summary: the negative control found nothing"
		fi
	fi
done

echo "models: $passed passed, $failed failed"
[ "$failed" = 0 ]
