/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Memory rings inside the library: what memring.c (attach, detach, halt)
 * and memwait.c (sleeping and waking) share.
 */
#ifndef _BADBATCH_LIB_MEMRING_H
#define _BADBATCH_LIB_MEMRING_H

#include <pthread.h>

#include "internal.h"

/* Sleepers by what they wait for: the index is the BB_WAKE_* bit's. */
#define BB_MEM_WAKE_CLASSES	3

/*
 * What every process using the ring shares besides the ring's own pages:
 * the bookkeeping the kernel keeps for its rings, and the sleepers' futex
 * words. A page of its own before the header, so that attaches and sleeps
 * never write a line the hot path reads.
 */
struct bb_mem_shared {
	pthread_mutex_t lock;	/* topology and producer count */
	__u64 active;		/* attached consumer ids */
	__u32 producers;
	/*
	 * Every process attached registered for membarrier(2), so a sleeper
	 * can have all movers fence; 0: sleepers re-check on a timer.
	 */
	__u32 barrier;
	/* Futex words: wakers bump them, sleepers wait for a change. */
	__u32 wake[BB_MEM_WAKE_CLASSES];
	__u32 asleep[BB_MEM_WAKE_CLASSES];	/* in futex_wait now */
	__u64 sleeps;		/* futex waits */
	__u64 wakeups;		/* futex wakes */
};

/* One process's handle on the ring: its own reference count and mapping. */
struct bb_memring {
	struct bb_mem_shared *sh;
	unsigned int refs;	/* the ring handle and each participant */
	bool shared;		/* MAP_SHARED: for processes forked later */
	unsigned char *base;
	size_t len;
	struct bb_ring_header *hdr;
	struct bb_producer_page *prod;
	__u32 *avail;
	unsigned char *cons;
	unsigned char *slots;
};

/* memwait.c: register this process for the barrier a sleeper sends. */
BB_HIDDEN int bb_mem_barrier_register(bool shared);

#endif /* _BADBATCH_LIB_MEMRING_H */
