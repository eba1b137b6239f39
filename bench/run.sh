#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the benchmark suites and write bench/out/: raw.jsonl (one line per
# repetition), results.json, report.md and PNG plots (bench/report.py).
#
#   bench/run.sh [quick|full]       native suites, then the VM suites
#   bench/run.sh --guest MODE       (inside the VM) the /dev/badbatch suites
#
# Native: memory rings (badbatch's protocol on process memory) next to
# LMAX Disruptor, ck, DPDK rte_ring, liburcu, the IPC peers and the
# physical baselines. In the VM (qemu TCG, tests/vm/run.sh): kernel rings
# across processes and threads, the kernel-mediated paths, the cost of
# waiting, and the IPC peers, baselines and queues again, so that every
# ratio compares figures from one machine. LMAX runs natively only (a JVM
# under TCG measures the emulator).
#
# Environment: BENCH_OUT (default bench/out), BENCH_REPS (repetitions,
# default 3 quick / 5 full), BENCH_NO_VM=1 (native only),
# BENCH_ONLY=REGEX (steps whose label matches), BENCH_SCALE=K (divide
# every event count by K: smoke runs).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
TOP=${TOP:-$(cd "$here/.." && pwd)}
BUILD=${BUILD:-$TOP/build}
B=$BUILD/bench
JAR=/usr/share/java/disruptor.jar

guest=0
if [[ ${1:-} == --guest ]]; then
	guest=1
	shift
fi
MODE=${1:-quick}
case $MODE in quick|full) ;; *) echo "usage: $0 [quick|full]" >&2; exit 2 ;; esac
full() { [[ $MODE == full ]]; }

REPS=${BENCH_REPS:-$(full && echo 5 || echo 3)}
if ((guest)); then
	OUT=${BB_OUT:?}
	RAW=$OUT/raw-vm.jsonl
	export BENCH_ENV=vm
else
	OUT=${BENCH_OUT:-$TOP/bench/out}
	RAW=$OUT/raw-native.jsonl
	export BENCH_ENV=native
fi
mkdir -p "$OUT"
: >"$RAW"

steps=0 failed=0 t_all=$(date +%s)

# step LABEL CMD...: run one measurement program, append its records.
step() {
	local label=$1 t0 rc
	shift
	if [[ -n ${BENCH_ONLY:-} && ! $label =~ $BENCH_ONLY ]]; then
		return 0
	fi
	steps=$((steps + 1))
	t0=$(date +%s%N)
	printf 'bench[%s %s] %-58s ' "$BENCH_ENV" "$MODE" "$label" >&2
	"$@" >>"$RAW" 2>"$OUT/last.err"
	rc=$?
	if ((rc == 77)); then
		printf 'skipped\n' >&2
	elif ((rc)); then
		failed=$((failed + 1))
		printf 'FAILED (%d): %s\n' "$rc" "$(tail -n 1 "$OUT/last.err")" >&2
	else
		t0=$((($(date +%s%N) - t0) / 100000000))
		printf '%3d.%ds\n' $((t0 / 10)) $((t0 % 10)) >&2
	fi
}

# ---- sizes: quick keeps the whole run under five minutes -------------------
if full; then
	N_TPUT=20000000 N_SLOW=2000000 N_LAT=200000 N_IPC=500000
	TOPOS="unicast pipeline sequencer multicast diamond"
	WAITS="spin yield sleep block"
	SIZES="8 16 32 64 128 256 512 1024 2048 4096"
	RINGS="64 256 1024 4096 16384 65536"
	PAUSES="0 1000000 10000000"
	BURSTS="1 10 100"
	IDLE_MS=1000 N_COPY=4000000000
else
	N_TPUT=5000000 N_SLOW=300000 N_LAT=50000 N_IPC=100000
	TOPOS="unicast pipeline sequencer multicast diamond"
	WAITS="spin yield block"
	SIZES="8 64 1024"
	RINGS="64 1024 65536"
	PAUSES="0 1000000"
	BURSTS="1 10 100"
	IDLE_MS=300 N_COPY=1000000000
fi
# In TCG everything is slower: fewer events, same shapes.
if ((guest)); then
	N_TPUT=$((N_TPUT / 10)) N_LAT=$((N_LAT / 5)) N_IPC=$((N_IPC / 5))
