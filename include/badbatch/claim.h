/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Producer side: claim slots (single or multi-producer), publish them,
 * and tell whether a consumer may be asleep and need a wakeup.
 */
#ifndef _BADBATCH_CLAIM_H
#define _BADBATCH_CLAIM_H

#include "gating.h"

/* CAS attempts before a multi-producer claim reports -EBUSY. */
#define BB_CLAIM_RETRIES	1024

/* A producer's private state: never shared, so never trusted by others. */
struct bb_producer_cache {
	__u64 gating;	/* last gating minimum seen */
	__u64 next;	/* single producer: the claim frontier */
};

/* Room for [.., end) by the cached gating minimum alone (no shared load). */
static inline bool bb_room_cached(const struct bb_view *v,
				  const struct bb_producer_cache *pc, __u64 end)
{
	return end <= pc->gating + v->size;
}

/* Room for [.., end)? Refreshes the cached gating minimum if needed. */
static inline bool bb_has_room(const struct bb_view *v,
			       struct bb_producer_cache *pc,
			       __u64 frontier, __u64 end)
{
	if (bb_likely(bb_room_cached(v, pc, end)))
		return true;
	/*
	 * Our last store of the claim frontier before the snapshot: pairs
	 * with the full barrier between opening a topology change and
	 * reading the frontier (bb_topology_begin(), bb_mem_topo_begin()).
	 * Either the snapshot sees the change (and retries, then includes
	 * the new consumer) or the attacher sees a frontier at or past
	 * the bound used here, which it starts the consumer at.
	 */
	bb_full_barrier();
	pc->gating = bb_gating_min(v, frontier);
	return bb_room_cached(v, pc, end);
}

/*
 * A single producer takes the slots up to end, room checked. Only
 * observers (an attach, a halt, STATS) read the frontier: no ordering.
 */
static inline void bb_single_take(const struct bb_view *v,
				  struct bb_producer_cache *pc, __u64 end)
{
	bb_store(&v->prod->claim, end);
	pc->next = end;
}

/*
 * Slots still free for this producer (a hint under multi-producer). A
 * gating consumer claiming to be more than a ring behind (it lies) makes
 * the ring full, never a huge unsigned wrap-around.
 */
static inline __u64 bb_remaining(const struct bb_view *v,
				 struct bb_producer_cache *pc)
{
	__u64 frontier = v->multi ? bb_load(&v->prod->claim) : pc->next;

	pc->gating = bb_gating_min(v, frontier);
	if (pc->gating + v->size < frontier)
		return 0;
	return pc->gating + v->size - frontier;
}

/*
 * Claim n slots without waiting: 0 and *lo set, -EAGAIN when the ring has
 * no room, -EINVAL when n is 0 or larger than the ring (which could never
 * succeed), -EBUSY when other producers kept winning the race.
 */
static inline int bb_try_claim(const struct bb_view *v,
			       struct bb_producer_cache *pc,
			       __u32 n, __u64 *lo)
{
	__u64 cur, end;
	int tries;

	if (bb_unlikely(n == 0 || n > v->size))
		return -EINVAL;
	if (!v->multi) {
		cur = pc->next;
		end = cur + n;
		if (!bb_has_room(v, pc, cur, end))
			return -EAGAIN;
		bb_single_take(v, pc, end);
		*lo = cur;
		return 0;
	}
	cur = bb_load(&v->prod->claim);
	for (tries = 0; tries < BB_CLAIM_RETRIES; tries++) {
		end = cur + n;
		if (!bb_has_room(v, pc, cur, end))
			return -EAGAIN;
		/* On failure cur is reloaded; the retry rechecks room. */
		if (bb_cas(&v->prod->claim, &cur, end)) {
			*lo = cur;
			return 0;
		}
	}
	return -EBUSY;
}

/*
 * Make [lo, lo + n) visible to consumers. The release stores pair with
 * the acquire loads in bb_published_limit() and bb_is_published(), so the
 * slot contents written before are seen by whoever sees the publication.
 */
static inline void bb_publish(const struct bb_view *v, __u64 lo, __u32 n)
{
	__u64 seq;

	if (!v->multi) {
		bb_store_release(&v->prod->cursor, lo + n);
		return;
	}
	for (seq = lo; seq < lo + n; seq++)
		bb_store_release(&v->avail[seq & v->mask],
				 bb_avail_round(v, seq));
}

/*
 * Publish [lo, lo + n) as abandoned: claimed, never filled. Consumers see
 * the events flagged and skip them. Multi-producer rings only, where a
 * claim cannot be taken back once a later one exists. Pairs like
 * bb_publish().
 */
static inline void bb_publish_abandoned(const struct bb_view *v, __u64 lo,
					__u32 n)
{
	__u64 seq;

	for (seq = lo; seq < lo + n; seq++)
		bb_store_release(&v->avail[seq & v->mask],
				 bb_avail_round(v, seq) | BB_AVAIL_ABANDONED);
}

/*
 * After publishing: does a consumer sleep, or is one about to? The
 * publication must be ordered before the load of the announcement, so
 * that either the sleeper sees the new events or the publisher sees the
 * sleeper. Either a full barrier here pairs with the one after the
 * kernel's bb_announce(), or (BB_FEAT_SLEEPER_BARRIER) the sleeper has
 * every CPU run one after announcing (bb_barrier_movers()) and a
 * compiler barrier here keeps the load after the store in program order.
 */
static inline bool bb_consumers_need_wake(const struct bb_view *v)
{
	bb_mover_barrier(v);
	return bb_load(&v->hdr->consumer_waiters) != 0;
}

#endif /* _BADBATCH_CLAIM_H */
