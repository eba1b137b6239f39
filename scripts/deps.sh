#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Install the Debian packages a lane needs, when they are missing.
# Usage: deps.sh LANE...   (build vm kunit dkms lint models debug bench)
# As root the missing packages are installed with apt-get; otherwise
# the script names them and fails.
set -euo pipefail

declare -A want=(
	[build]="gcc g++ make libc6-dev linux-libc-dev linux-headers-amd64 kmod"
	[vm]="qemu-system-x86 linux-image-amd64 busybox-static cpio kmod xz-utils"
	[kunit]="linux-source-6.1 python3 bc flex bison libelf-dev libssl-dev xz-utils rsync gcc make qemu-system-x86"
	[dkms]="dkms linux-headers-amd64"
	[lint]="sparse perl linux-source-6.1 xz-utils cppcheck clang-tidy"
	[models]="spin gcc"
	[debug]="linux-source-6.1 build-essential bc bison flex libelf-dev libssl-dev dwarves xz-utils rsync kmod cpio python3 qemu-system-x86 busybox-static"
	# make bench: the peers (LMAX Disruptor, liburcu, ck, DPDK), plots, perf
	[bench]="default-jdk-headless libdisruptor-java liburcu-dev libck-dev libdpdk-dev gnuplot-nox python3 linux-perf pkg-config"
)

missing=()
for lane in "${@:-build}"; do
	[[ -n "${want[$lane]+x}" ]] || { echo "deps.sh: unknown lane $lane" >&2; exit 2; }
	for pkg in ${want[$lane]}; do
		if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null |
				grep -q 'install ok installed'; then
			missing+=("$pkg")
		fi
	done
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

# Unique, keep order.
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | awk '!seen[$0]++')
if [[ $(id -u) -ne 0 ]]; then
	echo "deps.sh: missing packages: ${missing[*]} (run as root to install)" >&2
	exit 1
fi
echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Refresh the lists once per boot-ish: an empty or stale cache finds nothing.
stamp=/var/lib/apt/periodic/badbatch-update-stamp
if [[ ! -e $stamp ]] || [[ -n $(find "$stamp" -mmin +360 2>/dev/null) ]]; then
	apt-get update -qq -o DPkg::Lock::Timeout=900
	mkdir -p "$(dirname "$stamp")" && touch "$stamp"
fi
apt-get install -y -qq -o DPkg::Lock::Timeout=900 --no-install-recommends "${missing[@]}" >/dev/null
