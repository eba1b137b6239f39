// SPDX-License-Identifier: GPL-2.0
/*
 * The consumer graph: which consumers gate the producers, how the graph
 * heals when a consumer leaves, and its mirror in the read-only header,
 * written under the topo_seq seqlock that bb_gating_min() reads.
 */
#include <linux/preempt.h>
#include "bb_internal.h"

/* Active consumers that no active consumer follows. */
u64 bb_topology_gating(u64 active, const u64 *deps, unsigned int max)
{
	u64 followed = 0;
	unsigned int id;

	for (id = 0; id < max; id++)
		if (active & BIT_ULL(id))
			followed |= deps[id];
	return active & ~followed;
}

/*
 * Remove consumer id: whoever followed it now follows what it followed,
 * so no survivor waits for a sequence that will never move again.
 */
void bb_topology_forget(u64 *active, u64 *deps, unsigned int max,
			unsigned int id)
{
	u64 bit = BIT_ULL(id);
	unsigned int j;

	*active &= ~bit;
	for (j = 0; j < max; j++) {
		if (!(*active & BIT_ULL(j)) || !(deps[j] & bit))
			continue;
		deps[j] = (deps[j] & ~bit) | deps[id];
	}
	deps[id] = 0;
}

/*
 * Open a change of the graph: until bb_topology_end(), topo_seq is odd and
 * producers computing their gating minimum retry. Called under r->lock,
 * with preemption off so readers spinning on an odd topo_seq never wait
 * for a preempted writer.
 */
void bb_topology_begin(struct bb_ring *r)
{
	struct bb_ring_header *h = r->hdr;

	lockdep_assert_held(&r->lock);
	preempt_disable();
	WRITE_ONCE(h->topo_seq, h->topo_seq + 1);
	/*
	 * Odd before the entries change: pairs with the first
	 * smp_load_acquire() in bb_gating_min(). A full barrier, as the
	 * attach that follows reads the claim frontier: pairs with the one
	 * before a producer's gating snapshot in bb_has_room().
	 */
	smp_mb();
}

/* Mirror the kernel's graph into the header and close the change. */
void bb_topology_end(struct bb_ring *r)
{
	struct bb_ring_header *h = r->hdr;
	unsigned int max = r->layout.max_consumers;
	u64 gating = bb_topology_gating(r->active, r->deps, max);
	unsigned int id;

	for (id = 0; id < max; id++) {
		struct bb_consumer_entry *e = &h->consumers[id];
		u32 flags = 0;

		if (r->active & BIT_ULL(id))
			flags |= BB_CONSUMER_ACTIVE;
		if (gating & BIT_ULL(id))
			flags |= BB_CONSUMER_GATING;
		WRITE_ONCE(e->deps, r->deps[id]);
		WRITE_ONCE(e->flags, flags);
	}
	WRITE_ONCE(h->gating_mask, gating);
	WRITE_ONCE(h->nr_consumers, hweight64(r->active));
	WRITE_ONCE(h->nr_producers, r->nr_producers);
	/* Pairs with the retry check at the end of bb_gating_min(). */
	smp_wmb();
	WRITE_ONCE(h->topo_seq, h->topo_seq + 1);
	preempt_enable();
}
