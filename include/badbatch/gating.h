/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Gating: how far producers may run ahead. Producers wait for the
 * consumers the kernel flags as gating (those no other consumer follows),
 * read under the topology seqlock in the read-only header.
 */
#ifndef _BADBATCH_GATING_H
#define _BADBATCH_GATING_H

#include "view.h"

/*
 * Smallest sequence of the gating consumers, never above bound (the
 * caller's claim frontier: no honest consumer is past it, so a larger
 * value is a lie and is ignored). With no gating consumer this is bound.
 *
 * The retry pairs with bb_topology_write_begin/end() in the kernel: a
 * snapshot taken entirely before a consumer joined is safe because the
 * kernel starts that consumer at or after every sequence read here.
 */
static inline __u64 bb_gating_min(const struct bb_view *v, __u64 bound)
{
	for (;;) {
		__u32 start = bb_load_acquire(&v->hdr->topo_seq);
		__u64 mask, min = bound;

		if (bb_unlikely(start & 1)) {
			bb_cpu_relax();
			continue;
		}
		mask = bb_load_acquire(&v->hdr->gating_mask);
		while (mask) {
			unsigned int id = bb_ctz64(mask);
			__u64 seq;

			mask &= mask - 1;
			if (id >= v->max_consumers)
				break;
			seq = bb_load_acquire(bb_consumer_seq(v, id));
			if (seq < min)
				min = seq;
		}
		/* Ordered after the acquire loads above. */
		if (bb_load_acquire(&v->hdr->topo_seq) == start)
			return min;
	}
}

/* Smallest sequence among the consumers in deps, never above bound. */
static inline __u64 bb_deps_min(const struct bb_view *v, __u64 deps,
				__u64 bound)
{
	__u64 min = bound;

	while (deps) {
		unsigned int id = bb_ctz64(deps);
		__u64 seq;

		deps &= deps - 1;
		if (id >= v->max_consumers)
			break;
		/* Pairs with bb_store_release() in bb_consumer_advance(). */
		seq = bb_load_acquire(bb_consumer_seq(v, id));
		if (seq < min)
			min = seq;
	}
	return min;
}

#endif /* _BADBATCH_GATING_H */
