/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Consumer side: how far a consumer may read (its barrier: the cursor or
 * the consumers it follows), and advancing its own sequence with the
 * need-wakeup check for whoever waits on it.
 */
#ifndef _BADBATCH_CONSUME_H
#define _BADBATCH_CONSUME_H

#include "gating.h"

/* Is event seq published (or abandoned)? Pairs with bb_publish(). */
static inline bool bb_is_published(const struct bb_view *v, __u64 seq)
{
	__u32 word;

	if (!v->multi)
		return seq < bb_load_acquire(&v->prod->cursor);
	word = bb_load_acquire(&v->avail[seq & v->mask]);
	return (word & BB_AVAIL_ROUND_MASK) == bb_avail_round(v, seq);
}

/* Was event seq (known to be published) abandoned by a dead producer? */
static inline bool bb_is_abandoned(const struct bb_view *v, __u64 seq)
{
	return v->multi &&
	       (bb_load(&v->avail[seq & v->mask]) & BB_AVAIL_ABANDONED);
}

/*
 * from + n, stopping at the end of the sequence space: a consumer that
 * writes a sequence up there (it lies) must not see its window wrap to
 * the start, where everything looks published or nothing does.
 */
static inline __u64 bb_seq_end(__u64 from, __u64 n)
{
	return from + n < from ? ~(__u64)0 : from + n;
}

/*
 * First sequence at or after from that is not yet published, looking at
 * most max events ahead (and never more than one ring). Events from
 * [from, result) are readable once the producers are all that gate them.
 */
static inline __u64 bb_published_limit(const struct bb_view *v, __u64 from,
				       __u32 max)
{
	__u64 seq, end;

	if (max > v->size)
		max = v->size;
	end = bb_seq_end(from, max);
	if (!v->multi) {
		/* Pairs with bb_store_release() in bb_publish(). */
		seq = bb_load_acquire(&v->prod->cursor);
		if (seq < from)
			return from;
		return seq < end ? seq : end;
	}
	for (seq = from; seq < end && bb_is_published(v, seq); seq++)
		;
	return seq;
}

/*
 * First sequence at or after from that consumer id may not read yet:
 * bounded by the producers when it follows the cursor, else by the
 * slowest consumer it follows. deps comes from the kernel-written header
 * and changes when an upstream consumer dies (its own upstreams replace it).
 */
static inline __u64 bb_consumer_limit(const struct bb_view *v,
				      unsigned int id, __u64 from, __u32 max)
{
	__u64 deps = bb_load_acquire(&v->hdr->consumers[id].deps);
	__u64 limit;

	if (!deps)
		return bb_published_limit(v, from, max);
	if (max > v->size)
		max = v->size;
	limit = bb_deps_min(v, deps, bb_seq_end(from, max));
	return limit < from ? from : limit;
}

/*
 * Consumer id has read everything up to seq and the ring is halted: may
 * more still come? Yes while the producers' claim frontier is ahead of a
 * consumer of the cursor (claims taken before the halt may be published
 * after it), or the consumers it follows hold published events.
 */
static inline bool bb_halt_pending(const struct bb_view *v, unsigned int id,
				   __u64 seq)
{
	if (bb_load(&v->hdr->consumers[id].deps))
		return bb_published_limit(v, seq, 1) > seq;
	return bb_load(&v->prod->claim) > seq;
}

/*
 * Mark every event before seq as finished by consumer id and report which
 * sleepers may now be able to run (BB_WAKE_* bits, 0 almost always). The
 * release store pairs with the acquire loads in bb_gating_min() and
 * bb_deps_min(); the barrier is bb_consumers_need_wake()'s.
 */
static inline __u32 bb_consumer_advance(const struct bb_view *v,
					__u64 *self_seq, unsigned int id,
					__u64 seq)
{
	const struct bb_consumer_entry *e = &v->hdr->consumers[id];
	__u32 wake = 0;

	bb_store_release(self_seq, seq);
	bb_mover_barrier(v);
	if (bb_load(&e->waiters))
		wake |= BB_WAKE_DEPENDENTS;
	if ((bb_load(&e->flags) & BB_CONSUMER_GATING) &&
	    bb_load(&v->hdr->producer_waiters))
		wake |= BB_WAKE_PRODUCERS;
	return wake;
}

#endif /* _BADBATCH_CONSUME_H */
