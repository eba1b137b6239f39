#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of the VM lane (busybox sh, run by /init): make the host root a
# usable chroot, load the module, run each test and the optional command in
# the chroot, check the kernel log after each, unload the module.
#
# Input, written by tests/vm/run.sh into the results share /out:
#   job.env   BB_TOP BB_BUILD BB_MODULE (file in /out, or empty) BB_MODNAME
#             BB_MODULE_HOST (the same file by its host path, which the
#             chroot sees; tests get it as BB_MODULE_KO)
#             BB_TEST_TIMEOUT BB_KILL_AFTER BB_CMD_NAME BB_SHELL BB_SETUP
#             BB_WRAP
#   tests     "NAME PATH" per line
#   cmd.sh    the command to run when BB_CMD_NAME is set
#   setup.sh  run as result "setup" after insmod, before the tests, when
#             BB_SETUP=1
# BB_WRAP, when set, is a command (words split on blanks) in the chroot
# that runs each test program: "$BB_WRAP PATH".
# Output: one "BBTEST NAME PASS|FAIL|SKIP SECONDS pass=N fail=N skip=N
# [why=...]" line per result in /out/results (and on the console), each
# program's output in /out/NAME.log, the kernel log in /out/dmesg.txt, and a
# last line "BBDONE" once everything ran.
OUT=/out
H=/host
. $OUT/job.env

# Kernel log lines that fail the test that was running.
SPLAT='BUG:|WARNING:|Oops|KASAN|UBSAN|INFO: lockdep|DEBUG_LOCKS_WARN_ON'
SPLAT="$SPLAT|possible recursive locking"
SPLAT="$SPLAT|circular locking|RCU stall|rcu_.*stall|general protection"
SPLAT="$SPLAT|Kernel panic|kernel BUG|blocked for more than|soft lockup"
SPLAT="$SPLAT|hard LOCKUP|Call Trace:|KCSAN:"
# Taint flags that mean the kernel went wrong: B (bad page), D (oops),
# W (warning), L (soft lockup). A second net under the log scan.
TAINT_MASK=$(( (1 << 5) | (1 << 7) | (1 << 9) | (1 << 14) ))
taint_seen=0
CHROOT_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

result() {
	echo "BBTEST $*" >>$OUT/results
	echo "BBTEST $*"
}

now() { cut -d' ' -f1 /proc/uptime; }

# since T0: seconds elapsed since uptime T0.
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# kcheck NAME: move new kernel messages to dmesg.txt; set KWHY and fail on a
# splat or a new bad taint.
kcheck() {
	KWHY=
	dmesg -c >/tmp/kmsg
	{ echo "=== $1"; cat /tmp/kmsg; } >>$OUT/dmesg.txt
	if grep -qE "$SPLAT" /tmp/kmsg; then
		KWHY="kernel:$(grep -oE "$SPLAT" /tmp/kmsg | head -n 1 | tr ' ' _)"
		# The full report is on the console already (loglevel 5) and
		# in dmesg.txt: name the culprit lines only.
		grep -E "$SPLAT" /tmp/kmsg | head -n 10 | sed "s/^/BBKERN $1: /"
	fi
	t=$(cat /proc/sys/kernel/tainted)
	new=$(( t & TAINT_MASK & ~taint_seen ))
	taint_seen=$(( taint_seen | t ))
	[ $new -eq 0 ] || KWHY="${KWHY:-taint:$new}"
	[ -z "$KWHY" ]
}

# check NAME SECONDS RC: a one-shot result from a command's status RC.
check() {
	name=$1 secs=$2 rc=$3 why=
	[ "$rc" -eq 0 ] || why="exit:$rc"
	kcheck "$name" || why="${why:+$why,}$KWHY"
	if [ -z "$why" ]; then
		result "$name PASS $secs pass=1 fail=0 skip=0"
	else
		result "$name FAIL $secs pass=0 fail=1 skip=0 why=$why"
	fi
}

