#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build (or reuse) a debug kernel for make test-debug and print its build
# directory: bzImage in arch/x86/boot/, .config, Module.symvers and the
# modules_prepare output, ready for "make -C DIR M=...".
#
# Usage: build-kernel.sh FLAVOUR        (kasan, kcsan: tests/debug/FLAVOUR.config)
#
# Source: Debian's linux-source-6.1, extracted once into
# $BB_CACHE/debug-src-<version>. Config: allnoconfig + common.config +
# FLAVOUR.config (scripts/kconfig/merge_config.sh), then olddefconfig.
# Output: $BB_CACHE/debug-kernel-FLAVOUR-<hash of the fragments, the
# recipe version below, the source version and the compiler>; a finished
# build has .bb-done and is reused as is. Builds run under nice -n 19
# with $BB_JOBS (default 2) jobs.
# Progress goes to stderr, the directory to stdout.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
flavour=${1:?usage: build-kernel.sh FLAVOUR}
frag=$here/$flavour.config
tarball=/usr/src/linux-source-6.1.tar.xz
jobs=${BB_JOBS:-2}

say() { echo "debug: $*" >&2; }
die() { say "$*"; exit 1; }

[[ -f $frag ]] || die "no config fragment $frag"
"$top/scripts/deps.sh" debug >&2 || die "missing packages"
[[ -r $tarball ]] || die "$tarball not found"

ver=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null || true)
[[ -n $ver ]] || ver=$(stat -c '%s-%Y' "$tarball")
ver=${ver//[^A-Za-z0-9.+~-]/_}

cache=
for dir in "${BB_CACHE:-/var/cache/badbatch}" "${BUILD:-$top/build}/cache"; do
	if mkdir -p "$dir" 2>/dev/null && [[ -w $dir ]]; then
		cache=$dir
		break
	fi
done
[[ -n $cache ]] || die "no writable cache directory"

# Bump when the way a tree is configured or built changes.
recipe=2
key=$({
	echo "$flavour $ver recipe $recipe"
	gcc --version | head -n 1
	sha256sum "$here/common.config" "$frag" | cut -d' ' -f1
} | sha256sum | cut -c1-16)
src=$cache/debug-src-$ver
out=$cache/debug-kernel-$flavour-$key

if [[ -f $out/.bb-done ]]; then
	say "$flavour kernel cached in $out"
	echo "$out"
	exit 0
fi

# One build per flavour at a time on this machine, whatever the checkout.
exec 9>"$cache/.debug-lock-$flavour" || die "cannot open $cache/.debug-lock-$flavour"
if ! flock -n 9; then
	say "waiting for another $flavour kernel build ($cache/.debug-lock-$flavour)"
	flock 9
fi
if [[ -f $out/.bb-done ]]; then
	echo "$out"
	exit 0
fi

# The source tree is shared by the flavours (built with O=, never written).
exec 8>"$cache/.debug-src-lock" || die "cannot open $cache/.debug-src-lock"
flock 8
if [[ ! -f $src/.bb-extracted ]]; then
	say "extracting $tarball into $src"
	rm -rf "$src" "$src.tmp"
	mkdir -p "$src.tmp"
	nice -n 19 tar -xJf "$tarball" -C "$src.tmp" --strip-components=1
	touch "$src.tmp/.bb-extracted"
	mv "$src.tmp" "$src"
fi
flock -u 8

# Builds of other configurations of this flavour are dead weight.
for old in "$cache"/debug-kernel-"$flavour"-*; do
	[[ -e $old && $old != "$out" ]] && rm -rf "$old"
done

start=$(date +%s)
log=$out/build.log
if [[ -f $out/.bb-configured ]]; then
	# Same key, same .config: an interrupted build resumes where it was.
	say "resuming the $flavour kernel build in $out (log: $log)"
else
	rm -rf "$out"
	mkdir -p "$out"
	say "building the $flavour kernel in $out (log: $log)"
	{
		make -C "$src" O="$out" ARCH=x86_64 allnoconfig
		ARCH=x86_64 "$src/scripts/kconfig/merge_config.sh" -m -O "$out" \
			"$out/.config" "$here/common.config" "$frag"
		make -C "$src" O="$out" ARCH=x86_64 olddefconfig
	} >"$log" 2>&1 || die "configuring failed; see $log"

	# Every option the fragments set must have survived olddefconfig.
	bad=$(cat "$here/common.config" "$frag" | grep -E '^CONFIG_[A-Z0-9_]+=' |
		while IFS= read -r line; do
			grep -qxF "$line" "$out/.config" || echo "$line"
		done
		cat "$here/common.config" "$frag" |
			sed -nE 's/^# (CONFIG_[A-Z0-9_]+) is not set$/\1/p' |
			while read -r opt; do
				! grep -qE "^$opt=" "$out/.config" || echo "$opt (wanted unset)"
			done)
	[[ -z $bad ]] || die "options lost in $out/.config: $(echo $bad)"
	touch "$out/.bb-configured"
fi

nice -n 19 make -C "$src" O="$out" ARCH=x86_64 -j"$jobs" all >>"$log" 2>&1 ||
	{ tail -n 30 "$log" >&2; die "kernel build failed; see $log"; }
[[ -f $out/arch/x86/boot/bzImage && -f $out/Module.symvers ]] ||
	die "no bzImage or Module.symvers in $out"
echo "$(( $(date +%s) - start ))" >>"$out/.bb-build-seconds"
touch "$out/.bb-done"
say "$flavour kernel built in $(( $(date +%s) - start )) s"
echo "$out"
