#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# VM lane: boot Debian's kernel in qemu (TCG), load badbatch.ko, run the VM
# test programs in a chroot of the host's root (shared read-only over 9p),
# fail on any test failure or kernel splat, unload the module.
#
# Usage: run.sh [--cmd CMD] [--name NAME] [--all] [--shell] [TEST...]
#   TEST        a program in $BB_VM_TESTDIR by name, or a path; default all
#   --cmd CMD   run the shell command CMD in the guest after the tests, as
#               result NAME (default "cmd"); with --cmd, tests run only if
#               named or with --all
#   --shell     then an interactive shell in the guest chroot (no timeout)
# Environment (see tests/vm/README.md): KVER TOP BUILD, BB_VM_KERNEL
# BB_VM_MODDIR BB_VM_MODULE BB_VM_TESTDIR BB_VM_TEST_TIMEOUT BB_VM_TIMEOUT
# BB_VM_MEM BB_VM_SMP BB_VM_CPU BB_VM_APPEND BB_VM_CMD BB_VM_LANE
# BB_VM_SETUP BB_VM_WRAP BB_VM_BOOT_TIMEOUT BB_VM_BOOT_TRIES.
#
# Output ends with "$BB_VM_LANE: N passed, N failed": every TAP subtest
# counts; a program that fails without a "not ok" line counts one failure,
# one that passes without TAP output one pass; boot, insmod and rmmod count
# one each. Exit status is non-zero on any failure.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
TOP=${TOP:-$(cd "$here/../.." && pwd)}
BUILD=${BUILD:-$TOP/build}
lane=${BB_VM_LANE:-vm}
kill_after=5

die() {
	echo "$lane: $*" >&2
	echo "$lane: 0 passed, 1 failed"
	exit 1
}

default_kver() {
	local d
	d=$(ls -d /usr/src/linux-headers-6.1*-amd64 /lib/modules/6.1*-amd64 \
		2>/dev/null | sed 's|.*/linux-headers-||; s|.*/||' | sort -V | tail -n 1)
	[[ -n $d ]] || die "no Debian 6.1 kernel found; set KVER"
	echo "$d"
}

# pvh_kernel BZIMAGE: print a cached uncompressed vmlinux for it, or the
# bzImage itself. qemu boots a vmlinux with a PVH entry note directly,
# skipping the BIOS loader and an xz decompression that take ~3 s under TCG.
pvh_kernel() {
	local img=$1 out=$BUILD/vm/vmlinux-$KVER off
	grep -qx 'CONFIG_PVH=y' "/boot/config-$KVER" 2>/dev/null || { echo "$img"; return; }
	if [[ ! -s $out || $img -nt $out ]]; then
		off=$(LC_ALL=C grep -m1 -aboP '\xfd7zXZ\x00' "$img" | cut -d: -f1)
		# xz stops after the stream: no pipe, or tail's SIGPIPE fails it.
		if [[ -z $off ]] || ! xz -dc --single-stream >"$out.$$" 2>/dev/null \
				< <(tail -c +$((off + 1)) "$img") ||
				[[ $(head -c 4 "$out.$$") != $'\x7fELF' ]]; then
			rm -f "$out.$$"
			echo "$img"
			return
		fi
		mv "$out.$$" "$out"
	fi
	echo "$out"
}

# Single-quote $1 for sh.
shq() { printf "'%s'" "${1//\'/\'\\\'\'}"; }

# visible PATH: fail if the guest cannot see PATH (it mounts tmpfs there).
visible() {
	case $(realpath -m "$1") in
	/tmp | /tmp/* | /var/tmp | /var/tmp/* | /run | /run/* | /dev/*)
		echo "$1 is hidden in the guest: use another BUILD or path" >&2
		return 1
		;;
	esac
}

# resolve_tests TEST...: print "NAME PATH" per program to run.
resolve_tests() {
	local t path
	if [[ $# -eq 0 ]]; then
		[[ -d $testdir ]] || return 0
		visible "$testdir" || return 1
		find "$testdir" -maxdepth 1 -type f -perm -u+x | sort |
			while read -r path; do echo "${path##*/} $path"; done
		return 0
	fi
	for t in "$@"; do
		if [[ $t == */* ]]; then path=$(realpath "$t"); else path=$testdir/$t; fi
		[[ -x $path && -f $path ]] || { echo "no such test program: $t" >&2; return 1; }
		visible "$path" || return 1
		echo "${path##*/} $path"
	done
}