setup_chroot() {
	mount -t proc proc $H/proc
	mount -t sysfs sys $H/sys
	mount -t debugfs debugfs $H/sys/kernel/debug 2>/dev/null
	# A second devtmpfs mount: /dev/badbatch appears in both.
	mount -t devtmpfs dev $H/dev
	mkdir -p $H/dev/pts $H/dev/shm
	mount -t devpts devpts $H/dev/pts
	mount -t tmpfs -o mode=1777 shm $H/dev/shm
	ln -sf /proc/self/fd $H/dev/fd
	ln -sf /proc/self/fd/0 $H/dev/stdin
	ln -sf /proc/self/fd/1 $H/dev/stdout
	ln -sf /proc/self/fd/2 $H/dev/stderr
	# The 9p root is read-only: give programs somewhere to write.
	for d in /tmp /var/tmp /run; do
		[ -d $H$d ] && mount -t tmpfs -o mode=1777 tmp $H$d
	done
	# Files programs leave in $BB_OUT land in the host's run directory.
	mkdir -p $OUT/files $H/tmp/bb-out
	mount -o bind $OUT/files $H/tmp/bb-out
}

in_chroot() {
	chroot $H /usr/bin/env -i PATH="$BB_BUILD/bin:$CHROOT_PATH" HOME=/tmp \
		TERM=dumb BB_VM=1 BB_OUT=/tmp/bb-out TOP="$BB_TOP" \
		BB_MODULE_KO="$BB_MODULE_HOST" \
		BUILD="$BB_BUILD" "$@"
}

# tap LOG: print "PASS FAIL SKIP PLAN" counted from TAP-like lines.
tap() {
	awk '
	/^ok / { if ($0 ~ /#[ \t]*[Ss][Kk][Ii][Pp]/) s++; else p++; next }
	/^not ok / { if ($0 !~ /#[ \t]*TODO/) f++; next }
	/^1\.\.[0-9]+/ { plan = substr($1, 4) + 0 }
	END { printf "%d %d %d %d\n", p, f, s, plan }' "$1"
}

# reap: kill what a program left running in the chroot (a process that
# escaped its group would hold the output pipe open); print how many.
reap() {
	n=0
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/root" 2>/dev/null)" = $H ] || continue
		kill -9 "${p#/proc/}" 2>/dev/null && n=$((n + 1))
	done
	echo $n
}

# run_one NAME CMD...: run CMD in the chroot with a timeout (killing its
# whole process group), stream and save its output, record one result.
run_one() {
	name=$1
	shift
	echo "BBRUN $name"
	t0=$(now)
	rm -f /tmp/rc
	{
		in_chroot timeout -k "$BB_KILL_AFTER" "$BB_TEST_TIMEOUT" \
			stdbuf -oL -eL "$@" </dev/null 2>&1
		echo $? >/tmp/rc.new
		mv /tmp/rc.new /tmp/rc
	} | tee "$OUT/$name.log" &
	tee_pid=$!
	# Wait for the program, not for the pipe: strays may hold it open.
	while [ ! -e /tmp/rc ]; do sleep 0.05; done
	rc=$(cat /tmp/rc)
	secs=$(since "$t0")
	stray=$(reap)
	# A stray stuck in the kernel cannot die: stop waiting for its output.
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		kill -0 $tee_pid 2>/dev/null || break
		sleep 0.2
	done
	kill $tee_pid 2>/dev/null
	wait $tee_pid
	# shellcheck disable=SC2046 # four numbers
	set -- $(tap "$OUT/$name.log")
	pass=$1 fail=$2 skip=$3 plan=$4 why=
	case $rc in
	0 | 77) ;;
	124) why=timeout ;;
	137) why=killed ;;
	*) why="exit:$rc" ;;
	esac
	[ "$fail" -eq 0 ] || why="${why:+$why,}not-ok:$fail"
	# Nothing may outlive its test: a survivor hung on a dead peer is a bug.
	[ "$stray" -eq 0 ] || why="${why:+$why,}stray:$stray"
	# A plan not met means the program stopped early.
	seen=$((pass + fail + skip))
	if [ "$plan" -gt "$seen" ]; then
		fail=$((fail + plan - seen))
		why="${why:+$why,}missing:$((plan - seen))"
	fi
	kcheck "$name" || why="${why:+$why,}$KWHY"
	if [ -n "$why" ]; then
		[ "$fail" -gt 0 ] || fail=1
		result "$name FAIL $secs pass=$pass fail=$fail skip=$skip why=$why"
	elif [ "$rc" -eq 77 ]; then
		result "$name SKIP $secs pass=$pass fail=0 skip=$((skip + 1))"
	else
		[ "$pass" -gt 0 ] || pass=1
		result "$name PASS $secs pass=$pass fail=0 skip=$skip"
	fi
}

