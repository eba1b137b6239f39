#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make test-unit: the native protocol and library tests in three builds,
# plain -O2, ASan+UBSan and TSan, one TAP line per case and variant, and
# one closing line "unit: N passed, N failed". Exit status 1 on any
# failure, including a variant that does not build or crashes outside a
# test case.
#
#   tests/unit/run.sh [variant...] [-- filter]
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1

"$top/scripts/deps.sh" build || exit 1

variants=()
filter=()
while [[ $# -gt 0 ]]; do
	case $1 in
	--) shift; filter=("$@"); break ;;
	*) variants+=("$1"); shift ;;
	esac
done
[[ ${#variants[@]} -gt 0 ]] || variants=(plain asan tsan)

build=${BUILD:-$top/build}
log_dir=$build/unit
mkdir -p "$log_dir"
passed=0
failed=0

# TSan needs the address layout it was built for; some kernels randomise
# more bits than it supports (it then dies before main).
run_tsan() {
	if setarch "$(uname -m)" -R true 2>/dev/null; then
		setarch "$(uname -m)" -R "$@"
	else
		"$@"
	fi
}

# UNIT_MAKEFILE: build through another makefile (one that includes
# userspace/build.mk and tests/unit/build.mk), e.g. while the top one
# cannot be read.
make_cmd=(make --no-print-directory -s -C "$top")
[[ -n ${UNIT_MAKEFILE:-} ]] && make_cmd+=(-f "$UNIT_MAKEFILE")

for v in "${variants[@]}"; do
	start=$(date +%s%N)
	if ! "${make_cmd[@]}" unit-bins UNIT_VARIANT="$v" \
			>"$log_dir/build-$v.log" 2>&1; then
		cat "$log_dir/build-$v.log"
		echo "not ok - [$v] build"
		failed=$((failed + 1))
		continue
	fi
	bin=$build/unit/$v/badbatch-unit
	out=$log_dir/$v.tap
	case $v in
	asan)
		ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
			"$bin" "${filter[@]}" >"$out" 2>&1
		;;
	tsan)
		TSAN_OPTIONS=halt_on_error=1:exitcode=66 \
			run_tsan "$bin" "${filter[@]}" >"$out" 2>&1
		;;
	*)
		"$bin" "${filter[@]}" >"$out" 2>&1
		;;
	esac
	rc=$?
	cat "$out"
	p=$(grep -c '^ok ' "$out")
	f=$(grep -c '^not ok ' "$out")
	# A crash of the runner itself, or a plan it did not finish.
	plan=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$out" | head -n 1)
	if [[ -z $plan || $((p + f)) -ne $plan || ($rc -ne 0 && $f -eq 0) ]]; then
		echo "not ok - [$v] runner exited $rc after $((p + f)) of ${plan:-?} cases"
		f=$((f + 1))
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	ms=$((($(date +%s%N) - start) / 1000000))
	printf '# %s took %d.%d s (build and run)\n' "$v" \
		$((ms / 1000)) $((ms % 1000 / 100))
done

echo "unit: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