fi
# BENCH_SCALE=K divides every count (smoke runs of this script).
if [[ -n ${BENCH_SCALE:-} ]]; then
	N_TPUT=$((N_TPUT / BENCH_SCALE)) N_SLOW=$((N_SLOW / BENCH_SCALE))
	N_LAT=$((N_LAT / BENCH_SCALE)) N_IPC=$((N_IPC / BENCH_SCALE))
	N_COPY=$((N_COPY / BENCH_SCALE)) IDLE_MS=$((IDLE_MS / BENCH_SCALE + 10))
fi

java_topo() { # TOPO WAIT SIZE SLOTS BATCH EVENTS
	(cd "$B/java" && taskset -c 0-1 java -Xms512m -Xmx512m -XX:+UseParallelGC \
		-cp "$JAR:." Harness topo "$@" "$REPS")
}

have_java() { [[ -f $B/java/Harness.class && -f $JAR ]] && command -v java >/dev/null; }

# ---- the suites ------------------------------------------------------------
baselines() {
	local x
	for x in thread $( ((guest)) && echo proc); do
		step "baseline: atomic ping-pong CPU0<->CPU1 ($x)" \
			"$B/baseline" -k atomic -x "$x" -n "$N_LAT" -r "$REPS"
	done
	for s in $SIZES; do
		step "baseline: memcpy ${s}B" "$B/baseline" -k memcpy -s "$s" \
			-n "$N_COPY" -r "$REPS"
	done
}

# A coalescing consumer: min_batch/linger_ns (bench/report.py's COALESCE).
COALESCE=256/2000

throughput_native() {
	local t w b
	for t in $TOPOS; do
		for b in 1 10; do
			step "throughput: badbatch mem $t yield batch $b" \
				"$B/bb_topo" -m mem -t "$t" -w yield -b "$b" -n "$N_TPUT" -r "$REPS"
			[[ $t == unicast || $t == pipeline ]] &&
				step "throughput: badbatch mem $t yield batch $b, coalescing $COALESCE" \
					"$B/bb_topo" -m mem -t "$t" -w yield -b "$b" \
					-L "$COALESCE" -n "$N_TPUT" -r "$REPS"
			[[ $t == unicast || $t == pipeline ]] &&
				step "throughput: badbatch mem $t yield batch $b, trailing off" \
					"$B/bb_topo" -m mem -t "$t" -w yield -b "$b" \
					-T off -n "$N_TPUT" -r "$REPS"
			have_java && step "throughput: lmax $t yield batch $b" \
				java_topo "$t" yield 8 65536 "$b" "$N_TPUT"
		done
	done
	# The library's fast path inlined into the loop (bb_topo_lto).
	for b in 1 10; do
		step "throughput: badbatch mem unicast yield batch $b, linked with -flto" \
			"$B/bb_topo_lto" -m mem -t unicast -w yield -b "$b" -n "$N_TPUT" -r "$REPS"
	done
	# Run handlers (badbatch_consume_runs): what a C consumer writes
	# where a JIT would inline LMAX's per-event handler.
	for b in 1 10; do
		step "throughput: badbatch mem unicast yield batch $b, run handler" \
			"$B/bb_topo" -m mem -t unicast -w yield -b "$b" -c run \
			-n "$N_TPUT" -r "$REPS"
	done
	for b in 1 10; do
		step "throughput: badbatch mem unicast spin batch $b" \
			"$B/bb_topo" -m mem -t unicast -w spin -b "$b" -n "$N_TPUT" -r "$REPS"
		have_java && step "throughput: lmax unicast spin batch $b" \
			java_topo unicast spin 8 65536 "$b" "$N_TPUT"
	done
	queues_throughput
	if full; then
		for w in $WAITS; do
			step "throughput: badbatch mem unicast $w" "$B/bb_topo" -m mem \
				-t unicast -w "$w" -n "$N_TPUT" -r "$REPS"
			have_java && step "throughput: lmax unicast $w" \
				java_topo unicast "$w" 8 65536 1 "$N_TPUT"
		done
	fi
}

