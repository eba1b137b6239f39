#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make test-debug: the module under debug kernels (tests/debug/README.md).
#
# Usage: run.sh [TEST...]     VM test programs for the vm pass (default all)
# Environment:
#   BB_DEBUG_FLAVOURS     kernels, in order (default "kasan kcsan")
#   BB_DEBUG_PASSES       passes per kernel (default "vm kunit fault")
#   BB_DEBUG_FAULT_TESTS  programs of the fault pass
#                         (default "lifetime abi_badinput limits": limits
#                         last, it may fail to restore module parameters)
#   BB_FAULT_PROBABILITY  percent of failing calls in the fault pass (5)
#   BB_VM_TEST_TIMEOUT    seconds per program (default 300: debug kernels
#                         under TCG are slow)
#   BB_VM_TIMEOUT         seconds per boot (default: 600 + 315 a program)
#   BB_CACHE, BB_JOBS     see build-kernel.sh
# Per flavour: build (or reuse) the kernel, build badbatch.ko and a
# badbatch.ko with its KUnit suite against it, then boot it once per pass
# with tests/vm/run.sh. Ends with "debug: N passed, N failed".
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
TOP=${TOP:-$(cd "$here/../.." && pwd)}
BUILD=${BUILD:-$TOP/build}
export TOP BUILD
flavours=${BB_DEBUG_FLAVOURS:-kasan kcsan}
passes=${BB_DEBUG_PASSES:-vm kunit fault}
fault_tests=${BB_DEBUG_FAULT_TESTS:-lifetime abi_badinput limits}
export BB_VM_TEST_TIMEOUT=${BB_VM_TEST_TIMEOUT:-300}
# A loaded host slows TCG enough for the boot-time timer check to panic
# ("IO-APIC + timer doesn't work"): skip it.
export BB_VM_APPEND="no_timer_check ${BB_VM_APPEND:-}"
guest=$TOP/tests/debug/guest
out=$BUILD/debug
total_pass=0 total_fail=0
summary=()
start=$(date +%s)

mkdir -p "$out" || { echo "debug: cannot create $out"; echo "debug: 0 passed, 1 failed"; exit 1; }

# count NAME PASS FAIL: add to the totals and the summary.
count() {
	total_pass=$((total_pass + $2)) total_fail=$((total_fail + $3))
	summary+=("$(printf '%-22s %4d passed, %4d failed' "$1" "$2" "$3")")
}

# build_module TREE DIR [KUNIT]: badbatch.ko from a copy of the sources
# (the checkout's kernel/ keeps the objects built for Debian's kernel),
# with -g so reports can be resolved with faddr2line.
build_module() {
	local tree=$1 dir=$2 kunit=${3:-}
	rm -rf "$dir"
	mkdir -p "$dir"
	cp -r "$TOP/Kbuild" "$TOP/kernel" "$TOP/include" "$dir/" || return 1
	rm -f "$dir"/kernel/*.o "$dir"/kernel/*.ko "$dir"/kernel/.*.cmd
	nice -n 19 make -C "$tree" M="$dir" KCFLAGS=-g \
		${kunit:+CONFIG_BADBATCH_KUNIT_TEST=y} modules >"$dir.log" 2>&1
}

# vm_pass LANE ARGS...: tests/vm/run.sh with ARGS; count its closing line.
vm_pass() {
	local lane=$1 log=$out/$1.log line p f
	shift
	echo "=== $lane"
	# A debug guest boots in ~70 s on a loaded host and kmemleak scans
	# take ~90 s: more than tests/vm/run.sh's default allows.
	# Programs: at most the arguments, plus every program with --all.
	local n=$#
	[[ $* != *--all* ]] ||
		n=$((n + $(find "$BUILD/vm/tests" -maxdepth 1 -type f -perm -u+x | wc -l)))
	BB_VM_TIMEOUT=${BB_VM_TIMEOUT:-$((600 + (n + 1) * (BB_VM_TEST_TIMEOUT + 15)))} \
	BB_VM_LANE=$lane "$TOP/tests/vm/run.sh" "$@" 2>&1 | tee "$log"
	line=$(grep -E "^$lane: [0-9]+ passed, [0-9]+ failed" "$log" | tail -n 1)
	p=$(sed -nE 's/.*: ([0-9]+) passed.*/\1/p' <<<"$line")
	f=$(sed -nE 's/.* ([0-9]+) failed.*/\1/p' <<<"$line")
	[[ -n $line ]] || { p=0 f=1; }
	count "$lane" "${p:-0}" "${f:-1}"
}

