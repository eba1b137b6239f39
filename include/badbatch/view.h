/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * A participant's view of one ring: where each shared region sits in its
 * address space and the geometry needed to index them. The kernel builds
 * one over its own mapping of the ring, the library over its mmaps.
 */
#ifndef _BADBATCH_VIEW_H
#define _BADBATCH_VIEW_H

#include <linux/badbatch.h>
#include "atomic.h"

struct bb_view {
	const struct bb_ring_header *hdr;
	struct bb_producer_page *prod;
	__u32 *avail;			/* multi-producer rings only */
	const unsigned char *consumers;	/* consumer pages, cons_stride apart */
	unsigned char *slots;
	__u64 cons_stride;
	__u64 mask;			/* slot_count - 1 */
	__u32 size;			/* slot_count */
	__u32 shift;			/* log2(slot_count) */
	__u32 slot_size;
	__u32 max_consumers;		/* consumer pages mapped */
	bool multi;
	/*
	 * The kernel fences every CPU for sleepers (BB_FEAT_SLEEPER_BARRIER):
	 * a mover's own barrier can be a compiler barrier.
	 */
	bool sleeper_barrier;
};

/*
 * Between a mover's store (publish, advance) and its load of the
 * need-wakeup counters: see bb_consumers_need_wake().
 */
static inline void bb_mover_barrier(const struct bb_view *v)
{
	if (v->sleeper_barrier)
		bb_compiler_barrier();
	else
		bb_full_barrier();
}

static inline const __u64 *bb_consumer_seq(const struct bb_view *v,
					   unsigned int id)
{
	return (const __u64 *)(v->consumers + (__u64)id * v->cons_stride);
}

static inline void *bb_slot(const struct bb_view *v, __u64 seq)
{
	return v->slots + (seq & v->mask) * v->slot_size;
}

/* What a multi-producer publisher stores in the slot of event seq. */
static inline __u32 bb_avail_round(const struct bb_view *v, __u64 seq)
{
	return (__u32)((seq >> v->shift) + 1) & BB_AVAIL_ROUND_MASK;
}

#endif /* _BADBATCH_VIEW_H */