scaling() { # WHERE MODE (mem thread natively; kernel proc in the VM)
	local m=$1 x=$2 n=$N_TPUT s r
	for r in $RINGS; do
		step "rings: badbatch $m $x unicast yield ${r} slots" "$B/bb_topo" \
			-m "$m" -x "$x" -t unicast -w yield -R "$r" -n "$n" -r "$REPS"
		((guest)) || ! full || ! have_java ||
			step "rings: lmax unicast yield ${r} slots" java_topo unicast yield 8 "$r" 1 "$n"
	done
	for s in $SIZES; do
		# At most 16 MiB of slots (the module's max_ring_mb is 256).
		r=$((16777216 / s > 65536 ? 65536 : 16777216 / s))
		step "sizes: badbatch $m $x unicast yield ${s}B, $r slots" "$B/bb_topo" \
			-m "$m" -x "$x" -t unicast -w yield -s "$s" -R "$r" \
			-n $((s >= 1024 ? n / 4 : n)) -r "$REPS"
		((guest)) || ! have_java ||
			step "sizes: lmax unicast yield ${s}B, $r slots" java_topo unicast yield "$s" "$r" 1 \
				$((s >= 1024 ? n / 4 : n))
	done
}

latency() { # WHERE MODE WAITS
	local m=$1 x=$2 w b p n
	for w in $3; do
		# Every round trip of a sleeping strategy is two wakeups: fewer.
		n=$N_LAT
		[[ $w == block || $w == sleep ]] && n=$((N_LAT / 10))
		step "latency: badbatch $m $x ping-pong $w" "$B/bb_lat" -k pingpong \
			-m "$m" -x "$x" -w "$w" -n "$n" -r "$REPS"
		step "latency: badbatch $m $x one-way open-loop $w" "$B/bb_lat" -k oneway \
			-m "$m" -x "$x" -w "$w" -P 10000 -n "$N_LAT" -r "$REPS"
	done
	for b in $BURSTS; do
		for p in $PAUSES; do
			# Enough bursts for a p99, few enough to end in seconds.
			n=$((p ? b * (p >= 10000000 ? 100 : 400) : N_LAT))
			for w in spin block; do
				step "bursts: badbatch $m $x $b every ${p}ns $w" "$B/bb_lat" \
					-k oneway -m "$m" -x "$x" -w "$w" -B "$b" -P "$p" -n "$n" \
					-r "$REPS" -S bursts
			done
		done
	done
}

# The queues between threads, then between processes over shared memory.
queues_throughput() {
	local q x
	for x in thread proc; do
		for q in ck dpdk urcu; do
			step "throughput: $q $x unicast spin" "$B/peers_queues" -i "$q" \
				-x "$x" -n "$N_TPUT" -r "$REPS"
		done
	done
}

queues_latency() {
	local q x
	for x in thread proc; do
		for q in ck dpdk urcu; do
			step "latency: $q $x ping-pong spin" "$B/peers_queues" -i "$q" \
				-k pingpong -x "$x" -n "$N_LAT" -r "$REPS"
		done
	done
	if ! ((guest)) && have_java; then
		step "latency: lmax ping-pong spin" bash -c \
			"cd '$B/java' && taskset -c 0-1 java -cp '$JAR:.' Harness pingpong spin $N_LAT $REPS"
	fi
}

ipc_peers() {
	local i s
	for i in pipe socketpair mq eventfd; do
		for s in 64 $(full && echo 8 1024); do
			step "ipc: $i proc ${s}B throughput" "$B/peers_ipc" -i "$i" -x proc \
				-s "$s" -n "$N_IPC" -r "$REPS"
		done
		step "ipc: $i proc ping-pong" "$B/peers_ipc" -i "$i" -k pingpong -x proc \
			-s 64 -n $((N_LAT / (guest ? 20 : 5))) -r "$REPS"
	done
}

idle() { # WHERE MODE
	local w c
	for w in spin yield sleep block $(full && echo phased); do
		for c in 1 3; do
			step "idle: badbatch $1 $2 $w, $c consumer(s)" "$B/bb_wait" -m "$1" \
				-x "$2" -w "$w" -c "$c" -t "$IDLE_MS" -r "$REPS"
		done
	done
}