# The fault pass runs static builds of its programs from tmpfs: a task
# under failslab that touches the guest's 9p root at all (paging in libc,
# dropping its mappings at exit) was seen to break the mount for every
# later exec (EINVAL). The harness sets make-it-fail itself when
# BB_MAKE_IT_FAIL is set (tests/vm/tests/harness.h, t_init()).
fault_bins=()
if [[ " $passes " == *" fault "* ]]; then
	mkdir -p "$out/fault-bin"
	for t in $fault_tests; do
		# shellcheck disable=SC2086 # a list of flags
		if gcc ${CFLAGS_COMMON:--std=c11 -D_GNU_SOURCE -I$TOP/include -I$TOP/include/uapi} \
			-O2 -g -pthread -static \
			-o "$out/fault-bin/$t" "$TOP/tests/vm/tests/$t.c" \
			"$BUILD/lib/libbadbatch.a" -lpthread; then
			fault_bins+=("$out/fault-bin/$t")
		else
			echo "debug: cannot build $t statically"
			count "debug-fault-build-$t" 0 1
		fi
	done
fi

for fl in $flavours; do
	echo "=== debug-$fl: kernel"
	t0=$(date +%s)
	if ! tree=$("$here/build-kernel.sh" "$fl"); then
		count "debug-$fl-build" 0 1
		continue
	fi
	echo "debug-$fl: kernel ready in $(( $(date +%s) - t0 )) s: $tree"
	count "debug-$fl-build" 1 0
	kernel=$tree/arch/x86/boot/bzImage
	mod=$out/$fl/mod
	modk=$out/$fl/mod-kunit
	if ! build_module "$tree" "$mod"; then
		echo "debug-$fl: module build failed:"; tail -n 20 "$mod.log"
		count "debug-$fl-module" 0 1
		continue
	fi
	if ! build_module "$tree" "$modk" kunit; then
		echo "debug-$fl: KUnit module build failed:"; tail -n 20 "$modk.log"
		count "debug-$fl-module" 0 1
	else
		count "debug-$fl-module" 1 0
	fi
	export BB_VM_KERNEL=$kernel BB_VM_MODDIR=
	# A debug guest stuck in ACPI (README.md) is stopped and booted again.
	export BB_VM_BOOT_TIMEOUT=${BB_VM_BOOT_TIMEOUT:-300}
	export BB_VM_BOOT_TRIES=${BB_VM_BOOT_TRIES:-3}
	for pass in $passes; do
		case $pass in
		vm)
			BB_VM_MODULE=$mod/kernel/badbatch.ko \
			BB_VM_CMD="sh $guest/leakcheck.sh" \
				vm_pass "debug-$fl-vm" --name leakcheck --all "$@"
			;;
		kunit)
			[[ -f $modk/kernel/badbatch.ko ]] || continue
			BB_VM_MODULE=$modk/kernel/badbatch.ko \
			BB_VM_CMD="sh $guest/kunit.sh" \
				vm_pass "debug-$fl-kunit" --name kunit
			;;
		fault)
			# shellcheck disable=SC2086 # a list of names
			BB_VM_MODULE=$mod/kernel/badbatch.ko \
			BB_VM_SETUP="BB_FAULT_PROBABILITY=${BB_FAULT_PROBABILITY:-5} sh $guest/faults.sh" \
			BB_VM_WRAP="/bin/sh $guest/make-it-fail.sh" \
			BB_VM_CMD="sh $guest/leakcheck.sh" \
				vm_pass "debug-$fl-fault" --name leakcheck "${fault_bins[@]}"
			;;
		*)
			echo "debug: unknown pass $pass"
			count "debug-$fl-$pass" 0 1
			;;
		esac
	done
	unset BB_VM_KERNEL BB_VM_MODDIR
done

echo "=== debug: summary ($(( $(date +%s) - start )) s)"
printf '  %s\n' "${summary[@]}"
echo "debug: $total_pass passed, $total_fail failed"
[[ $total_fail -eq 0 ]]
