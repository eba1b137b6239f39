#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make check: run every lane, then one closing line "N passed, N failed".
# Each lane ends its output with "<lane>: N passed, N failed".
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

lanes=(lint models test-unit test-kunit test-dkms test-vm demo)
total_pass=0
total_fail=0
log_dir=$top/build/check
mkdir -p "$log_dir"
start=$(date +%s)

for lane in "${lanes[@]}"; do
	echo "=== $lane"
	log=$log_dir/$lane.log
	make --no-print-directory "$lane" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	line=$(grep -E '^[a-z-]+: [0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	pass=$(sed -E 's/.*: ([0-9]+) passed.*/\1/' <<<"$line")
	fail=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")
	pass=${pass:-0}
	fail=${fail:-0}
	# A lane that broke before counting still counts as one failure.
	if [[ $rc -ne 0 && $fail -eq 0 ]]; then
		fail=1
		echo "$lane: exited $rc without reporting a failure"
	fi
	total_pass=$((total_pass + pass))
	total_fail=$((total_fail + fail))
done

echo "=== make check took $(( $(date +%s) - start )) s"
echo "$total_pass passed, $total_fail failed"
[[ $total_fail -eq 0 ]]
