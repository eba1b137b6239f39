#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Debug lane, fault-injection pass (BB_VM_SETUP, after insmod): arm
# failslab, fail_page_alloc and fail_usercopy for tasks that ask for it
# only (task-filter; make-it-fail.sh sets /proc/self/make-it-fail for a
# test program). Never global: the guest's root is 9p, and 9p failing its
# own allocations fails the run, not the module.
# BB_FAULT_PROBABILITY: percent of calls that fail (default 5).
d=/sys/kernel/debug
p=${BB_FAULT_PROBABILITY:-5}
set -e
for f in failslab fail_page_alloc fail_usercopy; do
	[ -d $d/$f ] || { echo "not ok - no $d/$f"; exit 1; }
	echo Y >$d/$f/task-filter
	echo 0 >$d/$f/verbose
	echo 1 >$d/$f/interval
	echo -1 >$d/$f/times
	echo 0 >$d/$f/space
	echo "$p" >$d/$f/probability
done
# Sleeping (GFP_KERNEL) and order-0 allocations are what the module does.
echo N >$d/failslab/ignore-gfp-wait
echo N >$d/fail_page_alloc/ignore-gfp-wait
echo N >$d/fail_page_alloc/ignore-gfp-highmem
echo 0 >$d/fail_page_alloc/min-order
for f in failslab fail_page_alloc fail_usercopy; do
	echo "# $f: $(cat $d/$f/probability)% task-filter=$(cat $d/$f/task-filter)"
done
echo "ok - fault injection armed for make-it-fail tasks"
