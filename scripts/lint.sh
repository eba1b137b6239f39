#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make lint: the static checks every change must pass.
#   checkpatch (kernel style) on the module, the ABI and the protocol headers,
#   a W=1 + sparse (C=2) build of the module, the uapi header standalone in
#   C89 and C++, cppcheck and clang-tidy on the library and tools.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
"$top/scripts/deps.sh" build lint || exit 1

KVER=${KVER:-$(ls -d /usr/src/linux-headers-6.1*-amd64 | sed 's|.*/linux-headers-||' | sort -V | tail -n 1)}
KDIR=${KDIR:-/usr/src/linux-headers-$KVER}
hdr=include/uapi/linux/badbatch.h
cache=${BB_CACHE:-/var/cache/badbatch}
mkdir -p "$cache" 2>/dev/null && [[ -w $cache ]] || cache=$top/build/cache
tools=$cache/checkpatch
pass=0 fail=0
result() {
	if [[ $1 -eq 0 ]]; then
		echo "ok - $2"; pass=$((pass + 1))
	else
		echo "not ok - $2"; fail=$((fail + 1))
	fi
}

# checkpatch.pl and its data files come from Debian's linux-source-6.1.
if [[ ! -x $tools/scripts/checkpatch.pl ]]; then
	mkdir -p "$tools"
	tar -xJf /usr/src/linux-source-6.1.tar.xz -C "$tools" --strip-components=1 \
		linux-source-6.1/scripts/checkpatch.pl \
		linux-source-6.1/scripts/spelling.txt \
		linux-source-6.1/scripts/const_structs.checkpatch
fi

mapfile -t kfiles < <(git ls-files 'kernel/*.[ch]' 'include/badbatch/*.h' \
	include/uapi/linux/badbatch.h 2>/dev/null || ls kernel/bb_*.[ch] include/badbatch/*.h $hdr)
out=$(perl "$tools/scripts/checkpatch.pl" --no-tree --terse \
	--ignore LINUX_VERSION_CODE,CONSTANT_COMPARISON,FILE_PATH_CHANGES \
	-f "${kfiles[@]}" 2>&1 | grep -v ' 0 errors, 0 warnings, 0 checks')
[[ -z $out ]]
result $? "checkpatch: kernel/, include/badbatch/, uapi"
[[ -z $out ]] || echo "$out"

build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT
cp -r Kbuild kernel include "$build/"
find "$build" \( -name '*.o' -o -name '*.ko' -o -name '*.mod*' -o -name '.*.cmd' \) -delete
out=$(make -s -C "$KDIR" M="$build" W=1 C=2 modules 2>&1 |
	grep -vE '^(Skipping BTF|  )' | grep -E 'warning|error' )
[[ -z $out ]]
result $? "module builds clean with W=1 and sparse (C=2)"
[[ -z $out ]] || echo "$out"

gcc -std=c89 -pedantic-errors -Wall -Wextra -Werror -Iinclude/uapi -x c \
	-fsyntax-only "$hdr"
result $? "uapi header standalone in C89 -pedantic-errors"
g++ -std=c++98 -pedantic-errors -Wall -Wextra -Werror -Iinclude/uapi -x c++ \
	-fsyntax-only "$hdr"
result $? "uapi header standalone in C++"

if compgen -G 'userspace/lib/*.c' >/dev/null; then
	out=$(cppcheck --quiet --error-exitcode=1 --std=c11 \
		--enable=warning,performance,portability \
		--inline-suppr -Iinclude -Iinclude/uapi -D_GNU_SOURCE \
		userspace/ 2>&1)
	rc=$?
	result $rc "cppcheck userspace/"
	[[ $rc -eq 0 ]] || echo "$out"
fi

# clang-tidy with the repository's .clang-tidy (bugprone, analyzer, ...).
mapfile -t ufiles < <(git ls-files 'userspace/*.c' 2>/dev/null || ls userspace/*/*.c)
if [[ ${#ufiles[@]} -gt 0 ]]; then
	out=$(clang-tidy --quiet "${ufiles[@]}" -- -std=c11 -D_GNU_SOURCE \
		-Iinclude -Iinclude/uapi -pthread 2>&1 | grep -E '(warning|error):')
	[[ -z $out ]]
	result $? "clang-tidy userspace/"
	[[ -z $out ]] || echo "$out"
fi

echo "lint: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