guest_suites() {
	local t x w p s
	baselines
	# Cross-process vs cross-thread, kernel vs memory ring, strategies.
	for x in proc thread; do
		for w in $WAITS; do
			step "throughput: badbatch kernel $x unicast $w 64B" "$B/bb_topo" \
				-m kernel -x "$x" -t unicast -w "$w" -s 64 -n "$N_TPUT" -r "$REPS"
		done
	done
	step "throughput: badbatch kernel proc unicast block 64B, trailing off" \
		"$B/bb_topo" -m kernel -x proc -t unicast -w block -s 64 -T off \
		-n "$N_TPUT" -r "$REPS"
	for w in spin block; do
		step "throughput: badbatch kernel proc unicast $w 64B, linked with -flto" \
			"$B/bb_topo_lto" -m kernel -x proc -t unicast -w "$w" -s 64 \
			-n "$N_TPUT" -r "$REPS"
	done
	# 8-byte events, as the queues carry, next to them.
	for x in proc thread; do
		step "throughput: badbatch kernel $x unicast spin 8B" "$B/bb_topo" \
			-m kernel -x "$x" -t unicast -w spin -n "$N_TPUT" -r "$REPS"
	done
	for w in $WAITS; do
		step "throughput: badbatch mem thread unicast $w 64B" "$B/bb_topo" \
			-m mem -x thread -t unicast -w "$w" -s 64 -n "$N_TPUT" -r "$REPS"
	done
	# Fast path vs kernel-mediated paths.
	for p in ioctl rw; do
		for s in 1 10; do
			step "throughput: badbatch kernel proc unicast block 64B $p batch $s" \
				"$B/bb_topo" -m kernel -x proc -t unicast -w block -s 64 -p "$p" \
				-b "$s" -n "$N_IPC" -r "$REPS"
		done
	done
	for t in $TOPOS; do
		for w in yield block; do
			step "throughput: badbatch kernel proc $t $w" "$B/bb_topo" -m kernel \
				-x proc -t "$t" -w "$w" -n "$N_TPUT" -r "$REPS"
		done
	done
	ipc_peers
	queues_throughput
	latency kernel proc "spin yield block"
	latency kernel thread "spin"
	for p in 1000000 10000000; do
		step "wakeup: badbatch kernel proc block, 1 event every ${p}ns" \
			"$B/bb_lat" -k oneway -m kernel -x proc -w block -B 1 -P "$p" \
			-n $((p >= 10000000 ? 100 : 500)) -r "$REPS" -S wakeup
	done
	queues_latency
	idle kernel proc
	full && scaling kernel proc
}

# Where badbatch's unicast time goes: perf's cpu-clock sampling (no PMU
# needed), flat by symbol, and the hottest instructions of the hottest
# library function.
profile() {
	command -v perf >/dev/null || return 0
	local data=$OUT/perf.data n=$((N_TPUT * 2)) w top
	for w in spin yield; do
		step "profile: perf record badbatch mem unicast $w" perf record -q -F 10000 \
			-e cpu-clock -o "$data.$w" -- "$B/bb_topo" -m mem -t unicast -w "$w" -n "$n" -r 1
		[[ -f $data.$w ]] || continue
		{
			echo "== bb_topo -t unicast -w $w -n $n (memory ring, threads): % of samples by symbol"
			perf report -i "$data.$w" --stdio --no-children --sort comm,dso,sym 2>/dev/null |
				grep -E '^ +[0-9]' | head -n 12
			top=$(perf report -i "$data.$w" --stdio --no-children --comms producer \
				--sort sym 2>/dev/null |
				grep -E '^ +[0-9].*\[\.\] (badbatch_|bb_)' | head -n 1 | awk '{print $NF}')
			if [[ -n $top ]]; then
				echo "== hottest instructions of the producer's $top (sampling skid: the cost of an"
				echo "   instruction shows on the one after it)"
				perf annotate -i "$data.$w" --stdio -s "$top" 2>/dev/null |
					grep -E '^ +[0-9]+\.[0-9]+ +:' >"$OUT/annotate-$w.txt"
				sort -rn "$OUT/annotate-$w.txt" | head -n 6
				echo "== annotate-$w.txt: $top" >>"$OUT/annotate-$w.txt"
			fi
			echo
		} >>"$OUT/profile.txt"
	done
	rm -f "$data".*
}

# Across processes natively: the module cannot load here, so the ring
# sits in a shared mapping (badbatch_memring_create_shared) and BLOCK
# sleeps on futexes, next to the IPC peers run by ipc_peers.
processes_native() {
	local w
	for w in spin yield block; do
		step "throughput: badbatch shm proc unicast $w 64B" "$B/bb_topo" -m shm \
			-x proc -t unicast -w "$w" -s 64 -n "$N_TPUT" -r "$REPS"
	done
	step "throughput: badbatch shm proc unicast block 64B, trailing off" \
		"$B/bb_topo" -m shm -x proc -t unicast -w block -s 64 -T off \
		-n "$N_TPUT" -r "$REPS"
	step "throughput: badbatch shm proc unicast block 64B, coalescing $COALESCE" \
		"$B/bb_topo" -m shm -x proc -t unicast -w block -s 64 -L "$COALESCE" \
		-n "$N_TPUT" -r "$REPS"
	step "throughput: badbatch shm proc unicast block 64B, linked with -flto" \
		"$B/bb_topo_lto" -m shm -x proc -t unicast -w block -s 64 -n "$N_TPUT" \
		-r "$REPS"
	step "throughput: badbatch shm proc unicast spin 8B" "$B/bb_topo" -m shm \
		-x proc -t unicast -w spin -n "$N_TPUT" -r "$REPS"
	step "idle: badbatch shm proc block, 3 consumer(s)" "$B/bb_wait" -m shm \
		-x proc -w block -c 3 -t "$IDLE_MS" -r "$REPS"
}

