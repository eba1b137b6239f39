#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make test-kunit: build a KUnit kernel from Debian's linux-source-6.1 with
# kernel/ linked in as drivers/misc/badbatch, run the badbatch suite with
# kunit.py and end with one line "kunit: N passed, N failed".
#
# Fails on a failed or crashed test case, a build failure, and on any
# BUG:/WARNING:/Oops/KASAN/UBSAN/lockdep report in the kernel log (such a
# report turns the test case it happened in into a failure).
#
# The extracted source and the build output live in a cache outside the
# repository and are reused: the first run takes a few minutes, later
# runs rebuild what changed. Environment:
#   BB_CACHE            cache root (default /var/cache/badbatch; falls
#                       back to $BUILD/cache when not writable)
#   BB_KUNIT_ARCH       x86_64 (default: qemu, SMP, KASAN, lockdep) or um
#   BB_KUNIT_SRC        directory linked as drivers/misc/badbatch
#                       (default: the repository's kernel/)
#   BB_KUNIT_FILTER     kunit.py filter glob, e.g. 'badbatch.*claim*'
#   BB_KUNIT_TIMEOUT    seconds for the tests to run (default 300)
#   BB_KUNIT_TIME_LIMIT seconds for the whole lane (default 2400)
#   BB_JOBS             make jobs (default: nproc)
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
here=$top/tests/kunit
arch=${BB_KUNIT_ARCH:-x86_64}
src=${BB_KUNIT_SRC:-$top/kernel}
filter=${BB_KUNIT_FILTER:-}
run_timeout=${BB_KUNIT_TIMEOUT:-300}
time_limit=${BB_KUNIT_TIME_LIMIT:-2400}
jobs=${BB_JOBS:-$(nproc)}
tarball=/usr/src/linux-source-6.1.tar.xz
logdir=${BUILD:-$top/build}/kunit
start=$(date +%s)

# One closing line, whatever happened.
die() {
	echo "kunit: $*" >&2
	echo "kunit: 0 passed, 1 failed"
	exit 1
}

elapsed() {
	echo $(( $(date +%s) - start ))
}

"$top/scripts/deps.sh" kunit || die "missing packages"
[[ -r $tarball ]] || die "$tarball not found"
src=$(realpath -e "$src") || die "no module source directory"
[[ -f $src/Kconfig && -f $src/Kbuild ]] || die "$src has no Kconfig/Kbuild"
mkdir -p "$logdir" || die "cannot create $logdir"