# write_job DIR: the guest runner's input (see guest/runner.sh).
write_job() {
	local dir=$1 modfile="" modname=""
	printf '%s\n' "${tests[@]}" | sed '/^$/d' >"$dir/tests"
	if [[ -n $module ]]; then
		cp "$module" "$dir/"
		modfile=${module##*/}
		modname=${modfile%.ko}
		modname=${modname//-/_}
	fi
	[[ -z $cmd ]] || printf '%s\n' "$cmd" >"$dir/cmd.sh"
	[[ -z $setup ]] || printf '%s\n' "$setup" >"$dir/setup.sh"
	{
		echo "BB_TOP=$(shq "$TOP")"
		echo "BB_BUILD=$(shq "$BUILD")"
		echo "BB_MODULE=$(shq "$modfile")"
		echo "BB_MODULE_HOST=$(shq "${modfile:+$dir/$modfile}")"
		echo "BB_MODNAME=$(shq "$modname")"
		echo "BB_TEST_TIMEOUT=$test_timeout"
		echo "BB_KILL_AFTER=$kill_after"
		echo "BB_CMD_NAME=$(shq "${cmd:+$cmd_name}")"
		echo "BB_SHELL=$shell"
		echo "BB_SETUP=${setup:+1}"
		echo "BB_WRAP=$(shq "${BB_VM_WRAP:-}")"
	} >"$dir/job.env"
}

# boot_watch DIR QEMU_PIDFILE: kill a guest that has not reported its boot
# within BB_VM_BOOT_TIMEOUT seconds, and leave DIR/noboot. A debug kernel
# under TCG sometimes never leaves ACPI (tests/debug/README.md); waiting
# for the whole run's time limit would be pointless.
boot_watch() {
	local dir=$1 pidfile=$2 i
	for ((i = 0; i < ${BB_VM_BOOT_TIMEOUT:-240}; i++)); do
		sleep 1
		grep -q '^BBTEST boot' "$dir/console.log" 2>/dev/null && return
	done
	echo "$lane: no boot report in ${BB_VM_BOOT_TIMEOUT:-240} s: stopping the guest"
	touch "$dir/noboot"
	[[ -s $pidfile ]] && kill "$(cat "$pidfile")" 2>/dev/null
}

# boot INITRD DIR LIMIT: run the guest; console to stdout and DIR/console.log.
boot() {
	local initrd=$1 dir=$2 limit=$3 watch rc=0
	local append="console=ttyS0 quiet panic=-1 ${BB_VM_APPEND:-}"
	local qemu=(qemu-system-x86_64 -accel tcg,thread=multi
		-smp "${BB_VM_SMP:-2}" -m "${BB_VM_MEM:-2G}" -cpu "${BB_VM_CPU:-max}"
		-nodefaults -no-reboot -display none
		-kernel "$kernel" -initrd "$initrd" -append "$append"
		-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap
		-virtfs "local,path=$dir,mount_tag=bbout,security_model=none,multidevs=remap")
	if [[ $shell == 1 ]]; then
		"${qemu[@]}" -serial mon:stdio
		return
	fi
	rm -f "$dir/noboot" "$dir/qemu.pid"
	boot_watch "$dir" "$dir/qemu.pid" &
	watch=$!
	# sed -u: stream the console line by line, without the tty's CRs.
	timeout -k 10 "$limit" "${qemu[@]}" -pidfile "$dir/qemu.pid" \
		-serial stdio </dev/null 2>&1 |
		sed -u 's/\r$//' | tee "$dir/console.log" || rc=${PIPESTATUS[0]}
	kill "$watch" 2>/dev/null || true
	wait "$watch" 2>/dev/null || true
	return "$rc"
}

# report DIR QEMU_RC SECONDS NAME...: summarise; set pass and fail.
report() {
	local dir=$1 qrc=$2 secs=$3 name line status why up fin last
	shift 3
	pass=0 fail=0
	# The program running when the guest died, if it did.
	last=$(sed -n 's/^BBRUN //p' "$dir/console.log" 2>/dev/null | tail -n 1 || true)
	echo "$lane: results"
	for name in "$@"; do
		line=$(grep -m1 "^BBTEST $name " "$dir/results" 2>/dev/null || true)
		why=not-run
		[[ $name != "$last" ]] || why=guest-stopped-here
		[[ -n $line ]] || line="BBTEST $name FAIL - pass=0 fail=1 skip=0 why=$why"
		read -r _ _ status s p f k why <<<"$line"
		p=${p#pass=} f=${f#fail=} k=${k#skip=}
		printf '  %-4s %-28s %6ss  %3d ok  %3d not ok  %3d skip  %s\n' \
			"$status" "$name" "$s" "$p" "$f" "$k" "${why#why=}"
		pass=$((pass + p)) fail=$((fail + f))
	done
	up=$(sed -n 's/^BBINIT up //p' "$dir/console.log" 2>/dev/null | head -n 1 || true)
	fin=$(sed -n 's/^BBDONE //p' "$dir/results" 2>/dev/null | head -n 1 || true)
	echo "$lane: qemu ran ${secs}s; guest init at ${up:-?}s, done at ${fin:-?}s (guest uptime)"
	if [[ -z $fin ]]; then
		[[ $qrc -ne 124 ]] || echo "$lane: timed out after ${limit}s"
		echo "$lane: the guest did not finish (qemu exit $qrc); console:"
		grep -m10 -E 'BBINIT FAIL|Kernel panic|BUG:|Oops|WARNING:' \
			"$dir/console.log" 2>/dev/null | sed 's/^/  | /' || true
		echo "  | ..."
		tail -n 10 "$dir/console.log" 2>/dev/null | sed 's/^/  | /' || true
		[[ $fail -gt 0 ]] || fail=1
	fi
	echo "$lane: logs in $dir"
}

parse_args() {
	cmd=${BB_VM_CMD:-} cmd_name=cmd shell=0 all=0 names=()
	while [[ $# -gt 0 ]]; do
		case $1 in
		--cmd) cmd=$2; shift ;;
		--name) cmd_name=$2; shift ;;
		--all) all=1 ;;
		--shell) shell=1 ;;
		-h | --help) sed -n '3,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
		-*) die "unknown option $1" ;;
		*) names+=("$1") ;;
		esac
		shift
	done
}