native_suites() {
	: >"$OUT/profile.txt"
	baselines
	throughput_native
	processes_native
	scaling mem thread
	latency mem thread "spin yield"
	step "latency: badbatch mem thread one-way open-loop yield, coalescing $COALESCE" \
		"$B/bb_lat" -k oneway -m mem -x thread -w yield -P 10000 \
		-L "$COALESCE" -n "$N_LAT" -r "$REPS"
	step "latency: badbatch mem thread one-way open-loop yield, trailing off" \
		"$B/bb_lat" -k oneway -m mem -x thread -w yield -P 10000 \
		-T off -n "$N_LAT" -r "$REPS"
	# Bursts of 10: what trailing (and coalescing) cost when events come
	# close together.
	for opt in "" "-T off" "-L $COALESCE"; do
		step "latency: badbatch mem thread bursts of 10 every 10us yield ${opt:-(default)}" \
			"$B/bb_lat" -k oneway -m mem -x thread -w yield -B 10 -P 10000 \
			$opt -n "$N_LAT" -r "$REPS"
	done
	queues_latency
	ipc_peers
	idle mem thread
	profile
}

if ((guest)); then
	guest_suites
	echo "bench: guest: $steps steps, $failed failed, $(($(date +%s) - t_all))s" >&2
	exit 0
fi

# ---- on the host --------------------------------------------------------------
{
	echo "{\"mode\":\"$MODE\",\"reps\":$REPS,"
	echo "\"start\":\"$(date -u +%FT%TZ)\",\"load_start\":\"$(cut -d' ' -f1-3 /proc/loadavg)\","
	echo "\"cpu\":\"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //;s/"//g')\","
	echo "\"ncpu\":$(nproc),\"kernel\":\"$(uname -r)\","
	echo "\"commit\":\"$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null)\","
} >"$OUT/meta.part"
echo "bench: $MODE mode, $REPS repetitions, load $(cut -d' ' -f1-3 /proc/loadavg), results in $OUT" >&2
native_suites
load_native=$(cut -d' ' -f1-3 /proc/loadavg)

rm -f "$OUT/raw-vm.jsonl"
if [[ -z ${BENCH_NO_VM:-} ]]; then
	echo "bench: the /dev/badbatch suites in a qemu (TCG) guest" >&2
	vmto=$(full && echo 3000 || echo 240)
	BB_VM_TEST_TIMEOUT=$vmto BB_VM_TIMEOUT=$((vmto + 120)) \
		"$TOP/tests/vm/run.sh" --name bench \
		--cmd "BENCH_REPS=$REPS BENCH_ONLY='${BENCH_ONLY:-}' BENCH_SCALE='${BENCH_SCALE:-}' TOP=$TOP BUILD=$BUILD $TOP/bench/run.sh --guest $MODE" \
		2>&1 | tee "$OUT/vm.log" | grep --line-buffered -E '^bench|^vm: [0-9]' >&2
	if [[ -f $BUILD/vm/last/files/raw-vm.jsonl ]]; then
		cp "$BUILD/vm/last/files/raw-vm.jsonl" "$OUT/raw-vm.jsonl"
	else
		echo "bench: no results from the VM (see $OUT/vm.log)" >&2
		failed=$((failed + 1))
	fi
fi
{
	cat "$OUT/meta.part"
	echo "\"load_native_end\":\"$load_native\",\"load_end\":\"$(cut -d' ' -f1-3 /proc/loadavg)\","
	echo "\"end\":\"$(date -u +%FT%TZ)\",\"seconds\":$(($(date +%s) - t_all))}"
} >"$OUT/meta.json"
rm -f "$OUT/meta.part"
python3 "$TOP/bench/report.py" "$OUT"
echo "bench: $steps native steps, $failed failed, $(($(date +%s) - t_all))s; $OUT/report.md" >&2
