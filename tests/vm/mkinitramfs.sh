#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build (or reuse) the VM lane's initramfs and print its path.
#
# Usage: mkinitramfs.sh OUTDIR MODDIR
#   MODDIR: the guest kernel's modules directory, BASE/lib/modules/KVER
#           (holds modules.dep), or "" for a kernel with virtio and 9p
#           built in.
#
# Contents: static busybox, guest/init and guest/runner.sh, and the modules
# that mount the host's root over virtio-9p, listed in load order in /modules.
# Everything else (test programs, the module under test, libc) comes from the
# host over 9p, so the image only changes when these inputs change: it is
# cached as OUTDIR/initramfs-<sha256 of the inputs>.cpio.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
busybox=${BB_VM_BUSYBOX:-/bin/busybox}
tmp=""
# What mounting the host root needs; modprobe adds their dependencies.
want_modules=(virtio_pci 9pnet_virtio 9p)

die() { echo "mkinitramfs: $*" >&2; exit 1; }

# Print the module files to load, in order, one per line; builtins skipped.
module_files() {
	local moddir=$1 base kver line
	[[ -n $moddir ]] || return 0
	[[ -f $moddir/modules.dep ]] || die "$moddir/modules.dep not found"
	# modprobe -d wants BASE with modules under BASE/lib/modules/KVER.
	[[ $moddir == */lib/modules/* ]] || die "MODDIR must be BASE/lib/modules/KVER"
	base=${moddir%/lib/modules/*}
	kver=${moddir##*/lib/modules/}
	modprobe -d "${base:-/}" -S "$kver" --show-depends -a "${want_modules[@]}" |
		while read -r line; do
			case $line in
			insmod\ *) line=${line#insmod }; echo "${line%% *}" ;;
			builtin\ *) ;;
			*) die "unexpected modprobe output: $line" ;;
			esac
		done | awk '!seen[$0]++'
}

# Copy one module into DIR, uncompressed: busybox insmod takes plain .ko.
copy_module() {
	local src=$1 dir=$2 name
	name=$(basename "$src")
	case $src in
	*.ko) cp "$src" "$dir/$name" ;;
	*.ko.xz) xz -dc "$src" >"$dir/${name%.xz}" ;;
	*.ko.zst) zstd -qdc "$src" >"$dir/${name%.zst}" ;;
	*.ko.gz) gzip -dc "$src" >"$dir/${name%.gz}" ;;
	*) die "unknown module format: $src" ;;
	esac
}

# Hash of everything that goes into the image.
input_key() {
	local mods=("$@")
	{
		sha256sum "$busybox" "$here/mkinitramfs.sh" "$here"/guest/*
		[[ ${#mods[@]} -eq 0 ]] || sha256sum "${mods[@]}"
	} | sha256sum | cut -c1-16
}

build() {
	local out=$1 stage=$2
	shift 2
	local m applet
	mkdir -p "$stage"/{bin,dev,proc,sys,tmp,host,out,lib/modules}
	cp "$busybox" "$stage/bin/busybox"
	for applet in $("$busybox" --list); do
		[[ $applet == busybox ]] || ln -s busybox "$stage/bin/$applet"
	done
	cp "$here/guest/init" "$stage/init"
	cp "$here/guest/runner.sh" "$stage/runner.sh"
	chmod 755 "$stage/init" "$stage/runner.sh"
	: >"$stage/modules"
	for m in "$@"; do
		copy_module "$m" "$stage/lib/modules"
		basename "$m" | sed -E 's/\.(xz|zst|gz)$//' >>"$stage/modules"
	done
	# newc, owned by root; no device nodes needed (init mounts devtmpfs).
	(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
		cpio --quiet -o -H newc --owner=0:0 --reproducible) >"$out"
}

main() {
	[[ $# -eq 2 ]] || die "usage: mkinitramfs.sh OUTDIR MODDIR"
	local outdir=$1 moddir=$2 key out list mods=()
	[[ $(ldd "$busybox" 2>&1) == *"not a dynamic"* ]] ||
		die "$busybox is not static (install busybox-static)"
	list=$(module_files "$moddir")
	[[ -z $list ]] || mapfile -t mods <<<"$list"
	key=$(input_key "${mods[@]}")
	out=$outdir/initramfs-$key.cpio
	if [[ ! -s $out ]]; then
		mkdir -p "$outdir"
		tmp=$(mktemp -d "$outdir/.stage.XXXXXX")
		trap 'rm -rf "${tmp:-}"' EXIT
		build "$tmp/img" "$tmp/root" "${mods[@]}"
		# Atomic: concurrent runs may build the same image.
		mv "$tmp/img" "$out"
		# Drop images built from older inputs.
		find "$outdir" -maxdepth 1 -name 'initramfs-*.cpio' ! -name "${out##*/}" \
			-mmin +60 -delete
	fi
	echo "$out"
}

main "$@"
