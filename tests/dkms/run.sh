#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make test-dkms: dkms add, build against the installed Debian 6.1 headers,
# check the module it built, and remove it again. Needs root.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
"$top/scripts/deps.sh" dkms build || exit 1

pass=0 fail=0
result() {
	if [[ $1 -eq 0 ]]; then
		echo "ok - $2"; pass=$((pass + 1))
	else
		echo "not ok - $2"; fail=$((fail + 1))
	fi
	return "$1"
}

if [[ $(id -u) -ne 0 ]]; then
	echo "dkms: needs root"
	echo "dkms: 0 passed, 1 failed"
	exit 1
fi

name=badbatch
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/dkms.conf")
kver=${KVER:-$(ls -d /usr/src/linux-headers-6.1*-amd64 | sed 's|.*/linux-headers-||' | sort -V | tail -n 1)}
src=/usr/src/$name-$ver
log=$(mktemp)
trap 'dkms remove "$name/$ver" --all >/dev/null 2>&1; rm -rf "$src" "$log"' EXIT

# A clean slate, then exactly the files a release tarball would ship.
dkms remove "$name/$ver" --all >/dev/null 2>&1
rm -rf "$src"
mkdir -p "$src"
(cd "$top" && cp -r dkms.conf Kbuild kernel include "$src/")
find "$src" \( -name '*.o' -o -name '*.ko' -o -name '*.mod*' -o -name '.*.cmd' \
	-o -name modules.order -o -name Module.symvers \) -delete

dkms add "$name/$ver" >"$log" 2>&1
result $? "dkms add $name/$ver" || cat "$log"
dkms build "$name/$ver" -k "$kver" >"$log" 2>&1
rc=$?
result $rc "dkms build -k $kver"
[[ $rc -eq 0 ]] || cat "$log" /var/lib/dkms/$name/$ver/build/make.log 2>/dev/null | tail -n 30
ko=$(find /var/lib/dkms/$name/$ver/"$kver" -name "$name.ko*" 2>/dev/null | head -n 1)
[[ -n $ko ]] && modinfo "$ko" | grep -q "^vermagic: *$kver "
result $? "built module has vermagic $kver"
dkms status "$name/$ver" -k "$kver" 2>/dev/null | grep -q built
result $? "dkms status reports built"
dkms remove "$name/$ver" --all >"$log" 2>&1
result $? "dkms remove"

echo "dkms: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