main() {
	local dir initrd limit t0 qrc=0 secs list expect
	parse_args "$@"
	"$TOP/scripts/deps.sh" vm || die "missing packages"
	KVER=${KVER:-$(default_kver)}
	kernel=${BB_VM_KERNEL:-/boot/vmlinuz-$KVER}
	[[ -r $kernel ]] || die "cannot read kernel image $kernel"
	mkdir -p "$BUILD/vm"
	[[ -n ${BB_VM_KERNEL:-} ]] || kernel=$(pvh_kernel "$kernel")
	moddir=${BB_VM_MODDIR-/lib/modules/$KVER}
	module=${BB_VM_MODULE-$TOP/kernel/badbatch.ko}
	testdir=${BB_VM_TESTDIR:-$BUILD/vm/tests}
	test_timeout=${BB_VM_TEST_TIMEOUT:-120}
	setup=${BB_VM_SETUP:-}
	[[ -z $module || -f $module ]] || die "no module at $module (make module)"

	tests=()
	if [[ -z $cmd || $all == 1 || ${#names[@]} -gt 0 ]]; then
		list=$(resolve_tests "${names[@]}") || die "bad test list"
		[[ -z $list ]] || mapfile -t tests <<<"$list"
	fi
	expect=(boot ${module:+insmod} ${setup:+setup} "${tests[@]%% *}" ${cmd:+"$cmd_name"}
		${module:+rmmod})

	initrd=$("$here/mkinitramfs.sh" "$BUILD/vm" "$moddir") ||
		die "cannot build the initramfs"
	dir=$(mktemp -d "$BUILD/vm/run.XXXXXX")
	ln -sfn "${dir##*/}" "$BUILD/vm/last"
	# Keep the last few runs for post-mortems.
	ls -dt "$BUILD"/vm/run.* | tail -n +6 | xargs -r rm -rf
	write_job "$dir"

	limit=${BB_VM_TIMEOUT:-$((90 + (${#tests[@]} + 1) * (test_timeout + kill_after + 5)))}
	echo "$lane: booting $kernel (${#tests[@]} programs${cmd:+, command $cmd_name})"
	t0=$(date +%s.%N)
	# A guest that never booted is retried (BB_VM_BOOT_TRIES, default 2).
	for ((try = 1; ; try++)); do
		qrc=0
		boot "$initrd" "$dir" "$limit" || qrc=$?
		[[ -e $dir/noboot && $try -lt ${BB_VM_BOOT_TRIES:-2} ]] || break
		echo "$lane: booting again (try $((try + 1)))"
	done
	[[ ! -e $dir/noboot ]] || echo "$lane: the guest never reported its boot"
	secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
	report "$dir" "$qrc" "$secs" "${expect[@]}"
	echo "$lane: $pass passed, $fail failed"
	[[ $fail -eq 0 ]]
}

main "$@"
