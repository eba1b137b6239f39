#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# A/B of the two need-wakeup protocols (module parameter sleeper_barrier)
# in one guest, cross-process, 64-byte events; figures in
# bench/FINDINGS.md. Build the benchmarks first (make bench), then:
#   tests/vm/run.sh --cmd "sh $PWD/bench/ab-sleeper-barrier.sh"
B=${BUILD:?BUILD: the build directory}/bench
P=/sys/module/badbatch/parameters/sleeper_barrier
for round in 1 2 3; do
	for sb in 1 0; do
		echo $sb >$P
		echo "=== round $round sleeper_barrier=$sb"
		$B/bb_topo -m kernel -x proc -t unicast -w block -s 64 -n 1000000 -r 3
		$B/bb_topo -m kernel -x proc -t unicast -w spin -s 64 -n 1000000 -r 3
		$B/bb_topo -m kernel -x proc -t pipeline -w block -s 64 -n 1000000 -r 3
	done
	echo "=== round $round pipe"
	$B/peers_ipc -i pipe -x proc -s 64 -n 100000 -r 3
done
echo 1 >$P