# The cache is keyed by the source package version (Debian patches
# included), falling back to the tarball's size and date.
ver=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null)
[[ -n $ver ]] || ver=$(stat -c '%s-%Y' "$tarball")
ver=${ver//[^A-Za-z0-9.+~-]/_}

cache=
for dir in "${BB_CACHE:-/var/cache/badbatch}" "${BUILD:-$top/build}/cache"; do
	if mkdir -p "$dir/kunit" 2>/dev/null && [[ -w $dir/kunit ]]; then
		cache=$dir/kunit
		break
	fi
done
[[ -n $cache ]] || die "no writable cache directory"
tree=$cache/linux-source-$ver
out=$cache/build-$arch-$ver

# Runs from other checkouts on this machine share the tree: take turns.
exec 9>"$cache/.lock" || die "cannot open $cache/.lock"
if ! flock -n 9; then
	echo "kunit: waiting for another run to release $cache/.lock"
	flock -w "$time_limit" 9 || die "timed out waiting for $cache/.lock"
fi

# Trees and builds of other source versions are dead weight.
for old in "$cache"/linux-source-* "$cache"/build-*; do
	[[ -e $old && $old != *-"$ver" ]] && rm -rf "$old"
done

if [[ ! -f $tree/.bb-extracted ]]; then
	echo "kunit: extracting $tarball into $tree"
	rm -rf "$tree" "$tree.tmp"
	if ! { mkdir -p "$tree.tmp" &&
	       tar -xJf "$tarball" -C "$tree.tmp" --strip-components=1 &&
	       touch "$tree.tmp/.bb-extracted" &&
	       mv "$tree.tmp" "$tree"; }; then
		die "extracting $tarball failed"
	fi
fi

# Hook drivers/misc/badbatch into the tree (once).
kconfig=$tree/drivers/misc/Kconfig
if ! grep -q '^source "drivers/misc/badbatch/Kconfig"' "$kconfig"; then
	last=$(grep -n '^endmenu' "$kconfig" | tail -n 1 | cut -d: -f1)
	[[ -n $last ]] || die "no endmenu in $kconfig"
	sed -i "${last}i source \"drivers/misc/badbatch/Kconfig\"" "$kconfig" ||
		die "cannot edit $kconfig"
fi
# shellcheck disable=SC2016 # make syntax, not shell
if ! grep -q '^obj-$(CONFIG_BADBATCH)' "$tree/drivers/misc/Makefile"; then
	echo 'obj-$(CONFIG_BADBATCH)		+= badbatch/' \
		>>"$tree/drivers/misc/Makefile" || die "cannot edit Makefile"
fi

link=$tree/drivers/misc/badbatch
if [[ $(readlink "$link" 2>/dev/null) != "$src" ]]; then
	ln -sfn "$src" "$link" || die "cannot link $src"
fi
# Another checkout's files may be older than objects built from this one:
# when this build last used other sources, drop the module's objects.
if [[ $(cat "$out/.bb-src" 2>/dev/null) != "$src" ]]; then
	rm -rf "$out/drivers/misc/badbatch"
	mkdir -p "$out" || die "cannot create $out"
	echo "$src" >"$out/.bb-src" || die "cannot write $out/.bb-src"
fi

args=(run --build_dir="$out" --arch="$arch" --jobs="$jobs"
      --timeout="$run_timeout" --kunitconfig="$here"
      --json="$out/results.json")
if [[ -f $here/$arch.config ]]; then
	args+=(--kunitconfig="$here/$arch.config")
fi
if [[ $arch != um ]]; then
	# Two vCPUs, TCG only: /dev/kvm here cannot boot a kernel.
	args+=(--qemu_args="-accel tcg,thread=multi -smp 2")
fi
[[ -n $filter ]] && args+=("$filter")

rm -f "$out/results.json" "$out/test.log" "$logdir/results.json" \
	"$logdir/test.log"
echo "kunit: $arch kernel in $out (source $tree)"
# kunit.py ends with "stty sane", which complains without a terminal.
timeout --foreground -k 10 "$time_limit" \
	python3 "$tree/tools/testing/kunit/kunit.py" "${args[@]}" \
	</dev/null 2>&1 | grep --line-buffered -v "^stty: 'standard input'" |
	tee "$logdir/kunit.log"
rc=${PIPESTATUS[0]}
[[ -f $out/test.log ]] && cp "$out/test.log" "$logdir/test.log"
[[ -f $out/results.json ]] && cp "$out/results.json" "$logdir/results.json"
echo "kunit: kunit.py exited $rc after $(elapsed) s; logs in $logdir"

# Count the test cases and look for kernel reports. A report is charged
# to the test case whose result line follows it, else counted on its own.
python3 - "$logdir" "$rc" <<'EOF'
import json, os, re, sys

logdir, rc = sys.argv[1], int(sys.argv[2])
report = re.compile(r'(BUG:|WARNING:|Oops|UBSAN:|KASAN:|kernel BUG at|'
                    r'Kernel panic|general protection fault|'
                    r'DEBUG_LOCKS_WARN_ON|INFO: task .* blocked|'
                    r'detected stalls? on CPU|rcu_(sched|preempt) self-detected)')
result_line = re.compile(r'^\s*(not )?ok \d+ (\S+)')
prefix = re.compile(r'^\[[ \d.]+\] ')

cases = {}
def walk(group):
    for case in group.get('test_cases', []):
        cases.setdefault(case['name'], []).append(case['status'])
    for sub in group.get('sub_groups', []):
        walk(sub)

try:
    with open(os.path.join(logdir, 'results.json')) as f:
        walk(json.load(f))
except (OSError, ValueError):
    pass

lines = []
try:
    with open(os.path.join(logdir, 'test.log'), errors='replace') as f:
        lines = [prefix.sub('', l.rstrip('\n')) for l in f]
except OSError:
    pass

# Before the first suite starts a report belongs to no test (boot).
reports, pending, started, boot_until = [], None, False, -1
for i, line in enumerate(lines):
    if re.match(r'^\s*# Subtest: ', line):
        started = True
    if report.search(line):
        if not started:
            if i > boot_until:
                reports.append((i, None))
                boot_until = i + 60
        elif pending is None:
            pending = i
        continue
    m = result_line.match(line)
    if m and pending is not None:
        reports.append((pending, m.group(2)))
        pending = None
if pending is not None:
    reports.append((pending, None))

passed = sum(s.count('PASS') for s in cases.values())
skipped = sum(s.count('SKIP') for s in cases.values())
failed = sum(len(s) for s in cases.values()) - passed - skipped

for start, name in reports:
    where = f'during {name}' if name else 'outside any test'
    print(f'kunit: kernel report {where}:')
    for l in lines[start:start + 40]:
        print('    ' + l)
    if name and 'PASS' in cases.get(name, []):
        cases[name][cases[name].index('PASS')] = 'REPORT'
        passed -= 1
        failed += 1
    elif not name:
        failed += 1

for name, statuses in sorted(cases.items()):
    for s in statuses:
        if s not in ('PASS', 'SKIP'):
            print(f'kunit: {s}: {name}')
if skipped:
    print(f'kunit: {skipped} skipped')
if not cases:
    print('kunit: no test results (build failure or no tests ran); '
          'see kunit.log and test.log above')
if failed == 0 and (rc != 0 or not cases):
    failed = 1
print(f'kunit: {passed} passed, {failed} failed')
sys.exit(1 if failed else 0)
EOF