# Bring the memory cgroup controller online once, now, while nothing else
# runs. Its first cgroup enables static keys that the slab allocator
# tests on every allocation, and the kernel patches those call sites
# live. One CI run had both vCPUs spin for ever at such a site (the same
# RIP in __kmem_cache_alloc_node, memory showing the patched instruction)
# right after the limits test made the first memory cgroup; we think qemu
# TCG kept running a stale translation of the breakpoint used while
# patching. Patching before the tests keeps it out of their way.
warm_memcg() {
	mkdir -p /tmp/bb-memcg && mount -t cgroup2 none /tmp/bb-memcg &&
		echo +memory >/tmp/bb-memcg/cgroup.subtree_control &&
		mkdir /tmp/bb-memcg/warm && rmdir /tmp/bb-memcg/warm
	umount /tmp/bb-memcg 2>/dev/null
}

main() {
	# Warnings and worse reach the serial console as they happen, so a
	# guest that hangs afterwards still leaves them in the host's log.
	dmesg -n 5
	# Report tasks stuck in D state well within a test's timeout.
	echo 30 >/proc/sys/kernel/hung_task_timeout_secs 2>/dev/null
	setup_chroot
	warm_memcg
	check boot "$(now)" 0
	if [ -n "$BB_MODULE" ]; then
		t0=$(now)
		insmod "$OUT/$BB_MODULE"
		rc=$?
		check insmod "$(since "$t0")" $rc
	fi
	if [ "${BB_SETUP:-0}" = 1 ]; then
		cp $OUT/setup.sh $H/tmp/bb-setup.sh
		run_one setup /bin/sh /tmp/bb-setup.sh
	fi
	while read -r name path; do
		# shellcheck disable=SC2086 # a command and its arguments
		run_one "$name" ${BB_WRAP:-} "$path"
	done <$OUT/tests
	if [ -n "$BB_CMD_NAME" ]; then
		cp $OUT/cmd.sh $H/tmp/bb-cmd.sh
		run_one "$BB_CMD_NAME" /bin/sh /tmp/bb-cmd.sh
	fi
	if [ "$BB_SHELL" = 1 ]; then
		echo "BBSHELL: a shell in the chroot; exit to continue"
		setsid cttyhack chroot $H /usr/bin/env \
			PATH="$BB_BUILD/bin:$CHROOT_PATH" HOME=/tmp TERM=linux \
			BB_OUT=/tmp/bb-out TOP="$BB_TOP" BUILD="$BB_BUILD" /bin/bash -i
	fi
	if [ -n "$BB_MODULE" ]; then
		t0=$(now)
		rmmod "$BB_MODNAME" && [ ! -e /sys/module/"$BB_MODNAME" ]
		rc=$?
		check rmmod "$(since "$t0")" $rc
	fi
	echo "BBDONE $(now)" >>$OUT/results
	echo "BBDONE $(now)"
}

main
